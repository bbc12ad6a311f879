//! L1 blocks: executing transactions into a block and sealing it into a post-merge header
//! (Cancun fields) whose hash, transactions root, receipts root, logs bloom and state root are
//! the real ones.

use std::sync::Arc;

use alloy_consensus::{
    BlockBody, EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH, Header, Receipt, ReceiptEnvelope,
    ReceiptWithBloom, Signed, Transaction, TxEip1559, TxEnvelope,
    proofs::{calculate_receipt_root, calculate_transaction_root},
};
use alloy_eips::eip1559::{BaseFeeParams, INITIAL_BASE_FEE};
use alloy_primitives::{Address, B64, B256, Bloom, Bytes, Log, TxKind, U256, keccak256};
use alloy_rlp::Encodable;
use revm::{
    DatabaseCommit,
    context::{BlockEnv, TxEnv, result::ExecutionResult},
    context_interface::block::BlobExcessGasAndPrice,
    primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
};

use crate::{
    L1Error,
    contract::revert_reason,
    evm::{self, WorldState},
    keys::recover_signer,
};

/// Gas limit of every L1 block.
pub(crate) const GAS_LIMIT: u64 = 30_000_000;

/// `extraData` of every L1 block.
const EXTRA_DATA: &[u8] = b"hypasis devnet L1";

/// A transaction in a mined block, with its receipt.
#[derive(Debug, Clone)]
pub(crate) struct MinedTx {
    /// The signed transaction.
    pub(crate) tx: Signed<TxEip1559>,
    /// The sender, recovered from the signature.
    pub(crate) from: Address,
    /// The consensus receipt (status, cumulative gas, logs, bloom).
    pub(crate) receipt: ReceiptWithBloom<Receipt>,
    /// Gas this transaction used.
    pub(crate) gas_used: u64,
    /// What the sender paid per gas.
    pub(crate) effective_gas_price: u128,
    /// The contract a creation deployed.
    pub(crate) contract_address: Option<Address>,
    /// Block-wide index of this transaction's first log.
    pub(crate) first_log_index: u64,
}

impl MinedTx {
    /// The transaction hash.
    pub(crate) fn hash(&self) -> B256 {
        *self.tx.hash()
    }

    /// The transaction in network encoding.
    pub(crate) fn envelope(&self) -> TxEnvelope {
        TxEnvelope::Eip1559(self.tx.clone())
    }

    /// The receipt in its EIP-2718 envelope.
    pub(crate) fn receipt_envelope(&self) -> ReceiptEnvelope {
        ReceiptEnvelope::Eip1559(self.receipt.clone())
    }

    /// This transaction's logs with their block-wide indices.
    pub(crate) fn logs(&self) -> impl Iterator<Item = (u64, &Log)> {
        (self.first_log_index..).zip(self.receipt.receipt.logs.iter())
    }
}

/// A mined L1 block: its header and transactions (the state after it lives in
/// [`StateHistory`](crate::evm::StateHistory)).
#[derive(Debug, Clone)]
pub(crate) struct L1Block {
    /// The header; `hash` is keccak256 of its RLP.
    pub(crate) header: Header,
    /// The block hash.
    pub(crate) hash: B256,
    /// Its transactions, in order.
    pub(crate) transactions: Vec<MinedTx>,
    /// RLP size of the whole block, as `eth_getBlockBy*` reports it.
    pub(crate) size: u64,
}

impl L1Block {
    /// Block 0 holding `state`, with the initial EIP-1559 base fee.
    pub(crate) fn genesis(state: &WorldState, timestamp: u64) -> Self {
        let header = Header {
            state_root: evm::state_root(state),
            number: 0,
            timestamp,
            mix_hash: keccak256(b"hypasis devnet L1 genesis"),
            base_fee_per_gas: Some(INITIAL_BASE_FEE),
            ..empty_header()
        };
        Self::seal(header, Vec::new())
    }

    /// The block number.
    pub(crate) fn number(&self) -> u64 {
        self.header.number
    }

    /// The EVM's view of this block, for running calls against its state.
    pub(crate) fn env(&self) -> BlockEnv {
        BlockEnv {
            number: U256::from(self.header.number),
            beneficiary: self.header.beneficiary,
            timestamp: U256::from(self.header.timestamp),
            gas_limit: self.header.gas_limit,
            basefee: self.header.base_fee_per_gas.unwrap_or_default(),
            difficulty: U256::ZERO,
            prevrandao: Some(self.header.mix_hash),
            blob_excess_gas_and_price: Some(BlobExcessGasAndPrice::new(
                self.header.excess_blob_gas.unwrap_or_default(),
                BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN,
            )),
            slot_num: 0,
        }
    }

    /// The base fee of the next block (EIP-1559 update from this one's gas use).
    pub(crate) fn next_base_fee(&self) -> u64 {
        self.header
            .next_block_base_fee(BaseFeeParams::ethereum())
            .unwrap_or(INITIAL_BASE_FEE)
    }

    /// Every log of the block with its block-wide index and transaction.
    pub(crate) fn logs(&self) -> impl Iterator<Item = (u64, &MinedTx, usize, &Log)> {
        self.transactions
            .iter()
            .enumerate()
            .flat_map(|(tx_index, tx)| {
                tx.logs()
                    .map(move |(index, log)| (index, tx, tx_index, log))
            })
    }

    /// Hashes and sizes `header` with `transactions`.
    fn seal(header: Header, transactions: Vec<MinedTx>) -> Self {
        let body = BlockBody {
            transactions: transactions
                .iter()
                .map(MinedTx::envelope)
                .collect::<Vec<_>>(),
            ommers: Vec::<Header>::new(),
            withdrawals: Some(Default::default()),
        };
        let size = alloy_consensus::Block::new(header.clone(), body).length() as u64;
        Self {
            hash: header.hash_slow(),
            header,
            transactions,
            size,
        }
    }
}

/// Executes `txs` in order in a new block on top of `parent` (whose post-state is
/// `parent_state`) at `timestamp` (raised to `parent.timestamp + 1` if not after it) and seals
/// it. Returns the block and its post-state. Any transaction that reverts, halts or is refused
/// fails the whole block (the devnet never mines failed transactions).
pub(crate) fn build(
    parent: &L1Block,
    parent_state: &Arc<WorldState>,
    chain_id: u64,
    timestamp: u64,
    txs: Vec<(Signed<TxEip1559>, &str)>,
) -> Result<(L1Block, Arc<WorldState>), L1Error> {
    let header = next_header(parent, timestamp);
    let mut env = parent.env();
    env.number = U256::from(header.number);
    env.timestamp = U256::from(header.timestamp);
    env.basefee = header.base_fee_per_gas.unwrap_or_default();
    env.prevrandao = Some(header.mix_hash);
    let basefee = env.basefee;

    let mut state: Option<WorldState> = None;
    let mut mined = Vec::with_capacity(txs.len());
    let (mut cumulative_gas, mut log_index) = (0u64, 0u64);
    for (tx, what) in txs {
        let from = recover_signer(tx.signature_hash(), tx.signature())?;
        let tx_env = TxEnv::builder()
            .tx_type(Some(2))
            .caller(from)
            .gas_limit(tx.tx().gas_limit)
            .max_fee_per_gas(tx.tx().max_fee_per_gas)
            .gas_priority_fee(Some(tx.tx().max_priority_fee_per_gas))
            .kind(tx.tx().to)
            .value(tx.tx().value)
            .data(tx.tx().input.clone())
            .nonce(tx.tx().nonce)
            .chain_id(Some(tx.tx().chain_id))
            .build()
            .map_err(|error| rejected(what, error))?;
        let base = state.as_ref().unwrap_or(parent_state);
        let (result, changes) = evm::transact(base, chain_id, env.clone(), tx_env)
            .map_err(|error| rejected(what, error))?;
        let gas_used = result.tx_gas_used();
        let logs = match result {
            ExecutionResult::Success { logs, .. } => logs,
            ExecutionResult::Revert { output, .. } => {
                return Err(L1Error::Reverted {
                    what: what.to_string(),
                    reason: revert_reason(&output).unwrap_or_default(),
                    data: output,
                });
            }
            ExecutionResult::Halt { reason, .. } => {
                return Err(L1Error::Halted {
                    what: what.to_string(),
                    reason: format!("{reason:?}"),
                });
            }
        };
        state
            .get_or_insert_with(|| WorldState::clone(parent_state))
            .commit(changes);
        cumulative_gas += gas_used;
        let receipt = Receipt {
            status: true.into(),
            cumulative_gas_used: cumulative_gas,
            logs,
        };
        let log_count = receipt.logs.len() as u64;
        let contract_address =
            matches!(tx.tx().to, TxKind::Create).then(|| from.create(tx.tx().nonce));
        mined.push(MinedTx {
            effective_gas_price: tx.tx().effective_gas_price(Some(basefee)),
            tx,
            from,
            receipt: receipt.with_bloom(),
            gas_used,
            contract_address,
            first_log_index: log_index,
        });
        log_index += log_count;
    }
    let (state_root, state) = match state {
        Some(state) => (evm::state_root(&state), Arc::new(state)),
        None => (parent.header.state_root, Arc::clone(parent_state)),
    };
    Ok((seal_block(header, mined, state_root), state))
}

/// Seals an empty block on top of `parent` (see [`build`] for `timestamp`); its state is the
/// parent's.
pub(crate) fn empty(parent: &L1Block, timestamp: u64) -> L1Block {
    seal_block(
        next_header(parent, timestamp),
        Vec::new(),
        parent.header.state_root,
    )
}

fn seal_block(mut header: Header, transactions: Vec<MinedTx>, state_root: B256) -> L1Block {
    let envelopes: Vec<TxEnvelope> = transactions.iter().map(MinedTx::envelope).collect();
    let receipts: Vec<ReceiptEnvelope> =
        transactions.iter().map(MinedTx::receipt_envelope).collect();
    header.transactions_root = calculate_transaction_root(&envelopes);
    header.receipts_root = calculate_receipt_root(&receipts);
    header.logs_bloom = transactions
        .iter()
        .fold(Bloom::ZERO, |bloom, tx| bloom | tx.receipt.logs_bloom);
    header.gas_used = transactions
        .last()
        .map_or(0, |tx| tx.receipt.receipt.cumulative_gas_used);
    header.state_root = state_root;
    L1Block::seal(header, transactions)
}

/// The next header's fixed fields; roots, bloom and gas used are filled in when sealing.
fn next_header(parent: &L1Block, timestamp: u64) -> Header {
    let number = parent.number() + 1;
    let mut randao = parent.header.mix_hash.to_vec();
    randao.extend_from_slice(&number.to_be_bytes());
    Header {
        parent_hash: parent.hash,
        number,
        timestamp: timestamp.max(parent.header.timestamp.saturating_add(1)),
        mix_hash: keccak256(randao),
        base_fee_per_gas: Some(parent.next_base_fee()),
        ..empty_header()
    }
}

/// A Cancun header with empty roots; the caller sets number, time, base fee and roots.
fn empty_header() -> Header {
    Header {
        parent_hash: B256::ZERO,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: Address::ZERO,
        state_root: EMPTY_ROOT_HASH,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        logs_bloom: Bloom::ZERO,
        difficulty: U256::ZERO,
        number: 0,
        gas_limit: GAS_LIMIT,
        gas_used: 0,
        timestamp: 0,
        extra_data: Bytes::from_static(EXTRA_DATA),
        mix_hash: B256::ZERO,
        nonce: B64::ZERO,
        base_fee_per_gas: None,
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        ..Default::default()
    }
}

fn rejected(what: &str, error: impl std::fmt::Display) -> L1Error {
    L1Error::Rejected {
        what: what.to_string(),
        reason: error.to_string(),
    }
}
