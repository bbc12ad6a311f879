//! The anchor: the block both directions start from. Either a configured
//! `(number, hash)`, or the newest L1 checkpoint, whose whole range is
//! fetched and verified against its root first.

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockRange, BlockRef, Direction, WriteBatch};
use hypasis_polygon::decode_header;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{
    SyncCursor,
    pipeline::{Context, SyncServices, SyncSettings, SyncStatus, backoff, load_progress, pause},
    progress::{Progress, interval_changes},
};

/// Why no anchor could be established.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// Neither a configured anchor nor an L1 checkpoint source.
    #[error("no anchor: set sync.anchor (number and hash) or l1.rpc_url")]
    Nothing,
}

/// Establishes (or reloads) the anchor; `None` if shutdown came first.
pub async fn establish(
    services: &SyncServices,
    settings: &SyncSettings,
    status: &Arc<RwLock<SyncStatus>>,
    shutdown: &CancellationToken,
) -> Option<Progress> {
    let progress = load_progress(&services.storage);
    if let Some(anchor) = progress.anchor {
        tracing::info!(anchor = anchor.number, forward = ?progress.forward.map(|c| c.number), backward = ?progress.backward.map(|c| c.number), "resuming sync");
        let mut current = status.write();
        current.anchor = Some(anchor.number);
        current.forward = progress.forward.map(|cursor| cursor.number);
        current.backward = progress.backward.map(|cursor| cursor.number);
        return Some(progress);
    }
    let mut attempt = 0;
    loop {
        match try_establish(services, settings, status).await {
            Ok(Some(progress)) => return Some(progress),
            Ok(None) => tracing::info!("waiting for the first L1 checkpoint to anchor sync"),
            Err(error) => {
                status.write().last_error = Some(format!("anchor: {error}"));
                services.metrics.error("anchor");
                tracing::warn!(%error, "could not establish the sync anchor; retrying");
            }
        }
        if !pause(backoff(attempt), shutdown).await {
            return None;
        }
        attempt = (attempt + 1).min(7);
    }
}

async fn try_establish(
    services: &SyncServices,
    settings: &SyncSettings,
    status: &RwLock<SyncStatus>,
) -> Result<Option<Progress>, String> {
    let direction = if services.backward.is_some() {
        Direction::Backward
    } else {
        Direction::Forward
    };
    let (range, context) = match settings.anchor {
        Some((number, hash)) => (
            BlockRange::new(number, number),
            Context {
                direction,
                parent: None,
                child: None,
                anchors: vec![BlockRef {
                    number,
                    hash: hash.0,
                }],
                checkpoints: Vec::new(),
            },
        ),
        None => {
            let Some(checkpoint) = services
                .checkpoints
                .refresh()
                .await
                .map_err(|error| error.to_string())?
            else {
                if services.checkpoints.is_empty() {
                    return Ok(None);
                }
                return Err(AnchorError::Nothing.to_string());
            };
            let range = BlockRange::new(checkpoint.start, checkpoint.end);
            (
                range,
                Context {
                    direction,
                    parent: None,
                    child: None,
                    anchors: Vec::new(),
                    checkpoints: services.checkpoints.inside(range),
                },
            )
        }
    };
    let verified = services
        .fetch_verified(range, &context, settings.max_attempts, status)
        .await
        .map_err(|error| error.to_string())?;
    let (Some(first), Some(last)) = (verified.blocks.first(), verified.blocks.last()) else {
        return Err("the upstream returned no blocks for the anchor".into());
    };
    let parent_hash = decode_header(&first.header)
        .map_err(|error| error.to_string())?
        .parent_hash;
    let anchor = SyncCursor {
        number: last.number,
        hash: B256::from(last.hash),
    };
    let lowest = SyncCursor {
        number: first.number,
        hash: parent_hash,
    };
    if !settings.trusts_upstream.contains(&direction)
        && !verified
            .confirmed
            .iter()
            .any(|confirmed| confirmed.contains(anchor.number))
    {
        return Err(format!(
            "the anchor range {}..={} was not confirmed by its checkpoint or hash",
            range.start, range.end
        ));
    }
    let mut meta = vec![
        Progress::anchor_change(&anchor),
        Progress::forward_change(&anchor),
        Progress::backward_change(&lowest),
    ];
    let batch = WriteBatch {
        intervals: interval_changes(range, &verified.confirmed).into(),
        meta: std::mem::take(&mut meta).into(),
        ..Default::default()
    };
    let count = verified.blocks.len() as u64;
    services
        .write(verified.blocks, batch)
        .await
        .map_err(|error| error.to_string())?;
    services.metrics.backward_blocks.add(count, &[]);
    tracing::info!(anchor = anchor.number, hash = %anchor.hash, blocks = count, endpoint = %verified.endpoint, "sync anchored");
    {
        let mut current = status.write();
        current.anchor = Some(anchor.number);
        current.forward = Some(anchor.number);
        current.backward = Some(lowest.number);
        current.backward_blocks += count;
        current.last_error = None;
    }
    Ok(Some(Progress {
        anchor: Some(anchor),
        forward: Some(anchor),
        backward: Some(lowest),
    }))
}
