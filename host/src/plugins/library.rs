//! Opening one plugin library: the ABI stamp first, then abi_stable's
//! version and layout checks, then its info and the log sink.
//!
//! Libraries are never unloaded; opening the same file twice returns the
//! same library.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use abi_stable::{
    library::{LibraryError, RootModule, lib_header_from_path},
    std_types::RStr,
};
use hypasis_plugin_api::{
    ABI_STAMP_SYMBOL, ABI_VERSION, AbiStamp, AbiVersion, ModuleRefusal, PluginInstance, PluginKind,
    PluginModuleRef, open_root_module,
};

use super::{PluginLoadError, log_sink::host_log_sink};

/// What a plugin says about itself, plus where it was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDescription {
    /// Its name.
    pub name: String,
    /// Its interface.
    pub kind: PluginKind,
    /// Its version.
    pub version: String,
    /// The plugin ABI it was built against.
    pub abi: AbiVersion,
    /// What it does.
    pub description: String,
    /// The file it was loaded from.
    pub path: PathBuf,
}

/// An opened, checked plugin library.
pub struct PluginLibrary {
    description: PluginDescription,
    module: PluginModuleRef,
}

impl std::fmt::Debug for PluginLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginLibrary")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

fn opened() -> &'static Mutex<HashMap<PathBuf, Arc<PluginLibrary>>> {
    static OPENED: OnceLock<Mutex<HashMap<PathBuf, Arc<PluginLibrary>>>> = OnceLock::new();
    OPENED.get_or_init(Default::default)
}

/// Reads the ABI stamp without touching anything else in the library.
fn read_stamp(path: &Path) -> Result<AbiStamp, PluginLoadError> {
    let not_a_plugin = |reason: String| PluginLoadError::NotAPlugin {
        path: path.to_owned(),
        reason,
    };
    // SAFETY: loading a library runs its initialisers; plugins are trusted
    // code chosen by the operator, like the host binary itself.
    let library = unsafe { libloading::Library::new(path) }.map_err(|error| {
        let detail = std::error::Error::source(&error)
            .map(|source| format!(": {source}"))
            .unwrap_or_default();
        not_a_plugin(format!(
            "cannot load it as a shared library ({error}{detail})"
        ))
    })?;
    // SAFETY: the symbol, when present, is the `AbiStamp` static that
    // `export_plugin!` defines; it is plain data of a fixed layout.
    let stamp = unsafe {
        library
            .get::<*const AbiStamp>(ABI_STAMP_SYMBOL)
            .map(|symbol| **symbol)
    }
    .map_err(|_| {
        not_a_plugin(format!(
            "it exports no `{ABI_STAMP_SYMBOL}` symbol (plugins are built with hypasis-plugin-sdk's export_plugin!)"
        ))
    })?;
    // Never unload: abi_stable keeps references into the library.
    std::mem::forget(library);
    if stamp.magic != AbiStamp::MAGIC {
        return Err(not_a_plugin(format!(
            "its `{ABI_STAMP_SYMBOL}` symbol does not carry the Hypasis magic"
        )));
    }
    Ok(stamp)
}

/// abi_stable's report is a long dump of both layouts; the lines that say
/// what differs start with `Error:` and are followed by `Expected:`/`Found:`
/// (the plugin's side, then the host's: see [`open_root_module`]).
fn summarise_layout_error(error: &str) -> String {
    let lines: Vec<&str> = error
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let mut findings = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(what) = line.strip_prefix("Error:") {
            let mut finding = what.trim().to_string();
            if lines.get(index + 1) == Some(&"Expected:") && lines.get(index + 3) == Some(&"Found:")
            {
                finding.push_str(&format!(
                    " (the plugin has {}, this host has {})",
                    lines.get(index + 2).unwrap_or(&"?"),
                    lines.get(index + 4).unwrap_or(&"?")
                ));
            }
            findings.push(finding);
        }
    }
    if findings.is_empty() {
        lines
            .iter()
            .take(6)
            .copied()
            .collect::<Vec<_>>()
            .join(" | ")
    } else {
        findings.truncate(3);
        findings.join("; ")
    }
}

impl PluginLibrary {
    /// Opens and checks the plugin at `path`.
    pub fn open(path: &Path) -> Result<Arc<PluginLibrary>, PluginLoadError> {
        let key = path.canonicalize().map_err(|_| PluginLoadError::Missing {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_owned(),
        })?;
        let mut opened = opened()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(library) = opened.get(&key) {
            return Ok(Arc::clone(library));
        }
        let library = Arc::new(Self::open_uncached(&key)?);
        opened.insert(key, Arc::clone(&library));
        Ok(library)
    }

    fn open_uncached(path: &Path) -> Result<PluginLibrary, PluginLoadError> {
        let stamp = read_stamp(path)?;
        if !ABI_VERSION.accepts(stamp.version) {
            return Err(PluginLoadError::AbiMismatch {
                path: path.to_owned(),
                expected: ABI_VERSION,
                found: stamp.version,
            });
        }
        let header = lib_header_from_path(path).map_err(|error| PluginLoadError::NotAPlugin {
            path: path.to_owned(),
            reason: format!("abi_stable header: {}", error.to_string().trim()),
        })?;
        let module = open_root_module(header).map_err(|refusal| match refusal {
            ModuleRefusal::Layout(details) => PluginLoadError::Layout {
                path: path.to_owned(),
                expected: ABI_VERSION,
                found: stamp.version,
                details: summarise_layout_error(&details),
            },
            ModuleRefusal::NoLayout => PluginLoadError::NotAPlugin {
                path: path.to_owned(),
                reason: "its root module carries no layout to check".into(),
            },
            ModuleRefusal::Library(LibraryError::IncompatibleVersionNumber {
                actual_version,
                ..
            }) => PluginLoadError::AbiMismatch {
                path: path.to_owned(),
                expected: ABI_VERSION,
                found: AbiVersion {
                    major: actual_version.major,
                    minor: actual_version.minor,
                },
            },
            ModuleRefusal::Library(other) => PluginLoadError::NotAPlugin {
                path: path.to_owned(),
                reason: format!(
                    "{} root module: {}",
                    PluginModuleRef::NAME,
                    other.to_string().trim()
                ),
            },
        })?;
        let info = (module.info())();
        if !info.kind.is_known() {
            return Err(PluginLoadError::NotAPlugin {
                path: path.to_owned(),
                reason: format!(
                    "it is a plugin of kind {}, which this host (plugin ABI {ABI_VERSION}) does not know",
                    info.kind.raw()
                ),
            });
        }
        (module.set_logger())(host_log_sink());
        Ok(PluginLibrary {
            description: PluginDescription {
                name: info.name.into_string(),
                kind: info.kind,
                version: info.version.into_string(),
                abi: info.abi,
                description: info.description.into_string(),
                path: path.to_owned(),
            },
            module,
        })
    }

    /// What the plugin says about itself.
    pub fn description(&self) -> &PluginDescription {
        &self.description
    }

    /// Fails unless the plugin is of `kind`; `key` is the configuration key
    /// that asked for it, for the message.
    pub fn expect_kind(&self, kind: PluginKind, key: &str) -> Result<(), PluginLoadError> {
        if self.description.kind == kind {
            Ok(())
        } else {
            Err(PluginLoadError::WrongKind {
                path: self.description.path.clone(),
                name: self.description.name.clone(),
                key: key.to_string(),
                expected: kind,
                found: self.description.kind,
            })
        }
    }

    /// Creates an instance from a configuration envelope (JSON text).
    pub fn instantiate(&self, envelope: &str) -> Result<PluginInstance, PluginLoadError> {
        (self.module.instantiate())(RStr::from_str(envelope))
            .into_result()
            .map_err(|error| PluginLoadError::Init {
                path: self.description.path.clone(),
                name: self.description.name.clone(),
                error,
            })
    }
}
