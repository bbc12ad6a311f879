//! Bidirectional sync: from an anchor (the newest L1 checkpoint, or a
//! configured block), forward to the head and following it, and backward
//! to genesis (or `sync.backward.floor`), both at once.
//!
//! ```text
//! upstream plugin ──fetch──> coordinator ──validate──> validation plugin
//!                                 │ (blocking pool)
//!                                 └──atomic write──> storage plugin
//! ```
//!
//! Progress is the storage's interval sets (`verified`, `unconfirmed`) plus
//! three metadata keys written in the same atomic batch as the blocks, so a
//! crash loses at most the batch in flight and a restart resumes without
//! re-fetching.

mod anchor;
mod backward;
mod book;
mod forward;
mod observe;
mod pipeline;
mod progress;
mod report;
mod verify;

pub use anchor::AnchorError;
pub use book::{CheckpointBook, SpanBook};
pub use pipeline::{SyncHandle, SyncServices, SyncSettings, SyncStatus, start};
pub use progress::{Progress, SyncCursor, UNCONFIRMED, VERIFIED};
