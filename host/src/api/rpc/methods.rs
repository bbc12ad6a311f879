//! The JSON-RPC methods: one function per method, each reading the store
//! (through the response cache) and answering in go-ethereum's shapes.
//! A block that is not stored is `null`, or with `api.rpc.proxy_unknown`
//! the upstream's answer with `"unverified": true` added.

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::BlockPart;
use hypasis_polygon::{
    checkpoint::{check_root_range, checkpoint_root, header_leaf},
    decode_header,
    rpc_json::{data, header_json, quantity},
};
use serde_json::{Value, json, value::RawValue};

use super::{
    params::{BlockId, BlockTag, Params},
    protocol::{CallResult, RESOURCE_NOT_FOUND, RpcError, null, raw},
    render::{RenderError, StoredBlock},
};
use crate::api::{cache::Rendered, context::ApiContext};

/// Every method this server answers, for `rpc_modules`-style listings and tests.
pub const METHODS: &[&str] = &[
    "eth_chainId",
    "net_version",
    "web3_clientVersion",
    "eth_blockNumber",
    "eth_syncing",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockReceipts",
    "eth_getTransactionByHash",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getTransactionReceipt",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getHeaderByNumber",
    "eth_getHeaderByHash",
    "bor_getRootHash",
    "hypasis_blockStatus",
    "hypasis_coverage",
];

impl From<RenderError> for RpcError {
    fn from(error: RenderError) -> Self {
        RpcError::internal(error.to_string())
    }
}

impl From<crate::plugins::PluginCallError> for RpcError {
    fn from(error: crate::plugins::PluginCallError) -> Self {
        RpcError::internal(format!("storage: {error}"))
    }
}

fn value(json: Value) -> CallResult {
    Ok(raw(&json))
}

/// The version string `web3_clientVersion` returns.
pub fn client_version() -> String {
    format!(
        "hypasis-sync/v{}/{}-{}",
        crate::VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Answers one call.
pub async fn call(ctx: &ApiContext, method: &str, params: Option<&Value>) -> CallResult {
    let params = Params::new(params)?;
    match method {
        "eth_chainId" => {
            let spec = spec(ctx)?;
            value(quantity(spec.chain_id))
        }
        "net_version" => value(Value::String(spec(ctx)?.network_id.to_string())),
        "web3_clientVersion" => value(Value::String(client_version())),
        "eth_blockNumber" => match head_number(ctx) {
            Some(number) => value(quantity(number)),
            None => Err(RpcError::new(-32000, "no block stored yet")),
        },
        "eth_syncing" => syncing(ctx),
        "eth_getBlockByNumber" => {
            params.at_most(2)?;
            let id = params.block_number(0)?;
            let full = params.flag(1)?;
            block(ctx, id, full, method, &params).await
        }
        "eth_getBlockByHash" => {
            params.at_most(2)?;
            let hash = params.hash(0)?;
            let full = params.flag(1)?;
            block(
                ctx,
                BlockId::Hash {
                    hash,
                    canonical: false,
                },
                full,
                method,
                &params,
            )
            .await
        }
        "eth_getBlockReceipts" => {
            params.at_most(1)?;
            let id = params.block_number_or_hash(0)?;
            with_block(
                ctx,
                id,
                true,
                Rendered::Receipts,
                method,
                &params,
                |ctx, block| {
                    let spec = spec(ctx)?;
                    Ok(block
                        .receipts_json(&spec, ctx.dialect())?
                        .map(|json| raw(&json)))
                },
            )
            .await
        }
        "eth_getTransactionByHash" => {
            params.at_most(1)?;
            let hash = params.hash(0)?;
            by_transaction(ctx, hash, false, method, &params).await
        }
        "eth_getTransactionReceipt" => {
            params.at_most(1)?;
            let hash = params.hash(0)?;
            by_transaction(ctx, hash, true, method, &params).await
        }
        "eth_getTransactionByBlockNumberAndIndex" | "eth_getTransactionByBlockHashAndIndex" => {
            params.at_most(2)?;
            let id = block_param(&params, method.ends_with("NumberAndIndex"))?;
            let index = params.quantity(1)?;
            let Ok(index) = u32::try_from(index) else {
                return Ok(null());
            };
            transaction_at(ctx, id, index, method, &params).await
        }
        "eth_getBlockTransactionCountByNumber" | "eth_getBlockTransactionCountByHash" => {
            params.at_most(1)?;
            let id = block_param(&params, method.ends_with("ByNumber"))?;
            // Rendered::BlockHashes is not reused here: counting needs the body only.
            let Some((number, hash)) = resolve(ctx, id)? else {
                return proxy(ctx, method, &params).await;
            };
            let Some(block) = StoredBlock::load(&ctx.store, number, hash, true, true)? else {
                return Ok(null());
            };
            if !block.has_body() {
                return Ok(null());
            }
            value(quantity(block.transaction_count(ctx.dialect()) as u64))
        }
        "eth_getHeaderByNumber" | "eth_getHeaderByHash" => {
            params.at_most(1)?;
            let id = block_param(&params, method.ends_with("ByNumber"))?;
            with_block(
                ctx,
                id,
                false,
                Rendered::Header,
                method,
                &params,
                |_, block| {
                    Ok(Some(raw(&Value::Object(header_json(
                        &block.header,
                        &block.hash,
                    )))))
                },
            )
            .await
        }
        "bor_getRootHash" => {
            params.at_most(2)?;
            let start = params_u64(&params, 0)?;
            let end = params_u64(&params, 1)?;
            root_hash(ctx, start, end)
        }
        "hypasis_blockStatus" => {
            params.at_most(1)?;
            let id = params.block_number_or_hash(0)?;
            block_status(ctx, id)
        }
        "hypasis_coverage" => {
            params.at_most(0)?;
            coverage(ctx)
        }
        other => Err(RpcError::method_not_found(other)),
    }
}

/// The first parameter: a block number or tag (`by_number`), else a block hash.
fn block_param(params: &Params<'_>, by_number: bool) -> Result<BlockId, RpcError> {
    if by_number {
        params.block_number(0)
    } else {
        Ok(BlockId::Hash {
            hash: params.hash(0)?,
            canonical: false,
        })
    }
}

/// `bor_getRootHash` takes plain JSON numbers (Bor's signature is `(uint64, uint64)`).
fn params_u64(params: &Params<'_>, index: usize) -> Result<u64, RpcError> {
    params.number(index)
}

fn spec(ctx: &ApiContext) -> Result<Arc<hypasis_polygon::ChainSpec>, RpcError> {
    ctx.spec
        .clone()
        .ok_or_else(|| RpcError::new(-32000, "the chain is not known yet"))
}

fn head_number(ctx: &ApiContext) -> Option<u64> {
    ctx.head
        .as_ref()
        .and_then(|head| head.head())
        .map(|head| head.number)
}

fn syncing(ctx: &ApiContext) -> CallResult {
    let Some(status) = &ctx.sync else {
        return value(Value::Bool(false));
    };
    let status = status.read();
    let current = status.forward.or(status.anchor).unwrap_or(0);
    let highest = status.head.unwrap_or(current);
    if status.forward_done || highest <= current {
        return value(Value::Bool(false));
    }
    value(json!({
        "startingBlock": quantity(status.anchor.unwrap_or(0)),
        "currentBlock": quantity(current),
        "highestBlock": quantity(highest),
    }))
}

/// The block number a tag names right now.
fn tag_number(ctx: &ApiContext, tag: BlockTag) -> Option<u64> {
    let head = ctx.head.as_ref().and_then(|head| head.head());
    match tag {
        BlockTag::Latest => head.map(|head| head.number),
        BlockTag::Earliest => head.map(|head| head.earliest),
        BlockTag::Safe if ctx.is_syncing_host() => ctx.safe().map(|milestone| milestone.end),
        BlockTag::Finalized if ctx.is_syncing_host() => {
            ctx.finalized().map(|checkpoint| checkpoint.end)
        }
        // An imported chain is final as imported.
        BlockTag::Safe | BlockTag::Finalized => head.map(|head| head.number),
    }
}

/// The stored canonical (or, by hash, any stored) block an id names.
pub fn resolve(ctx: &ApiContext, id: BlockId) -> Result<Option<(u64, B256)>, RpcError> {
    let number = match id {
        BlockId::Number(number) => number,
        BlockId::Tag(tag) => match tag_number(ctx, tag) {
            Some(number) => number,
            None => return Ok(None),
        },
        BlockId::Hash { hash, canonical } => {
            let Some(number) = ctx.store.block_number(&hash.0)? else {
                return Ok(None);
            };
            if canonical && ctx.canonical_hash(number)? != Some(hash) {
                return Err(RpcError::new(
                    -32000,
                    format!("hash {hash} is not currently canonical"),
                ));
            }
            return Ok(Some((number, hash)));
        }
    };
    Ok(ctx.canonical_hash(number)?.map(|hash| (number, hash)))
}

/// Renders (or takes from the cache) what `render` makes of the block `id`
/// names; `null` when it is not stored (or proxied).
async fn with_block(
    ctx: &ApiContext,
    id: BlockId,
    receipts: bool,
    what: Rendered,
    method: &str,
    params: &Params<'_>,
    render: impl FnOnce(&ApiContext, &StoredBlock) -> Result<Option<Arc<RawValue>>, RpcError>,
) -> CallResult {
    let Some((number, hash)) = resolve(ctx, id)? else {
        return proxy(ctx, method, params).await;
    };
    let rendered: Result<Arc<RawValue>, RpcError> = ctx.cache.get_or_render(hash, what, || {
        let block = StoredBlock::load(&ctx.store, number, hash, true, receipts)?.ok_or(Missing)?;
        if !block.has_body() || (receipts && !block.has_receipts()) {
            return Err(Missing.into());
        }
        render(ctx, &block)?.ok_or_else(|| Missing.into())
    });
    match rendered {
        Ok(rendered) => Ok(rendered),
        Err(error) if error.code == MISSING_CODE => Ok(null()),
        Err(error) => Err(error),
    }
}

/// Internal marker: the asked-for thing is not there (rendered as `null`, never cached).
struct Missing;
const MISSING_CODE: i64 = i64::MIN;

impl From<Missing> for RpcError {
    fn from(_: Missing) -> Self {
        RpcError::new(MISSING_CODE, "not stored")
    }
}

async fn block(
    ctx: &ApiContext,
    id: BlockId,
    full: bool,
    method: &str,
    params: &Params<'_>,
) -> CallResult {
    let what = if full {
        Rendered::BlockFull
    } else {
        Rendered::BlockHashes
    };
    with_block(ctx, id, false, what, method, params, |ctx, block| {
        Ok(Some(raw(&block.block_json(ctx.dialect(), full)?)))
    })
    .await
}

async fn by_transaction(
    ctx: &ApiContext,
    tx_hash: B256,
    receipt: bool,
    method: &str,
    params: &Params<'_>,
) -> CallResult {
    let Some(location) = ctx.store.transaction(&tx_hash.0)? else {
        return proxy(ctx, method, params).await;
    };
    let block_hash = B256::from(location.block_hash);
    // Only a canonical block's transactions are found by hash.
    if ctx.canonical_hash(location.number)? != Some(block_hash) {
        return proxy(ctx, method, params).await;
    }
    let id = BlockId::Hash {
        hash: block_hash,
        canonical: false,
    };
    let index = location.index;
    if receipt {
        with_block(
            ctx,
            id,
            true,
            Rendered::Receipt(index),
            method,
            params,
            |ctx, block| {
                let spec = spec(ctx)?;
                Ok(block
                    .receipt_json(&spec, ctx.dialect(), index as usize)?
                    .map(|json| raw(&json)))
            },
        )
        .await
    } else {
        transaction_at(ctx, id, index, method, params).await
    }
}

/// Transaction `index` of the block `id` names.
async fn transaction_at(
    ctx: &ApiContext,
    id: BlockId,
    index: u32,
    method: &str,
    params: &Params<'_>,
) -> CallResult {
    with_block(
        ctx,
        id,
        false,
        Rendered::Transaction(index),
        method,
        params,
        |ctx, block| {
            Ok(block
                .transaction_json(ctx.dialect(), index as usize)?
                .map(|json| raw(&json)))
        },
    )
    .await
}

/// With `api.rpc.proxy_unknown`, asks the upstreams and marks what they
/// answer as unverified; otherwise `null`.
async fn proxy(ctx: &ApiContext, method: &str, params: &Params<'_>) -> CallResult {
    let (true, Some(upstream)) = (ctx.settings.proxy_unknown, &ctx.upstream) else {
        return Ok(null());
    };
    let text = serde_json::to_string(params.items()).unwrap_or_else(|_| "[]".into());
    let answer = upstream.call(method, &text).await.map_err(|error| {
        RpcError::new(
            RESOURCE_NOT_FOUND,
            format!("not stored, and the upstreams failed: {error}"),
        )
    })?;
    let mut answer: Value = serde_json::from_str(&answer).map_err(|error| {
        RpcError::internal(format!("the upstream's answer is not JSON: {error}"))
    })?;
    if let Value::Object(fields) = &mut answer {
        fields.insert("unverified".into(), Value::Bool(true));
    }
    value(answer)
}

fn root_hash(ctx: &ApiContext, start: u64, end: u64) -> CallResult {
    let head = head_number(ctx).unwrap_or(0);
    check_root_range(start, end, head).map_err(|error| RpcError::new(-32000, error.to_string()))?;
    let numbers: Vec<u64> = (start..=end).collect();
    let hashes = ctx.store.canonical_hashes(&numbers)?;
    let Some(hashes) = hashes.into_iter().collect::<Option<Vec<_>>>() else {
        return Err(RpcError::new(-32000, "a header in the range is not stored"));
    };
    let headers = ctx.store.parts(BlockPart::Header, &hashes)?;
    let mut leaves = Vec::with_capacity(headers.len());
    for (number, header) in numbers.iter().zip(headers) {
        let bytes = header
            .into_option()
            .ok_or_else(|| RpcError::new(-32000, "a header in the range is not stored"))?;
        let header = decode_header(&bytes)
            .map_err(|error| RpcError::internal(format!("stored header {number}: {error}")))?;
        leaves.push(header_leaf(&header));
    }
    let root = checkpoint_root(&leaves).ok_or_else(|| RpcError::internal("empty range"))?;
    value(Value::String(hex::encode(root)))
}

fn block_status(ctx: &ApiContext, id: BlockId) -> CallResult {
    let Some((number, hash)) = resolve(ctx, id)? else {
        return Ok(null());
    };
    let canonical = ctx.canonical_hash(number)? == Some(hash);
    let coverage = ctx.coverage();
    let verified = canonical && coverage.verified.contains(number);
    let unconfirmed =
        canonical && (coverage.unconfirmed.contains(number) || coverage.unlinked.contains(number));
    let imported = !ctx.is_syncing_host() && canonical;
    value(json!({
        "number": quantity(number),
        "hash": data(hash.as_slice()),
        "canonical": canonical,
        "verified": verified,
        "unconfirmed": unconfirmed,
        "imported": imported,
    }))
}

fn coverage(ctx: &ApiContext) -> CallResult {
    let ranges = |set: &hypasis_plugin_api::IntervalSet| -> (Value, u64) {
        let json = set
            .ranges()
            .iter()
            .map(|range| json!({"start": quantity(range.start), "end": quantity(range.end)}))
            .collect();
        (Value::Array(json), set.count())
    };
    let coverage = ctx.coverage();
    let (verified, verified_blocks) = ranges(&coverage.verified);
    let (unconfirmed, unconfirmed_blocks) = ranges(&coverage.unconfirmed);
    let (unlinked, unlinked_blocks) = ranges(&coverage.unlinked);
    let head = ctx.head.as_ref().and_then(|head| head.head());
    value(json!({
        "verified": verified,
        "verifiedBlocks": quantity(verified_blocks),
        "unconfirmed": unconfirmed,
        "unconfirmedBlocks": quantity(unconfirmed_blocks),
        "unlinked": unlinked,
        "unlinkedBlocks": quantity(unlinked_blocks),
        "earliest": head.map(|head| quantity(head.earliest)),
        "latest": head.map(|head| quantity(head.number)),
    }))
}
