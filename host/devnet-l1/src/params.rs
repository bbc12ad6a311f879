//! Reading JSON-RPC parameters the way geth does: positional arrays, strict hex quantities
//! (`0x`-prefixed, no leading zeros), hex data, block tags, call objects and log filters.
//! Each parser returns the message geth would put after `invalid argument N: `.

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde_json::Value;

use hypasis_jsonrpc::RpcError;

/// The positional parameters of one call.
pub(crate) struct Params<'a>(&'a [Value]);

impl<'a> Params<'a> {
    /// The `params` member: absent or `null` means none; anything but an array is refused.
    pub(crate) fn new(params: Option<&'a Value>) -> Result<Self, RpcError> {
        match params {
            None | Some(Value::Null) => Ok(Self(&[])),
            Some(Value::Array(values)) => Ok(Self(values)),
            Some(_) => Err(RpcError::invalid_params("non-array args")),
        }
    }

    /// Refuses more than `max` arguments.
    pub(crate) fn at_most(&self, max: usize) -> Result<(), RpcError> {
        if self.0.len() > max {
            return Err(RpcError::invalid_params(format!(
                "too many arguments, want at most {max}"
            )));
        }
        Ok(())
    }

    /// Argument `index`, which must be present and not `null`.
    pub(crate) fn required(&self, index: usize) -> Result<&'a Value, RpcError> {
        self.optional(index).ok_or_else(|| {
            RpcError::invalid_params(format!("missing value for required argument {index}"))
        })
    }

    /// Argument `index`, if present and not `null`.
    pub(crate) fn optional(&self, index: usize) -> Option<&'a Value> {
        self.0.get(index).filter(|value| !value.is_null())
    }

    /// Parses argument `index` with `parse`, prefixing its error like geth.
    pub(crate) fn parse<T>(
        &self,
        index: usize,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<T, RpcError> {
        parse(self.required(index)?).map_err(|message| argument_error(index, message))
    }

    /// Parses argument `index` with `parse` if it is present.
    pub(crate) fn parse_optional<T>(
        &self,
        index: usize,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, RpcError> {
        self.optional(index)
            .map(parse)
            .transpose()
            .map_err(|message| argument_error(index, message))
    }
}

fn argument_error(index: usize, message: String) -> RpcError {
    RpcError::invalid_params(format!("invalid argument {index}: {message}"))
}

/// Which block a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockId {
    /// A block number.
    Number(u64),
    /// `earliest`: genesis.
    Earliest,
    /// `latest`, `pending`, `safe`, `finalized`: the head (the devnet never reorgs).
    Latest,
    /// A block hash.
    Hash(B256),
}

fn as_str(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("json: cannot unmarshal {} into a hex string", kind(value)))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn hex_digits(text: &str) -> Result<&str, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| "hex string without 0x prefix".to_string())?;
    if digits.is_empty() {
        return Err(format!("hex string {text:?}"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err("hex number with leading zero digits".into());
    }
    Ok(digits)
}

/// A hex quantity that fits 64 bits (`0x0`, `0x1a`).
pub(crate) fn quantity(value: &Value) -> Result<u64, String> {
    let digits = hex_digits(as_str(value)?)?;
    if digits.len() > 16 {
        return Err("hex number > 64 bits".into());
    }
    u64::from_str_radix(digits, 16).map_err(|_| "invalid hex string".to_string())
}

/// A hex quantity of up to 256 bits.
pub(crate) fn quantity_u256(value: &Value) -> Result<U256, String> {
    let digits = hex_digits(as_str(value)?)?;
    if digits.len() > 64 {
        return Err("hex number > 256 bits".into());
    }
    U256::from_str_radix(digits, 16).map_err(|_| "invalid hex string".to_string())
}

/// `0x`-prefixed bytes of any length (`0x` is empty).
pub(crate) fn data(value: &Value) -> Result<Bytes, String> {
    let text = as_str(value)?;
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| "hex string without 0x prefix".to_string())?;
    if digits.len() % 2 == 1 {
        return Err("hex string of odd length".into());
    }
    hex::decode(digits)
        .map(Bytes::from)
        .map_err(|_| "invalid hex string".to_string())
}

fn fixed<const N: usize>(value: &Value, type_name: &str) -> Result<[u8; N], String> {
    let bytes = data(value)?;
    <[u8; N]>::try_from(bytes.as_ref()).map_err(|_| {
        format!(
            "hex string has length {}, want {} for {type_name}",
            bytes.len() * 2,
            N * 2
        )
    })
}

/// A 32-byte hash.
pub(crate) fn hash(value: &Value) -> Result<B256, String> {
    fixed::<32>(value, "common.Hash").map(B256::from)
}

/// A 20-byte address.
pub(crate) fn address(value: &Value) -> Result<Address, String> {
    fixed::<20>(value, "common.Address").map(Address::from)
}

/// A boolean.
pub(crate) fn boolean(value: &Value) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| {
        format!(
            "json: cannot unmarshal {} into Go value of type bool",
            kind(value)
        )
    })
}

/// A block tag or hex number (what `eth_getBlockByNumber` and filters take).
pub(crate) fn block_number(value: &Value) -> Result<BlockId, String> {
    match as_str(value)? {
        "latest" | "pending" | "safe" | "finalized" => Ok(BlockId::Latest),
        "earliest" => Ok(BlockId::Earliest),
        _ => quantity(value).map(BlockId::Number),
    }
}

/// A block tag, hex number, hash, or EIP-1898 object `{blockNumber}` / `{blockHash}`.
pub(crate) fn block_id(value: &Value) -> Result<BlockId, String> {
    match value {
        Value::Object(object) => match (object.get("blockHash"), object.get("blockNumber")) {
            (Some(hash_value), None) => hash(hash_value).map(BlockId::Hash),
            (None, Some(number)) => block_number(number),
            _ => Err("invalid input: specify exactly one of blockNumber and blockHash".into()),
        },
        Value::String(text) if text.len() == 66 => hash(value).map(BlockId::Hash),
        _ => block_number(value),
    }
}

/// An `eth_call` object.
#[derive(Debug, Default)]
pub(crate) struct CallRequest {
    /// `from` (the zero address when absent).
    pub(crate) from: Option<Address>,
    /// `to` (a contract creation when absent).
    pub(crate) to: Option<Address>,
    /// `gas`.
    pub(crate) gas: Option<u64>,
    /// `value`.
    pub(crate) value: U256,
    /// `input` or `data`.
    pub(crate) input: Bytes,
}

/// Reads an `eth_call` object.
pub(crate) fn call_request(value: &Value) -> Result<CallRequest, String> {
    let object = value.as_object().ok_or_else(|| {
        format!(
            "json: cannot unmarshal {} into Go value of type ethapi.TransactionArgs",
            kind(value)
        )
    })?;
    let field = |name: &str| object.get(name).filter(|value| !value.is_null());
    let input = field("input").map(data).transpose()?;
    let data_field = field("data").map(data).transpose()?;
    if let (Some(input), Some(data_field)) = (&input, &data_field)
        && input != data_field
    {
        return Err(r#"both "data" and "input" are set and not equal. Please use "input" to pass transaction call data"#.into());
    }
    Ok(CallRequest {
        from: field("from").map(address).transpose()?,
        to: field("to").map(address).transpose()?,
        gas: field("gas").map(quantity).transpose()?,
        value: field("value")
            .map(quantity_u256)
            .transpose()?
            .unwrap_or_default(),
        input: input.or(data_field).unwrap_or_default(),
    })
}

/// An `eth_getLogs` filter.
#[derive(Debug)]
pub(crate) struct LogFilter {
    /// `fromBlock` (default `latest`).
    pub(crate) from_block: BlockId,
    /// `toBlock` (default `latest`).
    pub(crate) to_block: BlockId,
    /// `blockHash`, which excludes `fromBlock`/`toBlock`.
    pub(crate) block_hash: Option<B256>,
    /// Emitting contracts; empty matches any.
    pub(crate) addresses: Vec<Address>,
    /// Per position: `None` matches any topic, `Some(list)` any topic in the list.
    pub(crate) topics: Vec<Option<Vec<B256>>>,
}

impl LogFilter {
    /// Whether a log from `address` with `topics` passes the filter.
    pub(crate) fn matches(&self, address: &Address, topics: &[B256]) -> bool {
        if !self.addresses.is_empty() && !self.addresses.contains(address) {
            return false;
        }
        if self.topics.len() > topics.len() {
            return false;
        }
        self.topics
            .iter()
            .zip(topics)
            .all(|(wanted, topic)| match wanted {
                None => true,
                Some(list) => list.is_empty() || list.contains(topic),
            })
    }
}

/// Reads an `eth_getLogs` filter object.
pub(crate) fn log_filter(value: &Value) -> Result<LogFilter, String> {
    let object = value.as_object().ok_or_else(|| {
        format!(
            "json: cannot unmarshal {} into Go value of type filters.FilterCriteria",
            kind(value)
        )
    })?;
    let field = |name: &str| object.get(name).filter(|value| !value.is_null());
    let block_hash = field("blockHash").map(hash).transpose()?;
    if block_hash.is_some() && (field("fromBlock").is_some() || field("toBlock").is_some()) {
        return Err(
            "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other".into(),
        );
    }
    let addresses = match field("address") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(address).collect::<Result<_, _>>()?,
        Some(single) => vec![address(single)?],
    };
    let topics = match field("topics") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(topic_position)
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(format!(
                "invalid topics: expected an array, got {}",
                kind(other)
            ));
        }
    };
    if topics.len() > 4 {
        return Err("exceed max topics".into());
    }
    Ok(LogFilter {
        from_block: field("fromBlock")
            .map(block_number)
            .transpose()?
            .unwrap_or(BlockId::Latest),
        to_block: field("toBlock")
            .map(block_number)
            .transpose()?
            .unwrap_or(BlockId::Latest),
        block_hash,
        addresses,
        topics,
    })
}

fn topic_position(value: &Value) -> Result<Option<Vec<B256>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(_) => Ok(Some(vec![hash(value)?])),
        Value::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    // A null inside an OR list matches anything, as in geth.
                    Value::Null => return Ok(None),
                    _ => list.push(hash(item)?),
                }
            }
            Ok(Some(list))
        }
        other => Err(format!("invalid topic(s): {}", kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_are_strict_like_geth() {
        assert_eq!(quantity(&json!("0x0")), Ok(0));
        assert_eq!(quantity(&json!("0x1a")), Ok(26));
        assert_eq!(quantity(&json!("0x")), Err("hex string \"0x\"".into()));
        assert_eq!(
            quantity(&json!("0x01")),
            Err("hex number with leading zero digits".into())
        );
        assert_eq!(
            quantity(&json!("12")),
            Err("hex string without 0x prefix".into())
        );
        assert_eq!(
            quantity(&json!("0x10000000000000000")),
            Err("hex number > 64 bits".into())
        );
        assert!(quantity(&json!(12)).is_err());
        assert!(quantity(&json!("0xzz")).is_err());
    }

    #[test]
    fn data_hashes_and_addresses() {
        assert_eq!(data(&json!("0x")), Ok(Bytes::new()));
        assert_eq!(data(&json!("0x0102")), Ok(Bytes::from(vec![1, 2])));
        assert_eq!(
            data(&json!("0x123")),
            Err("hex string of odd length".into())
        );
        assert_eq!(
            address(&json!("0x1234")),
            Err("hex string has length 4, want 40 for common.Address".into())
        );
        assert!(hash(&json!(format!("0x{}", "ab".repeat(32)))).is_ok());
    }

    #[test]
    fn block_ids() {
        assert_eq!(block_number(&json!("latest")), Ok(BlockId::Latest));
        assert_eq!(block_number(&json!("finalized")), Ok(BlockId::Latest));
        assert_eq!(block_number(&json!("earliest")), Ok(BlockId::Earliest));
        assert_eq!(block_number(&json!("0x2")), Ok(BlockId::Number(2)));
        assert!(block_number(&json!("newest")).is_err());
        let hash_text = format!("0x{}", "11".repeat(32));
        assert_eq!(
            block_id(&json!(hash_text)),
            Ok(BlockId::Hash(B256::repeat_byte(0x11)))
        );
        assert_eq!(
            block_id(&json!({"blockHash": hash_text})),
            Ok(BlockId::Hash(B256::repeat_byte(0x11)))
        );
        assert_eq!(
            block_id(&json!({"blockNumber": "0x3"})),
            Ok(BlockId::Number(3))
        );
    }

    #[test]
    fn filters_match_topics_with_wildcards_and_or_lists() {
        let (a, b, c) = (
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        let (ta, tb, tc) = (a.to_string(), b.to_string(), c.to_string());
        let filter = log_filter(&json!({"topics": [ta, null, [tb, tc]]})).unwrap();
        let address = Address::repeat_byte(9);
        assert!(filter.matches(&address, &[a, c, b]));
        assert!(filter.matches(&address, &[a, a, c, a]));
        assert!(!filter.matches(&address, &[b, c, b]));
        assert!(!filter.matches(&address, &[a, c]));
        let by_address = log_filter(&json!({"address": [address.to_string()]})).unwrap();
        assert!(by_address.matches(&address, &[]));
        assert!(!by_address.matches(&Address::ZERO, &[]));
        assert!(log_filter(&json!({"blockHash": ta, "fromBlock": "0x1"})).is_err());
        assert!(log_filter(&json!({"topics": [null, null, null, null, null]})).is_err());
    }

    #[test]
    fn call_requests_take_input_or_data() {
        let to = Address::repeat_byte(1).to_string();
        let call = call_request(&json!({"to": to, "data": "0x01"})).unwrap();
        assert_eq!(call.input, Bytes::from(vec![1]));
        assert!(call_request(&json!({"input": "0x01", "data": "0x02"})).is_err());
        assert!(call_request(&json!("0x")).is_err());
    }
}
