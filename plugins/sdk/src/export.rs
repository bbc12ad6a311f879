//! What [`export_plugin!`](crate::export_plugin) expands to, as functions.

use abi_stable::{
    prefix_type::PrefixTypeTrait,
    std_types::{RResult, RStr, RString},
};
use hypasis_plugin_api::{
    ABI_VERSION, ErrorKind, LogSinkRef, PluginError, PluginInfo, PluginInstance, PluginKind,
    PluginModule, PluginModuleRef,
};

use crate::{PluginConfig, guard, runtime};

/// Builds the root module from the three exported functions.
pub fn root_module(
    info: extern "C" fn() -> PluginInfo,
    set_logger: extern "C" fn(LogSinkRef),
    instantiate: extern "C" fn(RStr<'_>) -> RResult<PluginInstance, PluginError>,
) -> PluginModuleRef {
    PluginModule {
        info,
        set_logger,
        instantiate,
    }
    .leak_into_prefix()
}

/// The plugin's [`PluginInfo`].
pub fn guarded_info(name: &str, kind: PluginKind, version: &str, description: &str) -> PluginInfo {
    PluginInfo {
        name: RString::from(name),
        kind,
        version: RString::from(version),
        abi: ABI_VERSION,
        description: RString::from(description),
        ext: Default::default(),
    }
}

/// Parses the envelope, starts the runtime settings, calls the plugin's
/// constructor under a panic guard, and checks the instance's kind.
pub fn guarded_instantiate(
    name: &str,
    kind: PluginKind,
    config: RStr<'_>,
    constructor: fn(PluginConfig) -> Result<PluginInstance, PluginError>,
) -> RResult<PluginInstance, PluginError> {
    guard(|| {
        let config = PluginConfig::parse(config.as_str())?;
        if let Some(threads) = config.runtime_threads {
            runtime::configure_threads(threads);
        }
        let instance = constructor(config)?;
        if instance.kind != kind || instance.present_kind() != Some(kind) {
            return Err(PluginError::new(
                ErrorKind::Internal,
                format!(
                    "{name}: declared kind {kind} but created a {} instance",
                    instance.kind
                ),
            ));
        }
        Ok(instance)
    })
}

/// Exports a plugin from a `cdylib` crate.
///
/// ```ignore
/// hypasis_plugin_sdk::export_plugin! {
///     name: "storage-memory",
///     kind: Storage,
///     description: "Keeps blocks in memory; for tests and short runs.",
///     instantiate: new_instance,   // fn(PluginConfig) -> Result<PluginInstance, PluginError>
/// }
/// ```
///
/// It exports the ABI stamp and the abi_stable root module. Put it behind
/// `#[cfg(not(feature = "in-process"))]` if the crate is also linked as an
/// rlib next to other plugins (for in-process benchmarks).
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:expr,
        kind: $kind:ident,
        description: $description:expr,
        instantiate: $instantiate:path $(,)?
    ) => {
        /// The plugin ABI stamp the host reads before anything else.
        #[unsafe(no_mangle)]
        pub static HYPASIS_PLUGIN_ABI: $crate::api::AbiStamp = $crate::api::AbiStamp::CURRENT;

        /// abi_stable's library header, pointing at the root module.
        #[unsafe(export_name = "_1as_0lib_1header_0root_bmodule_bloader")]
        pub static __HYPASIS_LIB_HEADER: $crate::__private::LibHeader = {
            extern "C" fn constructor() -> $crate::__private::RootModuleResult {
                $crate::__private::call_root_module_loader(__hypasis_root_module)
            }
            // SAFETY: `constructor` returns the root module type named here.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::api::PluginModuleRef>(
                    constructor,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };

        fn __hypasis_root_module() -> $crate::api::PluginModuleRef {
            extern "C" fn info() -> $crate::api::PluginInfo {
                $crate::__private::guarded_info(
                    $name,
                    $crate::api::PluginKind::$kind,
                    env!("CARGO_PKG_VERSION"),
                    $description,
                )
            }
            extern "C" fn set_logger(sink: $crate::api::LogSinkRef) {
                $crate::install_log_forwarder($name, sink)
            }
            extern "C" fn instantiate(
                config: $crate::__private::RStr<'_>,
            ) -> $crate::__private::RResult<$crate::api::PluginInstance, $crate::PluginError> {
                $crate::__private::guarded_instantiate(
                    $name,
                    $crate::api::PluginKind::$kind,
                    config,
                    $instantiate,
                )
            }
            $crate::__private::root_module(info, set_logger, instantiate)
        }
    };
}
