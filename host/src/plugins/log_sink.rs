//! The host end of plugin log forwarding.

use abi_stable::std_types::RStr;
use std::sync::OnceLock;

use abi_stable::prefix_type::PrefixTypeTrait;
use hypasis_plugin_api::{LogLevel, LogRecord, LogSink, LogSinkRef};
use tracing::level_filters::LevelFilter;

extern "C" fn forward(plugin: RStr<'_>, record: LogRecord<'_>) {
    // Logging must never unwind into the plugin.
    let _ = std::panic::catch_unwind(|| {
        let plugin = plugin.as_str();
        let source = record.target.as_str();
        let message = record.message.as_str();
        match record.level {
            LogLevel::Error => tracing::error!(target: "plugin", plugin, source, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", plugin, source, "{message}"),
            LogLevel::Info => tracing::info!(target: "plugin", plugin, source, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", plugin, source, "{message}"),
            LogLevel::Trace => tracing::trace!(target: "plugin", plugin, source, "{message}"),
            // A level from a newer plugin: logged as information.
            _ => tracing::info!(target: "plugin", plugin, source, "{message}"),
        }
    });
}

/// The sink handed to every plugin, filtered at the host's level when the
/// first plugin was loaded (made once: a prefix type lives for the program).
pub fn host_log_sink() -> LogSinkRef {
    static SINK: OnceLock<LogSinkRef> = OnceLock::new();
    *SINK.get_or_init(|| make_sink().leak_into_prefix())
}

fn make_sink() -> LogSink {
    let max_level = match LevelFilter::current() {
        LevelFilter::OFF | LevelFilter::ERROR => LogLevel::Error,
        LevelFilter::WARN => LogLevel::Warn,
        LevelFilter::INFO => LogLevel::Info,
        LevelFilter::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    };
    LogSink {
        max_level,
        log: forward,
    }
}
