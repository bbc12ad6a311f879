//! The stable ABI between the Hypasis Sync host and its plugins.
//!
//! A plugin is a shared library (`cdylib`) that exports one root module,
//! [`PluginModule`], through [`abi_stable`]. The host loads it, checks the
//! ABI stamp ([`AbiStamp`]) and the layout of every type reachable from the
//! root module, reads its [`PluginInfo`], hands it a [`LogSink`] and then
//! asks it for instances of one of the four plugin interfaces:
//!
//! | kind | interface | calls |
//! |---|---|---|
//! | [`PluginKind::Validation`] | [`Validation`] | synchronous, CPU only; the host calls it from its blocking pool |
//! | [`PluginKind::RateLimit`] | [`RateLimitPolicy`] | asynchronous ([`FfiFuture`](async_ffi::FfiFuture)) |
//! | [`PluginKind::Upstream`] | [`Upstream`] | asynchronous |
//! | [`PluginKind::Storage`] | [`Storage`] | reads synchronous (the serving hot path), writes asynchronous |
//!
//! Only types from this crate and from `abi_stable::std_types` cross the
//! boundary. Blocks travel as raw RLP bytes, so neither side needs the
//! other's decoder and serving a stored block is a copy, not a re-encode.
//!
//! # Rules for plugins
//! - A plugin that does I/O owns its own async runtime; each async method
//!   spawns its work there and returns the join handle as an `FfiFuture`.
//!   A plugin must never touch the host's runtime (each side links its own
//!   copy of tokio, so the host's runtime is invisible to it).
//! - A panic must never unwind across the boundary: it becomes a
//!   [`PluginError`] of kind [`ErrorKind::Panic`]. `hypasis-plugin-sdk`
//!   does both for you; write plugins with it.
//! - Libraries are never unloaded.
//!
//! # Versioning
//! The ABI version is this crate's version ([`ABI_VERSION`]). A minor
//! version may add prefix fields or methods at the end; anything else is a
//! major version. The host refuses a plugin whose major version differs, or
//! whose types do not have the layout this host expects.

#![deny(missing_docs)]
// abi_stable's `sabi_trait` expansion places impls inside a const item.
#![allow(non_local_definitions)]

mod abi;
mod block;
mod error;
mod log;
mod module;
mod ratelimit;
mod storage;
mod upstream;
mod validation;

pub use abi::{ABI_STAMP_SYMBOL, ABI_VERSION, AbiStamp, AbiVersion};
pub use block::{BlockPart, BlockRange, BlockRef, H160, H256, RawBlock};
pub use error::{ErrorKind, PluginError, PluginResult};
pub use log::{LogLevel, LogRecord, LogSink};
pub use module::{PluginInfo, PluginInstance, PluginKind, PluginModule, PluginModuleRef};
pub use ratelimit::{
    OperatorLimits, OperatorOverride, RateDecision, RateLimitBox, RateLimitPolicy,
    RateLimitPolicy_TO,
};
pub use storage::{
    IntervalChange, MetaChange, Storage, Storage_TO, StorageBox, StorageStats, StoredBlock,
    TxLocation, WriteBatch,
};
pub use upstream::{
    ChainHead, EndpointStatus, FaultKind, FetchRequest, Fetched, Upstream, Upstream_TO, UpstreamBox,
};
pub use validation::{
    Checkpoint, ChildLink, Direction, Producer, Rejection, Requirements, Span, Validation,
    Validation_TO, ValidationBox, ValidationRequest, Verdict,
};

/// Re-exports that plugin and host code need to name the ABI types.
pub mod reexports {
    pub use abi_stable;
    pub use async_ffi;
}
