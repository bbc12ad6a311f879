//! The root module every plugin library exports.

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RStr, RString},
};

use crate::{
    AbiVersion, LogSink, PluginError, RateLimitBox, StorageBox, UpstreamBox, ValidationBox,
};

/// Which of the four interfaces a plugin implements.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, StableAbi)]
pub enum PluginKind {
    /// A validation level.
    Validation = 1,
    /// A rate-limit policy.
    RateLimit = 2,
    /// A block source.
    Upstream = 3,
    /// A block store.
    Storage = 4,
}

impl PluginKind {
    /// The kind's name as written in configuration and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Validation => "validation",
            PluginKind::RateLimit => "ratelimit",
            PluginKind::Upstream => "upstream",
            PluginKind::Storage => "storage",
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plugin says about itself.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct PluginInfo {
    /// The name configuration refers to it by, for example `validation-light`.
    pub name: RString,
    /// Its interface.
    pub kind: PluginKind,
    /// Its own version (its crate version).
    pub version: RString,
    /// The plugin-api version it was built against.
    pub abi: AbiVersion,
    /// One sentence on what it does.
    pub description: RString,
}

/// One instance of a plugin, of the kind its [`PluginInfo`] names.
#[repr(u8)]
#[derive(StableAbi)]
pub enum PluginInstance {
    /// A validation level.
    Validation(ValidationBox),
    /// A rate-limit policy.
    RateLimit(RateLimitBox),
    /// A block source.
    Upstream(UpstreamBox),
    /// A block store.
    Storage(StorageBox),
}

impl PluginInstance {
    /// The kind of this instance.
    pub fn kind(&self) -> PluginKind {
        match self {
            PluginInstance::Validation(_) => PluginKind::Validation,
            PluginInstance::RateLimit(_) => PluginKind::RateLimit,
            PluginInstance::Upstream(_) => PluginKind::Upstream,
            PluginInstance::Storage(_) => PluginKind::Storage,
        }
    }
}

/// The root module: the table of functions a plugin library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// Describes the plugin. Never fails.
    pub info: extern "C" fn() -> PluginInfo,
    /// Installs the host's log sink; called once, right after loading.
    pub set_logger: extern "C" fn(LogSink),
    /// Creates an instance from its configuration, a JSON document (see
    /// the plugin SDK guide for its envelope). Starts the plugin's runtime
    /// on first use. May be called more than once.
    #[sabi(last_prefix_field)]
    pub instantiate: extern "C" fn(config: RStr<'_>) -> RResult<PluginInstance, PluginError>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "hypasis_plugin";
    const NAME: &'static str = "hypasis_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}
