//! The head we serve: what devp2p puts into its Status (head, total
//! difficulty, genesis, fork id) and announces, and what the JSON-RPC API
//! calls `latest` and pushes to `newHeads` subscribers.
//!
//! Two sources:
//! - [`ChainView::Served`]: `hypasis-sync serve` over an imported store.
//!   The head is the [`ServedChain`] that `import` wrote; it never moves.
//! - [`ChainView::Sync`]: `hypasis-sync run`. The head is the forward sync
//!   cursor ([`SyncStatus::forward`]) with its hash from storage, followed
//!   every [`HEAD_POLL_INTERVAL`]; the total difficulty is
//!   [`TdTracker`]'s (the newest milestone's TD plus the stored headers
//!   above it, else a lower bound over the stored headers); the earliest
//!   block is the lowest one sync has stored.
//!
//! Either way the result is published on a `watch` channel that every peer
//! task reads ([`ChainWatch`]). Until a head is known (sync not started yet,
//! or the genesis hash not yet learnt) the value is `None` and peers are
//! turned away as useless.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{B256, U256};
use hypasis_plugin_api::BlockPart;
use hypasis_polygon::ChainSpec;
use parking_lot::RwLock;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub mod total_difficulty;

use total_difficulty::TdTracker;

use crate::{
    block_store::BlockStore, checkpoints::HeimdallSource, plugins::PluginCallError,
    served_chain::ServedChain, sync::SyncStatus,
};

/// How often the sync head is looked at (run mode).
pub const HEAD_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How often the newest Heimdall milestone (with its total difficulty) is
/// fetched, in run mode with `heimdall.url`.
pub const MILESTONE_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// The head we serve, with what a Status needs besides the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedHead {
    /// Head block number.
    pub number: u64,
    /// Head block hash.
    pub hash: B256,
    /// Head block timestamp (selects timestamp forks in the fork id).
    pub timestamp: u64,
    /// Total difficulty at the head.
    pub total_difficulty: U256,
    /// The oldest block we serve (eth/69's `earliest`).
    pub earliest: u64,
    /// The genesis hash.
    pub genesis: B256,
}

/// Why the chain view could not start.
#[derive(Debug, thiserror::Error)]
pub enum ChainViewError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] PluginCallError),
    /// The served head's header is not in the store.
    #[error("the store's served head {number} ({hash}) has no stored header")]
    MissingHead {
        /// Its number.
        number: u64,
        /// Its hash.
        hash: B256,
    },
    /// A header in the store does not decode.
    #[error("stored header of block {number} does not decode: {reason}")]
    BadHeader {
        /// Its number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// Neither the spec nor the store knows the genesis hash.
    #[error("the genesis hash of chain `{0}` is unknown (not in the spec, block 0 not stored)")]
    UnknownGenesis(String),
}

/// The two sources of our head.
pub enum ChainView {
    /// A store filled by `hypasis-sync import`: a fixed head.
    Served(Box<ServedChain>),
    /// A syncing host: the forward cursor.
    Sync {
        /// The chain being synced.
        spec: Arc<ChainSpec>,
        /// Sync's status (the forward cursor, the lowest stored block).
        status: Arc<RwLock<SyncStatus>>,
        /// Heimdall, for the milestone total difficulty.
        heimdall: Option<HeimdallSource>,
    },
}

/// What peers read: the spec and the current head.
#[derive(Debug, Clone)]
pub struct ChainWatch {
    spec: Arc<ChainSpec>,
    head: watch::Receiver<Option<ServedHead>>,
}

impl ChainWatch {
    /// A watch over a fixed value (also for tests).
    pub fn fixed(spec: Arc<ChainSpec>, head: Option<ServedHead>) -> Self {
        let (sender, head) = watch::channel(head);
        // Keep the value readable after the sender is gone.
        drop(sender);
        ChainWatch { spec, head }
    }

    /// The chain spec.
    pub fn spec(&self) -> &Arc<ChainSpec> {
        &self.spec
    }

    /// The current head, if known.
    pub fn head(&self) -> Option<ServedHead> {
        *self.head.borrow()
    }

    /// A receiver to wait for head changes on.
    pub fn subscribe(&self) -> watch::Receiver<Option<ServedHead>> {
        self.head.clone()
    }
}

impl ChainView {
    /// The chain spec.
    pub fn spec(&self) -> Arc<ChainSpec> {
        match self {
            ChainView::Served(served) => Arc::new(served.spec.clone()),
            ChainView::Sync { spec, .. } => Arc::clone(spec),
        }
    }

    /// Reads the head and, in sync mode, spawns the task that follows it
    /// until `shutdown`.
    pub fn start(
        self,
        store: Arc<dyn BlockStore>,
        shutdown: CancellationToken,
    ) -> Result<ChainWatch, ChainViewError> {
        let spec = self.spec();
        match self {
            ChainView::Served(served) => {
                let head = served_head(store.as_ref(), &served)?;
                Ok(ChainWatch::fixed(spec, Some(head)))
            }
            ChainView::Sync {
                status, heimdall, ..
            } => {
                let (sender, receiver) = watch::channel(None);
                let follower = SyncFollower {
                    spec: Arc::clone(&spec),
                    store,
                    status,
                    heimdall,
                    td: TdTracker::new(),
                };
                tokio::spawn(follower.run(sender, shutdown));
                Ok(ChainWatch {
                    spec,
                    head: receiver,
                })
            }
        }
    }
}

/// The genesis hash: the spec's, else the stored block 0's.
fn genesis(store: &dyn BlockStore, spec: &ChainSpec) -> Result<Option<B256>, PluginCallError> {
    match spec.genesis_hash {
        Some(hash) => Ok(Some(hash)),
        None => store.canonical_hash(0),
    }
}

/// The timestamp of stored block `hash`.
fn timestamp(store: &dyn BlockStore, number: u64, hash: B256) -> Result<u64, ChainViewError> {
    let header = store
        .part(BlockPart::Header, hash)?
        .ok_or(ChainViewError::MissingHead { number, hash })?;
    hypasis_polygon::decode_header(&header)
        .map(|header| header.timestamp)
        .map_err(|error| ChainViewError::BadHeader {
            number,
            reason: error.to_string(),
        })
}

/// The fixed head of an imported store; `import` stores every block from
/// genesis, so the earliest block served is 0.
fn served_head(store: &dyn BlockStore, served: &ServedChain) -> Result<ServedHead, ChainViewError> {
    let genesis = genesis(store, &served.spec)?
        .ok_or_else(|| ChainViewError::UnknownGenesis(served.spec.name.clone()))?;
    Ok(ServedHead {
        number: served.head_number,
        hash: served.head_hash,
        timestamp: timestamp(store, served.head_number, served.head_hash)?,
        total_difficulty: served.head_total_difficulty,
        earliest: 0,
        genesis,
    })
}

/// Follows the forward sync cursor.
struct SyncFollower {
    spec: Arc<ChainSpec>,
    store: Arc<dyn BlockStore>,
    status: Arc<RwLock<SyncStatus>>,
    heimdall: Option<HeimdallSource>,
    td: TdTracker,
}

impl SyncFollower {
    async fn run(mut self, sender: watch::Sender<Option<ServedHead>>, shutdown: CancellationToken) {
        let mut poll = tokio::time::interval(HEAD_POLL_INTERVAL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut milestones = tokio::time::interval(MILESTONE_REFRESH_INTERVAL);
        milestones.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut warned = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = milestones.tick(), if self.heimdall.is_some() => self.refresh_milestone().await,
                _ = poll.tick() => {}
            }
            match self.read_head() {
                Ok(Some(head)) => {
                    sender.send_if_modified(|current| {
                        let changed = *current != Some(head);
                        *current = Some(head);
                        changed
                    });
                }
                Ok(None) => {}
                Err(error) if !warned => {
                    warned = true;
                    tracing::warn!(%error, "cannot read the sync head");
                }
                Err(_) => {}
            }
        }
    }

    async fn refresh_milestone(&mut self) {
        let Some(heimdall) = &self.heimdall else {
            return;
        };
        match heimdall.latest_milestone().await {
            Ok(milestone) => {
                self.td
                    .set_milestone(milestone.end, milestone.hash, milestone.total_difficulty)
            }
            Err(error) => tracing::debug!(%error, "no milestone for the total difficulty"),
        }
    }

    /// The head now: `None` while sync has stored nothing forward yet or the
    /// genesis is unknown. Summing difficulties reads storage inline; after
    /// the first call only the headers added since are read.
    fn read_head(&mut self) -> Result<Option<ServedHead>, ChainViewError> {
        let (forward, backward, anchor) = {
            let status = self.status.read();
            (status.forward, status.backward, status.anchor)
        };
        let Some(number) = forward.or(anchor) else {
            return Ok(None);
        };
        let store = self.store.as_ref();
        let Some(hash) = store.canonical_hash(number)? else {
            return Ok(None);
        };
        let Some(genesis) = genesis(store, &self.spec)? else {
            return Ok(None);
        };
        let earliest = [backward, anchor]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(number)
            .min(number);
        let td = self.td.compute(store, number, hash, earliest)?;
        Ok(Some(ServedHead {
            number,
            hash,
            timestamp: timestamp(store, number, hash)?,
            total_difficulty: td.value,
            earliest,
            genesis,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::block_store::memory::MemoryStore;

    #[test]
    fn the_served_head_comes_from_the_store() {
        let store = MemoryStore::chain(10);
        let served = ServedChain {
            spec: ChainSpec {
                genesis_hash: None,
                ..ChainSpec::mainnet()
            },
            head_number: 9,
            head_hash: store.hash(9),
            head_total_difficulty: U256::from(77),
        };
        let head = served_head(&store, &served).unwrap();
        assert_eq!(
            head,
            ServedHead {
                number: 9,
                hash: store.hash(9),
                timestamp: 118,
                total_difficulty: U256::from(77),
                earliest: 0,
                genesis: store.hash(0),
            }
        );
        let missing = ServedChain {
            head_hash: B256::repeat_byte(1),
            ..served
        };
        assert!(matches!(
            served_head(&store, &missing),
            Err(ChainViewError::MissingHead { number: 9, .. })
        ));
    }

    #[tokio::test]
    async fn the_sync_head_follows_the_forward_cursor() {
        let store: Arc<dyn BlockStore> = Arc::new(MemoryStore::chain(40));
        let status = Arc::new(RwLock::new(SyncStatus::default()));
        let shutdown = CancellationToken::new();
        let view = ChainView::Sync {
            spec: Arc::new(ChainSpec {
                genesis_hash: None,
                ..ChainSpec::mainnet()
            }),
            status: Arc::clone(&status),
            heimdall: None,
        };
        let watch = view.start(Arc::clone(&store), shutdown.clone()).unwrap();
        assert_eq!(watch.head(), None);
        let mut changes = watch.subscribe();
        {
            let mut status = status.write();
            status.anchor = Some(20);
            status.backward = Some(15);
            status.forward = Some(30);
        }
        tokio::time::timeout(Duration::from_secs(10), changes.changed())
            .await
            .unwrap()
            .unwrap();
        let head = watch.head().unwrap();
        assert_eq!((head.number, head.earliest), (30, 15));
        assert_eq!(head.hash, store.canonical_hash(30).unwrap().unwrap());
        assert_eq!(head.timestamp, 160);
        let expected: u64 = (15..=30).map(|n| 1 + n % 3).sum();
        assert_eq!(head.total_difficulty, U256::from(expected));
        shutdown.cancel();
    }
}
