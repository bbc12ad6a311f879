//! Executing one block in revm, in go-ethereum's order: the start-of-block
//! system calls (EIP-4788 beacon root from Cancun, EIP-2935 parent hash
//! from Prague), the transactions, the end-of-block requests (EIP-6110
//! deposits, EIP-7002 and EIP-7251 system calls, from Prague), then the
//! proof-of-work rewards or the withdrawals. It reports what the header
//! must match: receipts, gas, blob gas, requests hash and state root.

use alloy_consensus::{Eip658Value, Header, Transaction as _};
use alloy_eips::{
    eip2718::Typed2718 as _,
    eip2935::HISTORY_STORAGE_ADDRESS,
    eip4788::BEACON_ROOTS_ADDRESS,
    eip4844::DATA_GAS_PER_BLOB,
    eip4895::Withdrawal,
    eip6110::DEPOSIT_REQUEST_TYPE,
    eip7002::{WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_TYPE},
    eip7251::{CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_TYPE},
    eip7685::Requests,
    eip7840::BlobParams,
};
use alloy_primitives::{Address, B256, Bytes, U256};
use revm::{
    ExecuteCommitEvm, MainBuilder, SystemCallCommitEvm,
    context::{BlockEnv, result::ExecutionResult},
    context_interface::ContextTr,
    handler::MainnetContext,
    primitives::hardfork::SpecId,
};

use crate::{
    error::BlockFault,
    forks::EthereumForks,
    receipts::ReceiptList,
    requests,
    state::{self, WorldState},
    transactions::{SignedTransaction, blob_count, tx_env},
};

/// What a block brings to execution besides its header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockInput<'a> {
    /// The header.
    pub header: &'a Header,
    /// The transactions with their senders.
    pub transactions: &'a [SignedTransaction],
    /// The uncle headers.
    pub uncles: &'a [Header],
    /// The withdrawals (Shanghai and later).
    pub withdrawals: Option<&'a [Withdrawal]>,
}

/// What execution gives, to check against the header.
#[derive(Debug, Clone)]
pub(crate) struct BlockOutput {
    /// The receipts.
    pub receipts: ReceiptList,
    /// The gas the transactions used.
    pub gas_used: u64,
    /// The blob gas the transactions used.
    pub blob_gas_used: u64,
    /// The EIP-7685 requests hash (Prague and later).
    pub requests_hash: Option<B256>,
    /// The state root after the block.
    pub state_root: B256,
}

const GWEI: u128 = 1_000_000_000;

/// The block environment revm sees: prevrandao is the mix hash after the
/// merge (before, DIFFICULTY reads the difficulty), and the blob base fee
/// follows from the excess blob gas with the schedule's update fraction.
fn block_env(
    header: &Header,
    post_merge: bool,
    blob_params: Option<&BlobParams>,
) -> Result<BlockEnv, BlockFault> {
    let mut env = BlockEnv {
        number: U256::from(header.number),
        beneficiary: header.beneficiary,
        timestamp: U256::from(header.timestamp),
        gas_limit: header.gas_limit,
        basefee: header.base_fee_per_gas.unwrap_or_default(),
        difficulty: header.difficulty,
        prevrandao: post_merge.then_some(header.mix_hash),
        blob_excess_gas_and_price: None,
        ..Default::default()
    };
    if let Some(params) = blob_params {
        let excess = header
            .excess_blob_gas
            .ok_or_else(|| BlockFault::Invalid("excessBlobGas is missing".into()))?;
        let fraction = u64::try_from(params.update_fraction)
            .map_err(|_| BlockFault::Invalid("blob update fraction exceeds 64 bits".into()))?;
        env.set_blob_excess_gas_and_price(excess, fraction);
    }
    Ok(env)
}

/// Runs a system call and commits its effects. `required` calls (the
/// request queues) must succeed; the others are best-effort, as in
/// go-ethereum. Returns the call's output.
fn system_call<E>(
    evm: &mut E,
    contract: Address,
    data: Bytes,
    name: &str,
    required: bool,
) -> Result<Bytes, BlockFault>
where
    E: SystemCallCommitEvm<ExecutionResult = ExecutionResult>,
    E::Error: std::fmt::Display,
{
    let result = evm
        .system_call_commit(contract, data)
        .map_err(|error| BlockFault::Invalid(format!("{name} system call: {error}")))?;
    match result {
        ExecutionResult::Success { output, .. } => Ok(output.into_data()),
        failed if required => Err(BlockFault::Invalid(format!(
            "{name} system call failed: {failed:?}"
        ))),
        _ => Ok(Bytes::new()),
    }
}

/// Executes `block` on `state` (which then holds the state after it).
pub(crate) fn execute(
    state: &mut WorldState,
    forks: &EthereumForks,
    block: BlockInput<'_>,
) -> Result<BlockOutput, BlockFault> {
    let header = block.header;
    let post_merge = header.difficulty.is_zero();
    let spec = forks
        .spec_id(header.number, header.timestamp, post_merge)
        .map_err(BlockFault::Invalid)?;
    if forks.dao_fork_support && forks.block_of("daoFork") == Some(header.number) {
        return Err(BlockFault::Invalid(
            "the DAO fork's irregular state change is not supported".into(),
        ));
    }
    let blob_params =
        if spec.is_enabled_in(SpecId::CANCUN) {
            Some(forks.blob_params(header.timestamp).ok_or_else(|| {
                BlockFault::Invalid("no blob parameters for a Cancun block".into())
            })?)
        } else {
            None
        };
    let env = block_env(header, post_merge, blob_params.as_ref())?;
    let mut evm = MainnetContext::new(&mut *state, spec)
        .modify_cfg_chained(|cfg| {
            cfg.chain_id = forks.chain_id;
            if let Some(params) = &blob_params {
                cfg.max_blobs_per_tx = Some(params.max_blobs_per_tx);
                cfg.blob_base_fee_update_fraction = u64::try_from(params.update_fraction).ok();
            }
        })
        .with_block(env)
        .build_mainnet();

    if spec.is_enabled_in(SpecId::CANCUN) {
        let root = header
            .parent_beacon_block_root
            .ok_or_else(|| BlockFault::Invalid("parentBeaconBlockRoot is missing".into()))?;
        system_call(
            &mut evm,
            BEACON_ROOTS_ADDRESS,
            root.into(),
            "EIP-4788",
            false,
        )?;
    }
    if spec.is_enabled_in(SpecId::PRAGUE) {
        let parent = header.parent_hash.into();
        system_call(&mut evm, HISTORY_STORAGE_ADDRESS, parent, "EIP-2935", false)?;
    }

    let mut receipts = ReceiptList::default();
    let mut gas_used = 0u64;
    let mut blob_gas_used = 0u64;
    for (index, signed) in block.transactions.iter().enumerate() {
        let fault = |reason: String| BlockFault::Transaction { index, reason };
        let available = header.gas_limit.saturating_sub(gas_used);
        if signed.tx.gas_limit() > available {
            return Err(fault(format!(
                "gas limit {} exceeds the {available} gas left in the block",
                signed.tx.gas_limit()
            )));
        }
        let blobs = blob_count(&signed.tx);
        if blobs > 0 {
            let max = blob_params.map_or(0, |params| params.max_blob_gas_per_block());
            blob_gas_used += blobs * DATA_GAS_PER_BLOB;
            if blob_gas_used > max {
                return Err(fault(format!(
                    "blob gas {blob_gas_used} exceeds the block maximum {max}"
                )));
            }
        }
        let result = evm
            .transact_commit(tx_env(signed))
            .map_err(|error| fault(error.to_string()))?;
        gas_used += result.tx_gas_used();
        let status = if spec.is_enabled_in(SpecId::BYZANTIUM) {
            Eip658Value::Eip658(result.is_success())
        } else {
            Eip658Value::PostState(state::state_root(evm.ctx.db()))
        };
        receipts.push(signed.tx.ty(), status, gas_used, result.into_logs());
    }

    let requests_hash = if spec.is_enabled_in(SpecId::PRAGUE) {
        let mut requests = Requests::default();
        if let Some(contract) = forks.deposit_contract {
            let deposits =
                requests::deposits(&receipts.logs, contract).map_err(BlockFault::Invalid)?;
            requests.push_request_with_type(DEPOSIT_REQUEST_TYPE, deposits);
        }
        for (contract, kind, name) in [
            (
                WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
                WITHDRAWAL_REQUEST_TYPE,
                "EIP-7002",
            ),
            (
                CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
                CONSOLIDATION_REQUEST_TYPE,
                "EIP-7251",
            ),
        ] {
            let output = system_call(&mut evm, contract, Bytes::new(), name, true)?;
            requests.push_request_with_type(kind, output);
        }
        Some(requests.requests_hash())
    } else {
        None
    };
    drop(evm);

    if !post_merge {
        reward_miners(state, forks, header, block.uncles)?;
    }
    for withdrawal in block.withdrawals.unwrap_or_default() {
        state::credit(
            state,
            withdrawal.address,
            u128::from(withdrawal.amount) * GWEI,
        );
    }
    Ok(BlockOutput {
        receipts,
        gas_used,
        blob_gas_used,
        requests_hash,
        state_root: state::state_root(state),
    })
}

/// Proof-of-work rewards (go-ethereum's `accumulateRewards`): each uncle's
/// miner gets `(uncle + 8 − number) / 8` of the block reward, and the
/// block's miner the reward plus 1/32 of it per uncle.
fn reward_miners(
    state: &mut WorldState,
    forks: &EthereumForks,
    header: &Header,
    uncles: &[Header],
) -> Result<(), BlockFault> {
    let reward = forks.block_reward(header.number);
    let mut miner = reward;
    for uncle in uncles {
        let depth = header.number.saturating_sub(uncle.number);
        if !(1..=7).contains(&depth) {
            return Err(BlockFault::Invalid(format!(
                "uncle {} is not within 7 blocks below {}",
                uncle.number, header.number
            )));
        }
        state::credit(state, uncle.beneficiary, u128::from(8 - depth) * reward / 8);
        miner += reward / 32;
    }
    state::credit(state, header.beneficiary, miner);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_genesis::GenesisAccount;
    use revm::Database;
    use std::collections::BTreeMap;

    #[test]
    fn proof_of_work_rewards_pay_miner_and_uncles() {
        let config = serde_json::from_str(r#"{"chainId":1,"homesteadBlock":0}"#).unwrap();
        let forks = EthereumForks::from_config(&config).unwrap();
        let mut state = state::from_alloc(&BTreeMap::<Address, GenesisAccount>::new()).unwrap();
        let miner = Address::repeat_byte(1);
        let uncle_miner = Address::repeat_byte(2);
        let header = Header {
            number: 10,
            difficulty: U256::from(1),
            beneficiary: miner,
            ..Default::default()
        };
        let uncle = Header {
            number: 9,
            beneficiary: uncle_miner,
            ..Default::default()
        };
        let input = BlockInput {
            header: &header,
            transactions: &[],
            uncles: std::slice::from_ref(&uncle),
            withdrawals: None,
        };
        execute(&mut state, &forks, input).unwrap();
        let balance = |state: &mut WorldState, address| {
            let info = state.basic(address).ok().flatten();
            info.map_or(U256::ZERO, |info| info.balance)
        };
        let ether = U256::from(10u128.pow(18));
        assert_eq!(
            balance(&mut state, miner),
            ether * U256::from(5) + ether * U256::from(5) / U256::from(32)
        );
        assert_eq!(
            balance(&mut state, uncle_miner),
            ether * U256::from(35) / U256::from(8)
        );

        let far = Header {
            number: 1,
            ..uncle.clone()
        };
        let input = BlockInput {
            uncles: std::slice::from_ref(&far),
            ..input
        };
        assert!(matches!(
            execute(&mut state, &forks, input),
            Err(BlockFault::Invalid(_))
        ));
    }
}
