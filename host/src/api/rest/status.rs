//! `GET /api/v1/status`: what the status page shows, as JSON — both
//! directions' progress, the head, the newest checkpoint and milestone,
//! peers by client, upstream health, blocks/s over the last hour.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    api::{context::ApiContext, history::RatePoint},
    checkpoints::L1Checkpoint,
};

/// Peers of one client version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientCount {
    /// The client (`bor`).
    pub client: String,
    /// Its version (`v2.2.11`), empty when it sent none.
    pub version: String,
    /// Peers connected with it.
    pub count: u64,
}

/// Splits `bor/v2.2.11` into client and version.
pub fn client_counts(labels: Vec<(String, u64)>) -> Vec<ClientCount> {
    labels
        .into_iter()
        .map(|(label, count)| {
            let (client, version) = label.split_once('/').unwrap_or((label.as_str(), ""));
            ClientCount {
                client: client.to_string(),
                version: version.to_string(),
                count,
            }
        })
        .collect()
}

/// A checkpoint as the REST API shows it.
pub fn checkpoint_json(checkpoint: &L1Checkpoint) -> Value {
    json!({
        "id": checkpoint.header_block_id,
        "start": checkpoint.start,
        "end": checkpoint.end,
        "root": format!("{:#x}", checkpoint.root),
        "proposer": format!("{:#x}", checkpoint.proposer),
        "created_at": checkpoint.created_at,
    })
}

fn sum_ranges(set: &hypasis_plugin_api::IntervalSet) -> (u64, Vec<Value>) {
    let blocks = set.count();
    let list = set
        .ranges()
        .iter()
        .map(|range| json!({"start": range.start, "end": range.end}))
        .collect();
    (blocks, list)
}

/// The status document.
pub fn status(ctx: &ApiContext) -> Value {
    let head = ctx.head.as_ref().and_then(|head| head.head());
    let sync = ctx.sync.as_ref().map(|status| status.read().clone());
    let milestone = ctx.safe();
    let latest: Option<RatePoint> = ctx.history.latest();
    let coverage = ctx.coverage();
    let (verified_blocks, verified_ranges) = sum_ranges(&coverage.verified);
    let (unconfirmed_blocks, _) = sum_ranges(&coverage.unconfirmed);
    let (unlinked_blocks, _) = sum_ranges(&coverage.unlinked);
    let stored_blocks = ctx.store.stats().map(|stats| stats.blocks).ok();
    let floor = ctx.settings.floor;
    let forward = sync.as_ref().map(|status| {
        let cursor = status.forward.or(status.anchor);
        json!({
            "enabled": ctx.settings.forward_level.is_some(),
            "validation_level": ctx.settings.forward_level.map(|level| level.as_str()),
            "anchor": status.anchor,
            "cursor": cursor,
            "upstream_head": status.head,
            "lag": match (cursor, status.head) {
                (Some(cursor), Some(head)) => Some(head.saturating_sub(cursor)),
                _ => None,
            },
            "done": status.forward_done,
            "blocks": status.forward_blocks,
            "blocks_per_second": latest.map(|point| point.forward),
        })
    });
    let backward = sync.as_ref().map(|status| {
        let cursor = status.backward.or(status.anchor);
        let total = status.anchor.map(|anchor| anchor.saturating_sub(floor) + 1);
        let done_blocks = match (status.anchor, cursor) {
            (Some(anchor), Some(cursor)) => Some(anchor.saturating_sub(cursor) + 1),
            _ => None,
        };
        json!({
            "enabled": ctx.settings.backward_level.is_some(),
            "validation_level": ctx.settings.backward_level.map(|level| level.as_str()),
            "cursor": cursor,
            "floor": floor,
            "remaining": cursor.map(|cursor| cursor.saturating_sub(floor)),
            "progress": match (done_blocks, total) {
                (Some(done), Some(total)) if total > 0 => Some(done as f64 / total as f64),
                _ => None,
            },
            "done": status.backward_done,
            "ranges_in_flight": status.ranges_in_flight,
            "blocks": status.backward_blocks,
            "blocks_per_second": latest.map(|point| point.backward),
        })
    });
    let checkpoint = ctx
        .finalized()
        .map(|checkpoint| checkpoint_json(&checkpoint));
    let upstreams: Vec<Value> = ctx
        .upstream
        .as_ref()
        .map(|upstream| {
            upstream
                .endpoints()
                .into_iter()
                .map(|endpoint| {
                    json!({
                        "name": endpoint.name.as_str(),
                        "healthy": endpoint.healthy,
                        "score": endpoint.score,
                        "head": endpoint.head,
                        "latency_ms": endpoint.latency_ms,
                        "requests": endpoint.requests,
                        "errors": endpoint.errors,
                        "faults": endpoint.faults,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let spec = ctx.spec.as_deref();
    json!({
        "instance": {
            "id": ctx.settings.instance_id,
            "region": ctx.settings.region,
            "version": crate::VERSION,
            "uptime_seconds": ctx.started.elapsed().as_secs(),
        },
        "chain": spec.map(|spec| json!({
            "name": spec.name,
            "chain_id": spec.chain_id,
            "network_id": spec.network_id,
        })),
        "mode": if ctx.sync.is_some() { "sync" } else { "serve" },
        "head": head.map(|head| json!({
            "number": head.number,
            "hash": format!("{:#x}", head.hash),
            "earliest": head.earliest,
        })),
        "forward": forward,
        "backward": backward,
        "coverage": {
            "stored_blocks": stored_blocks,
            "verified_blocks": verified_blocks,
            "unconfirmed_blocks": unconfirmed_blocks,
            "unlinked_blocks": unlinked_blocks,
            "verified_ranges": verified_ranges,
        },
        "checkpoint": checkpoint,
        "milestone": milestone.map(|milestone| json!({
            "start": milestone.start,
            "end": milestone.end,
            "hash": format!("{:#x}", milestone.hash),
        })),
        "peers": ctx.p2p.as_ref().map(|p2p| json!({
            "connected": p2p.peers.len(),
            "max": p2p.max_peers,
            "enode": p2p.enode,
            "clients": client_counts(p2p.peers.clients()),
            "bans": p2p.reputation.bans(),
        })),
        "upstreams": upstreams,
        "cache": {
            "enabled": ctx.cache.enabled(),
            "entries": ctx.cache.len(),
            "hit_ratio": ctx.cache.hit_ratio(),
        },
        "rate_history": ctx.history.points(),
        "last_error": sync.and_then(|status| status.last_error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_labels_split_into_client_and_version() {
        let counts = client_counts(vec![("bor/v2.2.11".into(), 3), ("odd".into(), 1)]);
        assert_eq!(
            counts,
            vec![
                ClientCount {
                    client: "bor".into(),
                    version: "v2.2.11".into(),
                    count: 3
                },
                ClientCount {
                    client: "odd".into(),
                    version: String::new(),
                    count: 1
                },
            ]
        );
    }
}
