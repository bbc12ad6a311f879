//! `hypasis-sync config check FILE`.

use std::path::PathBuf;

use clap::Subcommand;
use hypasis_sync::config::{self, ConfigEnv, render_yaml};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load, substitute and validate FILE, then print the effective
    /// configuration (defaults filled in, secrets redacted).
    Check {
        /// The YAML configuration.
        file: PathBuf,
    },
}

pub fn execute(command: ConfigCommand) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Check { file } => {
            let config = config::load(&file, &ConfigEnv::from_process())?;
            print!("{}", render_yaml(&config)?);
            eprintln!("{}: OK", file.display());
            Ok(())
        }
    }
}
