//! Peer reputation: what a peer did wrong lowers its score; at
//! [`BAN_THRESHOLD`] it is banned by node id and IP for `p2p.ban_duration`,
//! so reconnecting does not buy a fresh budget. A ban refuses the peer at
//! the TCP accept (its IP) and after the RLPx handshake (its node id), and
//! discovery ignores the node (discv4 by id and IP, discv5 by id).
//! Scores recover with time ([`RECOVERY_PER_MINUTE`]); trusted peers are
//! never banned. Bans live in memory (a restart lifts them) and the admin
//! API lists and lifts them.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use hypasis_discovery::Discovery;
use hypasis_rlpx::NodeId;
use opentelemetry::KeyValue;
use parking_lot::Mutex;
use serde::Serialize;

use crate::metrics::Metrics;

/// The score at which a peer is banned (every peer starts at 0).
pub const BAN_THRESHOLD: i32 = -100;

/// Points a score recovers per minute of good behaviour.
pub const RECOVERY_PER_MINUTE: i32 = 10;

/// Something a peer did wrong. Being throttled is not: it is the flow
/// control a syncing peer meets all the time; staying over the limit until
/// dropped is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offence {
    /// A malformed or out-of-protocol message (disconnected with `DiscProtocolError`).
    InvalidMessage,
    /// Over its rate limit for too long (disconnected with `DiscUselessPeer`).
    Flooding,
}

impl Offence {
    /// How much it lowers the score.
    pub fn penalty(self) -> i32 {
        match self {
            Offence::InvalidMessage => 50,
            Offence::Flooding => 100,
        }
    }

    /// Its name in the status and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Offence::InvalidMessage => "invalid_message",
            Offence::Flooding => "flooding",
        }
    }
}

/// One ban, as the status and the admin API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BanView {
    /// The peer's node id (hex, no prefix).
    pub node_id: String,
    /// The IP it connected from.
    pub ip: String,
    /// The offence that crossed the threshold.
    pub reason: &'static str,
    /// Seconds since the Unix epoch when it ends.
    pub until_unix: u64,
    /// Seconds left.
    pub remaining_secs: u64,
}

struct Ban {
    ip: IpAddr,
    reason: Offence,
    until: Instant,
    until_wall: SystemTime,
}

struct Score {
    points: i32,
    at: Instant,
}

#[derive(Default)]
struct Inner {
    scores: HashMap<NodeId, Score>,
    bans: HashMap<NodeId, Ban>,
}

impl Inner {
    /// Drops bans that ended (and updates the gauge).
    fn expire(&mut self, now: Instant, metrics: &Metrics) {
        let before = self.bans.len();
        self.bans.retain(|_, ban| ban.until > now);
        if self.bans.len() != before {
            metrics.p2p_banned_peers.record(self.bans.len() as u64, &[]);
        }
    }
}

/// The reputation table of one devp2p server.
pub struct Reputation {
    ban_duration: Duration,
    metrics: Metrics,
    discovery: Option<Arc<Discovery>>,
    inner: Mutex<Inner>,
}

impl Reputation {
    /// A table banning for `ban_duration` (zero: never ban).
    pub fn new(ban_duration: Duration, metrics: Metrics) -> Self {
        Reputation {
            ban_duration,
            metrics,
            discovery: None,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The same table, also banning (and lifting) in `discovery`, so that
    /// a banned node is ignored there too.
    pub fn with_discovery(mut self, discovery: Option<Arc<Discovery>>) -> Self {
        self.discovery = discovery;
        self
    }

    /// Lowers `id`'s score for `offence`; bans it (and `ip`) when the score
    /// reaches the threshold. Returns whether this banned it.
    pub fn penalise(&self, id: NodeId, ip: IpAddr, offence: Offence) -> bool {
        if self.ban_duration.is_zero() {
            return false;
        }
        let now = Instant::now();
        let mut inner = self.inner.lock();
        inner.expire(now, &self.metrics);
        let score = inner
            .scores
            .entry(id)
            .or_insert(Score { points: 0, at: now });
        let minutes = now.duration_since(score.at).as_secs() / 60;
        if minutes > 0 {
            let recovered = (minutes as i32).saturating_mul(RECOVERY_PER_MINUTE);
            score.points = score.points.saturating_add(recovered).min(0);
            score.at = now;
        }
        score.points -= offence.penalty();
        if score.points > BAN_THRESHOLD {
            return false;
        }
        inner.scores.remove(&id);
        inner.bans.insert(
            id,
            Ban {
                ip,
                reason: offence,
                until: now + self.ban_duration,
                until_wall: SystemTime::now() + self.ban_duration,
            },
        );
        self.metrics
            .p2p_bans
            .add(1, &[KeyValue::new("reason", offence.as_str())]);
        self.metrics
            .p2p_banned_peers
            .record(inner.bans.len() as u64, &[]);
        if let Some(discovery) = &self.discovery {
            discovery.ban(id, ip, self.ban_duration);
        }
        tracing::info!(peer = %hex::encode(&id[..8]), %ip, reason = offence.as_str(), duration = ?self.ban_duration, "peer banned");
        true
    }

    /// Whether `ip` is banned.
    pub fn ip_banned(&self, ip: IpAddr) -> bool {
        let mut inner = self.inner.lock();
        inner.expire(Instant::now(), &self.metrics);
        inner.bans.values().any(|ban| ban.ip == ip)
    }

    /// Whether node `id` is banned.
    pub fn id_banned(&self, id: &NodeId) -> bool {
        let mut inner = self.inner.lock();
        inner.expire(Instant::now(), &self.metrics);
        inner.bans.contains_key(id)
    }

    /// The bans in force, soonest to end first.
    pub fn bans(&self) -> Vec<BanView> {
        let now = Instant::now();
        let mut inner = self.inner.lock();
        inner.expire(now, &self.metrics);
        let mut views: Vec<BanView> = inner
            .bans
            .iter()
            .map(|(id, ban)| BanView {
                node_id: hex::encode(id),
                ip: ban.ip.to_string(),
                reason: ban.reason.as_str(),
                until_unix: ban
                    .until_wall
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |since| since.as_secs()),
                remaining_secs: ban.until.saturating_duration_since(now).as_secs(),
            })
            .collect();
        views.sort_by_key(|view| view.until_unix);
        views
    }

    /// Lifts the ban on the node whose id is `node_id` (hex); whether there was one.
    pub fn lift(&self, node_id: &str) -> bool {
        let mut inner = self.inner.lock();
        let id = inner
            .bans
            .keys()
            .find(|id| hex::encode(id) == node_id.trim_start_matches("0x"))
            .copied();
        let lifted = id.is_some_and(|id| inner.bans.remove(&id).is_some());
        if let (Some(id), Some(discovery)) = (id, &self.discovery) {
            discovery.lift_ban(&id);
        }
        if lifted {
            self.metrics
                .p2p_banned_peers
                .record(inner.bans.len() as u64, &[]);
            tracing::info!(peer = %node_id, "ban lifted");
        }
        lifted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(byte: u8) -> NodeId {
        [byte; 64].into()
    }

    #[test]
    fn offences_add_up_to_a_ban_by_id_and_ip_that_can_be_lifted() {
        let metrics = Metrics::new().unwrap();
        let table = Reputation::new(Duration::from_secs(60), metrics.clone());
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        assert!(!table.penalise(id(1), ip, Offence::InvalidMessage));
        assert!(!table.id_banned(&id(1)));
        assert!(table.penalise(id(1), ip, Offence::InvalidMessage));
        assert!(table.id_banned(&id(1)) && table.ip_banned(ip));
        assert!(!table.ip_banned("10.0.0.8".parse().unwrap()));
        let bans = table.bans();
        assert_eq!(bans.len(), 1);
        assert_eq!(
            (bans[0].reason, bans[0].ip.as_str()),
            ("invalid_message", "10.0.0.7")
        );
        assert!(bans[0].remaining_secs <= 60 && bans[0].remaining_secs >= 59);
        let rendered = metrics.render();
        assert!(
            rendered.contains(r#"hypasis_p2p_bans_total{reason="invalid_message"} 1"#)
                && rendered.contains("hypasis_p2p_banned_peers 1"),
            "{rendered}"
        );
        assert!(!table.lift("00"));
        assert!(table.lift(&bans[0].node_id));
        assert!(!table.id_banned(&id(1)) && !table.ip_banned(ip));
        // Flooding bans at once; a zero duration never bans.
        assert!(table.penalise(id(2), ip, Offence::Flooding));
        let never = Reputation::new(Duration::ZERO, Metrics::new().unwrap());
        assert!(!never.penalise(id(3), ip, Offence::Flooding));
        assert!(!never.id_banned(&id(3)));
    }

    #[test]
    fn a_ban_ends_after_its_duration() {
        let table = Reputation::new(Duration::from_millis(50), Metrics::new().unwrap());
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        assert!(table.penalise(id(4), ip, Offence::Flooding));
        assert!(table.id_banned(&id(4)));
        std::thread::sleep(Duration::from_millis(80));
        assert!(!table.id_banned(&id(4)) && !table.ip_banned(ip));
        assert!(table.bans().is_empty());
    }
}
