//! Forward sync: from the anchor to the head, then following it. Reorgs
//! above the newest checkpoint or milestone are followed by walking back to
//! the fork point. Blocks beyond the newest checkpoint or milestone are
//! stored unconfirmed until one covers them.

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockPart, BlockRange, BlockRef, Direction, WriteBatch};
use hypasis_polygon::{
    checkpoint::{checkpoint_root, header_leaf},
    decode_header,
};
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{
    SyncCursor,
    pipeline::{Context, RangeError, SyncServices, SyncSettings, SyncStatus, backoff, pause},
    progress::{Progress, UNCONFIRMED, confirm, forget_above, interval_changes},
    report::ProgressReport,
};
use crate::checkpoints::Milestone;

/// Stored blocks are re-checked against new checkpoints and milestones at
/// least every this many batches (and whenever a new one appears).
const CONFIRM_EVERY: u64 = 8;

/// Runs forward sync until `shutdown`; a batch being written when it fires
/// is written to the end.
pub async fn run(
    services: SyncServices,
    settings: SyncSettings,
    progress: Progress,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
) {
    let mut pending: Option<PendingWrite> = None;
    follow(services, settings, progress, status, shutdown, &mut pending).await;
    if let Some(write) = pending {
        let _ = write.task.await;
    }
}

async fn follow(
    services: SyncServices,
    settings: SyncSettings,
    progress: Progress,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
    pending: &mut Option<PendingWrite>,
) {
    let Some(mut cursor) = progress.forward.or(progress.anchor) else {
        return;
    };
    let mut report = ProgressReport::new("forward", settings.log_every);
    let mut failures = 0u32;
    let mut milestone: Option<Milestone> = None;
    let mut prefetch: Option<super::pipeline::Prefetch> = None;
    let mut iterations = 0u64;
    let mut confirmed_marker: (Option<u64>, Option<u64>) = (None, None);
    while !shutdown.is_cancelled() {
        if let Some(heimdall) = &services.heimdall
            && let Ok(latest) = heimdall.latest_milestone().await
        {
            status.write().milestone = Some(latest.clone());
            milestone = Some(latest);
        }
        if let Err(error) = services.checkpoints.refresh().await {
            tracing::debug!(%error, "L1 checkpoint refresh failed");
        }
        // Confirming reads and may unwind the store: the pending write first.
        let marker = (
            services
                .checkpoints
                .newest()
                .map(|checkpoint| checkpoint.end),
            milestone.as_ref().map(|milestone| milestone.end),
        );
        if (pending.is_none()
            || marker != confirmed_marker
            || iterations.is_multiple_of(CONFIRM_EVERY))
            && settle(&services, pending, &mut cursor, &status, &mut report).await
        {
            confirm_stored(&services, &mut cursor, milestone.as_ref(), &status).await;
            confirmed_marker = marker;
        }
        iterations += 1;

        let head = match services.upstream.head().await {
            Ok(head) => {
                // The plugin keeps the last known head; its endpoints say whether any answers now.
                let healthy = services
                    .upstream
                    .endpoints()
                    .iter()
                    .any(|endpoint| endpoint.healthy);
                let mut current = status.write();
                current.head = Some(head.number);
                current.upstream_healthy = healthy;
                head.number
            }
            Err(error) => {
                status.write().upstream_healthy = false;
                fail(&services, &status, &format!("upstream head: {error}"));
                failures = (failures + 1).min(7);
                if !pause(backoff(failures), &shutdown).await {
                    return;
                }
                continue;
            }
        };
        services
            .metrics
            .head_lag
            .record(head.saturating_sub(cursor.number), &[]);
        if cursor.number >= head {
            if !settle(&services, pending, &mut cursor, &status, &mut report).await {
                continue;
            }
            status.write().forward_done = true;
            let wait = services
                .upstream
                .wait_head(cursor.number, settings.head_poll.as_millis() as u64);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wait => {}
            }
            continue;
        }
        status.write().forward_done = false;
        let range = next_range(&services, &settings, cursor.number, head);
        // Fetch the batch after this one while this one is validated and written.
        let current = prefetch.take();
        if range.end < head {
            prefetch = Some(services.prefetch(next_range(&services, &settings, range.end, head)));
        }
        let anchors: Vec<BlockRef> = milestone
            .iter()
            .filter(|milestone| range.contains(milestone.end))
            .map(|milestone| BlockRef {
                number: milestone.end,
                hash: milestone.hash.0,
            })
            .collect();
        let context = Context {
            direction: Direction::Forward,
            parent: Some(BlockRef {
                number: cursor.number,
                hash: cursor.hash.0,
            }),
            child: None,
            anchors,
            checkpoints: services.checkpoints.inside(range),
        };
        match services
            .fetch_verified_from(range, &context, settings.max_attempts, &status, current)
            .await
        {
            Ok(verified) => {
                let Some(last) = verified.blocks.last() else {
                    continue;
                };
                let next = SyncCursor {
                    number: last.number,
                    hash: B256::from(last.hash),
                };
                let count = verified.blocks.len() as u64;
                let batch = WriteBatch {
                    intervals: interval_changes(range, &verified.confirmed).into(),
                    meta: vec![Progress::forward_change(&next)].into(),
                    ..Default::default()
                };
                // The previous batch's write must have landed before this
                // one is written (and before it counts as stored).
                if !settle(&services, pending, &mut cursor, &status, &mut report).await {
                    if !pause(backoff(3), &shutdown).await {
                        return;
                    }
                    continue;
                }
                // Write in the background: the next batch is validated meanwhile.
                let writer = services.clone();
                *pending = Some(PendingWrite {
                    previous: cursor,
                    next,
                    count,
                    head,
                    task: tokio::spawn(async move { writer.write(verified.blocks, batch).await }),
                });
                cursor = next;
                failures = 0;
            }
            Err(RangeError::ParentMismatch(rejection)) => {
                if !settle(&services, pending, &mut cursor, &status, &mut report).await {
                    continue;
                }
                tracing::info!(%rejection, "the upstream's chain no longer extends ours: looking for the fork point");
                if let Err(error) =
                    follow_reorg(&services, &mut cursor, milestone.as_ref(), &status).await
                {
                    fail(&services, &status, &format!("reorg: {error}"));
                    if !pause(backoff(2), &shutdown).await {
                        return;
                    }
                }
            }
            Err(error) => {
                settle(&services, pending, &mut cursor, &status, &mut report).await;
                fail(
                    &services,
                    &status,
                    &format!("blocks {}..={}: {error}", range.start, range.end),
                );
                failures = (failures + 1).min(7);
                if !pause(backoff(failures), &shutdown).await {
                    return;
                }
            }
        }
    }
}

/// A verified batch being written in the background.
struct PendingWrite {
    /// The cursor before the batch (where to resume if the write fails).
    previous: SyncCursor,
    /// The cursor after it.
    next: SyncCursor,
    count: u64,
    head: u64,
    task: tokio::task::JoinHandle<Result<(), crate::plugins::PluginCallError>>,
}

/// Waits for the pending write, if any, and books it as stored. On failure
/// the cursor goes back to before that batch (anything validated on top of
/// it is dropped) and `false` is returned.
async fn settle(
    services: &SyncServices,
    pending: &mut Option<PendingWrite>,
    cursor: &mut SyncCursor,
    status: &RwLock<SyncStatus>,
    report: &mut ProgressReport,
) -> bool {
    let Some(write) = pending.take() else {
        return true;
    };
    let outcome = match write.task.await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(error) => Err(format!("write task failed: {error}")),
    };
    if let Err(error) = outcome {
        fail(services, status, &format!("storage: {error}"));
        *cursor = write.previous;
        return false;
    }
    services.metrics.forward_blocks.add(write.count, &[]);
    {
        let mut current = status.write();
        current.forward = Some(write.next.number);
        current.forward_blocks += write.count;
        current.write_ms = services
            .write_time
            .load(std::sync::atomic::Ordering::Relaxed);
        current.last_error = None;
    }
    report.stored(
        write.count,
        write.next.number,
        write.head.saturating_sub(write.next.number),
    );
    true
}

/// The batch after block `after`: at most `sync.forward.batch_size` blocks,
/// up to `head`, ending at a checkpoint's end when one ends inside it (so
/// its root is checked in the batch).
fn next_range(
    services: &SyncServices,
    settings: &SyncSettings,
    after: u64,
    head: u64,
) -> BlockRange {
    let mut end = (after + settings.batch_size).min(head);
    if let Some(checkpoint) = services.checkpoints.covering(after + 1)
        && checkpoint.end <= end
        && checkpoint.end > after
    {
        end = checkpoint.end;
    }
    BlockRange::new(after + 1, end)
}

fn fail(services: &SyncServices, status: &RwLock<SyncStatus>, message: &str) {
    services.metrics.error("forward");
    tracing::warn!(direction = "forward", "{message}");
    status.write().last_error = Some(message.to_string());
}

/// The lowest block a reorg may replace: above the newest milestone end and
/// the newest checkpoint end.
fn reorg_floor(services: &SyncServices, milestone: Option<&Milestone>) -> u64 {
    let checkpoint = services
        .checkpoints
        .newest()
        .map_or(0, |checkpoint| checkpoint.end);
    checkpoint.max(milestone.map_or(0, |milestone| milestone.end))
}

/// Walks down from the cursor until the upstream's canonical hash matches
/// ours, then unwinds the store above that block.
async fn follow_reorg(
    services: &SyncServices,
    cursor: &mut SyncCursor,
    milestone: Option<&Milestone>,
    status: &RwLock<SyncStatus>,
) -> Result<(), String> {
    let floor = reorg_floor(services, milestone);
    let mut number = cursor.number;
    loop {
        if number < floor {
            return Err(format!(
                "the upstream's chain forks below block {floor}, which a checkpoint or milestone confirms: refusing to follow"
            ));
        }
        let fetched = services
            .upstream
            .fetch(hypasis_plugin_api::FetchRequest {
                start: number,
                end: number,
                bodies: false,
                receipts: false,
                avoid: Default::default(),
            })
            .await
            .map_err(|error| error.to_string())?;
        let theirs = fetched.blocks.first().map(|block| B256::from(block.hash));
        let ours = services
            .stored_hash(number)
            .map_err(|error| error.to_string())?;
        if theirs.is_some() && theirs == ours {
            break;
        }
        number -= 1;
    }
    let depth = cursor.number - number;
    let hash = services
        .stored_hash(number)
        .map_err(|error| error.to_string())?
        .ok_or("the fork point is not stored")?;
    let fork = SyncCursor { number, hash };
    let batch = WriteBatch {
        unwind_above: Some(number).into(),
        intervals: forget_above(number).into(),
        meta: vec![Progress::forward_change(&fork)].into(),
        ..Default::default()
    };
    services
        .storage
        .write(batch)
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!(
        fork = number,
        depth,
        "followed a reorg: unwound the replaced blocks"
    );
    *cursor = fork;
    let mut current = status.write();
    current.reorgs += 1;
    current.forward = Some(number);
    Ok(())
}

/// Confirms stored forward blocks that a newer checkpoint root or milestone
/// hash now covers; unwinds them if they disagree.
async fn confirm_stored(
    services: &SyncServices,
    cursor: &mut SyncCursor,
    milestone: Option<&Milestone>,
    status: &RwLock<SyncStatus>,
) {
    let Ok(unconfirmed) = services.storage.intervals(UNCONFIRMED) else {
        return;
    };
    for range in unconfirmed {
        // Checkpoints wholly inside the unconfirmed range: recompute their roots from the store.
        for checkpoint in services.checkpoints.inside(range) {
            let (start, end) = (checkpoint.range.start, checkpoint.range.end);
            match stored_root(services, start, end) {
                Ok(Some(root))
                    if root == B256::from(checkpoint.root)
                        && services
                            .storage
                            .write(WriteBatch {
                                intervals: confirm(checkpoint.range).into(),
                                ..Default::default()
                            })
                            .await
                            .is_ok() =>
                {
                    tracing::debug!(start, end, "stored blocks confirmed by a new checkpoint");
                }
                Ok(Some(root)) => {
                    tracing::error!(start, end, %root, expected = %B256::from(checkpoint.root), "stored blocks disagree with a new L1 checkpoint: unwinding and re-fetching");
                    unwind_to(services, cursor, start.saturating_sub(1), status).await;
                    return;
                }
                _ => {}
            }
        }
        // A milestone inside the range confirms everything up to it (parent links bind them).
        if let Some(milestone) = milestone.filter(|milestone| range.contains(milestone.end)) {
            match services.stored_hash(milestone.end) {
                Ok(Some(hash)) if hash == milestone.hash => {
                    let confirmed = BlockRange::new(range.start, milestone.end);
                    let _ = services
                        .storage
                        .write(WriteBatch {
                            intervals: confirm(confirmed).into(),
                            ..Default::default()
                        })
                        .await;
                }
                Ok(Some(_)) => {
                    tracing::warn!(
                        milestone = milestone.end,
                        "stored block differs from the milestone: unwinding to follow the finalised chain"
                    );
                    unwind_to(
                        services,
                        cursor,
                        milestone
                            .start
                            .saturating_sub(1)
                            .max(range.start.saturating_sub(1)),
                        status,
                    )
                    .await;
                    return;
                }
                _ => {}
            }
        }
    }
}

async fn unwind_to(
    services: &SyncServices,
    cursor: &mut SyncCursor,
    number: u64,
    status: &RwLock<SyncStatus>,
) {
    let Ok(Some(hash)) = services.stored_hash(number) else {
        return;
    };
    let fork = SyncCursor { number, hash };
    let batch = WriteBatch {
        unwind_above: Some(number).into(),
        intervals: forget_above(number).into(),
        meta: vec![Progress::forward_change(&fork)].into(),
        ..Default::default()
    };
    if services.storage.write(batch).await.is_ok() {
        *cursor = fork;
        status.write().forward = Some(number);
    }
}

fn stored_root(services: &SyncServices, start: u64, end: u64) -> Result<Option<B256>, String> {
    let numbers: Vec<u64> = (start..=end).collect();
    let hashes: Option<Vec<[u8; 32]>> = services
        .storage
        .canonical_hashes(&numbers)
        .map_err(|error| error.to_string())?
        .into_iter()
        .collect();
    let Some(hashes) = hashes else {
        return Ok(None);
    };
    let headers = services
        .storage
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
