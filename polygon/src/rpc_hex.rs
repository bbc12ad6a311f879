//! Hex scalars of the JSON-RPC wire (`0x` quantities, data, fixed-size
//! hashes) and the error every JSON shape check returns. A leaf: the
//! renderer and the decoders both use it.

use alloy_primitives::{B256, U256};

/// A JSON block, transaction or receipt that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonShapeError {
    /// A required field is absent or null.
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    /// A field has the wrong form.
    #[error("field `{field}`: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

pub(crate) fn invalid(field: &'static str, reason: impl ToString) -> JsonShapeError {
    JsonShapeError::Invalid {
        field,
        reason: reason.to_string(),
    }
}

/// Parses a `0x` hex quantity into a u64.
pub fn parse_u64(name: &'static str, text: &str) -> Result<u64, JsonShapeError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| invalid(name, "missing 0x prefix"))?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return Err(invalid(
            name,
            format!("`{text}` is not a minimal hex quantity"),
        ));
    }
    u64::from_str_radix(digits, 16).map_err(|error| invalid(name, error))
}

/// Parses a `0x` hex quantity into a U256.
pub fn parse_u256(name: &'static str, text: &str) -> Result<U256, JsonShapeError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| invalid(name, "missing 0x prefix"))?;
    if digits.is_empty() || digits.len() > 64 {
        return Err(invalid(
            name,
            format!("`{text}` is not a 256-bit hex quantity"),
        ));
    }
    // Right-align the digits in 64 and decode them as 32 big-endian bytes
    // (SIMD hex through const-hex: receipts and transactions are full of these).
    let mut padded = [b'0'; 64];
    padded[64 - digits.len()..].copy_from_slice(digits.as_bytes());
    let mut bytes = [0u8; 32];
    const_hex::decode_to_slice(padded, &mut bytes).map_err(|error| invalid(name, error))?;
    Ok(U256::from_be_bytes(bytes))
}

/// Parses `0x` hex data.
pub fn parse_bytes(name: &'static str, text: &str) -> Result<Vec<u8>, JsonShapeError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| invalid(name, "missing 0x prefix"))?;
    const_hex::decode(digits).map_err(|_| invalid(name, "not hex"))
}

/// Parses exactly `N` bytes of `0x` hex.
pub fn parse_fixed<const N: usize>(
    name: &'static str,
    text: &str,
) -> Result<[u8; N], JsonShapeError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| invalid(name, "missing 0x prefix"))?;
    if digits.len() != 2 * N {
        return Err(invalid(
            name,
            format!("{} hex digits, expected {}", digits.len(), 2 * N),
        ));
    }
    let mut out = [0u8; N];
    const_hex::decode_to_slice(digits, &mut out).map_err(|_| invalid(name, "not hex"))?;
    Ok(out)
}

/// Parses a 32-byte hash.
pub fn parse_b256(name: &'static str, text: &str) -> Result<B256, JsonShapeError> {
    parse_fixed::<32>(name, text).map(B256::from)
}
