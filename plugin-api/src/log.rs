//! Log forwarding: plugins log through their own copy of `tracing`; the SDK
//! turns each event into a [`LogRecord`] and hands it to the host's
//! [`LogSink`], so plugin logs land in the host's log with the plugin's name.

use abi_stable::{StableAbi, std_types::RStr};

crate::open_enum! {
    /// Severity of a forwarded log record, most severe first. A level this
    /// version does not know is logged as [`LogLevel::Info`].
    pub enum LogLevel: u8 {
        /// An error.
        Error = 1 => "error",
        /// A warning.
        Warn = 2 => "warn",
        /// Informational.
        Info = 3 => "info",
        /// Debugging detail.
        Debug = 4 => "debug",
        /// Very verbose detail.
        Trace = 5 => "trace",
    }
}

/// One log event from a plugin, lent for the duration of the sink call.
/// Frozen: a record with more fields would come with a new sink function
/// (the [`LogSink`] prefix type can gain one).
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

/// Where a plugin sends its logs; given to it once, when it is loaded. A
/// prefix type: later minors append fields (a new sink function, say), and
/// a plugin reads the ones it knows.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = LogSinkRef)))]
#[sabi(missing_field(option))]
pub struct LogSink {
    /// The least severe level the host wants; plugins drop finer records.
    pub max_level: LogLevel,
    /// Receives one record. Must not panic; may be called from any thread.
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(plugin: RStr<'_>, record: LogRecord<'_>),
}
