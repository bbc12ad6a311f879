//! Fetching a range of blocks from one endpoint: blocks in batches of
//! `batch_size` (`eth_getBlockByNumber`, full transactions when bodies are
//! wanted), then each batch's receipts by block hash (`eth_getBlockReceipts`,
//! so that they belong to the very blocks fetched), batches pipelined up to
//! the endpoint's concurrency limit. Each block's JSON is checked and its
//! body rebuilt as soon as it arrives, its receipts once they do, both off
//! the async workers.

use futures_util::{StreamExt, TryStreamExt};
use hypasis_plugin_sdk::api::{FetchRequest, RawBlock};
use hypasis_polygon::rpc_json::{data, quantity};
use serde_json::json;

use crate::{
    assemble::{CheckedBlock, assemble, check_block},
    endpoint::Endpoint,
    error::UpstreamError,
    options::Options,
    rpc::{self, Call, RawResult},
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

/// Runs CPU-bound decoding off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, UpstreamError> + Send + 'static,
) -> Result<T, UpstreamError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        // A bug here: let the SDK's guard report the panic.
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(UpstreamError::Shutdown),
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
    let blocks = rpc::send_all(endpoint, &calls, options).await?;
    let name = endpoint.name().to_string();
    // Each block's JSON is parsed once: header and body checked together.
    let checked: Vec<CheckedBlock> = blocking(move || {
        numbers
            .iter()
            .zip(&blocks)
            .map(|(number, block)| {
                if block.get() == "null" {
                    return Err(UpstreamError::Missing {
                        endpoint: name.clone(),
                        block: *number,
                        what: "block",
                    });
                }
                check_block(&name, *number, block.get(), bodies)
            })
            .collect()
    })
    .await?;
    let receipts: Option<Vec<RawResult>> = if receipts {
        let calls: Vec<Call> = checked
            .iter()
            .map(|block| {
                Call::new(
                    "eth_getBlockReceipts",
                    json!([data(block.header.hash.as_slice())]),
                )
            })
            .collect();
        let answers = rpc::send_all(endpoint, &calls, options).await?;
        if let Some((block, _)) = checked
            .iter()
            .zip(&answers)
            .find(|(_, answer)| answer.get() == "null")
        {
            return Err(UpstreamError::Missing {
                endpoint: endpoint.name().into(),
                block: block.header.number,
                what: "receipts",
            });
        }
        Some(answers)
    } else {
        None
    };
    let name = endpoint.name().to_string();
    blocking(move || {
        let receipts = receipts.as_ref();
        checked
            .into_iter()
            .enumerate()
            .map(|(index, block)| {
                let receipts = receipts
                    .and_then(|list| list.get(index))
                    .map(RawResult::get);
                assemble(&name, block, receipts)
            })
            .collect::<Result<Vec<RawBlock>, UpstreamError>>()
    })
    .await
}
