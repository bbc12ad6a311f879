//! The plugin SDK: everything a Hypasis Sync plugin needs besides its own logic.
//!
//! A plugin implements one of four plain Rust traits — [`ValidationLevel`],
//! [`StorageBackend`], [`UpstreamSource`] or [`RateLimiter`] — and exports
//! itself with [`export_plugin!`]. The SDK then provides what the ABI rules
//! demand:
//! - every call is guarded: a panic becomes a [`PluginError`] of kind
//!   `Panic` instead of unwinding across the boundary;
//! - asynchronous calls run on the plugin's own tokio runtime
//!   ([`runtime`]), never on the host's, and come back as `FfiFuture`s;
//! - `tracing` events inside the plugin are forwarded to the host's log;
//! - the JSON configuration the host passes is parsed into [`PluginConfig`].
//!
//! See `docs/PLUGINS.md` for a walk-through.

#![deny(missing_docs)]

mod adapters;
mod config;
mod export;
mod guard;
mod log;
mod runtime;

pub use adapters::{
    RateLimiter, StorageBackend, UpstreamSource, ValidationLevel, rate_limit_instance,
    storage_instance, upstream_instance, validation_instance,
};
pub use config::PluginConfig;
pub use guard::{guard, panic_message};
pub use hypasis_plugin_api as api;
/// Interval sets, as plugin-api defines them (kept here for plugins written against 2.x).
pub use hypasis_plugin_api::intervals;
pub use hypasis_plugin_api::{ErrorKind, PluginError};
pub use log::install_log_forwarder;
pub use runtime::{runtime, spawn_blocking_ffi, spawn_ffi};
/// The `tracing` the SDK forwards to the host; log with it.
pub use tracing;

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{guarded_info, guarded_instantiate, root_module};
    pub use abi_stable::library::__call_root_module_loader as call_root_module_loader;
    pub use abi_stable::library::{CheckTypeLayout, LibHeader, RootModuleResult};
    pub use abi_stable::std_types::{RResult, RStr};

    /// The symbol abi_stable looks up in a library; checked by a test below.
    pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";
}

/// Builds a `Result<T, PluginError>` error of the given kind with `format!` arguments.
#[macro_export]
macro_rules! plugin_err {
    ($kind:ident, $($arg:tt)*) => {
        $crate::PluginError::new($crate::ErrorKind::$kind, format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            super::__private::ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }
}
