//! Fetching a range of blocks from one endpoint: blocks in batches of
//! `batch_size` (`eth_getBlockByNumber`, full transactions when bodies are
//! wanted), then each batch's receipts by block hash (`eth_getBlockReceipts`,
//! so that they belong to the very blocks fetched), batches pipelined up to
//! the endpoint's concurrency limit. Each batch's JSON is decoded in one
//! pass ([`crate::one_pass`]) and every block checked, its body rebuilt, as
//! soon as it arrives, its receipts once they do, both off the async
//! workers.

use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use hypasis_plugin_sdk::api::{FetchRequest, RawBlock};
use hypasis_polygon::{
    rpc_decode::{BlockJson, ReceiptJson, TransactionJson, TxHash},
    rpc_json::{data, quantity},
};
use serde_json::json;

use crate::{
    assemble::{
        CheckedBlock, CheckedHeader, check_block, check_full, check_hashes, raw_block, receipts,
        receipts_of,
    },
    endpoint::Endpoint,
    error::UpstreamError,
    one_pass::{ResultDecoder, send_all_decoded, typed_results},
    options::Options,
    rpc::{Call, RawResult},
};

/// Fetches `request`'s blocks, ascending, all from `endpoint`.
pub async fn fetch_from(
    endpoint: &Endpoint,
    request: &FetchRequest,
    options: &Options,
) -> Result<Vec<RawBlock>, UpstreamError> {
    let numbers: Vec<u64> = (request.start..=request.end).collect();
    let chunks: Vec<Vec<u64>> = numbers
        .chunks(options.batch_size.max(1))
        .map(<[u64]>::to_vec)
        .collect();
    let (bodies, receipts) = (request.bodies, request.receipts);
    let chunks: Vec<Vec<RawBlock>> = futures_util::stream::iter(chunks)
        .map(move |chunk| fetch_chunk(endpoint, chunk, bodies, receipts, options))
        .buffered(options.max_concurrency_per_endpoint.max(1))
        .try_collect()
        .await?;
    Ok(chunks.into_iter().flatten().collect())
}

/// The answers to one batch of `eth_getBlockByNumber` calls: each block's
/// header checked (and its body rebuilt when fetched with full
/// transactions).
struct BlockDecoder {
    endpoint: String,
    numbers: Vec<u64>,
    bodies: bool,
}

impl ResultDecoder for BlockDecoder {
    type Item = CheckedBlock;

    fn whole(&self, text: &str, first: u64, count: usize) -> Option<Vec<CheckedBlock>> {
        let endpoint = self.endpoint.as_str();
        if self.bodies {
            let parsed: Vec<BlockJson<'_, TransactionJson<'_>>> =
                typed_results(text, first, count)?;
            parsed
                .iter()
                .zip(&self.numbers)
                .map(|(block, number)| check_full(endpoint, *number, block).ok())
                .collect()
        } else {
            let parsed: Vec<BlockJson<'_, TxHash<'_>>> = typed_results(text, first, count)?;
            parsed
                .iter()
                .zip(&self.numbers)
                .map(|(block, number)| check_hashes(endpoint, *number, block).ok())
                .collect()
        }
    }

    fn each(&self, index: usize, result: &RawResult) -> Result<CheckedBlock, UpstreamError> {
        let number = self.numbers.get(index).copied().unwrap_or_default();
        if result.get() == "null" {
            return Err(UpstreamError::Missing {
                endpoint: self.endpoint.clone(),
                block: number,
                what: "block",
            });
        }
        check_block(&self.endpoint, number, result.get(), self.bodies)
    }
}

/// The answers to one batch of `eth_getBlockReceipts` calls, one per
/// checked header: each list rebuilt into consensus receipts and the
/// state-sync receipt.
struct ReceiptDecoder {
    endpoint: String,
    headers: Arc<Vec<CheckedHeader>>,
}

impl ResultDecoder for ReceiptDecoder {
    type Item = (Vec<u8>, Option<Vec<u8>>);

    fn whole(&self, text: &str, first: u64, count: usize) -> Option<Vec<Self::Item>> {
        let lists: Vec<Vec<ReceiptJson<'_>>> = typed_results(text, first, count)?;
        lists
            .iter()
            .zip(self.headers.iter())
            .map(|(list, header)| receipts_of(&self.endpoint, header, list).ok())
            .collect()
    }

    fn each(&self, index: usize, result: &RawResult) -> Result<Self::Item, UpstreamError> {
        let header = self
            .headers
            .get(index)
            .ok_or_else(|| UpstreamError::Malformed {
                endpoint: self.endpoint.clone(),
                reason: format!(
                    "receipts for call {index} of a batch of {}",
                    self.headers.len()
                ),
            })?;
        if result.get() == "null" {
            return Err(UpstreamError::Missing {
                endpoint: self.endpoint.clone(),
                block: header.number,
                what: "receipts",
            });
        }
        receipts(&self.endpoint, header, result.get())
    }
}

async fn fetch_chunk(
    endpoint: &Endpoint,
    numbers: Vec<u64>,
    bodies: bool,
    receipts: bool,
    options: &Options,
) -> Result<Vec<RawBlock>, UpstreamError> {
    let calls: Vec<Call> = numbers
        .iter()
        .map(|number| Call::new("eth_getBlockByNumber", json!([quantity(*number), bodies])))
        .collect();
    let name = endpoint.name().to_string();
    let blocks = Arc::new(BlockDecoder {
        endpoint: name.clone(),
        numbers,
        bodies,
    });
    let checked = send_all_decoded(endpoint, &calls, options, blocks).await?;
    if !receipts {
        return Ok(checked
            .into_iter()
            .map(|block| raw_block(block.header, block.body, None))
            .collect());
    }
    let (headers, bodies): (Vec<CheckedHeader>, Vec<Option<Vec<u8>>>) = checked
        .into_iter()
        .map(|block| (block.header, block.body))
        .unzip();
    let calls: Vec<Call> = headers
        .iter()
        .map(|header| {
            Call::new(
                "eth_getBlockReceipts",
                json!([data(header.hash.as_slice())]),
            )
        })
        .collect();
    let headers = Arc::new(headers);
    let decoder = Arc::new(ReceiptDecoder {
        endpoint: name,
        headers: Arc::clone(&headers),
    });
    let lists = send_all_decoded(endpoint, &calls, options, decoder).await?;
    // The decoder is gone with the call: the headers are ours again.
    let headers = Arc::unwrap_or_clone(headers);
    Ok(headers
        .into_iter()
        .zip(bodies)
        .zip(lists)
        .map(|((header, body), receipts)| raw_block(header, body, Some(receipts)))
        .collect())
}
