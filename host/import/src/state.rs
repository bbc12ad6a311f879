//! The world state between blocks: revm's [`State`] over an empty backing
//! database (everything lives in its cache), filled from the genesis alloc,
//! and its Merkle-Patricia root.
//!
//! revm's `State` applies EIP-161 (empty touched accounts are removed) and
//! revm's journal keeps the pre-Spurious-Dragon behaviour (touched empty
//! accounts are created), so the root follows go-ethereum on both sides of
//! that fork: every existing account is in the trie, empty or not.

use std::collections::BTreeMap;

use alloy_genesis::GenesisAccount;
use alloy_primitives::{Address, B256, U256};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use revm::{
    bytecode::Bytecode,
    database::{EmptyDB, State},
    state::AccountInfo,
};

/// The world state that blocks execute on.
pub(crate) type WorldState = State<EmptyDB>;

/// The state root of a genesis alloc, straight from the file's accounts.
pub(crate) fn alloc_root(alloc: &BTreeMap<Address, GenesisAccount>) -> B256 {
    state_root_unhashed(
        alloc
            .iter()
            .map(|(address, account)| (*address, account.clone().into_trie_account())),
    )
}

/// A state holding the genesis alloc. Fails on code that revm cannot load
/// (a malformed EIP-7702 delegation).
pub(crate) fn from_alloc(alloc: &BTreeMap<Address, GenesisAccount>) -> Result<WorldState, String> {
    let mut state = State::builder().build();
    for (address, account) in alloc {
        let mut info = AccountInfo::default()
            .with_balance(account.balance)
            .with_nonce(account.nonce.unwrap_or_default());
        if let Some(code) = account.code.as_ref().filter(|code| !code.is_empty()) {
            let bytecode = Bytecode::new_raw_checked(code.clone())
                .map_err(|error| format!("alloc {address}: bad code: {error:?}"))?;
            info = info.with_code(bytecode);
        }
        let storage = account
            .storage_slots()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (U256::from_be_bytes(slot.0), value))
            .collect();
        state.insert_account_with_storage(*address, info, storage);
    }
    Ok(state)
}

/// The state root of `state`: every existing account with its storage trie
/// of non-zero slots.
pub(crate) fn state_root(state: &WorldState) -> B256 {
    state_root_unhashed(
        state
            .cache
            .trie_account()
            .into_iter()
            .map(|(address, account)| {
                let storage_root = storage_root_unhashed(
                    account
                        .storage
                        .iter()
                        .filter(|(_, value)| !value.is_zero())
                        .map(|(slot, value)| (B256::from(*slot), *value)),
                );
                let trie_account = TrieAccount {
                    nonce: account.info.nonce,
                    balance: account.info.balance,
                    storage_root,
                    code_hash: account.info.code_hash,
                };
                (address, trie_account)
            }),
    )
}

/// Adds `amount` wei to an account (a block reward or a withdrawal),
/// creating it if needed; a zero amount changes nothing.
pub(crate) fn credit(state: &mut WorldState, address: Address, amount: u128) {
    let Ok(account) = state.load_cache_account(address);
    // The transition is for bundle building, which this importer does not use.
    let _ = account.increment_balance(amount);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bytes, address};

    #[test]
    fn alloc_and_state_roots_agree() {
        let mut alloc = BTreeMap::new();
        alloc.insert(
            address!("0000000000000000000000000000000000000001"),
            GenesisAccount::default().with_balance(U256::from(10)),
        );
        alloc.insert(
            address!("0000000000000000000000000000000000000002"),
            GenesisAccount::default()
                .with_code(Some(Bytes::from_static(&[0x60, 0x00])))
                .with_storage(Some(BTreeMap::from([
                    (B256::with_last_byte(1), B256::with_last_byte(7)),
                    (B256::with_last_byte(2), B256::ZERO),
                ]))),
        );
        // An empty genesis account is in the trie too.
        alloc.insert(
            address!("0000000000000000000000000000000000000003"),
            GenesisAccount::default(),
        );
        let mut state = from_alloc(&alloc).unwrap();
        assert_eq!(state_root(&state), alloc_root(&alloc));
        credit(
            &mut state,
            address!("0000000000000000000000000000000000000004"),
            0,
        );
        assert_eq!(state_root(&state), alloc_root(&alloc));
        credit(
            &mut state,
            address!("0000000000000000000000000000000000000004"),
            5,
        );
        assert_ne!(state_root(&state), alloc_root(&alloc));
    }
}
