//! `GET /health`: one check per part (storage, cache, sync, p2p, cluster),
//! each healthy or not with a message, and how long the process has run.
//! 503 when storage, cache, sync or p2p is unhealthy, for load balancers.
//! An unreachable Redis makes the status `degraded` but stays 200: the
//! instance keeps syncing and serving alone, and a load balancer should
//! keep sending it traffic.

use serde::Serialize;

use crate::api::context::ApiContext;

/// One check's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Whether the part works.
    pub healthy: bool,
    /// What it is doing, or what is wrong.
    pub message: String,
}

impl Check {
    fn ok(message: impl Into<String>) -> Self {
        Check {
            healthy: true,
            message: message.into(),
        }
    }

    fn failing(message: impl Into<String>) -> Self {
        Check {
            healthy: false,
            message: message.into(),
        }
    }
}

/// The checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checks {
    /// The block store answers.
    pub storage: Check,
    /// The response cache.
    pub cache: Check,
    /// Sync reaches its upstreams (or an imported chain is served).
    pub sync: Check,
    /// devp2p.
    pub p2p: Check,
    /// Membership through Redis.
    pub cluster: Check,
}

/// The `/health` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// `healthy`, `degraded` (only the cluster check fails) or `unhealthy`.
    pub status: &'static str,
    /// Per part.
    pub checks: Checks,
    /// Hours since the process started.
    pub uptime_hours: f64,
}

impl Health {
    /// Whether every check passed.
    pub fn is_healthy(&self) -> bool {
        self.status != "unhealthy"
    }
}

fn storage(ctx: &ApiContext) -> Check {
    match ctx.store.stats() {
        Ok(stats) => Check::ok(format!(
            "{} blocks stored ({:.1} MiB), plugin {}",
            stats.blocks,
            stats.bytes as f64 / f64::from(1 << 20),
            ctx.store.name()
        )),
        Err(error) => Check::failing(format!("the store does not answer: {error}")),
    }
}

fn cache(ctx: &ApiContext) -> Check {
    if ctx.cache.enabled() {
        Check::ok(format!(
            "{} entries, hit ratio {:.1}%",
            ctx.cache.len(),
            ctx.cache.hit_ratio() * 100.0
        ))
    } else {
        Check::ok("disabled (cache.enabled is false)")
    }
}

fn sync(ctx: &ApiContext) -> Check {
    match (&ctx.sync, ctx.head.as_ref().and_then(|head| head.head())) {
        (Some(status), _) => {
            let status = status.read();
            let forward = status.forward.or(status.anchor);
            if !status.upstream_healthy {
                return Check::failing(format!(
                    "no upstream answers{}",
                    status
                        .last_error
                        .as_deref()
                        .map(|error| format!(": {error}"))
                        .unwrap_or_default()
                ));
            }
            match (forward, status.head) {
                (Some(forward), Some(head)) => Check::ok(format!(
                    "forward at {forward} of {head} (lag {}), backward at {}",
                    head.saturating_sub(forward),
                    status
                        .backward
                        .map_or_else(|| "-".to_string(), |lowest| lowest.to_string())
                )),
                _ => Check::ok("anchoring: waiting for the first checkpoint range"),
            }
        }
        (None, Some(head)) => Check::ok(format!(
            "not syncing: serving an imported chain up to block {}",
            head.number
        )),
        (None, None) => {
            Check::failing("nothing to serve: no upstreams configured and no imported chain")
        }
    }
}

fn p2p(ctx: &ApiContext) -> Check {
    match &ctx.p2p {
        Some(p2p) => Check::ok(format!(
            "{} peers of at most {}",
            p2p.peers.len(),
            p2p.max_peers
        )),
        None => Check::ok("disabled"),
    }
}

fn cluster(ctx: &ApiContext) -> Check {
    use crate::cluster::RedisState;
    if !ctx.cluster.enabled() {
        return Check::ok("disabled (cluster.enabled is false): this instance runs alone");
    }
    let members = ctx.cluster.members().len();
    match ctx.cluster.redis() {
        RedisState::Up => Check::ok(format!("{members} live members through Redis")),
        RedisState::Unknown => Check::ok("joining: the first heartbeat has not run yet"),
        RedisState::Down(error) => Check::failing(format!(
            "{error}; syncing and serving alone, {members} members as last seen"
        )),
    }
}

/// Runs every check.
pub fn health(ctx: &ApiContext) -> Health {
    let checks = Checks {
        storage: storage(ctx),
        cache: cache(ctx),
        sync: sync(ctx),
        p2p: p2p(ctx),
        cluster: cluster(ctx),
    };
    let healthy = [&checks.storage, &checks.cache, &checks.sync, &checks.p2p]
        .iter()
        .all(|check| check.healthy);
    let status = match (healthy, checks.cluster.healthy) {
        (false, _) => "unhealthy",
        (true, false) => "degraded",
        (true, true) => "healthy",
    };
    Health {
        status,
        checks,
        uptime_hours: ctx.started.elapsed().as_secs_f64() / 3600.0,
    }
}
