//! `hypasis-sync plugins list|inspect`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use hypasis_plugin_api::ABI_VERSION;
use hypasis_sync::{
    config::{self, ConfigEnv},
    plugins::{PluginDescription, PluginLibrary, default_plugin_dir, library_files},
};

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List the plugins in a directory with kind and versions.
    List {
        /// The directory; default: plugins.dir of --config, else the executable's directory.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Take plugins.dir from this configuration.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Load one plugin file, check its ABI and print what it says about itself.
    Inspect {
        /// The library file.
        file: PathBuf,
    },
}

fn print_row(description: &PluginDescription) {
    println!(
        "{:<24} {:<11} {:<9} {:<5} {}",
        description.name,
        description.kind.as_str(),
        description.version,
        description.abi.to_string(),
        description.path.display()
    );
}

pub fn execute(command: PluginsCommand) -> anyhow::Result<()> {
    match command {
        PluginsCommand::List { dir, config } => {
            let dir = match (dir, config) {
                (Some(dir), _) => dir,
                (None, Some(file)) => config::load(&file, &ConfigEnv::from_process())?
                    .plugins
                    .dir
                    .unwrap_or_else(default_plugin_dir),
                (None, None) => default_plugin_dir(),
            };
            let files =
                library_files(&dir).with_context(|| format!("reading {}", dir.display()))?;
            println!(
                "plugins in {} (host plugin ABI {ABI_VERSION})",
                dir.display()
            );
            println!(
                "{:<24} {:<11} {:<9} {:<5} FILE",
                "NAME", "KIND", "VERSION", "ABI"
            );
            let mut found = 0;
            for file in files {
                match PluginLibrary::open(&file) {
                    Ok(library) => {
                        found += 1;
                        print_row(library.description());
                    }
                    Err(error) => eprintln!("skipped: {error}"),
                }
            }
            if found == 0 {
                eprintln!("no plugins found; build them with `cargo build --workspace`");
            }
            Ok(())
        }
        PluginsCommand::Inspect { file } => {
            let library = PluginLibrary::open(&file)?;
            let description = library.description();
            println!("name:        {}", description.name);
            println!("kind:        {}", description.kind);
            println!("version:     {}", description.version);
            println!(
                "plugin ABI:  {} (host {ABI_VERSION}, compatible)",
                description.abi
            );
            println!("description: {}", description.description);
            println!("file:        {}", description.path.display());
            Ok(())
        }
    }
}
