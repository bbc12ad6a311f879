// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title RootChain for the Hypasis Sync devnet
/// @notice A stand-in for Polygon PoS's RootChain (the checkpoint contract on Ethereum L1), written for the
/// Hypasis devnet. It keeps Polygon's public interface: the `headerBlocks` getter, `_nextHeaderBlock`,
/// `currentHeaderBlock()`, `getLastChildBlock()`, `CHAINID`, `submitCheckpoint(bytes,uint256[3][])` and the
/// `NewHeaderBlock` event, with the same ABI, the same header block numbering (10000, 20000, ...) and the
/// same storage slots as Polygon's RootChainProxy (so slot-based reads see the same layout).
/// @dev Differences from Polygon's contract: there is no proxy, no registry and no stake manager. Instead of
/// checking the validators' signatures, `submitCheckpoint` only accepts checkpoints sent by the deployer
/// (the devnet's checkpointer), and the reward in `NewHeaderBlock` is always 0.
contract RootChain {
    struct HeaderBlock {
        bytes32 root;
        uint256 start;
        uint256 end;
        uint256 createdAt;
        address proposer;
    }

    /// @notice Header block ids are spaced by this many deposit ids, so the first one is 10000.
    uint16 internal constant MAX_DEPOSITS = 10000;

    /// @notice The vote type Heimdall signs checkpoints with (kept for interface compatibility).
    uint8 public constant VOTE_TYPE = 2;

    // Storage slots 0..6 mirror Polygon's RootChainProxy: Ownable, ProxyStorage, then RootChainStorage.
    address private _owner; // slot 0
    address private _proxyTo; // slot 1, unused here
    /// @notice The Heimdall id (unused by this devnet, always zero).
    bytes32 public heimdallId; // slot 2
    /// @notice The id the next checkpoint's header block gets.
    uint256 public _nextHeaderBlock = MAX_DEPOSITS; // slot 3
    uint256 internal _blockDepositId = 1; // slot 4
    /// @notice Checkpoints by header block id (10000, 20000, ...).
    mapping(uint256 => HeaderBlock) public headerBlocks; // slot 5
    address private _registry; // slot 6, unused here

    /// @notice The Bor chain id checkpoints must carry.
    uint256 public immutable CHAINID;

    /// @notice A checkpoint was committed.
    event NewHeaderBlock(
        address indexed proposer,
        uint256 indexed headerBlockId,
        uint256 indexed reward,
        uint256 start,
        uint256 end,
        bytes32 root
    );

    /// @param borChainId The Bor chain id checkpoints must carry.
    constructor(uint256 borChainId) {
        _owner = msg.sender;
        CHAINID = borChainId;
    }

    /// @notice The deployer, the only account allowed to submit checkpoints.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice Dead entry point, kept because Polygon's contract has it (and reverts too).
    function submitHeaderBlock(bytes calldata, bytes calldata) external pure {
        revert();
    }

    /// @notice Commits a checkpoint.
    /// @param data abi.encode(proposer, start, end, rootHash, accountHash, borChainId)
    /// @param sigs The validators' signatures; ignored by this devnet (the sender is checked instead).
    function submitCheckpoint(bytes calldata data, uint256[3][] calldata sigs) external {
        sigs; // Polygon checks these with the stake manager; this devnet trusts its checkpointer.
        require(msg.sender == _owner, "UNAUTHORIZED_CHECKPOINTER");
        (address proposer, uint256 start, uint256 end, bytes32 rootHash, , uint256 borChainId) =
            abi.decode(data, (address, uint256, uint256, bytes32, bytes32, uint256));
        require(CHAINID == borChainId, "Invalid bor chain id");
        require(end >= start, "NOT_ADDING_BLOCKS");

        uint256 nextChildBlock;
        if (_nextHeaderBlock > MAX_DEPOSITS) {
            nextChildBlock = headerBlocks[currentHeaderBlock()].end + 1;
        }
        require(nextChildBlock == start, "INCORRECT_HEADER_DATA");

        uint256 headerBlockId = _nextHeaderBlock;
        headerBlocks[headerBlockId] = HeaderBlock({
            root: rootHash,
            start: start,
            end: end,
            createdAt: block.timestamp,
            proposer: proposer
        });
        emit NewHeaderBlock(proposer, headerBlockId, 0, start, end, rootHash);
        _nextHeaderBlock = headerBlockId + MAX_DEPOSITS;
        _blockDepositId = 1;
    }

    /// @notice The end block of the latest checkpoint (0 before the first one).
    function getLastChildBlock() external view returns (uint256) {
        return headerBlocks[currentHeaderBlock()].end;
    }

    /// @notice The id of the latest checkpoint's header block (0 before the first one).
    function currentHeaderBlock() public view returns (uint256) {
        return _nextHeaderBlock - MAX_DEPOSITS;
    }
}
