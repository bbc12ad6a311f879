//! Why one attempt at a range failed: shared by the range machinery in
//! `services` and the split validation in `verify`, so neither has to import
//! the other for it.

use hypasis_plugin_api::Rejection;

use crate::plugins::PluginCallError;

/// Why one attempt at a range failed.
#[derive(Debug)]
pub enum RangeError {
    /// The first block does not link to the trusted parent: the stored tip
    /// may be on a dead fork.
    ParentMismatch(Box<Rejection>),
    /// Every endpoint tried served blocks that failed validation.
    Rejected(Box<Rejection>),
    /// The upstream failed.
    Upstream(PluginCallError),
    /// Validation could not run, or storage failed.
    Internal(String),
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::ParentMismatch(rejection) => {
                write!(f, "does not link to the stored chain: {rejection}")
            }
            RangeError::Rejected(rejection) => {
                write!(f, "rejected by every endpoint tried: {rejection}")
            }
            RangeError::Upstream(error) => write!(f, "{error}"),
            RangeError::Internal(message) => f.write_str(message),
        }
    }
}
