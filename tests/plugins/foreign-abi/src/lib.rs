//! A plugin from "another ABI". See Cargo.toml.

use abi_stable::{
    declare_root_module_statics, export_root_module,
    library::RootModule,
    prefix_type::PrefixTypeTrait,
    sabi_types::VersionStrings,
    std_types::{RStr, RString},
    StableAbi,
};

/// The same layout as the host's `AbiStamp`.
#[repr(C)]
pub struct AbiStamp {
    pub magic: [u8; 8],
    pub major: u32,
    pub minor: u32,
}

#[cfg(not(feature = "drifted"))]
#[no_mangle]
pub static HYPASIS_PLUGIN_ABI: AbiStamp = AbiStamp { magic: *b"HYPASIS\0", major: 2, minor: 0 };

#[cfg(feature = "drifted")]
#[no_mangle]
pub static HYPASIS_PLUGIN_ABI: AbiStamp = AbiStamp { magic: *b"HYPASIS\0", major: 3, minor: 0 };

/// An older/modified `PluginInfo`: the kind is a bare integer and there is
/// no ABI field.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginInfo {
    pub name: RString,
    pub kind: u32,
    pub version: RString,
}

#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    pub info: extern "C" fn() -> PluginInfo,
    #[sabi(last_prefix_field)]
    pub instantiate: extern "C" fn(config: RStr<'_>) -> u32,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "hypasis_plugin";
    const NAME: &'static str = "hypasis_plugin";
    #[cfg(not(feature = "drifted"))]
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("2.0.0");
    #[cfg(feature = "drifted")]
    const VERSION_STRINGS: VersionStrings = VersionStrings::new("3.0.0");
}

extern "C" fn info() -> PluginInfo {
    PluginInfo { name: "foreign".into(), kind: 4, version: "0.9.0".into() }
}

extern "C" fn instantiate(_config: RStr<'_>) -> u32 {
    0
}

#[export_root_module]
pub fn root_module() -> PluginModuleRef {
    PluginModule { info, instantiate }.leak_into_prefix()
}
