//! Token buckets for the rate-limit policy plugins (`ratelimit-token-bucket`
//! and `ratelimit-premium`): one bucket per operator and one for everyone,
//! a request going ahead only when both hold its cost.
//!
//! A denied request takes nothing from either bucket, so under overload
//! the accepted rate is the limit, not the limit minus the rejected load.
//! Time is passed in by the host (milliseconds since the Unix epoch), so
//! the buckets are plain arithmetic and the same across instances.
//!
//! Without its default feature `policy` the crate is only [`Bucket`], which
//! the host's devp2p limit uses too (one token bucket in the codebase).

#![deny(missing_docs)]

mod bucket;
#[cfg(feature = "policy")]
mod policy;
#[cfg(feature = "policy")]
mod table;

pub use bucket::Bucket;
#[cfg(feature = "policy")]
pub use policy::{BucketPolicy, Overrides};
#[cfg(feature = "policy")]
pub use table::{BucketTable, Settings};
