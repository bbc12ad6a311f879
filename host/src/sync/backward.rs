//! Backward sync: fills the gaps of the stored coverage between the floor
//! and the anchor, several ranges in flight, each one checkpoint's range
//! (or, without a checkpoint, the range right below the linked chain).
//!
//! Ranges are planned from the gaps of the coverage, highest first, so any
//! range can be worked in any order (a cluster lease will hand them out
//! the same way). Each is committed as soon as it is verified, in one
//! atomic batch with its interval change, so a crash loses only the ranges
//! still in flight. At commit a range is hash-linked to whatever stored
//! neighbours it has:
//! - linked to the anchor's chain above: it joins `verified`, and the
//!   `unlinked` run right below it (checked against it when that run
//!   arrived) joins too;
//! - its neighbour above not stored yet: confirmed by its checkpoint
//!   root, it waits in `unlinked`;
//! - a link that fails makes the range fail — unless the range is the one
//!   linked to the anchor's chain, in which case the unlinked run below is
//!   the liar and is forgotten (to be fetched again).
//!
//! A range that fails is retried alone, from endpoints not yet caught on
//! it; after `range_attempts` failures it rests for `range_cooldown`
//! while the other ranges go on.

use std::{collections::HashMap, sync::Arc, time::Instant};

use alloy_primitives::B256;
use futures_util::{StreamExt, stream::FuturesUnordered};
use hypasis_plugin_api::{
    BlockPart, BlockRange, ChildLink, Direction, FaultKind, IntervalChange, IntervalSet, WriteBatch,
};
use hypasis_polygon::decode_header;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{
    ledger::{Anchor, confirm, forget, unlinked},
    report::ProgressReport,
    services::{Context, SyncServices, Verified, backoff},
    status::{SyncSettings, SyncStatus},
};
use crate::chain_state::coverage::intersect;

/// One planned range: the blocks to store and the blocks to fetch for them
/// (a whole checkpoint, whose root checks the fetched blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Planned {
    store: BlockRange,
    fetch: BlockRange,
    /// Whether the range sits right below the linked chain and is checked
    /// by the parent hash of its lowest block (no checkpoint covers it).
    linked_below: Option<ChildLink>,
}

/// What happened to one range so far.
#[derive(Debug, Default)]
struct Attempts {
    failures: u32,
    avoid: Vec<String>,
    resting_until: Option<Instant>,
}

type RangeOutcome = (Planned, Result<Verified, String>);

/// Why a verified range could not be committed.
enum CommitError {
    /// It does not link to a stored neighbour: the endpoint that served it lied.
    Link(String),
    /// Storage or the store's contents failed.
    Store(String),
}

/// Runs backward sync until the linked chain reaches the floor, or `shutdown`.
pub async fn run(
    services: SyncServices,
    settings: SyncSettings,
    anchor: Anchor,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
) {
    let floor = settings.floor;
    let mut report = ProgressReport::new("backward", settings.log_every);
    let mut attempts: HashMap<BlockRange, Attempts> = HashMap::new();
    let mut in_flight: FuturesUnordered<tokio::task::JoinHandle<RangeOutcome>> =
        FuturesUnordered::new();
    let mut working: Vec<BlockRange> = Vec::new();
    let mut idle_rounds = 0u32;
    loop {
        let coverage = services.ledger.coverage();
        let lowest = coverage.backward_lowest().unwrap_or(anchor.number);
        if (lowest <= floor || lowest == 0) && in_flight.is_empty() {
            status.write().backward_done = true;
            tracing::info!(lowest, "backward sync reached its floor");
            return;
        }
        // Plan and launch ranges until the window is full.
        while in_flight.len() < settings.ranges_in_flight.max(1) {
            let planned = match plan(&services, &settings, anchor, &working, &attempts).await {
                Ok(Some(planned)) => planned,
                Ok(None) => break,
                Err(error) => {
                    fail(&services, &status, &error);
                    break;
                }
            };
            working.push(planned.store);
            let avoid = attempts
                .get(&planned.store)
                .map(|attempts| attempts.avoid.clone())
                .unwrap_or_default();
            in_flight.push(tokio::spawn(fetch(
                services.clone(),
                Arc::clone(&status),
                settings.max_attempts,
                planned,
                avoid,
            )));
        }
        status.write().ranges_in_flight = in_flight.len();
        let next = tokio::select! {
            _ = shutdown.cancelled() => return,
            next = in_flight.next(), if !in_flight.is_empty() => next,
            _ = tokio::time::sleep(backoff(idle_rounds)), if in_flight.is_empty() => None,
        };
        let Some(joined) = next else {
            // Nothing in flight (every gap resting, or the checkpoint source failing).
            idle_rounds = (idle_rounds + 1).min(7);
            continue;
        };
        idle_rounds = 0;
        let (planned, result) = match joined {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%error, "a backward range task failed");
                working.clear();
                continue;
            }
        };
        working.retain(|range| *range != planned.store);
        let outcome = match result {
            Ok(verified) => {
                let endpoint = verified.endpoint.clone();
                match commit(&services, planned, verified).await {
                    Ok(count) => Ok(count),
                    Err(CommitError::Link(reason)) => {
                        services
                            .upstream
                            .report(&endpoint, FaultKind::InvalidData, &reason);
                        attempts
                            .entry(planned.store)
                            .or_default()
                            .avoid
                            .push(endpoint);
                        Err(reason)
                    }
                    Err(CommitError::Store(reason)) => Err(reason),
                }
            }
            Err(error) => Err(error),
        };
        match outcome {
            Ok(count) => {
                attempts.remove(&planned.store);
                services.metrics.backward_blocks.add(count, &[]);
                let lowest = services.ledger.coverage().backward_lowest();
                {
                    let mut current = status.write();
                    current.backward = lowest;
                    current.backward_blocks += count;
                    current.write_ms = services
                        .write_time
                        .load(std::sync::atomic::Ordering::Relaxed);
                    current.last_error = None;
                }
                let at = lowest.unwrap_or(planned.store.start);
                report.stored(count, at, at.saturating_sub(floor));
            }
            Err(error) => {
                let range = planned.store;
                fail(
                    &services,
                    &status,
                    &format!("blocks {}..={}: {error}", range.start, range.end),
                );
                let entry = attempts.entry(range).or_default();
                entry.failures += 1;
                if entry.failures >= settings.range_attempts.max(1) {
                    tracing::warn!(
                        start = range.start,
                        end = range.end,
                        failures = entry.failures,
                        rest = ?settings.range_cooldown,
                        "backward range keeps failing; setting it aside"
                    );
                    entry.failures = 0;
                    entry.avoid.clear();
                    entry.resting_until = Some(Instant::now() + settings.range_cooldown);
                }
            }
        }
        if shutdown.is_cancelled() {
            return;
        }
    }
}

fn fail(services: &SyncServices, status: &RwLock<SyncStatus>, message: &str) {
    services.metrics.error("backward");
    tracing::warn!(direction = "backward", "{message}");
    status.write().last_error = Some(message.to_string());
}

/// The next range to work: the highest block below the anchor that is
/// neither stored, in flight nor resting, and the checkpoint covering it.
async fn plan(
    services: &SyncServices,
    settings: &SyncSettings,
    anchor: Anchor,
    working: &[BlockRange],
    attempts: &HashMap<BlockRange, Attempts>,
) -> Result<Option<Planned>, String> {
    let Some(top) = anchor.number.checked_sub(1) else {
        return Ok(None);
    };
    if top < settings.floor {
        return Ok(None);
    }
    let coverage = services.ledger.coverage();
    let mut occupied = coverage.stored();
    let now = Instant::now();
    for range in working {
        occupied.insert(*range);
    }
    for (range, attempt) in attempts {
        if attempt.resting_until.is_some_and(|until| until > now) {
            occupied.insert(*range);
        }
    }
    let gaps = occupied.gaps(BlockRange::new(settings.floor, top));
    let Some(gap) = gaps.last().copied() else {
        return Ok(None);
    };
    let end = gap.end;
    let checkpoint = services
        .tracker
        .covering(end)
        .await
        .map_err(|error| format!("L1 checkpoint covering {end}: {error}"))?;
    if let Some(checkpoint) = checkpoint {
        let fetch = BlockRange::new(checkpoint.start, checkpoint.end);
        let store = intersect(fetch, gap).unwrap_or(gap);
        return Ok(Some(Planned {
            store,
            fetch,
            linked_below: None,
        }));
    }
    // No checkpoint: only the range right below the linked chain can be
    // checked (by its parent links), one at a time.
    let lowest = coverage.backward_lowest().unwrap_or(anchor.number);
    if end.checked_add(1) != Some(lowest) || working.iter().any(|range| range.end == end) {
        return Ok(None);
    }
    let parent_hash = parent_of(services, lowest).map_err(|error| error.to_string())?;
    let start = end
        .saturating_sub(settings.batch_size.saturating_sub(1))
        .max(gap.start);
    let range = BlockRange::new(start, end);
    Ok(Some(Planned {
        store: range,
        fetch: range,
        linked_below: Some(ChildLink {
            number: lowest,
            parent_hash: parent_hash.0,
        }),
    }))
}

/// Fetches and validates one planned range.
async fn fetch(
    services: SyncServices,
    status: Arc<RwLock<SyncStatus>>,
    max_attempts: usize,
    planned: Planned,
    avoid: Vec<String>,
) -> RangeOutcome {
    let context = Context {
        direction: Direction::Backward,
        parent: None,
        child: planned.linked_below,
        anchors: Vec::new(),
        checkpoints: services.checkpoints_inside(planned.fetch),
    };
    let result = services
        .fetch_verified(planned.fetch, &context, max_attempts, &status, avoid)
        .await
        .map_err(|error| error.to_string());
    (planned, result)
}

/// The parent hash in the stored header of canonical block `number`.
fn parent_of(services: &SyncServices, number: u64) -> Result<B256, String> {
    let hash = services
        .stored_hash(number)
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("block {number} is not stored"))?;
    let header = services
        .storage
        .parts(BlockPart::Header, &[hash.0])
        .map_err(|error| error.to_string())?
        .into_iter()
        .next()
        .and_then(|part| part.into_option())
        .ok_or_else(|| format!("block {number} has no stored header"))?;
    decode_header(&header)
        .map(|header| header.parent_hash)
        .map_err(|error| format!("stored header of block {number}: {error}"))
}

/// Links a verified range to its stored neighbours and stores it (see the
/// module docs); returns how many blocks were stored.
async fn commit(
    services: &SyncServices,
    planned: Planned,
    verified: Verified,
) -> Result<u64, CommitError> {
    let range = planned.store;
    let kept: Vec<_> = verified
        .blocks
        .into_iter()
        .filter(|block| range.contains(block.number))
        .collect();
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return Err(CommitError::Store("no blocks in the range".into()));
    };
    if first.number != range.start || last.number != range.end {
        return Err(CommitError::Link(format!(
            "served blocks {}..={} for {}..={}",
            first.number, last.number, range.start, range.end
        )));
    }
    let store_error = |error: String| CommitError::Store(error);
    let first_parent = decode_header(&first.header)
        .map_err(|error| CommitError::Link(error.to_string()))?
        .parent_hash;
    let last_hash = B256::from(last.hash);
    let coverage = services.ledger.coverage();
    let stored = coverage.stored();
    let linked_run = coverage.linked_run();
    // Above: the neighbour's parent hash must be our last block's hash.
    let above = range.end.checked_add(1);
    let above_linked = above.is_some_and(|above| linked_run.is_some_and(|run| run.contains(above)));
    if let Some(above) = above.filter(|above| stored.contains(*above)) {
        let expected = parent_of(services, above).map_err(store_error)?;
        if expected != last_hash {
            return Err(CommitError::Link(format!(
                "block {} hashes to {last_hash}, but stored block {above} names parent {expected}",
                range.end
            )));
        }
    }
    let confirmed = IntervalSet::from_ranges(verified.confirmed.iter().copied());
    let mut changes: Vec<IntervalChange> = Vec::new();
    if above_linked {
        changes.extend(confirm(range));
    } else if confirmed.contains_range(range) {
        changes.extend(unlinked(range));
    } else {
        return Err(CommitError::Store(format!(
            "blocks {}..={} are neither confirmed by a checkpoint nor linked to the chain above",
            range.start, range.end
        )));
    }
    // Below: our first block's parent hash must be the neighbour's hash.
    if let Some(below) = range
        .start
        .checked_sub(1)
        .filter(|below| stored.contains(*below))
    {
        let found = services
            .stored_hash(below)
            .map_err(|error| store_error(error.to_string()))?;
        let run = coverage
            .unlinked
            .ranges()
            .iter()
            .copied()
            .find(|run| run.contains(below));
        match (found == Some(first_parent), run, above_linked) {
            (true, Some(run), true) => changes.extend(confirm(run)),
            (true, _, _) => {}
            (false, Some(run), true) => {
                tracing::error!(
                    start = run.start,
                    end = run.end,
                    "stored unlinked blocks do not link to the chain above them: forgetting them"
                );
                changes.extend(forget(run));
            }
            (false, _, _) => {
                return Err(CommitError::Link(format!(
                    "block {} names parent {first_parent}, but stored block {below} is {}",
                    range.start,
                    found.map_or("missing".to_string(), |hash| hash.to_string())
                )));
            }
        }
    }
    let count = kept.len() as u64;
    let batch = WriteBatch {
        intervals: changes.into(),
        ..Default::default()
    };
    services
        .write(kept, batch)
        .await
        .map_err(|error| store_error(error.to_string()))?;
    Ok(count)
}
