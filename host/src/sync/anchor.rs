//! The anchor: the block both directions start from. Either a configured
//! `(number, hash)`, or the newest L1 checkpoint, whose whole range is
//! fetched and verified against its root first.

use std::sync::Arc;

use alloy_primitives::B256;
use hypasis_plugin_api::{BlockRange, BlockRef, Direction, WriteBatch};
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{
    ledger::{Anchor, Ledger, anchor_changes, linked},
    services::{Context, SyncServices, backoff, pause},
    status::{SyncSettings, SyncStatus},
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
) -> Option<Anchor> {
    match Ledger::anchor(&services.storage) {
        Ok(Some(anchor)) => {
            let coverage = services.ledger.coverage();
            tracing::info!(
                anchor = anchor.number,
                forward = ?coverage.forward_top(),
                backward = ?coverage.backward_lowest(),
                unlinked = coverage.unlinked.count(),
                "resuming sync"
            );
            let mut current = status.write();
            current.anchor = Some(anchor.number);
            current.forward = coverage.forward_top();
            current.backward = coverage.backward_lowest();
            return Some(anchor);
        }
        Ok(None) => {}
        Err(error) => tracing::error!(%error, "cannot read the sync anchor; anchoring anew"),
    }
    let mut attempt = 0;
    loop {
        match try_establish(services, settings, status).await {
            Ok(Some(anchor)) => return Some(anchor),
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
) -> Result<Option<Anchor>, String> {
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
                .tracker
                .refresh_l1()
                .await
                .map_err(|error| error.to_string())?
            else {
                if !services.tracker.has_l1() {
                    return Err(AnchorError::Nothing.to_string());
                }
                return Ok(None);
            };
            let range = BlockRange::new(checkpoint.start, checkpoint.end);
            (
                range,
                Context {
                    direction,
                    parent: None,
                    child: None,
                    anchors: Vec::new(),
                    checkpoints: services.checkpoints_inside(range),
                },
            )
        }
    };
    let verified = services
        .fetch_verified(range, &context, settings.max_attempts, status, Vec::new())
        .await
        .map_err(|error| error.to_string())?;
    let Some(last) = verified.blocks.last() else {
        return Err("the upstream returned no blocks for the anchor".into());
    };
    let anchor = Anchor {
        number: last.number,
        hash: B256::from(last.hash),
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
    let batch = WriteBatch {
        intervals: linked(range, &verified.confirmed).into(),
        meta: anchor_changes(&anchor).into(),
        ..Default::default()
    };
    let count = verified.blocks.len() as u64;
    let settled = services
        .write(verified.blocks, batch)
        .await
        .map_err(|error| error.to_string())?;
    services.ledger.anchored(anchor.number);
    services
        .state()
        .advance(&settled, services.storage.as_ref())
        .map_err(|error| error.to_string())?;
    services.metrics.backward_blocks.add(count, &[]);
    tracing::info!(anchor = anchor.number, hash = %anchor.hash, blocks = count, endpoint = %verified.endpoint, "sync anchored");
    let coverage = services.ledger.coverage();
    let mut current = status.write();
    current.anchor = Some(anchor.number);
    current.forward = coverage.forward_top();
    current.backward = coverage.backward_lowest();
    current.backward_blocks += count;
    current.last_error = None;
    Ok(Some(anchor))
}
