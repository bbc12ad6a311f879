//! JSON-RPC parameters, parsed as strictly as go-ethereum parses them:
//! quantities are `0x`-prefixed hex without leading zeros, hashes are 32
//! bytes of hex, block ids are a number, a tag, or (where the method allows)
//! a hash or an EIP-1898 object.

use alloy_primitives::B256;
use serde_json::Value;

use super::protocol::RpcError;

/// A block tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTag {
    /// The newest stored block (`pending` means the same here).
    Latest,
    /// The oldest stored block.
    Earliest,
    /// The newest Heimdall milestone (on an imported chain: the head).
    Safe,
    /// The end of the newest L1 checkpoint (on an imported chain: the head).
    Finalized,
}

/// Which block a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockId {
    /// By number.
    Number(u64),
    /// By tag.
    Tag(BlockTag),
    /// By hash; `canonical` asks that it be on the canonical chain.
    Hash {
        /// The hash.
        hash: B256,
        /// EIP-1898 `requireCanonical`.
        canonical: bool,
    },
}

/// The positional parameters of a call.
pub struct Params<'a> {
    items: &'a [Value],
}

fn invalid(message: impl Into<String>) -> RpcError {
    RpcError::invalid_params(message)
}

/// Parses a quantity (`0x1f`), refusing what go-ethereum refuses.
pub fn parse_quantity(text: &str) -> Result<u64, RpcError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| invalid("hex string without 0x prefix"))?;
    if digits.is_empty() {
        return Err(invalid("hex string \"0x\""));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(invalid("hex number with leading zero digits"));
    }
    if digits.len() > 16 {
        return Err(invalid("hex number > 64 bits"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| invalid("invalid hex string"))
}

/// Parses a 32-byte hash.
pub fn parse_hash(text: &str) -> Result<B256, RpcError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| invalid("hex string without 0x prefix"))?;
    if digits.len() != 64 {
        return Err(invalid(format!(
            "hex string has length {}, want 64 for common.Hash",
            digits.len()
        )));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| invalid("invalid hex string"))?;
    Ok(B256::from(bytes))
}

fn parse_tag_or_number(text: &str) -> Result<BlockId, RpcError> {
    Ok(match text {
        "latest" | "pending" => BlockId::Tag(BlockTag::Latest),
        "earliest" => BlockId::Tag(BlockTag::Earliest),
        "safe" => BlockId::Tag(BlockTag::Safe),
        "finalized" => BlockId::Tag(BlockTag::Finalized),
        other => BlockId::Number(parse_quantity(other)?),
    })
}

impl<'a> Params<'a> {
    /// The parameters of a call: an array, or none at all. Named
    /// (object) parameters are refused, as go-ethereum does.
    pub fn new(params: Option<&'a Value>) -> Result<Self, RpcError> {
        match params {
            None | Some(Value::Null) => Ok(Params { items: &[] }),
            Some(Value::Array(items)) => Ok(Params { items }),
            Some(_) => Err(RpcError::invalid_request("non-array args")),
        }
    }

    fn get(&self, index: usize) -> Option<&'a Value> {
        self.items.get(index).filter(|value| !value.is_null())
    }

    fn string(&self, index: usize, what: &str) -> Result<&'a str, RpcError> {
        match self.get(index) {
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(invalid(format!(
                "invalid argument {index}: {what} must be a string"
            ))),
            None => Err(invalid(format!(
                "missing value for required argument {index}"
            ))),
        }
    }

    fn at(&self, index: usize, result: Result<BlockId, RpcError>) -> Result<BlockId, RpcError> {
        result.map_err(|error| invalid(format!("invalid argument {index}: {}", error.message)))
    }

    /// Refuses more parameters than the method takes.
    pub fn at_most(&self, count: usize) -> Result<(), RpcError> {
        if self.items.len() > count {
            return Err(invalid(format!("too many arguments, want at most {count}")));
        }
        Ok(())
    }

    /// A block number or tag.
    pub fn block_number(&self, index: usize) -> Result<BlockId, RpcError> {
        let text = self.string(index, "block number")?;
        self.at(index, parse_tag_or_number(text))
    }

    /// A block number, tag, hash or EIP-1898 object.
    pub fn block_number_or_hash(&self, index: usize) -> Result<BlockId, RpcError> {
        match self.get(index) {
            Some(Value::String(text)) if text.len() == 66 => self.at(
                index,
                parse_hash(text).map(|hash| BlockId::Hash {
                    hash,
                    canonical: false,
                }),
            ),
            Some(Value::String(text)) => self.at(index, parse_tag_or_number(text)),
            Some(Value::Object(object)) => {
                let canonical = object
                    .get("requireCanonical")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let id = match (
                    object.get("blockHash").and_then(Value::as_str),
                    object.get("blockNumber").and_then(Value::as_str),
                ) {
                    (Some(hash), None) => {
                        parse_hash(hash).map(|hash| BlockId::Hash { hash, canonical })
                    }
                    (None, Some(number)) => parse_tag_or_number(number),
                    _ => Err(invalid(
                        "types BlockNumber and BlockHash are mutually exclusive",
                    )),
                };
                self.at(index, id)
            }
            Some(_) => Err(invalid(format!(
                "invalid argument {index}: block number or hash must be a string or object"
            ))),
            None => Err(invalid(format!(
                "missing value for required argument {index}"
            ))),
        }
    }

    /// A 32-byte hash.
    pub fn hash(&self, index: usize) -> Result<B256, RpcError> {
        let text = self.string(index, "hash")?;
        parse_hash(text)
            .map_err(|error| invalid(format!("invalid argument {index}: {}", error.message)))
    }

    /// A quantity.
    pub fn quantity(&self, index: usize) -> Result<u64, RpcError> {
        let text = self.string(index, "quantity")?;
        parse_quantity(text)
            .map_err(|error| invalid(format!("invalid argument {index}: {}", error.message)))
    }

    /// A plain JSON number (a Go `uint64` parameter).
    pub fn number(&self, index: usize) -> Result<u64, RpcError> {
        match self.get(index) {
            Some(Value::Number(number)) => number.as_u64().ok_or_else(|| {
                invalid(format!(
                    "invalid argument {index}: json: cannot unmarshal number {number} into Go value of type uint64"
                ))
            }),
            Some(_) => Err(invalid(format!(
                "invalid argument {index}: json: cannot unmarshal non-number into Go value of type uint64"
            ))),
            None => Err(invalid(format!("missing value for required argument {index}"))),
        }
    }

    /// The parameters as given.
    pub fn items(&self) -> &'a [Value] {
        self.items
    }

    /// A boolean; absent means `false`.
    pub fn flag(&self, index: usize) -> Result<bool, RpcError> {
        match self.get(index) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(invalid(format!(
                "invalid argument {index}: json: cannot unmarshal into Go value of type bool"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quantities_are_strict() {
        assert_eq!(parse_quantity("0x0").unwrap(), 0);
        assert_eq!(parse_quantity("0x2d").unwrap(), 45);
        for bad in ["2d", "0x", "0x02", "0xzz", "0x10000000000000000"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn block_ids_and_hashes() {
        let zero = format!("0x{}", "00".repeat(32));
        let params = json!(["latest", zero, {"blockNumber": "0x5"}, {"blockHash": zero, "requireCanonical": true}, 7]);
        let params = Params::new(Some(&params)).unwrap();
        assert_eq!(
            params.block_number(0).unwrap(),
            BlockId::Tag(BlockTag::Latest)
        );
        assert_eq!(
            params.block_number_or_hash(1).unwrap(),
            BlockId::Hash {
                hash: B256::ZERO,
                canonical: false
            }
        );
        assert!(params.block_number(1).is_err());
        assert_eq!(params.block_number_or_hash(2).unwrap(), BlockId::Number(5));
        assert_eq!(
            params.block_number_or_hash(3).unwrap(),
            BlockId::Hash {
                hash: B256::ZERO,
                canonical: true
            }
        );
        let error = params.block_number(4).unwrap_err();
        assert_eq!(error.code, -32602);
        assert!(
            params
                .block_number(5)
                .unwrap_err()
                .message
                .contains("missing value")
        );
        assert!(params.flag(5).is_ok_and(|flag| !flag));
        assert!(params.hash(0).is_err());
        assert!(Params::new(Some(&json!({"a": 1}))).is_err());
    }
}
