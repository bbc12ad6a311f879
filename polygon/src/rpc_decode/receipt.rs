//! Receipt and log objects, rebuilt into the consensus receipt (with the
//! bloom as sent) and logs.

use alloy_consensus::{Eip658Value, Receipt, ReceiptWithBloom};
use alloy_primitives::{Bloom, Bytes, Log};
use serde::Deserialize;

use super::{address, hash, invalid, need};
use crate::rpc_hex::{JsonShapeError, parse_b256, parse_bytes, parse_fixed as fixed, parse_u64};

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
