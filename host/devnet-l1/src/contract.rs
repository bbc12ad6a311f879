//! The RootChain contract: its compiled bytecode (`contracts/RootChain.bin`, built by
//! `contracts/build.sh`), its ABI as Rust types, and revert-data decoding.

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use alloy_sol_types::{Panic, Revert, SolError, SolEvent, SolValue, sol};

use crate::L1Error;

sol! {
    /// The RootChain interface the devnet's contract implements: Polygon's ABI
    /// (`headerBlocks`, `currentHeaderBlock`, `getLastChildBlock`, `_nextHeaderBlock`, `CHAINID`,
    /// `submitCheckpoint`, the `NewHeaderBlock` event) plus `owner()`.
    interface IRootChain {
        /// A checkpoint was committed (Polygon's exact signature; `reward` is 0 on the devnet).
        event NewHeaderBlock(
            address indexed proposer,
            uint256 indexed headerBlockId,
            uint256 indexed reward,
            uint256 start,
            uint256 end,
            bytes32 root
        );

        /// Commits a checkpoint; `data` is `abi.encode(proposer, start, end, rootHash, accountHash, borChainId)`.
        function submitCheckpoint(bytes data, uint256[3][] sigs) external;
        /// Dead entry point; always reverts, as Polygon's does.
        function submitHeaderBlock(bytes data, bytes sigs) external;
        /// A checkpoint by header block id (10000, 20000, …).
        function headerBlocks(uint256 headerBlockId) external view returns (bytes32 root, uint256 start, uint256 end, uint256 createdAt, address proposer);
        /// The latest checkpoint's header block id (0 before the first).
        function currentHeaderBlock() external view returns (uint256);
        /// The latest checkpoint's end block (0 before the first).
        function getLastChildBlock() external view returns (uint256);
        /// The id the next checkpoint gets.
        function _nextHeaderBlock() external view returns (uint256);
        /// The Bor chain id checkpoints must carry.
        function CHAINID() external view returns (uint256);
        /// The account allowed to submit checkpoints (the deployer).
        function owner() external view returns (address);
    }
}

/// `keccak256("NewHeaderBlock(address,uint256,uint256,uint256,uint256,bytes32)")`.
pub const NEW_HEADER_BLOCK_TOPIC: B256 = IRootChain::NewHeaderBlock::SIGNATURE_HASH;

/// Header block ids are spaced by this many (Polygon's `MAX_DEPOSITS`); the first is 10000.
pub const HEADER_BLOCK_SPACING: u64 = 10_000;

/// The creation bytecode, hex, as `contracts/build.sh` writes it.
const CREATION_CODE_HEX: &str = include_str!("../contracts/RootChain.bin");

/// The RootChain creation bytecode followed by its ABI-encoded constructor argument.
pub(crate) fn deployment_code(bor_chain_id: u64) -> Result<Bytes, L1Error> {
    let mut code = hex::decode(CREATION_CODE_HEX.trim())
        .map_err(|error| L1Error::Config(format!("contracts/RootChain.bin is not hex: {error}")))?;
    code.extend_from_slice(&U256::from(bor_chain_id).abi_encode());
    Ok(code.into())
}

/// The calldata of `submitCheckpoint(abi.encode(proposer, start, end, root, 0, bor_chain_id), [])`.
pub(crate) fn submit_checkpoint_calldata(
    proposer: Address,
    start: u64,
    end: u64,
    root: B256,
    bor_chain_id: u64,
) -> Bytes {
    let data = (
        proposer,
        U256::from(start),
        U256::from(end),
        root,
        B256::ZERO,
        U256::from(bor_chain_id),
    )
        .abi_encode_params();
    let call = IRootChain::submitCheckpointCall {
        data: data.into(),
        sigs: Vec::new(),
    };
    alloy_sol_types::SolCall::abi_encode(&call).into()
}

/// The reason geth puts after `execution reverted: `: the message of an `Error(string)`, or the
/// meaning of a `Panic(uint256)` code; `None` for anything else (geth then says only
/// `execution reverted`).
pub fn revert_reason(data: &[u8]) -> Option<String> {
    if data.starts_with(&Revert::SELECTOR) {
        return Revert::abi_decode(data)
            .ok()
            .map(|revert| revert.reason().to_string());
    }
    if data.starts_with(&Panic::SELECTOR) {
        let code = Panic::abi_decode(data).ok()?.code;
        // go-ethereum's accounts/abi panicReasons.
        let reason = match u64::try_from(code).ok()? {
            0x00 => "generic panic",
            0x01 => "assert(false)",
            0x11 => "arithmetic underflow or overflow",
            0x12 => "division or modulo by zero",
            0x21 => "enum overflow",
            0x22 => "invalid encoded storage byte array accessed",
            0x31 => "out-of-bounds array access; popping on an empty array",
            0x32 => "out-of-bounds access of an array or bytesN",
            0x41 => "out of memory",
            0x51 => "uninitialized function",
            _ => return None,
        };
        return Some(reason.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{b256, keccak256};
    use alloy_sol_types::SolCall;

    #[test]
    fn bytecode_is_valid_hex_and_abi_matches_polygon_selectors() {
        let code = deployment_code(137).unwrap();
        assert!(code.len() > 1000);
        assert_eq!(
            NEW_HEADER_BLOCK_TOPIC,
            b256!("ba5de06d22af2685c6c7765f60067f7d2b08c2d29f53cdf14d67f6d1c9bfb527")
        );
        assert_eq!(
            IRootChain::headerBlocksCall::SELECTOR,
            [0x41, 0x53, 0x9d, 0x4a]
        );
        assert_eq!(
            IRootChain::submitCheckpointCall::SELECTOR,
            [0x4e, 0x43, 0xe4, 0x95]
        );
        assert_eq!(
            IRootChain::submitHeaderBlockCall::SELECTOR,
            [0x6a, 0x79, 0x1f, 0x11]
        );
        assert_eq!(
            IRootChain::getLastChildBlockCall::SELECTOR,
            [0xb8, 0x7e, 0x1b, 0x66]
        );
        assert_eq!(
            IRootChain::currentHeaderBlockCall::SELECTOR,
            [0xec, 0x7e, 0x48, 0x55]
        );
        assert_eq!(
            IRootChain::_nextHeaderBlockCall::SELECTOR,
            [0x8d, 0x97, 0x8d, 0x88]
        );
        assert_eq!(IRootChain::CHAINIDCall::SELECTOR, [0xcc, 0x79, 0xf9, 0x7b]);
        assert_eq!(
            keccak256("submitCheckpoint(bytes,uint256[3][])")[..4],
            [0x4e, 0x43, 0xe4, 0x95]
        );
    }

    #[test]
    fn the_committed_abi_lists_every_bound_function() {
        let abi: serde_json::Value =
            serde_json::from_str(include_str!("../contracts/RootChain.abi.json")).unwrap();
        let names: Vec<&str> = abi
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|item| item["name"].as_str())
            .collect();
        for name in [
            "NewHeaderBlock",
            "submitCheckpoint",
            "submitHeaderBlock",
            "headerBlocks",
            "currentHeaderBlock",
            "getLastChildBlock",
            "_nextHeaderBlock",
            "CHAINID",
            "owner",
        ] {
            assert!(
                names.contains(&name),
                "{name} missing from RootChain.abi.json"
            );
        }
    }

    #[test]
    fn revert_reasons_decode_like_geth() {
        let error = Revert::from("INCORRECT_HEADER_DATA").abi_encode();
        assert_eq!(
            revert_reason(&error).as_deref(),
            Some("INCORRECT_HEADER_DATA")
        );
        let panic = Panic {
            code: U256::from(0x11),
        }
        .abi_encode();
        assert_eq!(
            revert_reason(&panic).as_deref(),
            Some("arithmetic underflow or overflow")
        );
        assert_eq!(revert_reason(&[]), None);
        assert_eq!(revert_reason(&[1, 2, 3, 4]), None);
    }
}
