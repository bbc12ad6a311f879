//! Transaction objects: a full one rebuilt into its exact EIP-2718 bytes
//! (Bor's state-sync transaction included), or one reduced to its hash.

use alloy_consensus::{Signed, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
    eip7702::{Authorization, SignedAuthorization},
};
use alloy_primitives::{B256, Bytes, Signature, TxKind, U256};
use serde::Deserialize;

use super::{address, hash, invalid, need, u128_of};
use crate::{
    rpc_hex::{JsonShapeError, parse_bytes, parse_u64, parse_u256 as u256},
    state_sync::{STATE_SYNC_TX_TYPE, StateSyncData, encode_state_sync_tx},
};

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
