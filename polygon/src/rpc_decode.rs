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

use alloy_consensus::{
    Eip658Value, Header, Receipt, ReceiptWithBloom, Signed, TxEip1559, TxEip2930, TxEip4844,
    TxEip7702, TxEnvelope, TxLegacy,
};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
    eip7702::{Authorization, SignedAuthorization},
};
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, Log, Signature, TxKind, U256};
use serde::Deserialize;

use crate::{
    rpc_hex::{
        JsonShapeError, parse_b256, parse_bytes, parse_fixed as fixed, parse_u64,
        parse_u256 as u256,
    },
    state_sync::{STATE_SYNC_TX_TYPE, StateSyncData, encode_state_sync_tx},
};

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

/// A block as `eth_getBlockByNumber` sends it: the header fields, the
/// transactions as `T` (a [`TransactionJson`] for full ones, a [`TxHash`]
/// for only their hashes, [`serde::de::IgnoredAny`] to skip them), the uncles.
#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "camelCase",
    default,
    bound(deserialize = "T: Deserialize<'de>, 'de: 'a")
)]
pub struct BlockJson<'a, T> {
    #[serde(borrow)]
    parent_hash: Option<&'a str>,
    #[serde(borrow)]
    sha3_uncles: Option<&'a str>,
    #[serde(borrow)]
    miner: Option<&'a str>,
    #[serde(borrow)]
    state_root: Option<&'a str>,
    #[serde(borrow)]
    transactions_root: Option<&'a str>,
    #[serde(borrow)]
    receipts_root: Option<&'a str>,
    #[serde(borrow)]
    logs_bloom: Option<&'a str>,
    #[serde(borrow)]
    difficulty: Option<&'a str>,
    #[serde(borrow)]
    number: Option<&'a str>,
    #[serde(borrow)]
    gas_limit: Option<&'a str>,
    #[serde(borrow)]
    gas_used: Option<&'a str>,
    #[serde(borrow)]
    timestamp: Option<&'a str>,
    #[serde(borrow)]
    extra_data: Option<&'a str>,
    #[serde(borrow)]
    mix_hash: Option<&'a str>,
    #[serde(borrow)]
    nonce: Option<&'a str>,
    #[serde(borrow)]
    base_fee_per_gas: Option<&'a str>,
    #[serde(borrow)]
    withdrawals_root: Option<&'a str>,
    #[serde(borrow)]
    blob_gas_used: Option<&'a str>,
    #[serde(borrow)]
    excess_blob_gas: Option<&'a str>,
    #[serde(borrow)]
    parent_beacon_block_root: Option<&'a str>,
    #[serde(borrow)]
    requests_hash: Option<&'a str>,
    #[serde(borrow)]
    block_access_list_hash: Option<&'a str>,
    #[serde(borrow)]
    slot_number: Option<&'a str>,
    /// The claimed block hash.
    #[serde(borrow)]
    pub hash: Option<&'a str>,
    /// The transactions.
    pub transactions: Option<Vec<T>>,
    /// Uncle hashes.
    #[serde(borrow)]
    pub uncles: Option<Vec<&'a str>>,
}

impl<T> Default for BlockJson<'_, T> {
    fn default() -> Self {
        BlockJson {
            parent_hash: None,
            sha3_uncles: None,
            miner: None,
            state_root: None,
            transactions_root: None,
            receipts_root: None,
            logs_bloom: None,
            difficulty: None,
            number: None,
            gas_limit: None,
            gas_used: None,
            timestamp: None,
            extra_data: None,
            mix_hash: None,
            nonce: None,
            base_fee_per_gas: None,
            withdrawals_root: None,
            blob_gas_used: None,
            excess_blob_gas: None,
            parent_beacon_block_root: None,
            requests_hash: None,
            block_access_list_hash: None,
            slot_number: None,
            hash: None,
            transactions: None,
            uncles: None,
        }
    }
}

impl<T> BlockJson<'_, T> {
    /// The consensus header.
    pub fn to_header(&self) -> Result<Header, JsonShapeError> {
        let optional_u64 =
            |value: Option<&str>, name| value.map(|text| parse_u64(name, text)).transpose();
        let optional_hash =
            |value: Option<&str>, name| value.map(|text| hash(name, text)).transpose();
        Ok(Header {
            parent_hash: hash("parentHash", need(self.parent_hash, "parentHash")?)?,
            ommers_hash: hash("sha3Uncles", need(self.sha3_uncles, "sha3Uncles")?)?,
            beneficiary: address("miner", need(self.miner, "miner")?)?,
            state_root: hash("stateRoot", need(self.state_root, "stateRoot")?)?,
            transactions_root: hash(
                "transactionsRoot",
                need(self.transactions_root, "transactionsRoot")?,
            )?,
            receipts_root: hash("receiptsRoot", need(self.receipts_root, "receiptsRoot")?)?,
            logs_bloom: Bloom::from(fixed::<256>(
                "logsBloom",
                need(self.logs_bloom, "logsBloom")?,
            )?),
            difficulty: u256("difficulty", need(self.difficulty, "difficulty")?)?,
            number: parse_u64("number", need(self.number, "number")?)?,
            gas_limit: parse_u64("gasLimit", need(self.gas_limit, "gasLimit")?)?,
            gas_used: parse_u64("gasUsed", need(self.gas_used, "gasUsed")?)?,
            timestamp: parse_u64("timestamp", need(self.timestamp, "timestamp")?)?,
            extra_data: Bytes::from(parse_bytes(
                "extraData",
                need(self.extra_data, "extraData")?,
            )?),
            mix_hash: hash("mixHash", need(self.mix_hash, "mixHash")?)?,
            nonce: B64::from(fixed::<8>("nonce", need(self.nonce, "nonce")?)?),
            base_fee_per_gas: optional_u64(self.base_fee_per_gas, "baseFeePerGas")?,
            withdrawals_root: optional_hash(self.withdrawals_root, "withdrawalsRoot")?,
            blob_gas_used: optional_u64(self.blob_gas_used, "blobGasUsed")?,
            excess_blob_gas: optional_u64(self.excess_blob_gas, "excessBlobGas")?,
            parent_beacon_block_root: optional_hash(
                self.parent_beacon_block_root,
                "parentBeaconBlockRoot",
            )?,
            requests_hash: optional_hash(self.requests_hash, "requestsHash")?,
            block_access_list_hash: optional_hash(
                self.block_access_list_hash,
                "blockAccessListHash",
            )?,
            slot_number: optional_u64(self.slot_number, "slotNumber")?,
        })
    }
}

/// One access-list entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessItemJson<'a> {
    #[serde(borrow)]
    address: &'a str,
    #[serde(borrow, default)]
    storage_keys: Vec<&'a str>,
}

/// One EIP-7702 authorization.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationJson<'a> {
    #[serde(borrow)]
    chain_id: &'a str,
    #[serde(borrow)]
    address: &'a str,
    #[serde(borrow)]
    nonce: &'a str,
    #[serde(borrow)]
    y_parity: &'a str,
    #[serde(borrow)]
    r: &'a str,
    #[serde(borrow)]
    s: &'a str,
}

/// One event of Bor's state-sync transaction.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateSyncJson<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    contract: &'a str,
    #[serde(borrow)]
    data: &'a str,
    #[serde(borrow)]
    tx_hash: &'a str,
}

/// A full transaction object.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TransactionJson<'a> {
    /// The claimed transaction hash.
    #[serde(borrow)]
    pub hash: Option<&'a str>,
    #[serde(borrow, rename = "type")]
    tx_type: Option<&'a str>,
    #[serde(borrow)]
    chain_id: Option<&'a str>,
    #[serde(borrow)]
    nonce: Option<&'a str>,
    #[serde(borrow)]
    gas: Option<&'a str>,
    #[serde(borrow)]
    gas_price: Option<&'a str>,
    #[serde(borrow)]
    max_fee_per_gas: Option<&'a str>,
    #[serde(borrow)]
    max_priority_fee_per_gas: Option<&'a str>,
    #[serde(borrow)]
    max_fee_per_blob_gas: Option<&'a str>,
    #[serde(borrow)]
    to: Option<&'a str>,
    #[serde(borrow)]
    value: Option<&'a str>,
    #[serde(borrow)]
    input: Option<&'a str>,
    #[serde(borrow)]
    access_list: Option<Vec<AccessItemJson<'a>>>,
    #[serde(borrow)]
    blob_versioned_hashes: Option<Vec<&'a str>>,
    #[serde(borrow)]
    authorization_list: Option<Vec<AuthorizationJson<'a>>>,
    #[serde(borrow)]
    state_sync_data: Option<Vec<StateSyncJson<'a>>>,
    #[serde(borrow)]
    v: Option<&'a str>,
    #[serde(borrow)]
    y_parity: Option<&'a str>,
    #[serde(borrow)]
    r: Option<&'a str>,
    #[serde(borrow)]
    s: Option<&'a str>,
}

/// A transaction's type byte, or an error for a type this build cannot rebuild.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transaction type {0:#x} is not supported")]
pub struct UnsupportedType(pub u64);

impl<'a> TransactionJson<'a> {
    /// The `type` field (0 when absent).
    pub fn tx_type(&self) -> Result<u64, JsonShapeError> {
        self.tx_type.map_or(Ok(0), |text| parse_u64("type", text))
    }

    fn access_list(&self) -> Result<AccessList, JsonShapeError> {
        let items = self.access_list.as_deref().unwrap_or_default();
        items
            .iter()
            .map(|item| {
                Ok(AccessListItem {
                    address: address("accessList.address", item.address)?,
                    storage_keys: item
                        .storage_keys
                        .iter()
                        .map(|key| hash("accessList.storageKeys", key))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AccessList)
    }

    fn kind(&self) -> Result<TxKind, JsonShapeError> {
        match self.to {
            None => Ok(TxKind::Create),
            Some(text) => address("to", text).map(TxKind::Call),
        }
    }

    fn input(&self) -> Result<Bytes, JsonShapeError> {
        parse_bytes("input", need(self.input, "input")?).map(Bytes::from)
    }

    fn value(&self) -> Result<U256, JsonShapeError> {
        u256("value", need(self.value, "value")?)
    }

    fn signature(&self, parity: bool) -> Result<Signature, JsonShapeError> {
        Ok(Signature::new(
            u256("r", need(self.r, "r")?)?,
            u256("s", need(self.s, "s")?)?,
            parity,
        ))
    }

    /// The parity of a typed transaction: `yParity`, else `v`.
    fn typed_parity(&self) -> Result<bool, JsonShapeError> {
        let text = self
            .y_parity
            .or(self.v)
            .ok_or(JsonShapeError::Missing("yParity"))?;
        match parse_u64("yParity", text)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(invalid("yParity", format!("{other} is neither 0 nor 1"))),
        }
    }

    fn chain_id(&self) -> Result<u64, JsonShapeError> {
        parse_u64("chainId", need(self.chain_id, "chainId")?)
    }

    fn common(&self) -> Result<(u64, u64), JsonShapeError> {
        Ok((
            parse_u64("nonce", need(self.nonce, "nonce")?)?,
            parse_u64("gas", need(self.gas, "gas")?)?,
        ))
    }

    /// The EIP-2718 bytes of the transaction (Bor's 0x7F state-sync type
    /// included). `Ok(Err(_))` for a type this build does not know.
    pub fn envelope(&self) -> Result<Result<Vec<u8>, UnsupportedType>, JsonShapeError> {
        let tx_type = self.tx_type()?;
        let (nonce, gas_limit) = match tx_type {
            0x7f => (0, 0),
            _ => self.common()?,
        };
        let placeholder = B256::ZERO;
        let envelope: TxEnvelope = match tx_type {
            0 => {
                let v = parse_u64("v", need(self.v, "v")?)?;
                // EIP-155: v = 35 + 2·chainId + parity; else 27 + parity.
                let (chain_id, parity) = if v >= 35 {
                    (Some((v - 35) / 2), (v - 35) % 2 == 1)
                } else if v == 27 || v == 28 {
                    (None, v == 28)
                } else {
                    return Err(invalid("v", format!("{v} is not a legacy v")));
                };
                let tx = TxLegacy {
                    chain_id,
                    nonce,
                    gas_price: u128_of("gasPrice", need(self.gas_price, "gasPrice")?)?,
                    gas_limit,
                    to: self.kind()?,
                    value: self.value()?,
                    input: self.input()?,
                };
                Signed::new_unchecked(tx, self.signature(parity)?, placeholder).into()
            }
            1 => {
                let tx = TxEip2930 {
                    chain_id: self.chain_id()?,
                    nonce,
                    gas_price: u128_of("gasPrice", need(self.gas_price, "gasPrice")?)?,
                    gas_limit,
                    to: self.kind()?,
                    value: self.value()?,
                    access_list: self.access_list()?,
                    input: self.input()?,
                };
                Signed::new_unchecked(tx, self.signature(self.typed_parity()?)?, placeholder).into()
            }
            2 => {
                let tx = TxEip1559 {
                    chain_id: self.chain_id()?,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: u128_of(
                        "maxFeePerGas",
                        need(self.max_fee_per_gas, "maxFeePerGas")?,
                    )?,
                    max_priority_fee_per_gas: u128_of(
                        "maxPriorityFeePerGas",
                        need(self.max_priority_fee_per_gas, "maxPriorityFeePerGas")?,
                    )?,
                    to: self.kind()?,
                    value: self.value()?,
                    access_list: self.access_list()?,
                    input: self.input()?,
                };
                Signed::new_unchecked(tx, self.signature(self.typed_parity()?)?, placeholder).into()
            }
            3 => {
                let tx = TxEip4844 {
                    chain_id: self.chain_id()?,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: u128_of(
                        "maxFeePerGas",
                        need(self.max_fee_per_gas, "maxFeePerGas")?,
                    )?,
                    max_priority_fee_per_gas: u128_of(
                        "maxPriorityFeePerGas",
                        need(self.max_priority_fee_per_gas, "maxPriorityFeePerGas")?,
                    )?,
                    to: address("to", need(self.to, "to")?)?,
                    value: self.value()?,
                    access_list: self.access_list()?,
                    blob_versioned_hashes: self
                        .blob_versioned_hashes
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .map(|text| hash("blobVersionedHashes", text))
                        .collect::<Result<_, _>>()?,
                    max_fee_per_blob_gas: u128_of(
                        "maxFeePerBlobGas",
                        need(self.max_fee_per_blob_gas, "maxFeePerBlobGas")?,
                    )?,
                    input: self.input()?,
                };
                let signature = self.signature(self.typed_parity()?)?;
                TxEnvelope::Eip4844(Signed::new_unchecked(tx.into(), signature, placeholder))
            }
            4 => {
                let tx = TxEip7702 {
                    chain_id: self.chain_id()?,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: u128_of(
                        "maxFeePerGas",
                        need(self.max_fee_per_gas, "maxFeePerGas")?,
                    )?,
                    max_priority_fee_per_gas: u128_of(
                        "maxPriorityFeePerGas",
                        need(self.max_priority_fee_per_gas, "maxPriorityFeePerGas")?,
                    )?,
                    to: address("to", need(self.to, "to")?)?,
                    value: self.value()?,
                    access_list: self.access_list()?,
                    authorization_list: self
                        .authorization_list
                        .as_deref()
                        .unwrap_or_default()
                        .iter()
                        .map(authorization)
                        .collect::<Result<_, _>>()?,
                    input: self.input()?,
                };
                Signed::new_unchecked(tx, self.signature(self.typed_parity()?)?, placeholder).into()
            }
            _ if tx_type == u64::from(STATE_SYNC_TX_TYPE) => {
                let events = self
                    .state_sync_data
                    .as_deref()
                    .ok_or(JsonShapeError::Missing("stateSyncData"))?
                    .iter()
                    .map(|event| {
                        Ok(StateSyncData {
                            id: parse_u64("stateSyncData.id", event.id)?,
                            contract: address("stateSyncData.contract", event.contract)?,
                            data: Bytes::from(parse_bytes("stateSyncData.data", event.data)?),
                            tx_hash: hash("stateSyncData.txHash", event.tx_hash)?,
                        })
                    })
                    .collect::<Result<Vec<_>, JsonShapeError>>()?;
                return Ok(Ok(encode_state_sync_tx(&events)));
            }
            other => return Ok(Err(UnsupportedType(other))),
        };
        Ok(Ok(envelope.encoded_2718()))
    }
}

fn authorization(item: &AuthorizationJson<'_>) -> Result<SignedAuthorization, JsonShapeError> {
    let parity = parse_u64("authorizationList.yParity", item.y_parity)?;
    let parity =
        u8::try_from(parity).map_err(|_| invalid("authorizationList.yParity", "not a byte"))?;
    Ok(SignedAuthorization::new_unchecked(
        Authorization {
            chain_id: u256("authorizationList.chainId", item.chain_id)?,
            address: address("authorizationList.address", item.address)?,
            nonce: parse_u64("authorizationList.nonce", item.nonce)?,
        },
        parity,
        u256("authorizationList.r", item.r)?,
        u256("authorizationList.s", item.s)?,
    ))
}

/// A transaction of a block's `transactions` reduced to its hash: the
/// string itself, or the `hash` field of a full object (the other fields
/// are skipped without being decoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxHash<'a>(pub Option<&'a str>);

impl<'de: 'a, 'a> Deserialize<'de> for TxHash<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TxHash<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a transaction hash or a transaction object")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(TxHash(Some(text)))
            }

            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<&'de str>()? {
                    if key == "hash" {
                        found = map.next_value::<Option<&'de str>>()?;
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(TxHash(found))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A log as receipts carry it.
#[derive(Debug, Deserialize)]
struct LogJson<'a> {
    #[serde(borrow)]
    address: Option<&'a str>,
    #[serde(borrow)]
    topics: Option<Vec<&'a str>>,
    #[serde(borrow)]
    data: Option<&'a str>,
}

impl LogJson<'_> {
    fn to_log(&self) -> Result<Log, JsonShapeError> {
        Ok(Log::new_unchecked(
            address("address", need(self.address, "address")?)?,
            self.topics
                .as_deref()
                .ok_or(JsonShapeError::Missing("topics"))?
                .iter()
                .map(|topic| hash("topics", topic))
                .collect::<Result<_, _>>()?,
            Bytes::from(parse_bytes("data", need(self.data, "data")?)?),
        ))
    }
}

/// A receipt as `eth_getBlockReceipts` sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReceiptJson<'a> {
    /// Its transaction's hash.
    #[serde(borrow)]
    pub transaction_hash: Option<&'a str>,
    /// Its block's hash.
    #[serde(borrow)]
    pub block_hash: Option<&'a str>,
    #[serde(borrow, rename = "type")]
    tx_type: Option<&'a str>,
    #[serde(borrow)]
    status: Option<&'a str>,
    #[serde(borrow)]
    root: Option<&'a str>,
    #[serde(borrow)]
    cumulative_gas_used: Option<&'a str>,
    #[serde(borrow)]
    logs_bloom: Option<&'a str>,
    #[serde(borrow)]
    logs: Option<Vec<LogJson<'a>>>,
}

impl ReceiptJson<'_> {
    /// The transaction type (0 when absent) and the consensus receipt:
    /// status (or the pre-Byzantium `root`), cumulative gas, the bloom as
    /// sent (not recomputed), the logs.
    pub fn to_receipt(&self) -> Result<(u8, ReceiptWithBloom), JsonShapeError> {
        let tx_type = match self.tx_type {
            Some(text) => u8::try_from(parse_u64("type", text)?)
                .map_err(|_| invalid("type", format!("`{text}` is not a transaction type")))?,
            None => 0,
        };
        let status = match self.status {
            Some(text) => match parse_u64("status", text)? {
                0 => Eip658Value::Eip658(false),
                1 => Eip658Value::Eip658(true),
                other => return Err(invalid("status", format!("{other} is neither 0 nor 1"))),
            },
            None => Eip658Value::PostState(parse_b256(
                "root",
                self.root.ok_or(JsonShapeError::Missing("status"))?,
            )?),
        };
        let logs = self
            .logs
            .as_deref()
            .ok_or(JsonShapeError::Missing("logs"))?
            .iter()
            .map(LogJson::to_log)
            .collect::<Result<Vec<_>, _>>()?;
        let receipt = Receipt {
            status,
            cumulative_gas_used: parse_u64(
                "cumulativeGasUsed",
                need(self.cumulative_gas_used, "cumulativeGasUsed")?,
            )?,
            logs,
        };
        let bloom = Bloom::from(fixed::<256>(
            "logsBloom",
            need(self.logs_bloom, "logsBloom")?,
        )?);
        Ok((tx_type, ReceiptWithBloom::new(receipt, bloom)))
    }
}

/// Decodes one log object (for callers holding a `serde_json::Value`).
pub fn log_from_value(value: &serde_json::Value) -> Result<Log, JsonShapeError> {
    LogJson::deserialize(value)
        .map_err(|error| invalid("log", error))?
        .to_log()
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
