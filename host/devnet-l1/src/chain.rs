//! [`L1Devnet`]: the chain of L1 blocks, the RootChain deployment, checkpoint submission and
//! the entry points of the JSON-RPC server.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use alloy_consensus::{SignableTransaction, Signed, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_sol_types::SolEvent;
use revm::state::AccountInfo;

use crate::{
    L1Error,
    block::{self, L1Block},
    contract::{self, IRootChain},
    evm::{self, StateHistory, WorldState},
    keys::DevnetKey,
};

/// The L1 chain id used when none is chosen (the usual development-chain id).
pub const DEFAULT_L1_CHAIN_ID: u64 = 1337;

/// Seconds between genesis and the block that deploys RootChain.
const DEPLOY_DELAY: u64 = 12;

/// What the checkpointer is funded with at genesis: 1,000,000 ether.
const CHECKPOINTER_BALANCE: U256 = U256::from_limbs([0x1bce_cced_a100_0000, 0xd3c2, 0, 0]);

/// Priority fee of the devnet's own transactions: 1 gwei.
const PRIORITY_FEE: u128 = 1_000_000_000;

/// Gas limit of the deployment transaction.
const DEPLOY_GAS: u64 = 3_000_000;

/// Gas limit of a `submitCheckpoint` transaction (one uses about 130,000 to 150,000).
const CHECKPOINT_GAS: u64 = 500_000;

/// How to build a devnet L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Config {
    /// The L1's EIP-155 chain id (what `eth_chainId` answers).
    pub chain_id: u64,
    /// The Bor chain id checkpoints must carry (the contract's `CHAINID`).
    pub bor_chain_id: u64,
    /// Unix time of the genesis block; RootChain is deployed 12 s later.
    pub genesis_timestamp: u64,
    /// Derives the deployer/checkpointer key, hence the RootChain address and every hash.
    pub seed: u64,
}

impl L1Config {
    /// A config for `bor_chain_id` with chain id [`DEFAULT_L1_CHAIN_ID`], genesis at time 0 and seed 0.
    pub fn new(bor_chain_id: u64) -> Self {
        Self {
            chain_id: DEFAULT_L1_CHAIN_ID,
            bor_chain_id,
            genesis_timestamp: 0,
            seed: 0,
        }
    }
}

/// A checkpoint committed by [`L1Devnet::submit_checkpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmittedCheckpoint {
    /// Its RootChain header block id (10000, 20000, …; Heimdall's checkpoint number × 10000).
    pub header_block_id: u64,
    /// The L1 block that holds the transaction.
    pub l1_block: u64,
    /// The `submitCheckpoint` transaction's hash.
    pub tx_hash: B256,
}

/// The devnet's Ethereum L1: a real EVM (revm) whose state holds a RootChain-compatible contract,
/// a chain of real post-merge blocks, and a transport-free JSON-RPC server over them.
///
/// All methods take `&self`; the chain sits behind a mutex, so one `L1Devnet` can be shared
/// between threads (for example in an `Arc`). Blocks, receipts and logs are kept for good; the
/// world state only for the newest 128 blocks, as a geth full node keeps it, so state reads
/// (`eth_call`, `eth_getBalance`, …) at older blocks fail as they would against geth.
#[derive(Debug)]
pub struct L1Devnet {
    root_chain: Address,
    checkpointer: Address,
    chain: Mutex<Chain>,
}

/// The chain itself (what the mutex guards).
#[derive(Debug)]
pub(crate) struct Chain {
    /// The configuration it was built from.
    pub(crate) config: L1Config,
    key: DevnetKey,
    root_chain: Address,
    /// Blocks by number, from genesis.
    pub(crate) blocks: Vec<L1Block>,
    /// The states after the newest blocks.
    pub(crate) states: StateHistory,
    by_hash: HashMap<B256, u64>,
    tx_by_hash: HashMap<B256, (u64, usize)>,
}

impl L1Devnet {
    /// Builds the chain: genesis (block 0) funding the checkpointer, then block 1 holding the
    /// signed transaction that deploys RootChain.
    pub fn new(config: L1Config) -> Result<Self, L1Error> {
        if config.chain_id == 0 {
            return Err(L1Error::Config("the L1 chain id must not be 0".into()));
        }
        let key = DevnetKey::from_seed(config.seed);
        let mut state = WorldState::default();
        state.insert_account_info(
            key.address(),
            AccountInfo {
                balance: CHECKPOINTER_BALANCE,
                ..Default::default()
            },
        );
        let genesis = L1Block::genesis(&state, config.genesis_timestamp);
        let root_chain = key.address().create(0);
        let mut chain = Chain {
            by_hash: HashMap::from([(genesis.hash, 0)]),
            blocks: vec![genesis],
            states: StateHistory::new(state),
            tx_by_hash: HashMap::new(),
            root_chain,
            key,
            config,
        };
        let code = contract::deployment_code(chain.config.bor_chain_id)?;
        let timestamp = chain.config.genesis_timestamp.saturating_add(DEPLOY_DELAY);
        chain.send(
            TxKind::Create,
            code,
            DEPLOY_GAS,
            "deploy RootChain",
            timestamp,
        )?;
        let checkpointer = chain.key.address();
        Ok(Self {
            root_chain,
            checkpointer,
            chain: Mutex::new(chain),
        })
    }

    /// The RootChain contract's address: the deployer's first CREATE (nonce 0).
    pub fn root_chain(&self) -> Address {
        self.root_chain
    }

    /// The account that deployed RootChain and alone may submit checkpoints.
    pub fn checkpointer(&self) -> Address {
        self.checkpointer
    }

    /// Commits the checkpoint `[start, end]` with Merkle root `root` proposed by `proposer`:
    /// signs an EIP-1559 transaction calling `submitCheckpoint`, runs it and mines one block
    /// holding it at `timestamp` (raised to one second after the parent if not later).
    ///
    /// A transaction that would revert (start not right after the last checkpoint's end,
    /// `end < start`) is not mined: the error carries the contract's revert reason.
    pub fn submit_checkpoint(
        &self,
        proposer: Address,
        start: u64,
        end: u64,
        root: B256,
        timestamp: u64,
    ) -> Result<SubmittedCheckpoint, L1Error> {
        let mut chain = self.lock();
        let input = contract::submit_checkpoint_calldata(
            proposer,
            start,
            end,
            root,
            chain.config.bor_chain_id,
        );
        let root_chain = chain.root_chain;
        let (l1_block, tx_hash) = chain.send(
            TxKind::Call(root_chain),
            input,
            CHECKPOINT_GAS,
            "submitCheckpoint",
            timestamp,
        )?;
        let header_block_id = chain.blocks[l1_block as usize]
            .logs()
            .find_map(|(_, _, _, log)| IRootChain::NewHeaderBlock::decode_log_data(&log.data).ok())
            .and_then(|event| u64::try_from(event.headerBlockId).ok())
            .ok_or_else(|| L1Error::UnexpectedReceipt {
                what: "submitCheckpoint".into(),
                problem: "no NewHeaderBlock event was emitted".into(),
            })?;
        Ok(SubmittedCheckpoint {
            header_block_id,
            l1_block,
            tx_hash,
        })
    }

    /// Mines an empty block at `timestamp` (raised to one second after the parent if not
    /// later), so confirmations advance; returns its number.
    pub fn mine_block(&self, timestamp: u64) -> u64 {
        let mut chain = self.lock();
        let block = block::empty(chain.head(), timestamp);
        let state = Arc::clone(chain.states.head());
        chain.push(block, state)
    }

    /// The number of the newest block.
    pub fn block_number(&self) -> u64 {
        self.lock().head().number()
    }

    /// The chain, locked (a poisoned lock is taken over: the chain is only
    /// appended to under it).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Chain {
    /// The newest block.
    pub(crate) fn head(&self) -> &L1Block {
        // The chain always holds genesis.
        &self.blocks[self.blocks.len() - 1]
    }

    /// The block with this hash.
    pub(crate) fn block_by_hash(&self, hash: &B256) -> Option<&L1Block> {
        self.by_hash
            .get(hash)
            .map(|number| &self.blocks[*number as usize])
    }

    /// The block holding this transaction and its index there.
    pub(crate) fn transaction(&self, hash: &B256) -> Option<(&L1Block, usize)> {
        self.tx_by_hash
            .get(hash)
            .map(|(number, index)| (&self.blocks[*number as usize], *index))
    }

    /// Signs a transaction from the checkpointer and mines it alone in a new block.
    /// Returns the block number and the transaction hash.
    fn send(
        &mut self,
        to: TxKind,
        input: Bytes,
        gas_limit: u64,
        what: &str,
        timestamp: u64,
    ) -> Result<(u64, B256), L1Error> {
        let head = self.head();
        let tx = TxEip1559 {
            chain_id: self.config.chain_id,
            nonce: evm::nonce(self.states.head(), self.key.address()),
            gas_limit,
            max_fee_per_gas: 2 * u128::from(head.next_base_fee()) + PRIORITY_FEE,
            max_priority_fee_per_gas: PRIORITY_FEE,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        };
        let signature = self.key.sign(tx.signature_hash());
        let signed: Signed<TxEip1559> = tx.into_signed(signature);
        let hash = *signed.hash();
        let (block, state) = block::build(
            head,
            self.states.head(),
            self.config.chain_id,
            timestamp,
            vec![(signed, what)],
        )?;
        Ok((self.push(block, state), hash))
    }

    /// Appends a block with its post-state and indexes it; returns its number.
    fn push(&mut self, block: L1Block, state: Arc<WorldState>) -> u64 {
        let number = block.number();
        for (index, tx) in block.transactions.iter().enumerate() {
            self.tx_by_hash.insert(tx.hash(), (number, index));
        }
        self.by_hash.insert(block.hash, number);
        self.blocks.push(block);
        self.states.push(state);
        number
    }
}
