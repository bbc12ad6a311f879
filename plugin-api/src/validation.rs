//! The `Validation` interface: one plugin per validation level (none,
//! header, light, full), chosen per sync direction.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RString, RVec},
};

use crate::{BlockRange, BlockRef, H160, H256, PluginResult, RawBlock};

/// Which way the batch was synced.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, StableAbi)]
pub enum Direction {
    /// Checkpoint towards the head.
    Forward = 1,
    /// Checkpoint towards genesis.
    Backward = 2,
}

/// An L1 checkpoint: Heimdall's Merkle root over the blocks `[start, end]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct Checkpoint {
    /// The RootChain header-block id (multiples of 10,000 on mainnet).
    pub id: u64,
    /// The blocks the root covers.
    pub range: BlockRange,
    /// The root hash.
    pub root: H256,
}

/// A block producer of a span, with its voting power.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct Producer {
    /// Heimdall validator id.
    pub id: u64,
    /// Signer address.
    pub address: H160,
    /// Voting power.
    pub power: u64,
}

/// A Bor span: the producers that seal blocks `[start, end]`.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Span {
    /// Span id.
    pub id: u64,
    /// The blocks the span covers.
    pub range: BlockRange,
    /// The selected producers, in Heimdall's order.
    pub producers: RVec<Producer>,
}

/// A trusted block just above a batch: the batch's last block must hash to
/// `parent_hash`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct ChildLink {
    /// Number of the trusted child block.
    pub number: u64,
    /// The child's parent hash.
    pub parent_hash: H256,
}

/// A batch of contiguous blocks and everything trusted that bears on it.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct ValidationRequest {
    /// The direction the batch was synced in.
    pub direction: Direction,
    /// The blocks, ascending and contiguous.
    pub blocks: RVec<RawBlock>,
    /// A trusted block directly below the batch, if any.
    pub parent: ROption<BlockRef>,
    /// A trusted block directly above the batch, if any.
    pub child: ROption<ChildLink>,
    /// Trusted hashes (milestones, the configured anchor) at numbers inside the batch.
    pub anchors: RVec<BlockRef>,
    /// Checkpoints that lie wholly inside the batch.
    pub checkpoints: RVec<Checkpoint>,
    /// The spans covering the batch (needed by `full`).
    pub spans: RVec<Span>,
}

/// Why a batch was rejected: the first block and field that failed.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Rejection {
    /// The block that failed.
    pub number: u64,
    /// The field that failed (`hash`, `parentHash`, `transactionsRoot`, `seal`, ...).
    pub field: RString,
    /// What the field should have been.
    pub expected: RString,
    /// What it was.
    pub found: RString,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "block {}: {} mismatch: expected {}, found {}",
            self.number, self.field, self.expected, self.found
        )
    }
}

/// The outcome of validating a batch.
#[repr(u8)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub enum Verdict {
    /// Every check the level makes passed. `confirmed` lists the parts of the
    /// batch that a checkpoint root (or a trusted anchor chain) confirms; the
    /// rest of the batch is linked but unconfirmed.
    Accepted {
        /// Ranges confirmed by checkpoints or anchors.
        confirmed: RVec<BlockRange>,
    },
    /// A check failed; nothing in the batch may be stored as verified.
    Rejected(Rejection),
}

/// What a validation level reads beyond headers, so the host fetches and
/// passes only what is needed.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, StableAbi)]
pub struct Requirements {
    /// Bodies must be present in every block of a request.
    pub bodies: bool,
    /// Receipts must be present in every block of a request.
    pub receipts: bool,
    /// Spans covering the batch must be passed.
    pub spans: bool,
}

/// A validation level. Calls are synchronous and CPU-bound: the host makes
/// them from its blocking pool, possibly from several threads at once.
#[sabi_trait]
pub trait Validation: Send + Sync {
    /// What this level needs in a request.
    fn requirements(&self) -> Requirements;

    /// Checks a batch and says whether it may be stored as verified.
    /// An `Err` means the request itself was unusable (for example a span
    /// missing for `full`), not that the blocks are bad.
    /// The request is lent, not moved: the host keeps the blocks to store
    /// them, and a level only reads them.
    #[sabi(last_prefix_field)]
    fn validate(&self, request: &ValidationRequest) -> PluginResult<Verdict>;
}

/// An owned validation plugin instance.
pub type ValidationBox = Validation_TO<'static, RBox<()>>;
