//! The crate's error type.

use alloy_primitives::Bytes;

/// What can go wrong running the devnet L1.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The configuration cannot produce a working L1.
    #[error("invalid devnet L1 configuration: {0}")]
    Config(String),
    /// A transaction reverted (`REVERT`); nothing was mined. `reason` is the decoded
    /// `Error(string)`/`Panic(uint256)` message, or empty when the revert data carries none.
    #[error("transaction {what} reverted: {}", if reason.is_empty() { "(no reason)" } else { reason.as_str() })]
    Reverted {
        /// What was being sent (`submitCheckpoint`, `deploy RootChain`).
        what: String,
        /// The decoded revert reason (e.g. `INCORRECT_HEADER_DATA`).
        reason: String,
        /// The raw revert data.
        data: Bytes,
    },
    /// A transaction halted (out of gas, invalid opcode, …); nothing was mined.
    #[error("transaction {what} halted: {reason}")]
    Halted {
        /// What was being sent.
        what: String,
        /// revm's halt reason.
        reason: String,
    },
    /// The EVM refused the transaction before running it (nonce, balance, gas limit, …)
    /// or its database failed.
    #[error("transaction {what} rejected by the EVM: {reason}")]
    Rejected {
        /// What was being sent.
        what: String,
        /// revm's error.
        reason: String,
    },
    /// A mined transaction's receipt lacks what it should hold (a `submitCheckpoint` without
    /// its `NewHeaderBlock` event).
    #[error("unexpected receipt for {what}: {problem}")]
    UnexpectedReceipt {
        /// What was sent.
        what: String,
        /// What is missing or wrong.
        problem: String,
    },
    /// A signature could not be produced or did not recover to the expected sender.
    #[error("signing failed: {0}")]
    Signing(String),
}
