//! Backward sync: from the anchor down to genesis (or the floor), one L1
//! checkpoint range at a time, several in flight. Each range is verified
//! whole against its checkpoint and, when committed (in descending order),
//! linked to the range above by parent hash.

use std::{collections::VecDeque, sync::Arc};

use alloy_primitives::B256;
use futures_util::{StreamExt, stream::FuturesOrdered};
use hypasis_plugin_api::{BlockRange, Direction, WriteBatch};
use hypasis_polygon::decode_header;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{
    SyncCursor,
    pipeline::{Context, SyncServices, SyncSettings, SyncStatus, Verified, backoff, pause},
    progress::{Progress, interval_changes},
    report::ProgressReport,
};

type RangeResult = (BlockRange, Result<Verified, String>);

/// Runs backward sync until it reaches the floor or `shutdown`.
pub async fn run(
    services: SyncServices,
    settings: SyncSettings,
    progress: Progress,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
) {
    let Some(mut lowest) = progress.backward else {
        return;
    };
    let floor = settings.floor;
    let mut report = ProgressReport::new("backward", settings.log_every);
    let mut failures = 0u32;
    // Ranges planned but not yet committed, highest first.
    let mut planned: VecDeque<BlockRange> = VecDeque::new();
    let mut in_flight: FuturesOrdered<tokio::task::JoinHandle<RangeResult>> = FuturesOrdered::new();
    let mut next_end = lowest.number.checked_sub(1);
    loop {
        if lowest.number <= floor || lowest.number == 0 {
            status.write().backward_done = true;
            tracing::info!(lowest = lowest.number, "backward sync reached its floor");
            return;
        }
        // Plan and launch ranges until the window is full.
        while in_flight.len() < settings.ranges_in_flight.max(1) {
            let Some(end) = next_end.filter(|end| *end >= floor) else {
                break;
            };
            let range = match services.checkpoints.fetch_covering(end).await {
                Ok(Some(checkpoint)) => BlockRange::new(checkpoint.start, end),
                Ok(None) => {
                    BlockRange::new(end.saturating_sub(settings.batch_size - 1).max(floor), end)
                }
                Err(error) => {
                    fail(
                        &services,
                        &status,
                        &format!("L1 checkpoint covering {end}: {error}"),
                    );
                    break;
                }
            };
            next_end = range.start.checked_sub(1);
            planned.push_back(range);
            let services = services.clone();
            let status = Arc::clone(&status);
            let max_attempts = settings.max_attempts;
            in_flight.push_back(tokio::spawn(async move {
                let context = Context {
                    direction: Direction::Backward,
                    parent: None,
                    child: None,
                    anchors: Vec::new(),
                    checkpoints: services.checkpoints.inside(range),
                };
                let result = services
                    .fetch_verified(range, &context, max_attempts, &status)
                    .await
                    .map_err(|error| error.to_string());
                (range, result)
            }));
        }
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = in_flight.next() => next,
        };
        let Some(joined) = next else {
            // Nothing in flight: an L1 error stopped planning; wait and retry.
            failures = (failures + 1).min(7);
            if !pause(backoff(failures), &shutdown).await {
                return;
            }
            continue;
        };
        planned.pop_front();
        let (range, result) = match joined {
            Ok(pair) => pair,
            Err(error) => (
                BlockRange::new(0, 0),
                Err(format!("range task failed: {error}")),
            ),
        };
        let committed = match result {
            Ok(verified) => commit(&services, &range, verified, &mut lowest, floor).await,
            Err(error) => Err(error),
        };
        match committed {
            Ok(count) => {
                failures = 0;
                services.metrics.backward_blocks.add(count, &[]);
                {
                    let mut current = status.write();
                    current.backward = Some(lowest.number);
                    current.backward_blocks += count;
                    current.write_ms = services
                        .write_time
                        .load(std::sync::atomic::Ordering::Relaxed);
                    current.last_error = None;
                }
                report.stored(count, lowest.number, lowest.number.saturating_sub(floor));
            }
            Err(error) => {
                fail(
                    &services,
                    &status,
                    &format!("blocks {}..={}: {error}", range.start, range.end),
                );
                // Drop everything in flight and re-plan from the lowest committed block.
                in_flight = FuturesOrdered::new();
                planned.clear();
                next_end = lowest.number.checked_sub(1);
                failures = (failures + 1).min(7);
                if !pause(backoff(failures), &shutdown).await {
                    return;
                }
            }
        }
    }
}

fn fail(services: &SyncServices, status: &RwLock<SyncStatus>, message: &str) {
    services.metrics.error("backward");
    tracing::warn!(direction = "backward", "{message}");
    status.write().last_error = Some(message.to_string());
}

/// Links a verified range to the committed range above and stores the part
/// at or above the floor, atomically with the new backward cursor.
async fn commit(
    services: &SyncServices,
    range: &BlockRange,
    verified: Verified,
    lowest: &mut SyncCursor,
    floor: u64,
) -> Result<u64, String> {
    let last = verified.blocks.last().ok_or("no blocks")?;
    if last.number + 1 != lowest.number || B256::from(last.hash) != lowest.hash {
        return Err(format!(
            "block {} (hash {}) does not link to block {} (parent hash {})",
            last.number,
            B256::from(last.hash),
            lowest.number,
            lowest.hash
        ));
    }
    // Linked to a confirmed chain above: the whole range is confirmed by hash links.
    let mut confirmed = verified.confirmed.clone();
    confirmed.push(*range);
    let kept: Vec<_> = verified
        .blocks
        .into_iter()
        .filter(|block| block.number >= floor)
        .collect();
    let first = kept.first().ok_or("nothing at or above the floor")?;
    let parent_hash = decode_header(&first.header)
        .map_err(|error| error.to_string())?
        .parent_hash;
    let next = SyncCursor {
        number: first.number,
        hash: parent_hash,
    };
    let stored = BlockRange::new(first.number, range.end);
    let confirmed: Vec<BlockRange> = confirmed
        .into_iter()
        .filter(|&range| range.end >= stored.start)
        .map(|range| BlockRange::new(range.start.max(stored.start), range.end))
        .collect();
    let batch = WriteBatch {
        intervals: interval_changes(stored, &confirmed).into(),
        meta: vec![Progress::backward_change(&next)].into(),
        ..Default::default()
    };
    let count = kept.len() as u64;
    services
        .write(kept, batch)
        .await
        .map_err(|error| error.to_string())?;
    *lowest = next;
    Ok(count)
}
