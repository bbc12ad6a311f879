//! Log output: pretty or JSON lines, filtered by `log.level` or `HYPASIS_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `override_filter` (from `HYPASIS_LOG`)
/// wins over `log.level`. Fails if a subscriber is already installed.
pub fn init(config: &LogConfig, override_filter: Option<&str>) -> Result<(), String> {
    let directives = override_filter.unwrap_or(&config.level);
    let filter = EnvFilter::builder()
        .parse(directives)
        .map_err(|error| format!("log filter `{directives}`: {error}"))?;
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .with_target(true)
                    .with_ansi(std::io::stdout().is_terminal()),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
    result.map_err(|error| error.to_string())
}
