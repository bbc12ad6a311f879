//! The shared machinery: fetch a range, validate it (on the blocking pool),
//! and on rejection report the endpoint and try another; write a batch with
//! its index entries; the status both directions report into.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{B256, keccak256};
use hypasis_plugin_api::{
    BlockRange, BlockRef, Checkpoint, ChildLink, Direction, ErrorKind, FaultKind, FetchRequest,
    RawBlock, Rejection, Span, StoredBlock, ValidationRequest, Verdict, WriteBatch,
};
use hypasis_polygon::{ChainSpec, roots::body_transactions, state_sync::bor_receipt_tx_hash};
use opentelemetry::KeyValue;
use parking_lot::RwLock;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{CheckpointBook, SpanBook, progress::Progress};
use crate::{
    checkpoints::HeimdallSource,
    metrics::Metrics,
    plugins::{PluginCallError, StoragePlugin, UpstreamPlugin, ValidationPlugin},
};

/// What sync runs with.
#[derive(Clone)]
pub struct SyncServices {
    /// The block store.
    pub storage: Arc<StoragePlugin>,
    /// The block source.
    pub upstream: Arc<UpstreamPlugin>,
    /// Forward validation (forward sync off when `None`).
    pub forward: Option<Arc<ValidationPlugin>>,
    /// Backward validation (backward sync off when `None`).
    pub backward: Option<Arc<ValidationPlugin>>,
    /// Known checkpoints.
    pub checkpoints: Arc<CheckpointBook>,
    /// Spans, for `full`.
    pub spans: Option<Arc<SpanBook>>,
    /// Heimdall, for milestones.
    pub heimdall: Option<HeimdallSource>,
    /// Metrics.
    pub metrics: Metrics,
    /// The chain.
    pub spec: Arc<ChainSpec>,
    /// Milliseconds spent in storage writes (reported in the status).
    pub write_time: Arc<std::sync::atomic::AtomicU64>,
}

/// Sync's tunables (from `sync.*`).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Blocks per forward batch.
    pub batch_size: u64,
    /// Backward checkpoint ranges fetched at once.
    pub ranges_in_flight: usize,
    /// Lowest block backward sync goes to.
    pub floor: u64,
    /// A configured anchor instead of the newest checkpoint.
    pub anchor: Option<(u64, B256)>,
    /// How long forward waits for a new head before asking again.
    pub head_poll: Duration,
    /// Endpoints tried for one batch before pausing.
    pub max_attempts: usize,
    /// How often progress is logged.
    pub log_every: Duration,
    /// Directions validating at `none`: their plugin confirms nothing, so
    /// an anchor they establish is taken as the upstream serves it and
    /// stored unconfirmed instead of being refused forever.
    pub trusts_upstream: Vec<Direction>,
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
            log_every: Duration::from_secs(5),
            trusts_upstream: Vec::new(),
        }
    }
}

/// What each direction reports, for logs, `/health` and tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncStatus {
    /// The anchor block.
    pub anchor: Option<u64>,
    /// Highest block stored by forward sync.
    pub forward: Option<u64>,
    /// Lowest block stored by backward sync.
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
    /// The newest Heimdall milestone seen (`safe` in the JSON-RPC API).
    #[serde(skip)]
    pub milestone: Option<crate::checkpoints::Milestone>,
}

/// The running sync: its status and its tasks.
pub struct SyncHandle {
    /// Shared status.
    pub status: Arc<RwLock<SyncStatus>>,
    /// The L1 checkpoints sync works with.
    pub checkpoints: Arc<super::CheckpointBook>,
    tasks: JoinSet<()>,
}

impl SyncHandle {
    /// Waits for both directions to stop (after the shutdown token fires).
    pub async fn join(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Why one attempt at a range failed.
#[derive(Debug)]
pub enum RangeError {
    /// The first block does not link to the trusted parent: the stored tip
    /// may be on a dead fork.
    ParentMismatch(Rejection),
    /// Every endpoint tried served blocks that failed validation.
    Rejected(Rejection),
    /// The upstream failed.
    Upstream(PluginCallError),
    /// Validation could not run, or storage failed.
    Internal(String),
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::ParentMismatch(rejection) => {
                write!(f, "does not link to the stored chain: {rejection}")
            }
            RangeError::Rejected(rejection) => {
                write!(f, "rejected by every endpoint tried: {rejection}")
            }
            RangeError::Upstream(error) => write!(f, "{error}"),
            RangeError::Internal(message) => f.write_str(message),
        }
    }
}

/// What a validated range comes with.
pub struct Context {
    /// The direction (and so the validation plugin).
    pub direction: Direction,
    /// A trusted block below.
    pub parent: Option<BlockRef>,
    /// A trusted block above.
    pub child: Option<ChildLink>,
    /// Trusted hashes inside.
    pub anchors: Vec<BlockRef>,
    /// Checkpoints inside.
    pub checkpoints: Vec<Checkpoint>,
}

/// A fetch started ahead of its turn (forward sync fetches the next batch
/// while the current one is validated and written).
pub struct Prefetch {
    /// The range asked for.
    pub range: BlockRange,
    /// When it was started.
    pub started: std::time::Instant,
    task: Option<tokio::task::JoinHandle<Result<hypasis_plugin_api::Fetched, PluginCallError>>>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // A prefetch that is not taken up (a reorg, a new checkpoint boundary) is abandoned.
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// A range that passed validation.
pub struct Verified {
    /// The blocks.
    pub blocks: Vec<RawBlock>,
    /// Ranges confirmed by checkpoint roots, anchors or seals.
    pub confirmed: Vec<BlockRange>,
    /// The endpoint that served them.
    pub endpoint: String,
}

impl SyncServices {
    fn validation(&self, direction: Direction) -> Option<&Arc<ValidationPlugin>> {
        match direction {
            Direction::Forward => self.forward.as_ref(),
            Direction::Backward => self.backward.as_ref(),
        }
    }

    /// Fetches `range`, validates it with `context`, and retries from other
    /// endpoints when one serves blocks that fail.
    pub async fn fetch_verified(
        &self,
        range: BlockRange,
        context: &Context,
        max_attempts: usize,
        status: &RwLock<SyncStatus>,
    ) -> Result<Verified, RangeError> {
        self.fetch_verified_from(range, context, max_attempts, status, None)
            .await
    }

    /// Starts fetching `range` (bodies and receipts) in the background, for
    /// [`SyncServices::fetch_verified_from`] to take up later.
    pub fn prefetch(&self, range: BlockRange) -> Prefetch {
        let upstream = Arc::clone(&self.upstream);
        let started = std::time::Instant::now();
        let task = tokio::spawn(async move {
            upstream
                .fetch(FetchRequest {
                    start: range.start,
                    end: range.end,
                    bodies: true,
                    receipts: true,
                    avoid: Default::default(),
                })
                .await
        });
        Prefetch {
            range,
            started,
            task: Some(task),
        }
    }

    /// [`SyncServices::fetch_verified`], with the first attempt's blocks
    /// taken from `prefetched` (started earlier for the same range) when given.
    pub async fn fetch_verified_from(
        &self,
        range: BlockRange,
        context: &Context,
        max_attempts: usize,
        status: &RwLock<SyncStatus>,
        mut prefetched: Option<Prefetch>,
    ) -> Result<Verified, RangeError> {
        let validation = self.validation(context.direction).ok_or_else(|| {
            RangeError::Internal("no validation plugin for this direction".into())
        })?;
        let needs = validation.requirements();
        let spans: Vec<Span> = match (&self.spans, needs.spans) {
            (Some(book), true) => book
                .covering(range)
                .await
                .map_err(|error| RangeError::Internal(error.to_string()))?,
            (None, true) => {
                return Err(RangeError::Internal(
                    "the validation level needs spans but heimdall.url is not set".into(),
                ));
            }
            _ => Vec::new(),
        };
        let mut avoid: Vec<String> = Vec::new();
        let mut last_rejection = None;
        for _ in 0..max_attempts.max(1) {
            let fetch_started = std::time::Instant::now();
            let fetched = match prefetched.take().filter(|early| early.range == range) {
                Some(mut early) => match early.task.take() {
                    Some(task) => match task.await {
                        Ok(fetched) => fetched,
                        Err(error) => {
                            return Err(RangeError::Internal(format!(
                                "prefetch task failed: {error}"
                            )));
                        }
                    },
                    None => continue,
                },
                None => {
                    self.upstream
                        .fetch(FetchRequest {
                            start: range.start,
                            end: range.end,
                            bodies: true,
                            receipts: true,
                            avoid: avoid.iter().map(|name| name.as_str().into()).collect(),
                        })
                        .await
                }
            };
            let fetched = match fetched {
                Ok(fetched) => {
                    status.write().upstream_healthy = true;
                    fetched
                }
                Err(error)
                    if !avoid.is_empty()
                        && last_rejection.is_some()
                        && error.error.kind == ErrorKind::Unavailable =>
                {
                    break;
                }
                Err(error) => {
                    status.write().upstream_healthy = false;
                    return Err(RangeError::Upstream(error));
                }
            };
            status.write().fetch_ms += fetch_started.elapsed().as_millis() as u64;
            let endpoint = fetched.endpoint.to_string();
            let request = ValidationRequest {
                direction: context.direction,
                blocks: fetched.blocks,
                parent: context.parent.into(),
                child: context.child.into(),
                anchors: context.anchors.clone().into(),
                checkpoints: context.checkpoints.clone().into(),
                spans: spans.clone().into(),
            };
            let validate_started = std::time::Instant::now();
            let (verdict, blocks) =
                super::verify::validate(Arc::clone(validation), request, !needs.spans).await?;
            status.write().validate_ms += validate_started.elapsed().as_millis() as u64;
            match verdict.map_err(|error| RangeError::Internal(error.to_string()))? {
                Verdict::Accepted { confirmed } => {
                    return Ok(Verified {
                        blocks,
                        confirmed: confirmed.into_vec(),
                        endpoint,
                    });
                }
                Verdict::Rejected(rejection) => {
                    let direction = if context.direction == Direction::Forward {
                        "forward"
                    } else {
                        "backward"
                    };
                    self.metrics.rejected_batches.add(
                        1,
                        &[
                            KeyValue::new("direction", direction),
                            KeyValue::new("field", rejection.field.to_string()),
                        ],
                    );
                    status.write().rejected_batches += 1;
                    if rejection.field.as_str() == "parentHash"
                        && context.parent.is_some()
                        && rejection.number == range.start
                    {
                        return Err(RangeError::ParentMismatch(rejection));
                    }
                    tracing::warn!(%endpoint, start = range.start, end = range.end, %rejection, "upstream served blocks that failed validation; trying another endpoint");
                    self.upstream
                        .report(&endpoint, FaultKind::InvalidData, &rejection.to_string());
                    avoid.push(endpoint);
                    last_rejection = Some(rejection);
                }
            }
        }
        Err(last_rejection.map_or_else(
            || RangeError::Internal("no attempt made".into()),
            RangeError::Rejected,
        ))
    }

    /// Stores verified blocks with their transaction index and `extra` changes, atomically.
    pub async fn write(
        &self,
        blocks: Vec<RawBlock>,
        mut batch: WriteBatch,
    ) -> Result<(), PluginCallError> {
        batch.blocks = blocks
            .into_iter()
            .map(stored_block)
            .collect::<Vec<_>>()
            .into();
        let started = std::time::Instant::now();
        let result = self.storage.write(batch).await;
        self.write_time.fetch_add(
            started.elapsed().as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        result
    }

    /// The stored canonical hash at `number`.
    pub fn stored_hash(&self, number: u64) -> Result<Option<B256>, PluginCallError> {
        Ok(self
            .storage
            .canonical_hashes(&[number])?
            .into_iter()
            .next()
            .flatten()
            .map(B256::from))
    }
}

/// A raw block with the transaction hashes the store indexes (the bor
/// receipt's derived hash last, at index `transactions.len()`): those the
/// source handed on when it gave one per body transaction, otherwise the
/// body's transactions hashed here.
fn stored_block(mut block: RawBlock) -> StoredBlock {
    let transactions = block
        .body
        .as_ref()
        .into_option()
        .and_then(|body| body_transactions(body).ok());
    let handed_on = std::mem::take(&mut block.tx_hashes).into_vec();
    let mut tx_hashes: Vec<[u8; 32]> = match transactions {
        // The source hashed (and checked) every transaction already.
        Some(items) if items.len() == handed_on.len() => handed_on,
        Some(items) => items.iter().map(|item| keccak256(item).0).collect(),
        None => Vec::new(),
    };
    if block.state_sync.is_some() {
        tx_hashes.push(bor_receipt_tx_hash(block.number, &B256::from(block.hash)).0);
    }
    StoredBlock {
        block,
        tx_hashes: tx_hashes.into(),
    }
}

/// Starts sync: the anchor first (unless already stored), then forward and
/// backward at once. Returns at once; the work runs until `shutdown`.
pub fn start(
    services: SyncServices,
    settings: SyncSettings,
    shutdown: CancellationToken,
) -> SyncHandle {
    let status = Arc::new(RwLock::new(SyncStatus {
        upstream_healthy: true,
        ..SyncStatus::default()
    }));
    let checkpoints = Arc::clone(&services.checkpoints);
    let mut tasks = JoinSet::new();
    tasks.spawn(super::observe::run(
        services.clone(),
        Duration::from_secs(2),
        shutdown.clone(),
    ));
    let task_status = Arc::clone(&status);
    tasks.spawn(async move {
        let progress =
            match super::anchor::establish(&services, &settings, &task_status, &shutdown).await {
                Some(progress) => progress,
                None => return,
            };
        let mut directions = JoinSet::new();
        if services.forward.is_some() {
            directions.spawn(super::forward::run(
                services.clone(),
                settings.clone(),
                progress.clone(),
                Arc::clone(&task_status),
                shutdown.clone(),
            ));
        }
        if services.backward.is_some() {
            directions.spawn(super::backward::run(
                services.clone(),
                settings.clone(),
                progress.clone(),
                Arc::clone(&task_status),
                shutdown.clone(),
            ));
        }
        while directions.join_next().await.is_some() {}
    });
    SyncHandle {
        status,
        checkpoints,
        tasks,
    }
}

/// Sleeps `duration` unless `shutdown` fires first; returns false on shutdown.
pub async fn pause(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(duration) => true,
    }
}

/// Exponential backoff for retries: 250 ms doubling to 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250u64.saturating_mul(1 << attempt.min(7))).min(Duration::from_secs(30))
}

/// Loads progress, logging a storage failure as a sync error.
pub fn load_progress(storage: &StoragePlugin) -> Progress {
    Progress::load(storage).unwrap_or_else(|error| {
        tracing::error!(%error, "cannot read sync progress; starting over");
        Progress::default()
    })
}
