//! The `Validation` interface: one plugin per validation level (none,
//! header, light, full), chosen per sync direction.

use abi_stable::{
    StableAbi, sabi_trait,
    std_types::{RBox, ROption, RString, RVec},
};

use crate::{BlockRange, BlockRef, H160, H256, PluginResult, RawBlock};

crate::open_enum! {
    /// Which way a batch was synced.
    pub enum Direction: u8 {
        /// Checkpoint towards the head.
        Forward = 1 => "forward",
        /// Checkpoint towards genesis.
        Backward = 2 => "backward",
    }
}

crate::extension_trait! {
    /// Fields [`Checkpoint`] gains after 3.0.
    CheckpointExt, CheckpointExt_TO, CheckpointExtension
}

/// An L1 checkpoint: Heimdall's Merkle root over the blocks `[start, end]`.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Checkpoint {
    /// The RootChain header-block id (multiples of 10,000 on mainnet).
    pub id: u64,
    /// The blocks the root covers.
    pub range: BlockRange,
    /// The root hash.
    pub root: H256,
    /// Fields added after 3.0.
    pub ext: CheckpointExtension,
}

crate::extension_trait! {
    /// Fields [`Producer`] gains after 3.0.
    ProducerExt, ProducerExt_TO, ProducerExtension
}

/// A block producer of a span, with its voting power.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Producer {
    /// Heimdall validator id.
    pub id: u64,
    /// Signer address.
    pub address: H160,
    /// Voting power.
    pub power: u64,
    /// Fields added after 3.0.
    pub ext: ProducerExtension,
}

crate::extension_trait! {
    /// Fields [`Span`] gains after 3.0.
    SpanExt, SpanExt_TO, SpanExtension
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
    /// Fields added after 3.0.
    pub ext: SpanExtension,
}

/// A trusted block just above a batch: the batch's last block must hash to
/// `parent_hash`. A value type: frozen.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, StableAbi)]
pub struct ChildLink {
    /// Number of the trusted child block.
    pub number: u64,
    /// The child's parent hash.
    pub parent_hash: H256,
}

crate::extension_trait! {
    /// Fields [`ValidationRequest`] gains after 3.0.
    ValidationRequestExt, ValidationRequestExt_TO, ValidationRequestExtension
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
    /// Fields added after 3.0.
    pub ext: ValidationRequestExtension,
}

crate::extension_trait! {
    /// Fields [`Rejection`] gains after 3.0.
    RejectionExt, RejectionExt_TO, RejectionExtension
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
    /// Fields added after 3.0.
    pub ext: RejectionExtension,
}

impl Rejection {
    /// Block `number`'s `field` was `found` where `expected` was due.
    pub fn new(
        number: u64,
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Rejection {
            number,
            field: RString::from(field.into()),
            expected: RString::from(expected.into()),
            found: RString::from(found.into()),
            ext: Default::default(),
        }
    }
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

crate::open_enum! {
    /// How a validation call came out. A host treats an outcome it does not
    /// know as a rejection of the whole batch.
    pub enum Outcome: u8 {
        /// Every check the level makes passed.
        Accepted = 1 => "accepted",
        /// A check failed; nothing in the batch may be stored as verified.
        Rejected = 2 => "rejected",
    }
}

crate::extension_trait! {
    /// Fields [`Verdict`] gains after 3.0.
    VerdictExt, VerdictExt_TO, VerdictExtension
}

/// The outcome of validating a batch.
#[repr(C)]
#[derive(Debug, Clone, PartialEq, Eq, StableAbi)]
pub struct Verdict {
    /// Accepted or rejected.
    pub outcome: Outcome,
    /// When accepted: the parts of the batch that a checkpoint root (or a
    /// trusted anchor chain) confirms; the rest is linked but unconfirmed.
    pub confirmed: RVec<BlockRange>,
    /// When rejected: the first block and field that failed.
    pub rejection: ROption<Rejection>,
    /// Fields added after 3.0.
    pub ext: VerdictExtension,
}

impl Verdict {
    /// Accepted, with the ranges confirmed.
    pub fn accepted(confirmed: impl Into<RVec<BlockRange>>) -> Self {
        Verdict {
            outcome: Outcome::Accepted,
            confirmed: confirmed.into(),
            rejection: ROption::RNone,
            ext: Default::default(),
        }
    }

    /// Rejected, for `rejection`.
    pub fn rejected(rejection: Rejection) -> Self {
        Verdict {
            outcome: Outcome::Rejected,
            confirmed: RVec::new(),
            rejection: ROption::RSome(rejection),
            ext: Default::default(),
        }
    }

    /// The confirmed ranges when accepted, else the rejection. An outcome
    /// this version does not know, or a rejection without its reason,
    /// comes out as a rejection that says so.
    /// The rejection is boxed: it is the rare, large side.
    pub fn into_result(self) -> Result<RVec<BlockRange>, Box<Rejection>> {
        match (self.outcome, self.rejection) {
            (Outcome::Accepted, _) => Ok(self.confirmed),
            (Outcome::Rejected, ROption::RSome(rejection)) => Err(Box::new(rejection)),
            (outcome, rejection) => Err(Box::new(rejection.into_option().unwrap_or_else(|| {
                Rejection::new(0, "verdict", "accepted or rejected", outcome.to_string())
            }))),
        }
    }
}

crate::extension_trait! {
    /// Fields [`Requirements`] gains after 3.0.
    RequirementsExt, RequirementsExt_TO, RequirementsExtension
}

/// What a validation level reads beyond headers, so the host fetches and
/// passes only what is needed.
#[repr(C)]
#[derive(Debug, Clone, Default, PartialEq, Eq, StableAbi)]
pub struct Requirements {
    /// Bodies must be present in every block of a request.
    pub bodies: bool,
    /// Receipts must be present in every block of a request.
    pub receipts: bool,
    /// Spans covering the batch must be passed.
    pub spans: bool,
    /// Fields added after 3.0.
    pub ext: RequirementsExtension,
}

impl Requirements {
    /// A level that reads `bodies`, `receipts` and `spans` as given.
    pub fn new(bodies: bool, receipts: bool, spans: bool) -> Self {
        Requirements {
            bodies,
            receipts,
            spans,
            ext: Default::default(),
        }
    }
}

/// A validation level. Calls are synchronous and CPU-bound: the host makes
/// them from its blocking pool, possibly from several threads at once. A
/// minor version may add methods after `validate`, each with a default body.
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
