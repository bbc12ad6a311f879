//! The shared machinery of both directions: fetch a range, validate it (on
//! the blocking pool), and on rejection report the endpoint and try
//! another; write a batch with its transaction index and book it.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{B256, keccak256};
use hypasis_plugin_api::{
    BlockRange, BlockRef, Checkpoint, ChildLink, Direction, ErrorKind, FaultKind, FetchRequest,
    Fetched, RawBlock, Span, ValidationRequest, WriteBatch,
};
use hypasis_polygon::{ChainSpec, roots::body_transactions, state_sync::bor_receipt_tx_hash};
use opentelemetry::KeyValue;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{SpanBook, ledger::Ledger, range_error::RangeError, status::SyncStatus};
use crate::{
    chain_state::{ChainState, SettledBlock},
    checkpoints::{CheckpointTracker, L1Checkpoint},
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
    /// L1 checkpoints and Heimdall milestones.
    pub tracker: Arc<CheckpointTracker>,
    /// Spans, for `full`.
    pub spans: Option<Arc<SpanBook>>,
    /// What is stored, fed to the chain state.
    pub ledger: Arc<Ledger>,
    /// Metrics.
    pub metrics: Metrics,
    /// The chain.
    pub spec: Arc<ChainSpec>,
    /// Milliseconds spent in storage writes (reported in the status).
    pub write_time: Arc<std::sync::atomic::AtomicU64>,
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
    task: Option<tokio::task::JoinHandle<Result<Fetched, PluginCallError>>>,
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

/// A fetch of the whole of `range`, bodies and receipts included.
fn full_request(range: BlockRange, avoid: &[String]) -> FetchRequest {
    FetchRequest {
        start: range.start,
        end: range.end,
        bodies: true,
        receipts: true,
        avoid: avoid.iter().map(|name| name.as_str().into()).collect(),
        ext: Default::default(),
    }
}

/// A checkpoint as validation plugins take it.
pub fn plugin_checkpoint(checkpoint: &L1Checkpoint) -> Checkpoint {
    Checkpoint {
        id: checkpoint.header_block_id,
        range: BlockRange::new(checkpoint.start, checkpoint.end),
        root: checkpoint.root.0,
        ext: Default::default(),
    }
}

impl SyncServices {
    fn validation(&self, direction: Direction) -> Option<&Arc<ValidationPlugin>> {
        match direction {
            Direction::Forward => self.forward.as_ref(),
            Direction::Backward => self.backward.as_ref(),
            _ => None,
        }
    }

    /// The chain state sync feeds.
    pub fn state(&self) -> &Arc<ChainState> {
        self.ledger.state()
    }

    /// Known checkpoints wholly inside `range`, as validation takes them.
    pub fn checkpoints_inside(&self, range: BlockRange) -> Vec<Checkpoint> {
        self.state()
            .checkpoints_inside(range)
            .iter()
            .map(plugin_checkpoint)
            .collect()
    }

    /// Fetches `range`, validates it with `context`, and retries from other
    /// endpoints when one serves blocks that fail. `avoid` starts out with
    /// endpoints already caught on this range.
    pub async fn fetch_verified(
        &self,
        range: BlockRange,
        context: &Context,
        max_attempts: usize,
        status: &RwLock<SyncStatus>,
        avoid: Vec<String>,
    ) -> Result<Verified, RangeError> {
        self.fetch_verified_from(range, context, max_attempts, status, None, avoid)
            .await
    }

    /// Starts fetching `range` (bodies and receipts) in the background, for
    /// [`SyncServices::fetch_verified_from`] to take up later.
    pub fn prefetch(&self, range: BlockRange) -> Prefetch {
        let upstream = Arc::clone(&self.upstream);
        let task = tokio::spawn(async move { upstream.fetch(full_request(range, &[])).await });
        Prefetch {
            range,
            task: Some(task),
        }
    }

    async fn spans_for(&self, range: BlockRange, needed: bool) -> Result<Vec<Span>, RangeError> {
        match (&self.spans, needed) {
            (Some(book), true) => book
                .covering(range)
                .await
                .map_err(|error| RangeError::Internal(error.to_string())),
            (None, true) => Err(RangeError::Internal(
                "the validation level needs spans but heimdall.url is not set".into(),
            )),
            _ => Ok(Vec::new()),
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
        mut avoid: Vec<String>,
    ) -> Result<Verified, RangeError> {
        let validation = self.validation(context.direction).ok_or_else(|| {
            RangeError::Internal("no validation plugin for this direction".into())
        })?;
        let needs = validation.requirements();
        let spans = self.spans_for(range, needs.spans).await?;
        let mut last_rejection = None;
        for _ in 0..max_attempts.max(1) {
            let fetch_started = std::time::Instant::now();
            let early = prefetched
                .take()
                .filter(|early| early.range == range && avoid.is_empty())
                .and_then(|mut early| early.task.take());
            let fetched = match early {
                Some(task) => task.await.map_err(|error| {
                    RangeError::Internal(format!("prefetch task failed: {error}"))
                })?,
                None => self.upstream.fetch(full_request(range, &avoid)).await,
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
                ext: Default::default(),
            };
            let validate_started = std::time::Instant::now();
            let (verdict, blocks) =
                super::verify::validate(Arc::clone(validation), request, !needs.spans).await?;
            status.write().validate_ms += validate_started.elapsed().as_millis() as u64;
            let verdict = verdict.map_err(|error| RangeError::Internal(error.to_string()))?;
            match verdict.into_result() {
                Ok(confirmed) => {
                    return Ok(Verified {
                        blocks,
                        confirmed: confirmed.into_vec(),
                        endpoint,
                    });
                }
                Err(rejection) => {
                    self.metrics.rejected_batches.add(
                        1,
                        &[
                            KeyValue::new("direction", context.direction.as_str()),
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

    /// Stores verified blocks with their transaction index and the rest of
    /// `batch`, atomically, then books its interval changes. Returns what
    /// the chain state needs of each block.
    pub async fn write(
        &self,
        blocks: Vec<RawBlock>,
        mut batch: WriteBatch,
    ) -> Result<Vec<SettledBlock>, PluginCallError> {
        let mut settled = Vec::with_capacity(blocks.len());
        for block in &blocks {
            if let Ok(header) = hypasis_polygon::decode_header(&block.header) {
                settled.push(SettledBlock {
                    number: block.number,
                    hash: B256::from(block.hash),
                    parent_hash: header.parent_hash,
                    difficulty: header.difficulty,
                    timestamp: header.timestamp,
                    header: Arc::new(header),
                });
            }
        }
        let genesis = blocks
            .first()
            .filter(|block| block.number == 0)
            .map(|block| B256::from(block.hash));
        batch.blocks = blocks.into_iter().map(with_tx_hashes).collect();
        let intervals = batch.intervals.clone();
        let started = std::time::Instant::now();
        let result = self.storage.write(batch).await;
        self.write_time.fetch_add(
            started.elapsed().as_millis() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        result?;
        self.ledger.landed(&intervals);
        if let Some(hash) = genesis {
            self.state().set_genesis(hash);
        }
        Ok(settled)
    }

    /// Writes a batch that carries no blocks and books it.
    pub async fn write_changes(&self, batch: WriteBatch) -> Result<(), PluginCallError> {
        let intervals = batch.intervals.clone();
        self.storage.write(batch).await?;
        self.ledger.landed(&intervals);
        Ok(())
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
fn with_tx_hashes(mut block: RawBlock) -> RawBlock {
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
    block.tx_hashes = tx_hashes.into();
    block
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
