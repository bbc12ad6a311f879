//! The one L1 + Heimdall tracker: polls RootChain for its newest
//! checkpoint every `l1.poll_interval` and Heimdall for its newest
//! milestone every `heimdall.poll_interval`, and hands what is new to
//! [`ChainState`], whose `finalized` and `safe` channels are the events
//! sync, the API and devp2p wait on. Older checkpoints backward sync asks
//! for are fetched on demand ([`CheckpointTracker::covering`]) and kept in
//! the store's checkpoint cache, so a restart reads no L1 history again.
//! The `checkpoint` commands use the same type for one-off reads.

use std::{sync::Arc, time::Duration};

use hypasis_polygon::rootchain::HEADER_BLOCK_SPACING;
use tokio_util::sync::CancellationToken;

use super::{
    CheckpointCache, HeimdallError, HeimdallSource, L1Checkpoint, L1CheckpointSource, L1Error,
    Milestone,
};
use crate::{chain_state::ChainState, plugins::StoragePlugin};

/// The longest wait after failed polls (they back off from the interval).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How often each source is polled.
#[derive(Debug, Clone, Copy)]
pub struct PollIntervals {
    /// L1 (`l1.poll_interval`).
    pub l1: Duration,
    /// Heimdall (`heimdall.poll_interval`).
    pub heimdall: Duration,
}

/// Tracks L1 checkpoints and Heimdall milestones for one host.
pub struct CheckpointTracker {
    state: Arc<ChainState>,
    l1: Option<L1CheckpointSource>,
    heimdall: Option<HeimdallSource>,
    storage: Arc<StoragePlugin>,
    /// Serialises writes to the checkpoint cache.
    caching: tokio::sync::Mutex<()>,
}

impl CheckpointTracker {
    /// A tracker over the sources given (either may be absent), with the
    /// checkpoints cached in `storage` handed to `state` at once.
    pub fn new(
        state: Arc<ChainState>,
        l1: Option<L1CheckpointSource>,
        heimdall: Option<HeimdallSource>,
        storage: Arc<StoragePlugin>,
    ) -> Arc<Self> {
        let cache = CheckpointCache::new(&storage);
        let mut cached = Vec::new();
        if let Ok(Some(latest)) = cache.latest() {
            let mut id = latest.header_block_id;
            while let Ok(Some(checkpoint)) = cache.get(id) {
                id = checkpoint
                    .header_block_id
                    .saturating_sub(HEADER_BLOCK_SPACING);
                cached.push(checkpoint);
                if id == 0 {
                    break;
                }
            }
        }
        state.add_checkpoints(&cached);
        Arc::new(CheckpointTracker {
            state,
            l1,
            heimdall,
            storage,
            caching: tokio::sync::Mutex::new(()),
        })
    }

    /// The chain state it feeds.
    pub fn state(&self) -> &Arc<ChainState> {
        &self.state
    }

    /// The Heimdall client (spans for `full`), when configured.
    pub fn heimdall(&self) -> Option<&HeimdallSource> {
        self.heimdall.as_ref()
    }

    /// Whether an L1 source is configured.
    pub fn has_l1(&self) -> bool {
        self.l1.is_some()
    }

    /// Runs both polls until `shutdown`.
    pub async fn run(self: Arc<Self>, intervals: PollIntervals, shutdown: CancellationToken) {
        let l1 = {
            let tracker = Arc::clone(&self);
            let shutdown = shutdown.clone();
            async move {
                if tracker.l1.is_some() {
                    poll(intervals.l1, &shutdown, "L1 checkpoint", || {
                        let tracker = Arc::clone(&tracker);
                        async move {
                            tracker
                                .refresh_l1()
                                .await
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                    })
                    .await;
                }
            }
        };
        let heimdall = {
            let tracker = Arc::clone(&self);
            let shutdown = shutdown.clone();
            async move {
                if tracker.heimdall.is_some() {
                    poll(intervals.heimdall, &shutdown, "Heimdall milestone", || {
                        let tracker = Arc::clone(&tracker);
                        async move {
                            tracker
                                .refresh_milestone()
                                .await
                                .map(|_| ())
                                .map_err(|e| e.to_string())
                        }
                    })
                    .await;
                }
            }
        };
        tokio::join!(l1, heimdall);
    }

    /// Asks L1 for its newest checkpoint now and records it; returns it.
    /// Without an L1 source, the newest known one.
    pub async fn refresh_l1(&self) -> Result<Option<L1Checkpoint>, L1Error> {
        let Some(source) = &self.l1 else {
            return Ok(self.newest());
        };
        let latest = source.latest().await?;
        if let Some(checkpoint) = &latest
            && self.newest().as_ref() != Some(checkpoint)
        {
            self.remember(std::slice::from_ref(checkpoint)).await;
        }
        Ok(latest)
    }

    /// Asks Heimdall for its newest milestone now and records it.
    pub async fn refresh_milestone(&self) -> Result<Option<Milestone>, HeimdallError> {
        let Some(heimdall) = &self.heimdall else {
            return Ok(None);
        };
        let milestone = heimdall.latest_milestone().await?;
        self.state.set_safe(milestone.clone());
        Ok(Some(milestone))
    }

    /// The newest known checkpoint.
    pub fn newest(&self) -> Option<L1Checkpoint> {
        self.state.checkpoints().pop()
    }

    async fn remember(&self, checkpoints: &[L1Checkpoint]) {
        self.state.add_checkpoints(checkpoints);
        let _one_at_a_time = self.caching.lock().await;
        if let Err(error) = CheckpointCache::new(&self.storage).put(checkpoints).await {
            tracing::warn!(%error, "could not cache checkpoints");
        }
    }

    /// The checkpoint covering `number`, asking L1 if it is not known.
    pub async fn covering(&self, number: u64) -> Result<Option<L1Checkpoint>, L1Error> {
        if let Some(checkpoint) = self.state.checkpoint_covering(number) {
            return Ok(Some(checkpoint));
        }
        let Some(source) = &self.l1 else {
            return Ok(None);
        };
        // Only L1 can say that no checkpoint covers `number` yet: the
        // known ones (cached, or not polled yet) may stop below it.
        let newest = match self.newest() {
            Some(newest) if newest.end >= number => newest,
            _ => match self.refresh_l1().await? {
                Some(newest) => newest,
                None => return Ok(None),
            },
        };
        // Usually the one just below a known checkpoint.
        if let Some(above) = self.state.checkpoint_above(number)
            && above.header_block_id > HEADER_BLOCK_SPACING
            && let Some(below) = source
                .get(above.header_block_id - HEADER_BLOCK_SPACING)
                .await?
            && below.start <= number
            && number <= below.end
        {
            self.remember(std::slice::from_ref(&below)).await;
            return Ok(Some(below));
        }
        let found = source.covering(number, &newest).await?;
        if let Some(checkpoint) = &found {
            self.remember(std::slice::from_ref(checkpoint)).await;
        }
        Ok(found)
    }
}

/// Calls `once` every `interval` until `shutdown`; after a failure waits
/// twice as long each time (up to [`MAX_BACKOFF`]) and logs.
async fn poll<F, Fut>(interval: Duration, shutdown: &CancellationToken, what: &str, mut once: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut wait = interval;
    loop {
        match once().await {
            Ok(()) => wait = interval,
            Err(error) => {
                wait = (wait * 2).min(MAX_BACKOFF.max(interval));
                tracing::warn!(%error, retry_in = ?wait, "{what} poll failed");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
