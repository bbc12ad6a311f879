//! The eth/68 → eth/69 receipt conversion, done on stored bytes: each
//! receipt's fields are sliced out of its consensus encoding and rewritten
//! as `[txType, status, cumulativeGas, logs]`, dropping the bloom. The
//! status, gas and logs are copied byte for byte; nothing is decoded into
//! typed values beyond what checking the shape needs.
//!
//! Bor's eth/69 server appends the block's state-sync ("bor") receipt last,
//! written as a type-0 receipt with cumulative gas 0; Bor's client strips a
//! trailing zero-gas receipt before checking the receipt root, which does
//! not include it (`B[eth69]:eth/protocols/eth/handlers.go`,
//! `ServiceGetReceiptsQuery69`; `receipt.go`, `ExcludeStateSync`). From
//! Madhugiri on, state syncs are an ordinary 0x7F receipt in the list and
//! there is nothing to append.

use alloy_rlp::{Decodable, Encodable, Header};
use bytes::BufMut;

use crate::error::{ReceiptError, ReceiptPosition};
use crate::protocol::BLOOM_SIZE;
use crate::raw::{item_length, split_list};

/// Converts one block's stored receipt list (eth/68 form, as the `receipts`
/// table holds it) to the eth/69 form, appending Bor's state-sync receipt
/// when the block has one. `state_sync` is the stored legacy receipt
/// `[status, 0, bloom, logs]`; it comes out as `[0, status, 0, logs]`.
pub fn receipts_68_to_69(
    stored: &[u8],
    state_sync: Option<&[u8]>,
) -> Result<Vec<u8>, ReceiptError> {
    let mut input = stored;
    let items = split_list(&mut input).map_err(|source| ReceiptError::NotAList { source })?;
    if !input.is_empty() {
        return Err(ReceiptError::TrailingBytes { extra: input.len() });
    }
    let mut receipts = Vec::with_capacity(items.len() + 1);
    for (index, item) in items.into_iter().enumerate() {
        receipts.push(ReceiptFields::parse(item, ReceiptPosition::Index(index))?);
    }
    if let Some(bytes) = state_sync {
        let receipt = ReceiptFields::parse(bytes, ReceiptPosition::StateSync)?;
        if receipt.tx_type != 0 {
            return Err(ReceiptError::StateSyncNotLegacy);
        }
        if receipt.gas != 0 {
            return Err(ReceiptError::StateSyncGas { gas: receipt.gas });
        }
        receipts.push(receipt);
    }

    let payload_length: usize = receipts.iter().map(ReceiptFields::length_69).sum();
    let mut out = Vec::with_capacity(payload_length + 9);
    Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    for receipt in &receipts {
        receipt.encode_69(&mut out);
    }
    Ok(out)
}

/// The fields of one consensus-encoded receipt, as slices of the input.
struct ReceiptFields<'a> {
    tx_type: u8,
    status: &'a [u8],
    /// The cumulative gas as encoded (copied to the output).
    cumulative_gas: &'a [u8],
    /// Its value.
    gas: u64,
    logs: &'a [u8],
}

impl<'a> ReceiptFields<'a> {
    /// Slices a legacy list or a typed envelope string; `item` must be
    /// exactly one RLP item.
    fn parse(item: &'a [u8], position: ReceiptPosition) -> Result<Self, ReceiptError> {
        let malformed = |source| ReceiptError::Malformed { position, source };
        if item_length(item).map_err(malformed)? != item.len() {
            return Err(malformed(alloy_rlp::Error::UnexpectedLength));
        }
        let (tx_type, inner) = if item[0] >= alloy_rlp::EMPTY_LIST_CODE {
            (0, item)
        } else {
            match Header::decode_bytes(&mut &*item, false).map_err(malformed)? {
                [tx_type @ 0x01..=0x7f, inner @ ..] if !inner.is_empty() => (*tx_type, inner),
                _ => return Err(ReceiptError::BadEnvelope { position }),
            }
        };
        let mut rest = inner;
        let fields = split_list(&mut rest).map_err(malformed)?;
        if !rest.is_empty() {
            return Err(malformed(alloy_rlp::Error::UnexpectedLength));
        }
        let [status, cumulative_gas, bloom, logs] = fields[..] else {
            return Err(ReceiptError::FieldCount {
                position,
                count: fields.len(),
            });
        };
        if Header::decode(&mut &*status).map_err(malformed)?.list {
            return Err(malformed(alloy_rlp::Error::UnexpectedList));
        }
        let gas = u64::decode(&mut &*cumulative_gas).map_err(malformed)?;
        let bloom = Header::decode_bytes(&mut &*bloom, false).map_err(malformed)?;
        if bloom.len() != BLOOM_SIZE {
            return Err(ReceiptError::BloomLength {
                position,
                length: bloom.len(),
            });
        }
        if !Header::decode(&mut &*logs).map_err(malformed)?.list {
            return Err(malformed(alloy_rlp::Error::UnexpectedString));
        }
        Ok(ReceiptFields {
            tx_type,
            status,
            cumulative_gas,
            gas,
            logs,
        })
    }

    fn payload_length_69(&self) -> usize {
        u64::from(self.tx_type).length()
            + self.status.len()
            + self.cumulative_gas.len()
            + self.logs.len()
    }

    /// Length of `[txType, status, cumulativeGas, logs]` with its header.
    fn length_69(&self) -> usize {
        let payload_length = self.payload_length_69();
        alloy_rlp::length_of_length(payload_length) + payload_length
    }

    fn encode_69(&self, out: &mut dyn BufMut) {
        Header {
            list: true,
            payload_length: self.payload_length_69(),
        }
        .encode(out);
        u64::from(self.tx_type).encode(out);
        out.put_slice(self.status);
        out.put_slice(self.cumulative_gas);
        out.put_slice(self.logs);
    }
}
