//! The EVM: revm (mainnet rules, Cancun) over an in-memory state, a function that runs one
//! transaction against a block's state, and the state's Merkle-Patricia root.

use std::{collections::VecDeque, sync::Arc};

use alloy_consensus::{
    TrieAccount,
    proofs::{state_root_unhashed, storage_root_unhashed},
};
use alloy_primitives::B256;
use revm::{
    DatabaseRef, ExecuteEvm, MainBuilder,
    context::{BlockEnv, TxEnv, result::ExecutionResult},
    database::{AccountState, CacheDB, EmptyDB},
    database_interface::WrapDatabaseRef,
    handler::MainnetContext,
    primitives::hardfork::SpecId,
    state::EvmState,
};

/// The world state of one block: every account, its code and storage, in memory.
pub(crate) type WorldState = CacheDB<EmptyDB>;

/// The fork rules the devnet L1 runs. solc 0.8.28 targets Cancun by default, and so do the
/// block headers (blob gas fields and a parent beacon block root, no requests hash).
pub(crate) const SPEC: SpecId = SpecId::CANCUN;

/// Runs `tx` on top of `state` in the block described by `block`, without changing `state`.
/// Returns the execution result and the accounts it changed (to commit into a copy of `state`),
/// or revm's reason for refusing the transaction (bad nonce, funds, gas limit, …).
pub(crate) fn transact(
    state: &WorldState,
    chain_id: u64,
    block: BlockEnv,
    tx: TxEnv,
) -> Result<(ExecutionResult, EvmState), String> {
    let mut evm = MainnetContext::new(WrapDatabaseRef(state), SPEC)
        .modify_cfg_chained(|cfg| cfg.chain_id = chain_id)
        .with_block(block)
        .build_mainnet();
    let outcome = evm.transact(tx).map_err(|error| error.to_string())?;
    Ok((outcome.result, outcome.state))
}

/// How many of the newest blocks' states are kept, like a geth full node's 128 in-memory tries;
/// older states are dropped, so memory stays bounded however long the devnet runs.
pub(crate) const STATE_HISTORY: usize = 128;

/// The world states after the newest [`STATE_HISTORY`] blocks (empty blocks share their
/// parent's state).
#[derive(Debug)]
pub(crate) struct StateHistory {
    head: Arc<WorldState>,
    head_number: u64,
    /// The states before `head`, oldest first.
    older: VecDeque<Arc<WorldState>>,
}

impl StateHistory {
    /// A history holding only the genesis state.
    pub(crate) fn new(genesis: WorldState) -> Self {
        Self {
            head: Arc::new(genesis),
            head_number: 0,
            older: VecDeque::new(),
        }
    }

    /// The state after the newest block.
    pub(crate) fn head(&self) -> &Arc<WorldState> {
        &self.head
    }

    /// The state after block `number`, unless it is in the future or was pruned.
    pub(crate) fn at(&self, number: u64) -> Option<&WorldState> {
        let back = usize::try_from(self.head_number.checked_sub(number)?).ok()?;
        if back == 0 {
            return Some(&self.head);
        }
        self.older
            .len()
            .checked_sub(back)
            .map(|index| &*self.older[index])
    }

    /// Records the state after the next block.
    pub(crate) fn push(&mut self, state: Arc<WorldState>) {
        self.older
            .push_back(std::mem::replace(&mut self.head, state));
        self.head_number += 1;
        while self.older.len() >= STATE_HISTORY {
            self.older.pop_front();
        }
    }
}

/// The state root of `state`, as a header carries it: the secure Merkle-Patricia trie of every
/// existing, non-empty account (EIP-161) with its storage trie of non-zero slots.
pub(crate) fn state_root(state: &WorldState) -> B256 {
    let accounts = state
        .cache
        .accounts
        .iter()
        .filter_map(|(address, account)| {
            if matches!(account.account_state, AccountState::NotExisting) {
                return None;
            }
            let storage: Vec<_> = account
                .storage
                .iter()
                .filter(|(_, value)| !value.is_zero())
                .map(|(slot, value)| (B256::from(*slot), *value))
                .collect();
            if account.info.is_empty() && storage.is_empty() {
                return None;
            }
            let trie_account = TrieAccount {
                nonce: account.info.nonce,
                balance: account.info.balance,
                storage_root: storage_root_unhashed(storage),
                code_hash: account.info.code_hash,
            };
            Some((*address, trie_account))
        });
    state_root_unhashed(accounts)
}

/// An account's nonce in `state` (0 when it does not exist).
pub(crate) fn nonce(state: &WorldState, address: alloy_primitives::Address) -> u64 {
    state
        .basic_ref(address)
        .ok()
        .flatten()
        .map_or(0, |info| info.nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::EMPTY_ROOT_HASH;
    use alloy_primitives::{Address, U256, address, b256};
    use revm::state::AccountInfo;

    #[test]
    fn history_keeps_the_newest_states() {
        let mut history = StateHistory::new(WorldState::default());
        assert!(history.at(0).is_some());
        assert!(history.at(1).is_none());
        for number in 1..=(STATE_HISTORY as u64 + 5) {
            let mut state = WorldState::default();
            state.insert_account_info(
                Address::with_last_byte(1),
                AccountInfo {
                    nonce: number,
                    ..Default::default()
                },
            );
            history.push(Arc::new(state));
        }
        let newest = STATE_HISTORY as u64 + 5;
        assert_eq!(nonce(history.head(), Address::with_last_byte(1)), newest);
        assert_eq!(
            nonce(history.at(newest).unwrap(), Address::with_last_byte(1)),
            newest
        );
        let oldest = newest + 1 - STATE_HISTORY as u64;
        assert_eq!(
            nonce(history.at(oldest).unwrap(), Address::with_last_byte(1)),
            oldest
        );
        assert!(history.at(oldest - 1).is_none());
        assert!(history.at(0).is_none());
        assert!(history.at(newest + 1).is_none());
    }

    #[test]
    fn empty_state_has_the_empty_root() {
        assert_eq!(state_root(&WorldState::default()), EMPTY_ROOT_HASH);
    }

    #[test]
    fn empty_accounts_and_zero_slots_are_left_out() {
        let funded = address!("0000000000000000000000000000000000000001");
        let mut state = WorldState::default();
        state.insert_account_info(
            funded,
            AccountInfo {
                balance: U256::from(1),
                ..Default::default()
            },
        );
        let expected = state_root_unhashed([(
            funded,
            TrieAccount {
                nonce: 0,
                balance: U256::from(1),
                ..Default::default()
            },
        )]);
        assert_eq!(state_root(&state), expected);
        // An empty account (EIP-161) and a zero storage slot change nothing.
        state.insert_account_info(
            address!("0000000000000000000000000000000000000002"),
            AccountInfo::default(),
        );
        state
            .insert_account_storage(funded, U256::from(7), U256::ZERO)
            .unwrap();
        assert_eq!(state_root(&state), expected);
        // A non-zero slot does.
        state
            .insert_account_storage(funded, U256::from(7), U256::from(1))
            .unwrap();
        assert_ne!(state_root(&state), expected);
        // TrieAccount's default carries the empty storage root and the empty code hash.
        assert_eq!(
            TrieAccount::default().code_hash,
            b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        );
    }
}
