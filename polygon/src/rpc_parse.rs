//! Consensus objects rebuilt from upstream JSON (as `eth_getBlockByNumber`,
//! `eth_getBlockReceipts` and `eth_getLogs` return them), over the typed
//! decoders of [`crate::rpc_decode`].

use alloy_consensus::Header;
use serde_json::Value;

use crate::{
    rpc_decode::{BlockJson, ReceiptJson, TransactionJson, from_value, log_from_value},
    rpc_hex::{JsonShapeError, invalid},
    state_sync::STATE_SYNC_TX_TYPE,
};

/// Rebuilds a header from its JSON (as `eth_getBlockByNumber` returns it).
/// Optional fields are taken exactly when present, so the RLP and hash
/// match the producer's.
pub fn header_from_json(block: &Value) -> Result<Header, JsonShapeError> {
    from_value::<BlockJson<'_, serde::de::IgnoredAny>>("block", block)?.to_header()
}

/// Rebuilds a log from its JSON (`address`, `topics`, `data`), as receipts
/// and `eth_getLogs` carry it.
pub fn log_from_json(log: &Value) -> Result<alloy_primitives::Log, JsonShapeError> {
    log_from_value(log)
}

/// A receipt's consensus fields rebuilt from its JSON (as
/// `eth_getBlockReceipts` returns it): the transaction type (0 when `type`
/// is absent), and status (or the pre-Byzantium `root`), cumulative gas,
/// bloom (taken as sent, not recomputed) and logs.
pub fn receipt_from_json(
    receipt: &Value,
) -> Result<(u8, alloy_consensus::ReceiptWithBloom), JsonShapeError> {
    from_value::<ReceiptJson<'_>>("receipt", receipt)?.to_receipt()
}

/// Rebuilds Bor's state-sync transaction (type 0x7F) from its JSON: the
/// events in `stateSyncData`, as `rpc_json::transaction_json` renders them, encoded
/// by [`encode_state_sync_tx`](crate::state_sync::encode_state_sync_tx).
pub fn state_sync_tx_from_json(tx: &Value) -> Result<Vec<u8>, JsonShapeError> {
    let parsed: TransactionJson<'_> = from_value("transaction", tx)?;
    if parsed.tx_type()? != u64::from(STATE_SYNC_TX_TYPE) {
        return Err(invalid("type", "not a state-sync transaction"));
    }
    parsed
        .envelope()?
        .map_err(|unsupported| invalid("type", unsupported))
}
