//! Typed decoders of the JSON an Ethereum or Bor JSON-RPC endpoint sends
//! (blocks, transactions, receipts, logs), borrowing every string from the
//! response text instead of building a `serde_json::Value` tree, and
//! rebuilding the exact consensus objects: the header (so its hash can be
//! checked), each transaction's EIP-2718 bytes, each receipt.
//!
//! Fields are taken exactly as present (an optional header field that is
//! there goes into the RLP; one that is absent does not), unknown fields
//! are ignored, and a missing or malformed field is a [`JsonShapeError`]
//! naming it.

mod block;
mod receipt;
mod transaction;

use alloy_primitives::{Address, B256};
use serde::Deserialize;

pub use self::{
    block::{BlockJson, WithdrawalJson},
    receipt::{ReceiptJson, log_from_value},
    transaction::{TransactionJson, TxHash, UnsupportedType},
};
use crate::rpc_hex::{JsonShapeError, parse_fixed as fixed, parse_u256 as u256};

fn invalid(field: &'static str, reason: impl ToString) -> JsonShapeError {
    JsonShapeError::Invalid {
        field,
        reason: reason.to_string(),
    }
}

fn need<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, JsonShapeError> {
    value.ok_or(JsonShapeError::Missing(name))
}

fn u128_of(name: &'static str, text: &str) -> Result<u128, JsonShapeError> {
    let value = u256(name, text)?;
    u128::try_from(value).map_err(|_| invalid(name, "above 2^128"))
}

fn address(name: &'static str, text: &str) -> Result<Address, JsonShapeError> {
    fixed::<20>(name, text).map(Address::from)
}

fn hash(name: &'static str, text: &str) -> Result<B256, JsonShapeError> {
    fixed::<32>(name, text).map(B256::from)
}

/// Decodes `T` from a `serde_json::Value`, naming `what` on a shape error.
pub fn from_value<'a, T: Deserialize<'a>>(
    what: &'static str,
    value: &'a serde_json::Value,
) -> Result<T, JsonShapeError> {
    T::deserialize(value).map_err(|error| invalid(what, error))
}

/// Decodes `T` from JSON text, naming `what` on a shape error.
pub fn from_text<'a, T: Deserialize<'a>>(
    what: &'static str,
    text: &'a str,
) -> Result<T, JsonShapeError> {
    serde_json::from_str(text).map_err(|error| invalid(what, error))
}
