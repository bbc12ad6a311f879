//! Log forwarding: plugins log through their own copy of `tracing`; the SDK
//! turns each event into a [`LogRecord`] and hands it to the host's
//! [`LogSink`], so plugin logs land in the host's log with the plugin's name.

use abi_stable::{StableAbi, std_types::RStr};

/// Severity of a forwarded log record, most severe first.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, StableAbi)]
pub enum LogLevel {
    /// An error.
    Error = 1,
    /// A warning.
    Warn = 2,
    /// Informational.
    Info = 3,
    /// Debugging detail.
    Debug = 4,
    /// Very verbose detail.
    Trace = 5,
}

/// One log event from a plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy, StableAbi)]
pub struct LogRecord<'a> {
    /// Severity.
    pub level: LogLevel,
    /// The plugin-side `tracing` target (its module path).
    pub target: RStr<'a>,
    /// The formatted message with its fields.
    pub message: RStr<'a>,
}

/// Where a plugin sends its logs; given to it once, when it is loaded.
#[repr(C)]
#[derive(Debug, Clone, Copy, StableAbi)]
pub struct LogSink {
    /// The least severe level the host wants; plugins drop finer records.
    pub max_level: LogLevel,
    /// Receives one record. Must not panic; may be called from any thread.
    pub log: extern "C" fn(plugin: RStr<'_>, record: LogRecord<'_>),
}
