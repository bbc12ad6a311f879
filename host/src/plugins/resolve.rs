//! From a plugin name in the configuration to a library file.

use std::{
    env::consts::{DLL_PREFIX, DLL_SUFFIX},
    path::{Path, PathBuf},
};

/// The file a built-in or installed plugin called `name` lives in:
/// `validation-light` → `libhypasis_validation_light.so` (on Linux).
pub fn library_file_name(name: &str) -> String {
    format!("{DLL_PREFIX}hypasis_{}{DLL_SUFFIX}", name.replace('-', "_"))
}

/// Whether a configured value is a path rather than a name.
pub fn is_path(value: &str) -> bool {
    value.contains(std::path::MAIN_SEPARATOR) || value.contains('/') || value.ends_with(DLL_SUFFIX)
}

/// The directory plugins are looked up in when `plugins.dir` is unset: the
/// directory of the running executable (where `cargo build` puts both).
pub fn default_plugin_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Resolves a configured plugin: a path is used as given, a name is looked
/// up in `dir`.
pub fn resolve(value: &str, dir: &Path) -> PathBuf {
    if is_path(value) {
        PathBuf::from(value)
    } else {
        dir.join(library_file_name(value))
    }
}

/// Every file in `dir` that looks like a library, sorted.
pub fn library_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_file()
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.ends_with(DLL_SUFFIX))
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(
            library_file_name("validation-light"),
            format!("{DLL_PREFIX}hypasis_validation_light{DLL_SUFFIX}")
        );
        assert!(is_path("./x.so") || cfg!(not(unix)));
        assert!(!is_path("storage-memory"));
        assert_eq!(
            resolve("storage-memory", Path::new("/opt/p")),
            Path::new("/opt/p").join(library_file_name("storage-memory"))
        );
        assert_eq!(
            resolve("/x/y/libz.so", Path::new("/opt")),
            PathBuf::from("/x/y/libz.so")
        );
    }
}
