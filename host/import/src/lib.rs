//! Imports a chain — `genesis.json` (go-ethereum's format or Bor's) plus
//! `chain.rlp` (concatenated RLP blocks) — into verified blocks with their
//! receipts, by executing every block in revm. A Bor-format genesis gives
//! the genesis block and a Bor chain spec; its later blocks are refused
//! ([`ImportError::BorExecution`]) until Bor's execution rules are built.
//!
//! Per block it checks the linkage and parent-derived header fields (base
//! fee, excess blob gas, the merge by total difficulty), the body roots
//! (transactions, uncles, withdrawals), every transaction's chain id and
//! signature, and after execution the gas used, logs bloom, receipts root,
//! blob gas used, requests hash (Prague) and state root. Any disagreement
//! is an [`ImportError`] naming the file, block and field.
//!
//! Modules: `forks` (the fork schedule, [`EthereumForks`]), `genesis` (the genesis block),
//! `chain_rlp` (reading the file), `transactions` (decoding, senders),
//! `executor` (revm), `receipts`, `requests`, `state` (state and its root),
//! `verify` (header checks).

#![deny(missing_docs)]

mod bor_genesis;
mod chain_rlp;
mod error;
mod executor;
mod forks;
mod genesis;
mod receipts;
mod requests;
mod state;
mod transactions;
mod verify;

use std::path::Path;

use alloy_consensus::Header;
use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::Decodable;
use hypasis_polygon::roots::{envelope_items, ordered_root};

pub use bor_genesis::BorGenesis;
pub use error::ImportError;
pub use forks::{EthereumForks, TimeFork};
pub use receipts::decode_receipts;

use crate::{
    chain_rlp::{RawBlock, list_items},
    error::BlockFault,
    executor::BlockInput,
    verify::Parent,
};

/// An imported chain: its spec and every block, genesis first.
#[derive(Debug, Clone)]
pub struct ImportedChain {
    /// The shared chain spec, named `imported` (see
    /// [`EthereumForks::chain_spec`] for how its fields are filled).
    pub spec: hypasis_polygon::ChainSpec,
    /// The full Ethereum fork schedule, block and timestamp forks (the
    /// EIP-2124 fork id needs both: [`EthereumForks::fork_id_blocks`],
    /// [`EthereumForks::fork_id_times`]).
    pub forks: EthereumForks,
    /// The blocks, genesis first, each verified by execution.
    pub blocks: Vec<ImportedBlock>,
}

impl ImportedChain {
    /// The newest block (`import` always yields at least the genesis).
    pub fn head(&self) -> Option<&ImportedBlock> {
        self.blocks.last()
    }
}

/// One verified block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedBlock {
    /// Its number.
    pub number: u64,
    /// Its hash (keccak256 of `header`).
    pub hash: B256,
    /// The header's RLP, as in the chain file.
    pub header: Bytes,
    /// The body's RLP: `[transactions, uncles, withdrawals?]`, the parts as
    /// in the chain file.
    pub body: Bytes,
    /// The RLP list of the receipts' EIP-2718 encodings (what eth/68 and
    /// `debug_getRawReceipts` carry); see [`decode_receipts`].
    pub receipts: Bytes,
    /// The transaction hashes, in block order.
    pub tx_hashes: Vec<B256>,
    /// The recovered senders, in block order.
    pub senders: Vec<Address>,
    /// The total difficulty up to and including this block.
    pub total_difficulty: U256,
}

/// The names used in errors for the two inputs.
struct Names<'a> {
    genesis: &'a str,
    chain: &'a str,
}

/// Imports a chain from a genesis file's text and a chain file's bytes.
pub fn import(genesis_json: &str, chain_rlp: &[u8]) -> Result<ImportedChain, ImportError> {
    let names = Names {
        genesis: "genesis.json",
        chain: "chain.rlp",
    };
    import_named(&names, genesis_json, chain_rlp)
}

/// Imports a chain from a genesis file and a chain file on disk; errors
/// name the files by their paths.
pub fn import_files(genesis: &Path, chain: &Path) -> Result<ImportedChain, ImportError> {
    let read_error = |path: &Path| {
        let file = path.display().to_string();
        move |source| ImportError::Io { file, source }
    };
    let genesis_json = std::fs::read_to_string(genesis).map_err(read_error(genesis))?;
    let chain_rlp = std::fs::read(chain).map_err(read_error(chain))?;
    let names = Names {
        genesis: &genesis.display().to_string(),
        chain: &chain.display().to_string(),
    };
    import_named(&names, &genesis_json, &chain_rlp)
}

/// The chain a genesis file alone gives: its spec and the genesis block
/// (what `run` needs for a `custom` chain); errors name the file.
pub fn genesis_file(genesis: &Path) -> Result<ImportedChain, ImportError> {
    let genesis_json = std::fs::read_to_string(genesis).map_err(|source| ImportError::Io {
        file: genesis.display().to_string(),
        source,
    })?;
    let names = Names {
        genesis: &genesis.display().to_string(),
        chain: "(no chain file)",
    };
    import_named(&names, &genesis_json, &[])
}

fn import_named(
    names: &Names<'_>,
    genesis_json: &str,
    chain_rlp: &[u8],
) -> Result<ImportedChain, ImportError> {
    let genesis_error = |reason: String| ImportError::Genesis {
        file: names.genesis.into(),
        reason,
    };
    let genesis = genesis::parse(genesis_json).map_err(genesis_error)?;
    let forks = EthereumForks::from_config(&genesis.genesis.config).map_err(genesis_error)?;
    let genesis_header = genesis.header(&forks).map_err(genesis_error)?;
    let genesis_hash = genesis_header.hash_slow();
    let genesis_timestamp = genesis_header.timestamp;
    let mut state = state::from_alloc(&genesis.genesis.alloc).map_err(genesis_error)?;

    let mut raw_blocks = chain_rlp::read(chain_rlp).map_err(|error| ImportError::ChainRlp {
        file: names.chain.into(),
        index: error.index,
        offset: error.offset,
        reason: error.reason,
    })?;
    // An export may start with the genesis itself: it must be ours.
    if raw_blocks
        .first()
        .is_some_and(|block| block.header.number == 0)
    {
        let first = raw_blocks.remove(0);
        if first.hash != genesis_hash {
            return Err(ImportError::GenesisMismatch {
                genesis_file: names.genesis.into(),
                chain_file: names.chain.into(),
                computed: genesis_hash,
                expected: first.hash,
            });
        }
    }
    if let Some(first) = raw_blocks.first()
        && first.header.parent_hash != genesis_hash
    {
        return Err(ImportError::GenesisMismatch {
            genesis_file: names.genesis.into(),
            chain_file: names.chain.into(),
            computed: genesis_hash,
            expected: first.header.parent_hash,
        });
    }

    if forks.bor.is_some() && !raw_blocks.is_empty() {
        return Err(ImportError::BorExecution {
            genesis_file: names.genesis.into(),
            chain_file: names.chain.into(),
            blocks: raw_blocks.len(),
        });
    }

    let mut blocks = Vec::with_capacity(raw_blocks.len() + 1);
    blocks.push(ImportedBlock {
        number: genesis_header.number,
        hash: genesis_hash,
        header: alloy_rlp::encode(&genesis_header).into(),
        body: genesis.body(&genesis_header).into(),
        receipts: Bytes::from_static(&[0xc0]),
        tx_hashes: Vec::new(),
        senders: Vec::new(),
        total_difficulty: genesis_header.difficulty,
    });
    state
        .block_hashes
        .insert(genesis_header.number, genesis_hash);
    let (mut parent_hash, mut parent_td) = (genesis_hash, genesis_header.difficulty);
    let mut parent_header = genesis_header;
    let mut cancun_block = None;
    for raw in &raw_blocks {
        let number = raw.header.number;
        let parent = Parent {
            header: &parent_header,
            hash: parent_hash,
            total_difficulty: parent_td,
        };
        let block = import_block(&forks, &mut state, parent, raw)
            .map_err(|fault| fault.at(names.chain, number))?;
        if cancun_block.is_none() && forks.is_active("cancun", number, raw.header.timestamp) {
            cancun_block = Some(number);
        }
        state.block_hashes.insert(number, block.hash);
        (parent_hash, parent_td) = (block.hash, block.total_difficulty);
        parent_header = raw.header.clone();
        blocks.push(block);
    }
    Ok(ImportedChain {
        spec: forks.chain_spec("imported", genesis_hash, genesis_timestamp, cancun_block),
        forks,
        blocks,
    })
}

/// Verifies and executes one block on `state`.
fn import_block(
    forks: &EthereumForks,
    state: &mut state::WorldState,
    parent: Parent<'_>,
    raw: &RawBlock<'_>,
) -> Result<ImportedBlock, BlockFault> {
    let header = &raw.header;
    verify::header(forks, parent, header)?;
    let envelopes = envelope_items("transactions", raw.transactions)
        .map_err(|e| BlockFault::Invalid(e.to_string()))?;
    let uncles = list_items(raw.uncles)
        .map_err(|reason| BlockFault::Invalid(format!("uncles: {reason}")))?
        .into_iter()
        .map(hypasis_polygon::decode_header)
        .collect::<Result<Vec<Header>, _>>()
        .map_err(|error| BlockFault::Invalid(format!("uncle: {error}")))?;
    let withdrawals = raw
        .withdrawals
        .map(|mut list| Vec::<Withdrawal>::decode(&mut list))
        .transpose()
        .map_err(|error| BlockFault::Invalid(format!("withdrawals: {error}")))?;
    verify::body_roots(
        header,
        ordered_root(&envelopes),
        raw.uncles,
        uncles.len(),
        withdrawals.as_deref(),
    )?;
    let transactions = envelopes
        .iter()
        .enumerate()
        .map(|(index, envelope)| {
            transactions::decode(envelope, forks, header.number)
                .map_err(|reason| BlockFault::Transaction { index, reason })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let input = BlockInput {
        header,
        transactions: &transactions,
        uncles: &uncles,
        withdrawals: withdrawals.as_deref(),
    };
    let output = executor::execute(state, forks, input)?;
    verify::outcome(header, &output)?;
    Ok(ImportedBlock {
        number: header.number,
        hash: raw.hash,
        header: Bytes::copy_from_slice(raw.header_rlp),
        body: raw.body().into(),
        receipts: output.receipts.list().into(),
        tx_hashes: transactions.iter().map(|tx| tx.hash).collect(),
        senders: transactions.iter().map(|tx| tx.sender).collect(),
        total_difficulty: parent.total_difficulty + header.difficulty,
    })
}
