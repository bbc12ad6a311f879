//! Checkpoints from the RootChain contract on Ethereum L1, read through
//! alloy: `currentHeaderBlock`, `headerBlocks(id)`, `NewHeaderBlock` logs,
//! a confirmation depth, and backoff when L1 fails.

use alloy_primitives::{Address, B256, U256};
use alloy_provider::{DynProvider, Provider, ProviderBuilder};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag, Filter, TransactionRequest};
use alloy_sol_types::{SolCall, SolEvent};
use hypasis_polygon::{
    ChainSpec,
    rootchain::{HEADER_BLOCK_SPACING, RootChain},
};
use serde::{Deserialize, Serialize};

/// A checkpoint as RootChain stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1Checkpoint {
    /// The header-block id (a multiple of 10,000).
    pub header_block_id: u64,
    /// First child-chain block.
    pub start: u64,
    /// Last child-chain block.
    pub end: u64,
    /// Heimdall's root over the blocks.
    pub root: B256,
    /// L1 timestamp of the submission.
    pub created_at: u64,
    /// Who proposed it.
    pub proposer: Address,
}

/// An L1 problem, naming the URL or contract.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The endpoint answers for another chain.
    #[error(
        "L1 at {url} has chain id {found}, but chain `{chain}` checkpoints on L1 chain id {expected}"
    )]
    WrongChain {
        /// The endpoint.
        url: String,
        /// Its chain id.
        found: u64,
        /// The spec's L1 chain id.
        expected: u64,
        /// The child chain.
        chain: String,
    },
    /// No contract at the address.
    #[error("no contract at RootChain address {address:#x} on L1 {url} (wrong l1.root_chain?)")]
    NoContract {
        /// The address.
        address: Address,
        /// The endpoint.
        url: String,
    },
    /// A contract, but not a RootChain for this chain.
    #[error("the contract at {address:#x} is not a RootChain for bor chain {expected}: {reason}")]
    WrongContract {
        /// The address.
        address: Address,
        /// The expected bor chain id.
        expected: u64,
        /// What it said instead.
        reason: String,
    },
    /// A call or transport failure.
    #[error("L1 {url}: {message}")]
    Rpc {
        /// The endpoint.
        url: String,
        /// What failed.
        message: String,
    },
}

/// Reads checkpoints from one L1 endpoint.
#[derive(Clone)]
pub struct L1CheckpointSource {
    provider: DynProvider,
    url: String,
    root_chain: Address,
    confirmations: u64,
}

fn to_u64(value: U256) -> u64 {
    value.saturating_to()
}

impl L1CheckpointSource {
    /// Connects to `url` and checks it is `spec`'s L1 and that `root_chain`
    /// (default: the spec's) is a RootChain for `spec`'s chain.
    pub async fn connect(
        url: &str,
        spec: &ChainSpec,
        root_chain: Option<Address>,
        confirmations: u64,
    ) -> Result<Self, L1Error> {
        let rpc = |message: String| L1Error::Rpc {
            url: url.to_string(),
            message,
        };
        let parsed = url
            .parse()
            .map_err(|error| rpc(format!("not a URL: {error}")))?;
        let provider = ProviderBuilder::new().connect_http(parsed).erased();
        let source = L1CheckpointSource {
            provider,
            url: url.to_string(),
            root_chain: root_chain.unwrap_or(spec.l1.root_chain),
            confirmations,
        };
        let chain_id = source
            .provider
            .get_chain_id()
            .await
            .map_err(|error| rpc(error.to_string()))?;
        if chain_id != spec.l1.chain_id {
            return Err(L1Error::WrongChain {
                url: url.to_string(),
                found: chain_id,
                expected: spec.l1.chain_id,
                chain: spec.name.clone(),
            });
        }
        let code = source
            .provider
            .get_code_at(source.root_chain)
            .await
            .map_err(|error| rpc(error.to_string()))?;
        if code.is_empty() {
            return Err(L1Error::NoContract {
                address: source.root_chain,
                url: url.to_string(),
            });
        }
        let chain = source
            .call(RootChain::CHAINIDCall {}.abi_encode(), BlockId::latest())
            .await
            .and_then(|output| {
                RootChain::CHAINIDCall::abi_decode_returns(&output)
                    .map_err(|error| rpc(error.to_string()))
            });
        match chain {
            Ok(found) if to_u64(found) == spec.chain_id => Ok(source),
            Ok(found) => Err(L1Error::WrongContract {
                address: source.root_chain,
                expected: spec.chain_id,
                reason: format!("its CHAINID() is {found}"),
            }),
            Err(error) => Err(L1Error::WrongContract {
                address: source.root_chain,
                expected: spec.chain_id,
                reason: error.to_string(),
            }),
        }
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The contract address.
    pub fn root_chain(&self) -> Address {
        self.root_chain
    }

    async fn call(&self, data: Vec<u8>, at: BlockId) -> Result<alloy_primitives::Bytes, L1Error> {
        let request = TransactionRequest::default()
            .to(self.root_chain)
            .input(data.into());
        self.provider
            .call(request)
            .block(at)
            .await
            .map_err(|error| L1Error::Rpc {
                url: self.url.clone(),
                message: error.to_string(),
            })
    }

    /// The L1 block checkpoints are read at: the head minus the confirmation depth.
    pub async fn confirmed_block(&self) -> Result<u64, L1Error> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|error| L1Error::Rpc {
                url: self.url.clone(),
                message: error.to_string(),
            })?;
        Ok(head.saturating_sub(self.confirmations))
    }

    /// The newest confirmed checkpoint, if any.
    pub async fn latest(&self) -> Result<Option<L1Checkpoint>, L1Error> {
        let at = BlockId::Number(BlockNumberOrTag::Number(self.confirmed_block().await?));
        let output = self
            .call(RootChain::currentHeaderBlockCall {}.abi_encode(), at)
            .await?;
        if output.is_empty() {
            // No contract yet at the confirmed block.
            return Ok(None);
        }
        let id =
            RootChain::currentHeaderBlockCall::abi_decode_returns(&output).map_err(|error| {
                L1Error::Rpc {
                    url: self.url.clone(),
                    message: error.to_string(),
                }
            })?;
        let id = to_u64(id);
        if id == 0 {
            return Ok(None);
        }
        self.get_at(id, at).await
    }

    /// Checkpoint `header_block_id` as of the confirmed block; `None` if it does not exist.
    pub async fn get(&self, header_block_id: u64) -> Result<Option<L1Checkpoint>, L1Error> {
        let at = BlockId::Number(BlockNumberOrTag::Number(self.confirmed_block().await?));
        self.get_at(header_block_id, at).await
    }

    async fn get_at(
        &self,
        header_block_id: u64,
        at: BlockId,
    ) -> Result<Option<L1Checkpoint>, L1Error> {
        let output = self
            .call(
                RootChain::headerBlocksCall {
                    headerBlockId: U256::from(header_block_id),
                }
                .abi_encode(),
                at,
            )
            .await?;
        if output.is_empty() {
            return Ok(None);
        }
        let block = RootChain::headerBlocksCall::abi_decode_returns(&output).map_err(|error| {
            L1Error::Rpc {
                url: self.url.clone(),
                message: error.to_string(),
            }
        })?;
        if block.root == B256::ZERO && block.end.is_zero() {
            return Ok(None);
        }
        Ok(Some(L1Checkpoint {
            header_block_id,
            start: to_u64(block.start),
            end: to_u64(block.end),
            root: block.root,
            created_at: to_u64(block.createdAt),
            proposer: block.proposer,
        }))
    }

    /// Checkpoints announced by `NewHeaderBlock` logs in L1 blocks `from..=to`.
    pub async fn from_logs(&self, from: u64, to: u64) -> Result<Vec<L1Checkpoint>, L1Error> {
        let filter = Filter::new()
            .address(self.root_chain)
            .event_signature(RootChain::NewHeaderBlock::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|error| L1Error::Rpc {
                url: self.url.clone(),
                message: error.to_string(),
            })?;
        let mut checkpoints = Vec::with_capacity(logs.len());
        for log in logs {
            let event = RootChain::NewHeaderBlock::decode_log(&log.inner).map_err(|error| {
                L1Error::Rpc {
                    url: self.url.clone(),
                    message: format!("undecodable NewHeaderBlock: {error}"),
                }
            })?;
            checkpoints.push(L1Checkpoint {
                header_block_id: to_u64(event.headerBlockId),
                start: to_u64(event.start),
                end: to_u64(event.end),
                root: event.root,
                created_at: log.block_timestamp.unwrap_or(0),
                proposer: event.proposer,
            });
        }
        Ok(checkpoints)
    }

    /// The checkpoint covering child-chain block `number`, searching ids
    /// below `latest` (binary search over the contiguous checkpoint ranges).
    pub async fn covering(
        &self,
        number: u64,
        latest: &L1Checkpoint,
    ) -> Result<Option<L1Checkpoint>, L1Error> {
        if number > latest.end {
            return Ok(None);
        }
        let (mut low, mut high) = (1u64, latest.header_block_id / HEADER_BLOCK_SPACING);
        while low <= high {
            let middle = low + (high - low) / 2;
            let Some(checkpoint) = self.get(middle * HEADER_BLOCK_SPACING).await? else {
                low = middle + 1;
                continue;
            };
            if number < checkpoint.start {
                high = middle - 1;
            } else if number > checkpoint.end {
                low = middle + 1;
            } else {
                return Ok(Some(checkpoint));
            }
        }
        Ok(None)
    }
}
