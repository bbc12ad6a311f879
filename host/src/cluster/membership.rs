//! The heartbeat: this instance's record renewed in Redis, the live member
//! list read back into a [`ClusterView`], and Redis's reachability tracked
//! for `/health` and the metrics.

use std::{sync::Arc, time::Duration};

use opentelemetry::KeyValue;
use parking_lot::RwLock;
use tokio_util::sync::CancellationToken;

use super::{Member, MemberRegistry, RedisPool, member::MEMBER_VERSION};
use crate::{chain_state::ChainWatch, clock::now_ms, metrics::Metrics};

/// Whether Redis answered the last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisState {
    /// No heartbeat has run yet.
    Unknown,
    /// The last heartbeat reached Redis.
    Up,
    /// The last heartbeat did not; the error.
    Down(String),
}

#[derive(Debug)]
struct ViewState {
    local: Member,
    others: Vec<Member>,
    redis: RedisState,
    last_ok_ms: Option<u64>,
}

/// What this instance knows of the cluster, as of its last heartbeat:
/// itself, the other live members, and whether Redis answers. Cheap to
/// clone and to read; the others are written only by [`Membership`].
/// Without `cluster.enabled` it holds this instance alone.
#[derive(Clone)]
pub struct ClusterView {
    state: Arc<RwLock<ViewState>>,
    member_ttl: Duration,
    head: Option<ChainWatch>,
    redis: Option<RedisPool>,
}

impl std::fmt::Debug for ClusterView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterView")
            .field("state", &self.state)
            .field("enabled", &self.enabled())
            .finish_non_exhaustive()
    }
}

impl ClusterView {
    /// A view holding only `local` (whose head is read from `head`),
    /// before the first heartbeat; `redis` is the cluster's Redis, when
    /// `cluster.enabled` (a [`Membership`] then runs over it).
    pub fn new(
        local: Member,
        member_ttl: Duration,
        head: Option<ChainWatch>,
        redis: Option<RedisPool>,
    ) -> Self {
        ClusterView {
            state: Arc::new(RwLock::new(ViewState {
                local,
                others: Vec::new(),
                redis: RedisState::Unknown,
                last_ok_ms: None,
            })),
            member_ttl,
            head,
            redis,
        }
    }

    /// Whether this instance is in a cluster (`cluster.enabled`).
    pub fn enabled(&self) -> bool {
        self.redis.is_some()
    }

    /// The cluster's Redis, when in a cluster.
    pub fn redis_pool(&self) -> Option<&RedisPool> {
        self.redis.as_ref()
    }

    /// Sets this instance's public URLs (known once the API servers listen).
    pub fn set_urls(&self, api_url: Option<String>, rpc_url: Option<String>) {
        let mut state = self.state.write();
        state.local.api_url = api_url;
        state.local.rpc_url = rpc_url;
    }

    /// Every live member, this one included, ordered by id. While Redis is
    /// unreachable, the others last seen stay listed until their records
    /// would have expired.
    pub fn members(&self) -> Vec<Member> {
        let state = self.state.read();
        let ttl = u64::try_from(self.member_ttl.as_millis()).unwrap_or(u64::MAX);
        let now = now_ms();
        let mut members: Vec<Member> = state
            .others
            .iter()
            .filter(|member| {
                state.redis == RedisState::Up || member.heartbeat_ms.saturating_add(ttl) > now
            })
            .cloned()
            .collect();
        drop(state);
        members.push(self.local());
        members.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        members
    }

    /// How many members Redis listed at the last heartbeat that reached
    /// it, this one included: what a share of a cluster-wide limit is
    /// computed from while Redis is away (when [`Self::members`] forgets
    /// the others as their records would expire).
    pub fn last_seen_count(&self) -> usize {
        self.state.read().others.len() + 1
    }

    /// This instance's record, with its head and clock as of now.
    pub fn local(&self) -> Member {
        let mut local = self.state.read().local.clone();
        local.heartbeat_ms = now_ms();
        local.head = self
            .head
            .as_ref()
            .and_then(ChainWatch::head)
            .map(|head| head.number);
        local
    }

    /// Whether Redis answered the last heartbeat.
    pub fn redis(&self) -> RedisState {
        self.state.read().redis.clone()
    }

    /// When Redis last answered, in Unix milliseconds.
    pub fn last_ok_ms(&self) -> Option<u64> {
        self.state.read().last_ok_ms
    }
}

/// The heartbeat task of one instance.
pub struct Membership {
    registry: MemberRegistry,
    view: ClusterView,
    period: Duration,
    metrics: Metrics,
    // Ids whose value was rejected at the last heartbeat: logged once, counted every time.
    rejected: parking_lot::Mutex<std::collections::BTreeSet<String>>,
}

impl Membership {
    /// A heartbeat every `period` into `registry`, publishing to `view`.
    pub fn new(
        registry: MemberRegistry,
        view: ClusterView,
        period: Duration,
        metrics: Metrics,
    ) -> Self {
        Membership {
            registry,
            view,
            period,
            metrics,
            rejected: parking_lot::Mutex::default(),
        }
    }

    /// Beats until `shutdown`, then removes this member from Redis.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(self.period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => self.beat().await,
            }
        }
        let id = self.view.local().instance_id;
        match self.registry.deregister(&id).await {
            Ok(()) => tracing::info!(instance = %id, "left the cluster"),
            Err(error) => {
                tracing::warn!(instance = %id, %error, "could not leave the cluster; the record expires by itself");
            }
        }
    }

    /// One heartbeat: renew our record, read the others.
    async fn beat(&self) {
        let mut record = self.view.local();
        record.v = MEMBER_VERSION;
        let result = async {
            let rtt = self
                .registry
                .register(&record, self.view.member_ttl)
                .await?;
            let listed = self.registry.members().await?;
            Ok::<_, super::ClusterError>((rtt, listed))
        }
        .await;
        let mut state = self.view.state.write();
        match result {
            Ok((rtt, (members, rejected))) => {
                self.metrics
                    .cluster_redis_rtt
                    .record(rtt.as_secs_f64(), &[]);
                let mut logged = self.rejected.lock();
                let mut now_rejected = std::collections::BTreeSet::new();
                for (id, error) in rejected {
                    self.metrics
                        .cluster_bad_values
                        .add(1, &[KeyValue::new("kind", "member")]);
                    if !logged.contains(&id) {
                        tracing::error!(member = %id, %error, "a member record in Redis is not valid; ignored");
                    }
                    now_rejected.insert(id);
                }
                *logged = now_rejected;
                drop(logged);
                if state.redis != RedisState::Up {
                    tracing::info!(
                        members = members.len(),
                        "cluster: Redis reached, this instance is a member"
                    );
                }
                state.others = members
                    .into_iter()
                    .filter(|member| member.instance_id != record.instance_id)
                    .collect();
                state.redis = RedisState::Up;
                state.last_ok_ms = Some(record.heartbeat_ms);
            }
            Err(error) => {
                if !matches!(state.redis, RedisState::Down(_)) {
                    tracing::warn!(%error, "cluster: Redis unreachable; syncing and serving alone until it returns");
                }
                state.redis = RedisState::Down(error.to_string());
            }
        }
        let up = u64::from(state.redis == RedisState::Up);
        drop(state);
        let count = self.view.members().len() as u64;
        self.metrics.cluster_redis_up.record(up, &[]);
        self.metrics.cluster_members.record(count, &[]);
    }
}
