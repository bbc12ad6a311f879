//! The RootChain contract's interface on L1 (Polygon's `RootChain.sol`):
//! what a checkpoint reader calls and the event it follows.

alloy_sol_types::sol! {
    /// Polygon's RootChain (through its proxy).
    interface RootChain {
        /// A checkpoint ("header block"), keyed by ids 10,000 apart.
        function headerBlocks(uint256 headerBlockId) external view returns (bytes32 root, uint256 start, uint256 end, uint256 createdAt, address proposer);
        /// The newest header-block id.
        function currentHeaderBlock() external view returns (uint256);
        /// The last child-chain block any checkpoint covers.
        function getLastChildBlock() external view returns (uint256);
        /// The bor chain id the contract accepts checkpoints for.
        function CHAINID() external view returns (uint256);
        /// Emitted for every accepted checkpoint.
        event NewHeaderBlock(address indexed proposer, uint256 indexed headerBlockId, uint256 indexed reward, uint256 start, uint256 end, bytes32 root);
    }
}

/// Header-block ids are this far apart (the contract's `MAX_DEPOSITS`).
pub const HEADER_BLOCK_SPACING: u64 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolEvent;

    #[test]
    fn event_signature_is_polygons() {
        assert_eq!(
            format!("{:#x}", RootChain::NewHeaderBlock::SIGNATURE_HASH),
            "0xba5de06d22af2685c6c7765f60067f7d2b08c2d29f53cdf14d67f6d1c9bfb527"
        );
    }
}
