//! Helpers shared by the host's integration tests: building real plugin
//! libraries (the workspace's and the out-of-tree ones) and locating them.

#![allow(dead_code)]

pub mod api;
pub mod bor;
pub mod ethtest;
pub mod redis;

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn run_cargo(args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds every workspace plugin (debug) once per test binary and returns
/// the directory holding them. `cargo test` itself does not produce cdylibs.
pub fn built_in_plugin_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            run_cargo(&["build", "--workspace", "--lib"]);
            target_dir().join("debug")
        })
        .clone()
}

/// Builds an out-of-tree plugin crate under `tests/plugins/<name>` on its
/// own (its own workspace and lockfile) with `features`, and returns a copy
/// of its library named after the feature set.
pub fn build_out_of_tree(name: &str, features: &[&str]) -> PathBuf {
    // Builds of one crate with other features share its output file: one at a time.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let manifest = workspace_root()
        .join("tests/plugins")
        .join(name)
        .join("Cargo.toml");
    let target = target_dir().join("out-of-tree");
    let mut args = vec![
        "build".to_string(),
        "--manifest-path".into(),
        manifest.display().to_string(),
        "--target-dir".into(),
        target.display().to_string(),
    ];
    if !features.is_empty() {
        args.push("--features".into());
        args.push(features.join(","));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_cargo(&refs);
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    let built = target.join("debug").join(&file);
    let suffix = if features.is_empty() {
        "default".to_string()
    } else {
        features.join("-")
    };
    let copy = target.join(format!("{}-{suffix}{}", name, std::env::consts::DLL_SUFFIX));
    // Copied aside, then renamed over: a test of this process may have the
    // previous copy loaded, and overwriting a mapped library in place
    // changes code under its feet.
    let aside = copy.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::copy(&built, &aside).expect("copy the built plugin");
    std::fs::rename(&aside, &copy).expect("put the built plugin in place");
    copy
}

/// Builds the out-of-tree binary crate under `tests/plugins/<name>` on its
/// own and returns the path of its executable.
pub fn build_out_of_tree_bin(name: &str) -> PathBuf {
    let manifest = workspace_root()
        .join("tests/plugins")
        .join(name)
        .join("Cargo.toml");
    let target = target_dir().join("out-of-tree");
    run_cargo(&[
        "build",
        "--manifest-path",
        &manifest.display().to_string(),
        "--target-dir",
        &target.display().to_string(),
    ]);
    target.join("debug").join(name)
}
