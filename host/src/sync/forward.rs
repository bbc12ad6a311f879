//! Forward sync: from the top of the linked chain to the head, then
//! following it. Reorgs above the newest checkpoint or milestone are
//! followed by walking back to the fork point. Blocks beyond the newest
//! checkpoint or milestone are stored unconfirmed until one covers them:
//! each new checkpoint or milestone (an event of the chain state) has the
//! stored blocks checked against it.
//!
//! The loop is pipelined: batch N+1 is fetched while batch N is validated
//! and batch N-1 written. Each write that lands moves the head of
//! [`ChainState`](crate::chain_state::ChainState) (the one push every
//! reader of the head waits on).

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockPart, BlockRange, BlockRef, Direction, FetchRequest, WriteBatch};
use hypasis_polygon::{
    checkpoint::{checkpoint_root, header_leaf},
    decode_header,
};
use parking_lot::RwLock;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    ledger::{confirm, linked, unwind_batch},
    range_error::RangeError,
    report::ProgressReport,
    services::{Context, Prefetch, SyncServices, backoff, pause},
    status::{SyncSettings, SyncStatus},
};
use crate::{
    chain_state::{ChainWatch, SettledBlock},
    checkpoints::{L1Checkpoint, Milestone},
};

/// Stored blocks are re-checked against the newest checkpoint and
/// milestone at least every this many batches (and at once when one is new).
const CONFIRM_EVERY: u64 = 8;

/// A block forward sync has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    number: u64,
    hash: B256,
}

/// A verified batch being written in the background.
struct PendingWrite {
    /// The cursor before the batch (where to resume if the write fails).
    previous: Cursor,
    /// The cursor after it.
    next: Cursor,
    count: u64,
    head: u64,
    task: tokio::task::JoinHandle<Result<Vec<SettledBlock>, crate::plugins::PluginCallError>>,
}

/// What one turn of the loop decided.
enum Turn {
    /// Go round again at once.
    Again,
    /// Pause `backoff(n)` first.
    Backoff(u32),
    /// Shutdown.
    Stop,
}

/// Forward sync's loop state.
struct Forward {
    services: SyncServices,
    settings: SyncSettings,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
    chain: ChainWatch,
    cursor: Cursor,
    pending: Option<PendingWrite>,
    prefetch: Option<Prefetch>,
    report: ProgressReport,
    failures: u32,
    iterations: u64,
    finalized: watch::Receiver<Option<L1Checkpoint>>,
    safe: watch::Receiver<Option<Milestone>>,
}

/// Runs forward sync until `shutdown`; a batch being written when it fires
/// is written to the end.
pub async fn run(
    services: SyncServices,
    settings: SyncSettings,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
) {
    let Some(top) = services.ledger.coverage().forward_top() else {
        return;
    };
    let hash = match services.stored_hash(top) {
        Ok(Some(hash)) => hash,
        other => {
            tracing::error!(
                top,
                ?other,
                "the top of the linked chain is not stored; forward sync stops"
            );
            return;
        }
    };
    let chain = services.state().watch();
    let mut forward = Forward {
        report: ProgressReport::new("forward", settings.log_every),
        finalized: chain.subscribe_finalized(),
        safe: chain.subscribe_safe(),
        chain,
        services,
        settings,
        status,
        shutdown,
        cursor: Cursor { number: top, hash },
        pending: None,
        prefetch: None,
        failures: 0,
        iterations: 0,
    };
    forward.follow().await;
    if let Some(write) = forward.pending.take() {
        let _ = write.task.await;
    }
}

impl Forward {
    /// The loop, as its steps: confirm what new checkpoints and milestones
    /// cover, learn the upstream's head, then wait at the head or sync the
    /// next batch.
    async fn follow(&mut self) {
        while !self.shutdown.is_cancelled() {
            self.confirm_when_due().await;
            let turn = match self.upstream_head().await {
                None => Turn::Backoff(self.failed()),
                Some(head) if self.cursor.number >= head => self.wait_at_head().await,
                Some(head) => self.sync_batch(head).await,
            };
            match turn {
                Turn::Again => {}
                Turn::Backoff(failures) => {
                    if !pause(backoff(failures), &self.shutdown).await {
                        return;
                    }
                }
                Turn::Stop => return,
            }
        }
    }

    fn failed(&mut self) -> u32 {
        self.failures = (self.failures + 1).min(7);
        self.failures
    }

    /// Step 1: when a checkpoint or milestone is new (or every few
    /// batches), lets the pending write land and checks the stored
    /// unconfirmed blocks against them.
    async fn confirm_when_due(&mut self) {
        let new_events = self.finalized.has_changed().unwrap_or(false)
            || self.safe.has_changed().unwrap_or(false);
        let due =
            self.pending.is_none() || new_events || self.iterations.is_multiple_of(CONFIRM_EVERY);
        self.iterations += 1;
        if due && self.settle().await {
            self.finalized.mark_unchanged();
            self.safe.mark_unchanged();
            self.confirm_stored().await;
        }
    }

    /// Step 2: the upstream's head (`None` when it fails).
    async fn upstream_head(&mut self) -> Option<u64> {
        match self.services.upstream.head().await {
            Ok(head) => {
                // The plugin keeps the last known head; its endpoints say whether any answers now.
                let healthy = self
                    .services
                    .upstream
                    .endpoints()
                    .iter()
                    .any(|endpoint| endpoint.healthy);
                let mut current = self.status.write();
                current.head = Some(head.number);
                current.upstream_healthy = healthy;
                drop(current);
                self.services
                    .metrics
                    .head_lag
                    .record(head.number.saturating_sub(self.cursor.number), &[]);
                Some(head.number)
            }
            Err(error) => {
                self.status.write().upstream_healthy = false;
                self.fail(&format!("upstream head: {error}"));
                None
            }
        }
    }

    /// Step 3a: at the head, waits for a new one (or a new checkpoint or
    /// milestone to check the stored blocks against).
    async fn wait_at_head(&mut self) -> Turn {
        if !self.settle().await {
            return Turn::Again;
        }
        self.status.write().forward_done = true;
        let wait = self.services.upstream.wait_head(
            self.cursor.number,
            self.settings.head_poll.as_millis() as u64,
        );
        tokio::select! {
            _ = self.shutdown.cancelled() => Turn::Stop,
            _ = wait => Turn::Again,
            _ = self.finalized.changed() => Turn::Again,
            _ = self.safe.changed() => Turn::Again,
        }
    }

    /// Step 3b: fetches (or takes the prefetched), validates and starts
    /// writing the next batch; follows a reorg when it no longer links.
    async fn sync_batch(&mut self, head: u64) -> Turn {
        self.status.write().forward_done = false;
        let range = self.next_range(self.cursor.number, head);
        // Fetch the batch after this one while this one is validated and written.
        let current = self.prefetch.take();
        if range.end < head {
            self.prefetch = Some(self.services.prefetch(self.next_range(range.end, head)));
        }
        let context = self.context(range);
        let result = self
            .services
            .fetch_verified_from(
                range,
                &context,
                self.settings.max_attempts,
                &self.status,
                current,
                Vec::new(),
            )
            .await;
        match result {
            Ok(verified) => {
                let Some(last) = verified.blocks.last() else {
                    return Turn::Again;
                };
                let next = Cursor {
                    number: last.number,
                    hash: B256::from(last.hash),
                };
                let count = verified.blocks.len() as u64;
                let batch = WriteBatch {
                    intervals: linked(range, &verified.confirmed).into(),
                    ..Default::default()
                };
                // The previous batch's write must have landed before this
                // one is written (and before it counts as stored).
                if !self.settle().await {
                    return Turn::Backoff(3);
                }
                // Write in the background: the next batch is validated meanwhile.
                let writer = self.services.clone();
                self.pending = Some(PendingWrite {
                    previous: self.cursor,
                    next,
                    count,
                    head,
                    task: tokio::spawn(async move { writer.write(verified.blocks, batch).await }),
                });
                self.cursor = next;
                self.failures = 0;
                Turn::Again
            }
            Err(RangeError::ParentMismatch(rejection)) => {
                if !self.settle().await {
                    return Turn::Again;
                }
                tracing::info!(%rejection, "the upstream's chain no longer extends ours: looking for the fork point");
                match self.follow_reorg().await {
                    Ok(()) => Turn::Again,
                    Err(error) => {
                        self.fail(&format!("reorg: {error}"));
                        Turn::Backoff(2)
                    }
                }
            }
            Err(error) => {
                self.settle().await;
                self.fail(&format!("blocks {}..={}: {error}", range.start, range.end));
                Turn::Backoff(self.failed())
            }
        }
    }

    /// What validation of `range` is given: the stored parent, the newest
    /// milestone when it ends inside, and the checkpoints inside.
    fn context(&self, range: BlockRange) -> Context {
        let anchors: Vec<BlockRef> = self
            .chain
            .safe()
            .iter()
            .filter(|milestone| range.contains(milestone.end))
            .map(|milestone| BlockRef {
                number: milestone.end,
                hash: milestone.hash.0,
            })
            .collect();
        Context {
            direction: Direction::Forward,
            parent: Some(BlockRef {
                number: self.cursor.number,
                hash: self.cursor.hash.0,
            }),
            child: None,
            anchors,
            checkpoints: self.services.checkpoints_inside(range),
        }
    }

    /// Waits for the pending write, if any, books it as stored and moves
    /// the chain state's head. On failure the cursor goes back to before
    /// that batch (anything validated on top of it is dropped) and `false`
    /// is returned.
    async fn settle(&mut self) -> bool {
        let Some(write) = self.pending.take() else {
            return true;
        };
        let outcome = match write.task.await {
            Ok(result) => result.map_err(|error| error.to_string()),
            Err(error) => Err(format!("write task failed: {error}")),
        };
        let settled = match outcome {
            Ok(settled) => settled,
            Err(error) => {
                self.fail(&format!("storage: {error}"));
                self.cursor = write.previous;
                self.prefetch = None;
                return false;
            }
        };
        if let Err(error) = self
            .services
            .state()
            .advance(&settled, self.services.storage.as_ref())
        {
            tracing::warn!(%error, "the head's total difficulty could not be read");
        }
        self.services.metrics.forward_blocks.add(write.count, &[]);
        {
            let mut current = self.status.write();
            current.forward = Some(write.next.number);
            current.forward_blocks += write.count;
            current.write_ms = self
                .services
                .write_time
                .load(std::sync::atomic::Ordering::Relaxed);
            current.last_error = None;
        }
        self.report.stored(
            write.count,
            write.next.number,
            write.head.saturating_sub(write.next.number),
        );
        true
    }

    /// The batch after block `after`: at most `sync.forward.batch_size`
    /// blocks, up to `head`, ending at a checkpoint's end when one ends
    /// inside it (so its root is checked in the batch).
    fn next_range(&self, after: u64, head: u64) -> BlockRange {
        let mut end = (after + self.settings.batch_size).min(head);
        if let Some(checkpoint) = self.services.state().checkpoint_covering(after + 1)
            && checkpoint.end <= end
            && checkpoint.end > after
        {
            end = checkpoint.end;
        }
        BlockRange::new(after + 1, end)
    }

    fn fail(&self, message: &str) {
        self.services.metrics.error("forward");
        tracing::warn!(direction = "forward", "{message}");
        self.status.write().last_error = Some(message.to_string());
    }

    /// The lowest block a reorg may replace: above the newest milestone end
    /// and the newest checkpoint end.
    fn reorg_floor(&self) -> u64 {
        let checkpoint = self
            .chain
            .finalized()
            .map_or(0, |checkpoint| checkpoint.end);
        checkpoint.max(self.chain.safe().map_or(0, |milestone| milestone.end))
    }

    /// Walks down from the cursor until the upstream's canonical hash
    /// matches ours, then unwinds the store above that block.
    async fn follow_reorg(&mut self) -> Result<(), String> {
        let floor = self.reorg_floor();
        let mut number = self.cursor.number;
        loop {
            if number < floor {
                return Err(format!(
                    "the upstream's chain forks below block {floor}, which a checkpoint or milestone confirms: refusing to follow"
                ));
            }
            let fetched = self
                .services
                .upstream
                .fetch(FetchRequest {
                    start: number,
                    end: number,
                    ..Default::default()
                })
                .await
                .map_err(|error| error.to_string())?;
            let theirs = fetched.blocks.first().map(|block| B256::from(block.hash));
            let ours = self
                .services
                .stored_hash(number)
                .map_err(|error| error.to_string())?;
            if theirs.is_some() && theirs == ours {
                break;
            }
            number -= 1;
        }
        let depth = self.cursor.number - number;
        self.unwind_to(number).await?;
        tracing::info!(
            fork = number,
            depth,
            "followed a reorg: unwound the replaced blocks"
        );
        self.status.write().reorgs += 1;
        Ok(())
    }

    /// Unwinds the store (and the chain state) above `number`, with the
    /// one unwind batch.
    async fn unwind_to(&mut self, number: u64) -> Result<(), String> {
        let hash = self
            .services
            .stored_hash(number)
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("block {number} (the fork point) is not stored"))?;
        self.services
            .write_changes(unwind_batch(number))
            .await
            .map_err(|error| error.to_string())?;
        self.prefetch = None;
        self.cursor = Cursor { number, hash };
        self.status.write().forward = Some(number);
        self.services
            .state()
            .unwound(number, hash, None, self.services.storage.as_ref())
            .map_err(|error| error.to_string())
    }

    /// Confirms stored forward blocks that a newer checkpoint root or
    /// milestone hash now covers; unwinds them if they disagree.
    async fn confirm_stored(&mut self) {
        let unconfirmed = self.services.ledger.coverage().unconfirmed;
        let milestone = self.chain.safe();
        for range in unconfirmed.ranges().to_vec() {
            // Checkpoints wholly inside the unconfirmed range: recompute their roots from the store.
            for checkpoint in self.services.checkpoints_inside(range) {
                let (start, end) = (checkpoint.range.start, checkpoint.range.end);
                match self.stored_root(start, end) {
                    Ok(Some(root)) if root == B256::from(checkpoint.root) => {
                        let batch = WriteBatch {
                            intervals: confirm(checkpoint.range).into(),
                            ..Default::default()
                        };
                        if self.services.write_changes(batch).await.is_ok() {
                            tracing::debug!(
                                start,
                                end,
                                "stored blocks confirmed by a new checkpoint"
                            );
                        }
                    }
                    Ok(Some(root)) => {
                        tracing::error!(start, end, %root, expected = %B256::from(checkpoint.root), "stored blocks disagree with a new L1 checkpoint: unwinding and re-fetching");
                        let _ = self.unwind_to(start.saturating_sub(1)).await;
                        return;
                    }
                    _ => {}
                }
            }
            // A milestone inside the range confirms everything up to it (parent links bind them).
            if let Some(milestone) = milestone
                .as_ref()
                .filter(|milestone| range.contains(milestone.end))
            {
                match self.services.stored_hash(milestone.end) {
                    Ok(Some(hash)) if hash == milestone.hash => {
                        let batch = WriteBatch {
                            intervals: confirm(BlockRange::new(range.start, milestone.end)).into(),
                            ..Default::default()
                        };
                        let _ = self.services.write_changes(batch).await;
                    }
                    Ok(Some(_)) => {
                        tracing::warn!(
                            milestone = milestone.end,
                            "stored block differs from the milestone: unwinding to follow the finalised chain"
                        );
                        let to = milestone
                            .start
                            .saturating_sub(1)
                            .max(range.start.saturating_sub(1));
                        let _ = self.unwind_to(to).await;
                        return;
                    }
                    _ => {}
                }
            }
        }
    }

    /// The checkpoint root of the stored canonical blocks `start..=end`
    /// (`None` when one is missing).
    fn stored_root(&self, start: u64, end: u64) -> Result<Option<B256>, String> {
        let storage = &self.services.storage;
        let numbers: Vec<u64> = (start..=end).collect();
        let hashes: Option<Vec<[u8; 32]>> = storage
            .canonical_hashes(&numbers)
            .map_err(|error| error.to_string())?
            .into_iter()
            .collect();
        let Some(hashes) = hashes else {
            return Ok(None);
        };
        let headers = storage
            .parts(BlockPart::Header, &hashes)
            .map_err(|error| error.to_string())?;
        let mut leaves = Vec::with_capacity(headers.len());
        for header in headers {
            let Some(bytes) = header.into_option() else {
                return Ok(None);
            };
            let header = decode_header(&bytes).map_err(|error| error.to_string())?;
            leaves.push(header_leaf(&header));
        }
        Ok(checkpoint_root(&leaves))
    }
}
