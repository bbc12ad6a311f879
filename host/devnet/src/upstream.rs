//! The upstream JSON-RPC a Polygon provider offers, over the devnet chain,
//! with this endpoint's faults applied.

use std::sync::Arc;

use alloy_primitives::B256;
use bytes::Bytes;
use hypasis_polygon::{
    checkpoint::{check_root_range, checkpoint_root, header_leaf},
    rpc_json::{parse_b256, quantity},
};
use parking_lot::RwLock;
use serde_json::Value;

use crate::{
    block::DevBlock,
    chain::Chain,
    faults::{FaultPlan, FaultSettings, tampered},
    jsonrpc::{Reply, RpcError, param, param_u64},
    render,
};

/// One upstream endpoint: the shared chain seen through its own faults.
#[derive(Clone)]
pub struct UpstreamEndpoint {
    chain: Arc<RwLock<Chain>>,
    faults: FaultPlan,
    served: Arc<parking_lot::Mutex<std::collections::HashMap<u64, u32>>>,
    rendered: Arc<RenderCache>,
}

/// Rendered JSON of honest blocks and receipt lists, by block hash and kind
/// (0 block with hashes, 1 full block, 2 receipts). Bounded by bytes
/// (a 100-transaction block renders to ~150 KB with its receipts, so a
/// long chain cannot be held whole): cleared when full.
#[derive(Default)]
pub struct RenderCache {
    entries: parking_lot::Mutex<RenderEntries>,
}

#[derive(Default)]
struct RenderEntries {
    texts: std::collections::HashMap<(B256, u8), Bytes>,
    bytes: usize,
}

impl RenderCache {
    /// The most rendered text kept.
    pub const MAX_BYTES: usize = 4 << 30;

    fn get_or_render(&self, hash: B256, kind: u8, render: impl FnOnce() -> Value) -> Bytes {
        if let Some(text) = self.entries.lock().texts.get(&(hash, kind)) {
            return text.clone();
        }
        let text = Bytes::from(render().to_string());
        let mut entries = self.entries.lock();
        if entries.bytes + text.len() > Self::MAX_BYTES {
            entries.texts.clear();
            entries.bytes = 0;
        }
        entries.bytes += text.len();
        if let Some(old) = entries.texts.insert((hash, kind), text.clone()) {
            entries.bytes -= old.len();
        }
        text
    }
}

enum BlockId {
    Number(u64),
    Hash(B256),
}

impl UpstreamEndpoint {
    /// An endpoint over `chain` with `faults`.
    pub fn new(chain: Arc<RwLock<Chain>>, faults: FaultPlan) -> Self {
        Self::with_cache(chain, faults, Arc::default())
    }

    /// An endpoint sharing a render cache with others over the same chain.
    pub fn with_cache(
        chain: Arc<RwLock<Chain>>,
        faults: FaultPlan,
        rendered: Arc<RenderCache>,
    ) -> Self {
        UpstreamEndpoint {
            chain,
            faults,
            served: Arc::default(),
            rendered,
        }
    }

    /// How many times each block was served with full transactions (what a
    /// syncing client fetches), for tests that check nothing is re-fetched.
    pub fn served_full_blocks(&self) -> std::collections::HashMap<u64, u32> {
        self.served.lock().clone()
    }

    /// The endpoint's fault plan.
    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    fn head(&self, chain: &Chain, settings: &FaultSettings) -> u64 {
        let head = chain.head().number();
        settings.stale_head.map_or(head, |stale| stale.min(head))
    }

    fn block_id(
        &self,
        chain: &Chain,
        settings: &FaultSettings,
        value: Option<&Value>,
    ) -> Result<BlockId, RpcError> {
        let text = match value {
            None => return Ok(BlockId::Number(self.head(chain, settings))),
            Some(Value::String(text)) => text.as_str(),
            Some(Value::Object(object)) => {
                if let Some(hash) = object.get("blockHash").and_then(Value::as_str) {
                    return parse_b256("blockHash", hash)
                        .map(BlockId::Hash)
                        .map_err(|error| RpcError::invalid_params(error.to_string()));
                }
                object
                    .get("blockNumber")
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcError::invalid_params("expected blockHash or blockNumber"))?
            }
            Some(other) => {
                return Err(RpcError::invalid_params(format!(
                    "invalid block identifier {other}"
                )));
            }
        };
        let milestone = chain
            .milestones()
            .last()
            .map_or(0, |milestone| milestone.end);
        match text {
            "latest" | "pending" => Ok(BlockId::Number(self.head(chain, settings))),
            "earliest" => Ok(BlockId::Number(0)),
            "finalized" | "safe" => Ok(BlockId::Number(milestone.min(self.head(chain, settings)))),
            _ if text.len() == 66 => parse_b256("block", text)
                .map(BlockId::Hash)
                .map_err(|error| RpcError::invalid_params(error.to_string())),
            _ => hypasis_polygon::rpc_json::parse_u64("block", text)
                .map(BlockId::Number)
                .map_err(|error| RpcError::invalid_params(error.to_string())),
        }
    }

    /// The block this endpoint shows for `id`, with its lies applied. A
    /// liar is consistent: the hash of a block it rehashed finds that block.
    fn find(&self, chain: &Chain, settings: &FaultSettings, id: BlockId) -> Option<Arc<DevBlock>> {
        let head = self.head(chain, settings);
        let shown = match id {
            BlockId::Number(number) => shown(&chain.by_number(number)?, settings),
            BlockId::Hash(hash) => match chain.by_hash(&hash) {
                Some(block) => shown(&block, settings),
                None => settings
                    .tamper
                    .iter()
                    .filter_map(|tamper| chain.by_number(tamper.block))
                    .map(|block| shown(&block, settings))
                    .find(|lie| lie.hash == hash)?,
            },
        };
        (shown.number() <= head).then_some(shown)
    }

    /// Renders the full-block and receipt JSON of canonical blocks `range`
    /// into the shared cache, the way a provider's serving layer holds it,
    /// so that a benchmark measures the client rather than this renderer.
    pub fn prerender(&self, range: std::ops::RangeInclusive<u64>) {
        let blocks: Vec<Arc<DevBlock>> = {
            let chain = self.chain.read();
            range.filter_map(|number| chain.by_number(number)).collect()
        };
        for block in blocks {
            self.rendered
                .get_or_render(block.hash, 1, || render::block(&block, true));
            self.rendered
                .get_or_render(block.hash, 2, || render::receipts(&block));
        }
    }

    /// Answers one call; block and receipt JSON of honest answers is
    /// rendered once per block and then served as text.
    pub fn call_reply(&self, method: &str, params: &Value) -> Result<Reply, RpcError> {
        let settings = self.faults.settings();
        let honest = settings.tamper.is_empty()
            && settings.error_rate == 0.0
            && !settings.missing_all_receipts
            && settings.missing_receipts.is_empty();
        let kind = match method {
            "eth_getBlockByNumber" | "eth_getBlockByHash" => {
                if param(params, 1).and_then(Value::as_bool).unwrap_or(false) {
                    1
                } else {
                    0
                }
            }
            "eth_getBlockReceipts" => 2,
            _ => return self.call(method, params).map(Reply::Value),
        };
        if !honest {
            return self.call(method, params).map(Reply::Value);
        }
        let chain = self.chain.read();
        let id = if method == "eth_getBlockByHash" {
            let text = param(params, 0)
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("missing block hash"))?;
            BlockId::Hash(
                parse_b256("hash", text)
                    .map_err(|error| RpcError::invalid_params(error.to_string()))?,
            )
        } else {
            self.block_id(&chain, &settings, param(params, 0))?
        };
        let Some(block) = self.find(&chain, &settings, id) else {
            return Ok(Reply::Value(Value::Null));
        };
        drop(chain);
        if kind == 1 {
            *self.served.lock().entry(block.number()).or_default() += 1;
        }
        Ok(Reply::Raw(self.rendered.get_or_render(
            block.hash,
            kind,
            || match kind {
                0 => render::block(&block, false),
                1 => render::block(&block, true),
                _ => render::receipts(&block),
            },
        )))
    }

    /// Answers one call.
    pub fn call(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        let settings = self.faults.settings();
        if self.faults.roll(settings.error_rate) {
            return Err(RpcError::internal("devnet: injected internal error"));
        }
        let chain = self.chain.read();
        let spec = chain.generator().spec();
        match method {
            "eth_chainId" => Ok(quantity(spec.chain_id)),
            "net_version" => Ok(Value::String(spec.network_id.to_string())),
            "eth_syncing" => Ok(Value::Bool(false)),
            "eth_blockNumber" => Ok(quantity(self.head(&chain, &settings))),
            "eth_getBlockByNumber" | "eth_getBlockByHash" => {
                let id = if method == "eth_getBlockByHash" {
                    let text = param(params, 0)
                        .and_then(Value::as_str)
                        .ok_or_else(|| RpcError::invalid_params("missing block hash"))?;
                    BlockId::Hash(
                        parse_b256("hash", text)
                            .map_err(|error| RpcError::invalid_params(error.to_string()))?,
                    )
                } else {
                    self.block_id(&chain, &settings, param(params, 0))?
                };
                let full = param(params, 1).and_then(Value::as_bool).unwrap_or(false);
                Ok(self
                    .find(&chain, &settings, id)
                    .map_or(Value::Null, |block| render::block(&block, full)))
            }
            "eth_getBlockReceipts" => {
                let id = self.block_id(&chain, &settings, param(params, 0))?;
                let Some(block) = self.find(&chain, &settings, id) else {
                    return Ok(Value::Null);
                };
                if settings.missing_all_receipts
                    || settings.missing_receipts.contains(&block.number())
                {
                    return Ok(Value::Null);
                }
                Ok(render::receipts(&block))
            }
            "eth_getTransactionByHash" | "eth_getTransactionReceipt" => {
                let text = param(params, 0)
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcError::invalid_params("missing transaction hash"))?;
                let hash = parse_b256("hash", text)
                    .map_err(|error| RpcError::invalid_params(error.to_string()))?;
                let Some((block, index)) = chain.transaction(&hash) else {
                    return Ok(Value::Null);
                };
                let Some(block) = self.find(&chain, &settings, BlockId::Hash(block.hash)) else {
                    return Ok(Value::Null);
                };
                if method == "eth_getTransactionReceipt" {
                    if settings.missing_all_receipts
                        || settings.missing_receipts.contains(&block.number())
                    {
                        return Ok(Value::Null);
                    }
                    Ok(render::receipt(&block, index).unwrap_or(Value::Null))
                } else {
                    Ok(render::transaction(&block, index).unwrap_or(Value::Null))
                }
            }
            "bor_getRootHash" | "eth_getRootHash" => {
                let start = param_u64(params, 0, "start")?;
                let end = param_u64(params, 1, "end")?;
                check_root_range(start, end, self.head(&chain, &settings))
                    .map_err(|error| RpcError::server(error.to_string()))?;
                let leaves: Vec<B256> = (start..=end)
                    .filter_map(|number| self.find(&chain, &settings, BlockId::Number(number)))
                    .map(|block| header_leaf(&block.header))
                    .collect();
                let root =
                    checkpoint_root(&leaves).ok_or_else(|| RpcError::server("unknown block"))?;
                Ok(Value::String(hex_plain(root.as_slice())))
            }
            _ => Err(RpcError::method_not_found(method)),
        }
    }
}

fn hex_plain(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `block` as an endpoint with `settings` shows it: with every lie about
/// its number applied.
fn shown(block: &Arc<DevBlock>, settings: &FaultSettings) -> Arc<DevBlock> {
    let mut lies = settings
        .tamper
        .iter()
        .filter(|tamper| tamper.block == block.number())
        .peekable();
    if lies.peek().is_none() {
        return Arc::clone(block);
    }
    let mut shown = (**block).clone();
    for tamper in lies {
        shown = tampered(&shown, tamper);
    }
    Arc::new(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::ChainConfig, generator::ChainGenerator};
    use serde_json::json;

    fn endpoint() -> UpstreamEndpoint {
        let mut chain = Chain::new(ChainGenerator::new(ChainConfig::default()).unwrap());
        for _ in 0..40 {
            chain.grow();
        }
        UpstreamEndpoint::new(Arc::new(RwLock::new(chain)), FaultPlan::new(1))
    }

    #[test]
    fn basic_methods_and_errors() {
        let endpoint = endpoint();
        assert_eq!(
            endpoint.call("eth_blockNumber", &json!([])).unwrap(),
            json!("0x28")
        );
        assert_eq!(
            endpoint.call("net_version", &json!([])).unwrap(),
            json!("137137")
        );
        assert_eq!(
            endpoint
                .call("eth_getBlockByNumber", &json!(["0x99", false]))
                .unwrap(),
            Value::Null
        );
        assert_eq!(
            endpoint.call("eth_nope", &json!([])).unwrap_err().code,
            -32601
        );
        assert_eq!(
            endpoint
                .call("bor_getRootHash", &json!([10, 5]))
                .unwrap_err()
                .message,
            "Start: 10 and end block: 5 exceed max allowed checkpoint length: 32768"
        );
        let root = endpoint.call("bor_getRootHash", &json!([1, 32])).unwrap();
        assert_eq!(root.as_str().unwrap().len(), 64);
        endpoint
            .faults()
            .update(|settings| settings.stale_head = Some(20));
        assert_eq!(
            endpoint.call("eth_blockNumber", &json!([])).unwrap(),
            json!("0x14")
        );
        assert_eq!(
            endpoint
                .call("eth_getBlockByNumber", &json!(["0x15", false]))
                .unwrap(),
            Value::Null
        );
    }
}
