//! Opening a plugin's root module with the layout check this ABI needs.
//!
//! abi_stable checks a library's types against the loader's, with the
//! loader as the older side: a prefix type (a vtable, the root module) may
//! have more fields in the library than in the loader, not fewer. This
//! ABI grows the other way round — a host accepts plugins built against
//! its own or an *older* minor ([`AbiVersion::accepts`]), and a plugin built
//! against a newer minor is refused before any layout is looked at — so the
//! check is made with the plugin's layout as the older side: every type the
//! plugin knows must be a prefix of (or equal to) the host's. Fields the
//! host has and the plugin lacks read as their defaults (see
//! [`Extension`](crate::Extension)).

use abi_stable::{
    StableAbi,
    abi_stability::check_layout_compatibility,
    library::{LibHeader, LibraryError},
};

use crate::PluginModuleRef;

/// Why a plugin's root module was refused.
#[derive(Debug)]
pub enum ModuleRefusal {
    /// The plugin's types are not a prefix of the host's; abi_stable's report.
    Layout(String),
    /// The plugin exports no layout to check (built without checks).
    NoLayout,
    /// abi_stable refused for another reason (version strings, the module
    /// initialiser failed).
    Library(LibraryError),
}

/// Checks the layout of the root module in `header` against this crate's
/// (the plugin as the older side) and returns the module.
pub fn open_root_module(header: &LibHeader) -> Result<PluginModuleRef, ModuleRefusal> {
    let plugin_layout = header.layout().ok_or(ModuleRefusal::NoLayout)?;
    check_layout_compatibility(plugin_layout, <PluginModuleRef as StableAbi>::LAYOUT)
        .into_result()
        .map_err(|error| ModuleRefusal::Layout(error.to_string()))?;
    // SAFETY: the layout was checked just above, with the plugin's types
    // required to be a prefix of (or equal to) the host's.
    unsafe { header.init_root_module_with_unchecked_layout::<PluginModuleRef>() }
        .map_err(ModuleRefusal::Library)
}
