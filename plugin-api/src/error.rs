//! The error that crosses the boundary: a kind the host can act on and a
//! message a person can read.

use abi_stable::{
    StableAbi,
    std_types::{RResult, RString},
};

/// What went wrong, in terms the host acts on (retry, fail over, stop).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, StableAbi)]
pub enum ErrorKind {
    /// The plugin's configuration is missing or wrong; start-up stops.
    Config = 1,
    /// The host passed something the plugin cannot accept.
    InvalidInput = 2,
    /// A remote service or resource is unreachable or failing; retry later.
    Unavailable = 3,
    /// An operation did not finish in time; retry later.
    Timeout = 4,
    /// A remote service refused for load; retry after a pause.
    RateLimited = 5,
    /// Data read back is damaged.
    Corrupt = 6,
    /// Data received from a remote service is wrong (it lied or is broken).
    BadData = 7,
    /// The operation is not supported by this plugin.
    Unsupported = 8,
    /// The plugin panicked; the panic was caught at the boundary.
    Panic = 9,
    /// Anything else.
    Internal = 10,
    /// The plugin is shutting down or shut down.
    Shutdown = 11,
}

impl ErrorKind {
    /// A short lower-case name for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::BadData => "bad_data",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Panic => "panic",
            ErrorKind::Internal => "internal",
            ErrorKind::Shutdown => "shutdown",
        }
    }
}

/// An error returned by a plugin.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct PluginError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// A human-readable message, naming the block, key or endpoint it is about.
    pub message: RString,
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for PluginError {}

/// The result type of every plugin call.
pub type PluginResult<T> = RResult<T, PluginError>;
