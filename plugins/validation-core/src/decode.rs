//! Decoding a request's raw blocks once, for every level.

use alloy_consensus::Header;
use alloy_primitives::{B256, keccak256};
use hypasis_plugin_api::{RawBlock, Requirements, ValidationRequest};
use hypasis_polygon::{decode_body_shape, decode_header, decode_receipts_shape};

use crate::rejection::{Reject, mismatch};

/// A block with its header decoded and its real hash computed.
#[derive(Debug)]
pub struct DecodedBlock<'a> {
    /// The raw parts.
    pub raw: &'a RawBlock,
    /// The decoded header.
    pub header: Header,
    /// keccak of the header RLP.
    pub hash: B256,
}

impl DecodedBlock<'_> {
    /// The block number.
    pub fn number(&self) -> u64 {
        self.header.number
    }
}

/// Decodes every block; checks contiguity, claimed numbers and that the
/// parts the level needs are present and well-formed.
pub fn decode_all(
    request: &ValidationRequest,
    needs: Requirements,
) -> Result<Vec<DecodedBlock<'_>>, Reject> {
    let mut blocks = Vec::with_capacity(request.blocks.len());
    let mut expected: Option<u64> = None;
    for raw in request.blocks.iter() {
        if let Some(next) = expected
            && raw.number != next
        {
            return Err(Reject::Request(format!(
                "blocks are not contiguous: expected {next}, got {}",
                raw.number
            )));
        }
        expected = raw.number.checked_add(1);
        let header = decode_header(&raw.header)
            .map_err(|error| mismatch(raw.number, "header", "a valid RLP header", error))?;
        if header.number != raw.number {
            return Err(mismatch(raw.number, "number", raw.number, header.number));
        }
        match raw.body.as_ref().into_option() {
            Some(body) => {
                decode_body_shape(body)
                    .map_err(|error| mismatch(raw.number, "body", "a valid RLP body", error))?;
            }
            None if needs.bodies => {
                return Err(Reject::Request(format!(
                    "block {}: the level needs its body",
                    raw.number
                )));
            }
            None => {}
        }
        match raw.receipts.as_ref().into_option() {
            Some(receipts) => {
                decode_receipts_shape(receipts).map_err(|error| {
                    mismatch(raw.number, "receipts", "a valid RLP receipt list", error)
                })?;
            }
            None if needs.receipts => {
                return Err(Reject::Request(format!(
                    "block {}: the level needs its receipts",
                    raw.number
                )));
            }
            None => {}
        }
        let hash = keccak256(&raw.header);
        blocks.push(DecodedBlock { raw, header, hash });
    }
    Ok(blocks)
}
