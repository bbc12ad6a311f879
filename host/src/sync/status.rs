//! Sync's tunables, the status both directions report into, and the handle
//! of the running tasks.

use std::{sync::Arc, time::Duration};

use alloy_primitives::B256;
use hypasis_plugin_api::Direction;
use parking_lot::RwLock;
use serde::Serialize;
use tokio::task::JoinSet;

/// Sync's tunables (from `sync.*`).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Blocks per forward batch.
    pub batch_size: u64,
    /// Backward ranges fetched at once.
    pub ranges_in_flight: usize,
    /// Lowest block backward sync goes to.
    pub floor: u64,
    /// A configured anchor instead of the newest checkpoint.
    pub anchor: Option<(u64, B256)>,
    /// How long forward waits for a new head before asking again.
    pub head_poll: Duration,
    /// Endpoints tried for one batch before the attempt counts as failed.
    pub max_attempts: usize,
    /// Failed attempts at one backward range before it is set aside for
    /// [`SyncSettings::range_cooldown`] (the other ranges go on).
    pub range_attempts: u32,
    /// How long a range that failed [`SyncSettings::range_attempts`] times waits.
    pub range_cooldown: Duration,
    /// How often progress is logged.
    pub log_every: Duration,
    /// Directions validating at `none`: their plugin confirms nothing, so
    /// an anchor they establish is taken as the upstream serves it and
    /// stored unconfirmed instead of being refused forever.
    pub trusts_upstream: Vec<Direction>,
    /// Recover transaction senders in the background (at idle priority).
    pub recover_senders: bool,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            batch_size: 256,
            ranges_in_flight: 4,
            floor: 0,
            anchor: None,
            head_poll: Duration::from_secs(2),
            max_attempts: 4,
            range_attempts: 3,
            range_cooldown: Duration::from_secs(30),
            log_every: Duration::from_secs(5),
            trusts_upstream: Vec::new(),
            recover_senders: true,
        }
    }
}

/// What each direction reports, for logs, `/health` and tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncStatus {
    /// The anchor block.
    pub anchor: Option<u64>,
    /// Highest block of the linked chain (forward sync's tip).
    pub forward: Option<u64>,
    /// Lowest block of the linked chain (how far backward has linked down).
    pub backward: Option<u64>,
    /// Best upstream head seen.
    pub head: Option<u64>,
    /// Whether the last upstream call succeeded.
    pub upstream_healthy: bool,
    /// The last sync error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Forward caught up with the head.
    pub forward_done: bool,
    /// Backward reached its floor.
    pub backward_done: bool,
    /// Reorgs followed.
    pub reorgs: u64,
    /// Batches rejected by validation.
    pub rejected_batches: u64,
    /// Backward ranges in flight now.
    pub ranges_in_flight: usize,
    /// Time spent waiting for the upstream (fetching, JSON, RLP rebuilding), in ms.
    pub fetch_ms: u64,
    /// Time spent validating, in ms.
    pub validate_ms: u64,
    /// Time spent writing to storage, in ms.
    pub write_ms: u64,
    /// Blocks stored by forward sync since start.
    pub forward_blocks: u64,
    /// Blocks stored by backward sync (the anchor's range included) since start.
    pub backward_blocks: u64,
    /// Blocks whose senders were recovered since start.
    pub senders_blocks: u64,
}

/// The running sync: its status and its tasks.
pub struct SyncHandle {
    /// Shared status.
    pub status: Arc<RwLock<SyncStatus>>,
    pub(super) tasks: JoinSet<()>,
}

impl SyncHandle {
    /// Waits for every sync task to stop (after the shutdown token fires).
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}
