//! The block object of `eth_getBlockByNumber`, and the exact consensus
//! header rebuilt from it (so its hash can be checked).

use alloy_consensus::Header;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{B64, Bloom, Bytes};
use serde::Deserialize;

use super::{address, hash, need};
use crate::rpc_hex::{
    JsonShapeError, parse_bytes, parse_fixed as fixed, parse_u64, parse_u256 as u256,
};

/// A block as `eth_getBlockByNumber` sends it: the header fields, the
/// transactions as `T` (a [`TransactionJson`](super::TransactionJson) for
/// full ones, a [`TxHash`](super::TxHash) for only their hashes,
/// [`serde::de::IgnoredAny`] to skip them), the uncles.
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
    /// The withdrawals (blocks after Shanghai; always empty on Bor).
    #[serde(borrow)]
    pub withdrawals: Option<Vec<WithdrawalJson<'a>>>,
}

/// One withdrawal of a block object, as go-ethereum and Bor send it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WithdrawalJson<'a> {
    #[serde(borrow)]
    index: Option<&'a str>,
    #[serde(borrow)]
    validator_index: Option<&'a str>,
    #[serde(borrow)]
    address: Option<&'a str>,
    #[serde(borrow)]
    amount: Option<&'a str>,
}

impl WithdrawalJson<'_> {
    /// The consensus withdrawal.
    pub fn to_withdrawal(&self) -> Result<Withdrawal, JsonShapeError> {
        Ok(Withdrawal {
            index: parse_u64("index", need(self.index, "index")?)?,
            validator_index: parse_u64(
                "validatorIndex",
                need(self.validator_index, "validatorIndex")?,
            )?,
            address: address("address", need(self.address, "address")?)?,
            amount: parse_u64("amount", need(self.amount, "amount")?)?,
        })
    }
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
            withdrawals: None,
        }
    }
}

impl<T> BlockJson<'_, T> {
    /// The RLP list of the withdrawals, when the block has a withdrawals
    /// root (the third list of its body); an error when the root is there
    /// and the list is not.
    pub fn withdrawals_rlp(&self) -> Result<Option<Vec<u8>>, JsonShapeError> {
        if self.withdrawals_root.is_none() {
            return Ok(None);
        }
        let list = self
            .withdrawals
            .as_ref()
            .ok_or(JsonShapeError::Missing("withdrawals"))?
            .iter()
            .map(WithdrawalJson::to_withdrawal)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(alloy_rlp::encode(&list)))
    }

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
