//! The root module every plugin library exports, and what it creates.

use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RStr, RString},
};

use crate::{
    AbiVersion, LogSinkRef, PluginError, RateLimitBox, StorageBox, UpstreamBox, ValidationBox,
};

crate::open_enum! {
    /// Which interface a plugin implements. A kind this host does not know
    /// (a plugin for a newer host) is refused at load with its number.
    pub enum PluginKind: u8 {
        /// A validation level.
        Validation = 1 => "validation",
        /// A rate-limit policy.
        RateLimit = 2 => "ratelimit",
        /// A block source.
        Upstream = 3 => "upstream",
        /// A block store.
        Storage = 4 => "storage",
    }
}

crate::extension_trait! {
    /// Fields [`PluginInfo`] gains after 3.0.
    PluginInfoExt, PluginInfoExt_TO, PluginInfoExtension
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
    /// Fields added after 3.0.
    pub ext: PluginInfoExtension,
}

crate::extension_trait! {
    /// Fields [`PluginInstance`] gains after 3.0 (instances of kinds added later).
    PluginInstanceExt, PluginInstanceExt_TO, PluginInstanceExtension
}

/// One instance of a plugin: the object of its kind, the others `None`.
/// A struct rather than an enum so that a later minor can add kinds (in
/// the extension) without changing its layout.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginInstance {
    /// The instance's kind, which names the field that holds it.
    pub kind: PluginKind,
    /// A validation level.
    pub validation: ROption<ValidationBox>,
    /// A rate-limit policy.
    pub rate_limit: ROption<RateLimitBox>,
    /// A block source.
    pub upstream: ROption<UpstreamBox>,
    /// A block store.
    pub storage: ROption<StorageBox>,
    /// Fields added after 3.0.
    pub ext: PluginInstanceExtension,
}

impl PluginInstance {
    fn empty(kind: PluginKind) -> Self {
        PluginInstance {
            kind,
            validation: ROption::RNone,
            rate_limit: ROption::RNone,
            upstream: ROption::RNone,
            storage: ROption::RNone,
            ext: Default::default(),
        }
    }

    /// A validation instance.
    pub fn validation(object: ValidationBox) -> Self {
        PluginInstance {
            validation: ROption::RSome(object),
            ..Self::empty(PluginKind::Validation)
        }
    }

    /// A rate-limit instance.
    pub fn rate_limit(object: RateLimitBox) -> Self {
        PluginInstance {
            rate_limit: ROption::RSome(object),
            ..Self::empty(PluginKind::RateLimit)
        }
    }

    /// An upstream instance.
    pub fn upstream(object: UpstreamBox) -> Self {
        PluginInstance {
            upstream: ROption::RSome(object),
            ..Self::empty(PluginKind::Upstream)
        }
    }

    /// A storage instance.
    pub fn storage(object: StorageBox) -> Self {
        PluginInstance {
            storage: ROption::RSome(object),
            ..Self::empty(PluginKind::Storage)
        }
    }

    /// The kind of the object actually present (which must match `kind`),
    /// or `None` when there is none, or more than one.
    pub fn present_kind(&self) -> Option<PluginKind> {
        let present = [
            (self.validation.is_some(), PluginKind::Validation),
            (self.rate_limit.is_some(), PluginKind::RateLimit),
            (self.upstream.is_some(), PluginKind::Upstream),
            (self.storage.is_some(), PluginKind::Storage),
        ];
        let mut found = present.iter().filter(|(is, _)| *is).map(|(_, kind)| *kind);
        match (found.next(), found.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }
}

/// The root module: the table of functions a plugin library exports. A
/// prefix type: minors append functions after `instantiate`.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(option))]
pub struct PluginModule {
    /// Describes the plugin. Never fails.
    pub info: extern "C" fn() -> PluginInfo,
    /// Installs the host's log sink; called once, right after loading.
    pub set_logger: extern "C" fn(LogSinkRef),
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
