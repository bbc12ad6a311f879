//! The Ethereum methods the sync needs from an L1, answered through the workspace's one
//! JSON-RPC framing (hypasis-jsonrpc): envelopes, batches and errors as geth shapes them.

use alloy_primitives::{Address, B256, TxKind};
use hypasis_jsonrpc::{Body, EXECUTION_REVERTED, Reply, Response};
use revm::{
    DatabaseRef,
    context::{TxEnv, result::ExecutionResult},
};
use serde_json::{Value, json};

pub(crate) use hypasis_jsonrpc::RpcError;

use crate::{
    block::{GAS_LIMIT, L1Block},
    chain::{Chain, L1Devnet},
    contract::revert_reason,
    evm::{self, WorldState},
    json,
    params::{self, BlockId, Params},
};

impl L1Devnet {
    /// Answers a JSON-RPC 2.0 request (one object, or a batch array) as an Ethereum node (geth)
    /// would. A lone notification (no `id`), or a batch of notifications only, gets no answer:
    /// `Value::Null`.
    pub fn rpc(&self, request: &serde_json::Value) -> serde_json::Value {
        let body = hypasis_jsonrpc::Body::from_value(request.clone());
        answer(&self.lock(), body)
            .and_then(|response| serde_json::from_slice(&response.into_bytes()).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// [`L1Devnet::rpc`] on a raw request body: invalid JSON gets the `-32700` parse error, and
    /// "no answer" is the empty string.
    pub fn rpc_text(&self, body: &str) -> String {
        let body = hypasis_jsonrpc::Body::parse(body.as_bytes());
        answer(&self.lock(), body).map_or_else(String::new, |response| response.into_text())
    }
}

/// Answers a request body (one object or a batch) as geth would; `None` when nothing is to be
/// sent back (notifications only).
fn answer(chain: &Chain, body: Result<Body, RpcError>) -> Option<Response> {
    hypasis_jsonrpc::respond(body, |method, params| {
        call(chain, method, params).map(Reply::Value)
    })
}

fn call(chain: &Chain, method: &str, params: Option<&Value>) -> Result<Value, RpcError> {
    let params = Params::new(params)?;
    match method {
        "eth_chainId" => {
            params.at_most(0)?;
            Ok(json::quantity(chain.config.chain_id))
        }
        "net_version" => {
            params.at_most(0)?;
            Ok(Value::String(chain.config.chain_id.to_string()))
        }
        "eth_blockNumber" => {
            params.at_most(0)?;
            Ok(json::quantity(chain.head().number()))
        }
        "eth_syncing" => {
            params.at_most(0)?;
            Ok(Value::Bool(false))
        }
        "web3_clientVersion" => {
            params.at_most(0)?;
            Ok(json!(concat!(
                "hypasis-devnet-l1/v",
                env!("CARGO_PKG_VERSION")
            )))
        }
        "eth_call" => eth_call(chain, &params),
        "eth_getLogs" => get_logs(chain, &params),
        "eth_getBlockByNumber" => {
            params.at_most(2)?;
            let id = params.parse(0, params::block_number)?;
            let full = params.parse(1, params::boolean)?;
            Ok(find_block(chain, id).map_or(Value::Null, |block| json::block(block, full)))
        }
        "eth_getBlockByHash" => {
            params.at_most(2)?;
            let hash = params.parse(0, params::hash)?;
            let full = params.parse(1, params::boolean)?;
            Ok(chain
                .block_by_hash(&hash)
                .map_or(Value::Null, |block| json::block(block, full)))
        }
        "eth_getTransactionByHash" => {
            params.at_most(1)?;
            let hash = params.parse(0, params::hash)?;
            Ok(chain
                .transaction(&hash)
                .map_or(Value::Null, |(block, index)| {
                    json::transaction(block, index)
                }))
        }
        "eth_getTransactionReceipt" => {
            params.at_most(1)?;
            let hash = params.parse(0, params::hash)?;
            Ok(chain
                .transaction(&hash)
                .map_or(Value::Null, |(block, index)| json::receipt(block, index)))
        }
        "eth_getBalance" | "eth_getCode" | "eth_getTransactionCount" => {
            params.at_most(2)?;
            let address = params.parse(0, params::address)?;
            let (_, state) = state_block(chain, &params, 1)?;
            let account = state.basic_ref(address).ok().flatten().unwrap_or_default();
            Ok(match method {
                "eth_getBalance" => Value::String(format!("{:#x}", account.balance)),
                "eth_getTransactionCount" => json::quantity(account.nonce),
                _ => {
                    let code = state
                        .code_by_hash_ref(account.code_hash)
                        .unwrap_or_default();
                    json::data(code.original_byte_slice())
                }
            })
        }
        "eth_getStorageAt" => {
            params.at_most(3)?;
            let address = params.parse(0, params::address)?;
            let slot = params.parse(1, params::quantity_u256)?;
            let (_, state) = state_block(chain, &params, 2)?;
            let value = state.storage_ref(address, slot).unwrap_or_default();
            Ok(json::data(B256::from(value)))
        }
        _ => Err(RpcError::method_not_found(method)),
    }
}

/// The block a tag, number or hash names, if the chain has it.
fn find_block(chain: &Chain, id: BlockId) -> Option<&L1Block> {
    match id {
        BlockId::Latest => Some(chain.head()),
        BlockId::Earliest => chain.blocks.first(),
        BlockId::Number(number) => usize::try_from(number)
            .ok()
            .and_then(|n| chain.blocks.get(n)),
        BlockId::Hash(hash) => chain.block_by_hash(&hash),
    }
}

/// The block whose state a method reads, and that state: optional argument `index` (default
/// `latest`). An unknown block is geth's `header not found`; a block older than the kept state
/// history is refused as a pruned geth full node refuses it.
fn state_block<'c>(
    chain: &'c Chain,
    params: &Params<'_>,
    index: usize,
) -> Result<(&'c L1Block, &'c WorldState), RpcError> {
    let id = params
        .parse_optional(index, params::block_id)?
        .unwrap_or(BlockId::Latest);
    let block = find_block(chain, id).ok_or_else(|| {
        RpcError::server(match id {
            BlockId::Hash(_) => "header for hash not found",
            _ => "header not found",
        })
    })?;
    let state = chain.states.at(block.number()).ok_or_else(|| {
        RpcError::server(format!(
            "historical state {} is not available",
            block.header.state_root
        ))
    })?;
    Ok((block, state))
}

fn eth_call(chain: &Chain, params: &Params<'_>) -> Result<Value, RpcError> {
    params.at_most(3)?;
    let request = params.parse(0, params::call_request)?;
    let (block, state) = state_block(chain, params, 1)?;
    let from = request.from.unwrap_or(Address::ZERO);
    // Like geth's eth_call without fees: no base fee, gas price 0, gas capped at the block's.
    let mut env = block.env();
    env.basefee = 0;
    let tx = TxEnv::builder()
        .tx_type(Some(0))
        .caller(from)
        .gas_limit(request.gas.unwrap_or(GAS_LIMIT).min(GAS_LIMIT))
        .gas_price(0)
        .kind(request.to.map_or(TxKind::Create, TxKind::Call))
        .value(request.value)
        .data(request.input)
        .nonce(evm::nonce(state, from))
        .chain_id(Some(chain.config.chain_id))
        .build()
        .map_err(|error| RpcError::server(error.to_string()))?;
    let (result, _) =
        evm::transact(state, chain.config.chain_id, env, tx).map_err(RpcError::server)?;
    match result {
        ExecutionResult::Success { output, .. } => Ok(json::data(output.data())),
        ExecutionResult::Revert { output, .. } => Err(RpcError::new(
            EXECUTION_REVERTED,
            match revert_reason(&output) {
                Some(reason) => format!("execution reverted: {reason}"),
                None => "execution reverted".into(),
            },
        )
        .with_data(json::data(&output))),
        ExecutionResult::Halt { reason, .. } => {
            Err(RpcError::server(halt_message(&format!("{reason:?}"))))
        }
    }
}

/// geth's wording for the common halts (`out of gas`, `invalid opcode`, …).
fn halt_message(reason: &str) -> String {
    if reason.starts_with("OutOfGas") {
        "out of gas".into()
    } else if reason.starts_with("InvalidFEOpcode") || reason.starts_with("OpcodeNotFound") {
        "invalid opcode".into()
    } else if reason.starts_with("StackUnderflow") {
        "stack underflow".into()
    } else if reason.starts_with("StackOverflow") {
        "stack limit reached 1024 (1023)".into()
    } else {
        reason.into()
    }
}

fn get_logs(chain: &Chain, params: &Params<'_>) -> Result<Value, RpcError> {
    params.at_most(1)?;
    let filter = params.parse(0, params::log_filter)?;
    let blocks: Vec<&L1Block> = if let Some(hash) = filter.block_hash {
        vec![
            chain
                .block_by_hash(&hash)
                .ok_or_else(|| RpcError::server("unknown block"))?,
        ]
    } else {
        let head = chain.head().number();
        let number = |id: BlockId| match id {
            BlockId::Number(number) => number,
            BlockId::Earliest => 0,
            BlockId::Latest | BlockId::Hash(_) => head,
        };
        let (from, to) = (number(filter.from_block), number(filter.to_block));
        if from > to {
            return Err(RpcError::server("invalid block range params"));
        }
        if from > head {
            Vec::new()
        } else {
            chain.blocks[from as usize..=to.min(head) as usize]
                .iter()
                .collect()
        }
    };
    let logs: Vec<Value> = blocks
        .into_iter()
        .flat_map(|block| {
            block
                .logs()
                .filter(|(_, _, _, log)| filter.matches(&log.address, log.topics()))
                .map(move |(log_index, tx, tx_index, log)| {
                    json::log(block, tx, tx_index, log_index, log)
                })
        })
        .collect();
    Ok(Value::Array(logs))
}
