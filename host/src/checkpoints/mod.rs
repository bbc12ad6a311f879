//! Where trust comes from: L1 checkpoints (RootChain), Heimdall milestones
//! and spans, and the chain spec of a running devnet.

mod cache;
mod heimdall;
mod l1;
mod tracker;

pub use cache::CheckpointCache;
pub use heimdall::{
    HeimdallCheckpoint, HeimdallError, HeimdallSource, Milestone, SpanInfo, parse_checkpoint,
    parse_milestone, parse_span,
};
pub use l1::{L1Checkpoint, L1CheckpointSource, L1Error};
pub use tracker::{CheckpointTracker, PollIntervals};
