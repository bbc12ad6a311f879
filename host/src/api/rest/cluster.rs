//! `GET /api/v1/bootnodes` and `GET /api/v1/cluster`: the cluster as this
//! instance last saw it (its heartbeat's view; no request waits on Redis).
//! Without `cluster.enabled` the cluster is this instance alone.

use serde_json::{Value, json};

use crate::{
    api::context::ApiContext,
    clock::now_ms,
    cluster::{Member, RedisState},
};

/// The members to list, each with whether it is this instance.
fn members(ctx: &ApiContext) -> Vec<(Member, bool)> {
    let local = ctx.cluster.local().instance_id;
    ctx.cluster
        .members()
        .into_iter()
        .map(|member| {
            let is_local = member.instance_id == local;
            (member, is_local)
        })
        .collect()
}

/// The enodes to give Bor: every live member with devp2p, this instance's
/// peer counts beside its own entry, and `recommended`, the list joined as
/// `--bootnodes` takes it.
pub fn bootnodes(ctx: &ApiContext) -> Value {
    let list: Vec<Value> = members(ctx)
        .into_iter()
        .filter_map(|(member, is_local)| {
            let enode = member.enode?;
            let mut entry = json!({
                "enode": enode,
                "instance_id": member.instance_id,
                "region": member.region,
                "head": member.head,
                "self": is_local,
            });
            if is_local && let Some(p2p) = &ctx.p2p {
                entry["peers"] = json!(p2p.peers.len());
                entry["max_peers"] = json!(p2p.max_peers);
            }
            Some(entry)
        })
        .collect();
    let recommended: Vec<&str> = list
        .iter()
        .filter_map(|entry| entry["enode"].as_str())
        .collect();
    json!({
        "count": list.len(),
        "bootnodes": list,
        "recommended": recommended.join(","),
    })
}

/// The members with region, head, last heartbeat and URLs, and Redis's state.
pub fn cluster(ctx: &ApiContext) -> Value {
    let now = now_ms();
    let members: Vec<Value> = members(ctx)
        .into_iter()
        .map(|(member, is_local)| {
            json!({
                "instance_id": member.instance_id,
                "region": member.region,
                "role": member.role,
                "version": member.version,
                "enode": member.enode,
                "api_url": member.api_url,
                "rpc_url": member.rpc_url,
                "head": member.head,
                "last_heartbeat_ms": member.heartbeat_ms,
                "heartbeat_age_ms": now.saturating_sub(member.heartbeat_ms),
                "self": is_local,
            })
        })
        .collect();
    let redis = if ctx.cluster.enabled() {
        let (up, error) = match ctx.cluster.redis() {
            RedisState::Up => (Some(true), None),
            RedisState::Down(error) => (Some(false), Some(error)),
            RedisState::Unknown => (None, None),
        };
        json!({"up": up, "error": error, "last_ok_ms": ctx.cluster.last_ok_ms()})
    } else {
        json!(null)
    };
    json!({
        "enabled": ctx.cluster.enabled(),
        "count": members.len(),
        "members": members,
        "redis": redis,
    })
}
