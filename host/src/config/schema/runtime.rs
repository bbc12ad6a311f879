//! `plugins.*` and `log.*`: how the process itself runs, where it loads
//! plugins from and how it logs.

use std::{path::PathBuf, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `plugins.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginsConfig {
    /// Directory holding plugin libraries; the executable's directory when unset.
    pub dir: Option<PathBuf>,
    /// Worker threads each I/O plugin's runtime starts.
    pub runtime_threads: usize,
    /// How long plugins get to stop at shutdown.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            runtime_threads: 2,
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

string_enum!(LogFormat { Pretty => "pretty", Json => "json" });

/// `log.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, or `info,hypasis_sync::sync=debug`. `HYPASIS_LOG` overrides it.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Pretty,
        }
    }
}
