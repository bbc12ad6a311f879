//! The error that crosses the boundary: a kind the host can act on and a
//! message a person can read.

use abi_stable::{
    StableAbi,
    std_types::{RResult, RString},
};

crate::open_enum! {
    /// What went wrong, in terms the host acts on (retry, fail over, stop).
    /// A kind this host does not know is handled as [`ErrorKind::Internal`].
    pub enum ErrorKind: u8 {
        /// The plugin's configuration is missing or wrong; start-up stops.
        Config = 1 => "config",
        /// The host passed something the plugin cannot accept.
        InvalidInput = 2 => "invalid_input",
        /// A remote service or resource is unreachable or failing; retry later.
        Unavailable = 3 => "unavailable",
        /// An operation did not finish in time; retry later.
        Timeout = 4 => "timeout",
        /// A remote service refused for load; retry after a pause.
        RateLimited = 5 => "rate_limited",
        /// Data read back is damaged.
        Corrupt = 6 => "corrupt",
        /// Data received from a remote service is wrong (it lied or is broken).
        BadData = 7 => "bad_data",
        /// The operation is not supported by this plugin.
        Unsupported = 8 => "unsupported",
        /// The plugin panicked; the panic was caught at the boundary.
        Panic = 9 => "panic",
        /// Anything else.
        Internal = 10 => "internal",
        /// The plugin is shutting down or shut down.
        Shutdown = 11 => "shutdown",
    }
}

impl ErrorKind {
    /// The kind to act on: itself when known, [`ErrorKind::Internal`] otherwise.
    pub fn or_internal(self) -> ErrorKind {
        if self.is_known() {
            self
        } else {
            ErrorKind::Internal
        }
    }
}

crate::extension_trait! {
    /// Fields [`PluginError`] gains after 3.0.
    PluginErrorExt, PluginErrorExt_TO, PluginErrorExtension
}

/// An error returned by a plugin.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct PluginError {
    /// What kind of failure this is.
    pub kind: ErrorKind,
    /// A human-readable message, naming the block, key or endpoint it is about.
    pub message: RString,
    /// Fields added after 3.0.
    pub ext: PluginErrorExtension,
}

impl PluginError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
            ext: Default::default(),
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
