//! Helpers shared by the host's integration tests: building real plugin
//! libraries (the workspace's and the out-of-tree ones) and locating them.

#![allow(dead_code)]

pub mod api;

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
    std::fs::copy(&built, &copy).expect("copy the built plugin");
    copy
}
