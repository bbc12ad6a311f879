//! How a check fails: the block is bad, or the request is unusable.

use hypasis_plugin_api::Rejection;

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// A block failed: it must not be stored as verified.
    Block(Box<Rejection>),
    /// The request cannot be validated as given (the host's mistake).
    Request(String),
}

/// A block rejection naming the field, expected and found values.
pub fn mismatch(
    number: u64,
    field: &str,
    expected: impl std::fmt::Display,
    found: impl std::fmt::Display,
) -> Reject {
    Reject::Block(Box::new(Rejection::new(
        number,
        field,
        expected.to_string(),
        found.to_string(),
    )))
}
