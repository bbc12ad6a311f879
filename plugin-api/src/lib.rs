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
//! # Versioning: what a minor version may change
//! The ABI version is this crate's version ([`ABI_VERSION`]). A host
//! accepts a plugin of its own major version and of the same or an older
//! minor; abi_stable then checks the layout of every type. Within a major
//! version everything can grow, and nothing else may change:
//! - **records** (every struct with an `ext` field) gain fields as methods
//!   with a default body on their extension trait (see [`Extension`]);
//! - **interfaces** ([`Storage`], [`Upstream`], [`Validation`],
//!   [`RateLimitPolicy`]) gain methods after their last one, each with a
//!   default body that an older plugin's object falls back to;
//! - **enums** ([`ErrorKind`], [`PluginKind`], [`BlockPart`], [`FaultKind`],
//!   [`Direction`], [`Outcome`], [`Namespace`], [`LogLevel`]) are open: they
//!   gain values, and each says how a value it does not know is handled;
//! - **the root module** ([`PluginModule`]) and the log sink ([`LogSink`])
//!   are prefix types and gain functions at the end.
//!
//! Value types ([`BlockRef`], [`BlockRange`], [`ChildLink`], [`AbiVersion`],
//! [`AbiStamp`]) and the lent [`LogRecord`] are frozen. Removing, renaming,
//! reordering or retyping anything is a new major version.
//!
//! The test-only `next-minor` feature builds this crate as the next minor
//! (3.1) would be, with a field added to [`WriteBatch`] and
//! [`StorageStats`] and a method added to [`Storage`]; the loader tests
//! load plugins built against 3.0 into a host built with it.

#![deny(missing_docs)]
// abi_stable's `sabi_trait` expansion places impls inside a const item.
#![allow(non_local_definitions)]

mod abi;
mod block;
mod error;
mod extension;
pub mod intervals;
mod loading;
mod log;
mod module;
mod open_enum;
mod ratelimit;
mod storage;
mod upstream;
mod validation;

pub use abi::{ABI_STAMP_SYMBOL, ABI_VERSION, AbiStamp, AbiVersion};
pub use block::{
    BlockPart, BlockRange, BlockRef, H160, H256, RawBlock, RawBlockExt, RawBlockExt_TO,
    RawBlockExtension,
};
pub use error::{
    ErrorKind, PluginError, PluginErrorExt, PluginErrorExt_TO, PluginErrorExtension, PluginResult,
};
pub use extension::Extension;
pub use intervals::IntervalSet;
pub use loading::{ModuleRefusal, open_root_module};
pub use log::{LogLevel, LogRecord, LogSink, LogSinkRef};
pub use module::{
    PluginInfo, PluginInfoExt, PluginInfoExt_TO, PluginInfoExtension, PluginInstance,
    PluginInstanceExt, PluginInstanceExt_TO, PluginInstanceExtension, PluginKind, PluginModule,
    PluginModuleRef,
};
pub use ratelimit::{
    OperatorLimits, OperatorLimitsExt, OperatorLimitsExt_TO, OperatorLimitsExtension,
    OperatorOverride, OperatorOverrideExt, OperatorOverrideExt_TO, OperatorOverrideExtension,
    RateDecision, RateDecisionExt, RateDecisionExt_TO, RateDecisionExtension, RateLimitBox,
    RateLimitPolicy, RateLimitPolicy_TO,
};
pub use storage::{
    IntervalChange, IntervalChangeExt, IntervalChangeExt_TO, IntervalChangeExtension, MetaChange,
    MetaChangeExt, MetaChangeExt_TO, MetaChangeExtension, Namespace, SenderList, SenderListExt,
    SenderListExt_TO, SenderListExtension, Storage, Storage_TO, StorageBox, StorageStats,
    StorageStatsExt, StorageStatsExt_TO, StorageStatsExtension, TxLocation, TxLocationExt,
    TxLocationExt_TO, TxLocationExtension, WriteBatch, WriteBatchExt, WriteBatchExt_TO,
    WriteBatchExtension,
};
pub use upstream::{
    ChainHead, ChainHeadExt, ChainHeadExt_TO, ChainHeadExtension, EndpointStatus,
    EndpointStatusExt, EndpointStatusExt_TO, EndpointStatusExtension, FaultKind, FetchRequest,
    FetchRequestExt, FetchRequestExt_TO, FetchRequestExtension, Fetched, FetchedExt, FetchedExt_TO,
    FetchedExtension, Upstream, Upstream_TO, UpstreamBox,
};
pub use validation::{
    Checkpoint, CheckpointExt, CheckpointExt_TO, CheckpointExtension, ChildLink, Direction,
    Outcome, Producer, ProducerExt, ProducerExt_TO, ProducerExtension, Rejection, RejectionExt,
    RejectionExt_TO, RejectionExtension, Requirements, RequirementsExt, RequirementsExt_TO,
    RequirementsExtension, Span, SpanExt, SpanExt_TO, SpanExtension, Validation, Validation_TO,
    ValidationBox, ValidationRequest, ValidationRequestExt, ValidationRequestExt_TO,
    ValidationRequestExtension, Verdict, VerdictExt, VerdictExt_TO, VerdictExtension,
};

/// Re-exports that plugin and host code need to name the ABI types.
pub mod reexports {
    pub use abi_stable;
    pub use async_ffi;
}
