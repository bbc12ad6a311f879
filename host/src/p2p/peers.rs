//! The table of connected peers: admission (`p2p.max_peers`, trusted peers
//! beyond it, one connection per node, not ourselves) and the
//! `hypasis_connected_peers_total` gauge: one series per client, and the
//! unlabelled series with every peer (0 from start, so an alert on it fires
//! at zero peers).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use hypasis_rlpx::{DisconnectReason, NodeId};
use opentelemetry::KeyValue;
use parking_lot::Mutex;

use crate::metrics::Metrics;

/// Connected peers and the admission rules.
pub struct PeerTable {
    local_id: NodeId,
    max_peers: usize,
    trusted: HashSet<NodeId>,
    metrics: Metrics,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Each connected peer's client label and whether it is trusted.
    peers: HashMap<NodeId, (String, bool)>,
    untrusted: usize,
    by_client: HashMap<String, u64>,
}

/// A place in the table, freed when dropped.
pub struct PeerSlot {
    table: Arc<PeerTable>,
    id: NodeId,
}

impl PeerTable {
    /// A table admitting `max_peers` untrusted peers and every trusted one.
    pub fn new(
        local_id: NodeId,
        max_peers: usize,
        trusted: HashSet<NodeId>,
        metrics: Metrics,
    ) -> Arc<Self> {
        Arc::new(PeerTable {
            local_id,
            max_peers,
            trusted,
            metrics,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// Whether `id` is a trusted peer.
    pub fn is_trusted(&self, id: &NodeId) -> bool {
        self.trusted.contains(id)
    }

    /// Connected peers.
    pub fn len(&self) -> usize {
        self.inner.lock().peers.len()
    }

    /// No peer connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Connected peers counted by client label (`bor/v2.2.11`), sorted, for
    /// the status API and page.
    pub fn clients(&self) -> Vec<(String, u64)> {
        let mut clients: Vec<(String, u64)> = self
            .inner
            .lock()
            .by_client
            .iter()
            .map(|(client, count)| (client.clone(), *count))
            .collect();
        clients.sort();
        clients
    }

    /// Takes a place for `id` (client label `client`), or says why not.
    pub fn admit(self: &Arc<Self>, id: NodeId, client: &str) -> Result<PeerSlot, DisconnectReason> {
        if id == self.local_id {
            return Err(DisconnectReason::ConnectedToSelf);
        }
        let trusted = self.is_trusted(&id);
        let mut inner = self.inner.lock();
        if inner.peers.contains_key(&id) {
            return Err(DisconnectReason::AlreadyConnected);
        }
        if !trusted && inner.untrusted >= self.max_peers {
            return Err(DisconnectReason::TooManyPeers);
        }
        inner.peers.insert(id, (client.to_string(), trusted));
        if !trusted {
            inner.untrusted += 1;
        }
        let count = inner.by_client.entry(client.to_string()).or_default();
        *count += 1;
        let count = *count;
        self.record(client, count, inner.peers.len());
        Ok(PeerSlot {
            table: Arc::clone(self),
            id,
        })
    }

    fn release(&self, id: &NodeId) {
        let mut inner = self.inner.lock();
        let Some((client, trusted)) = inner.peers.remove(id) else {
            return;
        };
        if !trusted {
            inner.untrusted -= 1;
        }
        if let Some(count) = inner.by_client.get_mut(&client) {
            *count = count.saturating_sub(1);
            let count = *count;
            if count == 0 {
                inner.by_client.remove(&client);
            }
            self.record(&client, count, inner.peers.len());
        }
    }

    fn record(&self, client: &str, count: u64, total: usize) {
        self.metrics
            .connected_peers
            .record(count, &[KeyValue::new("client", client.to_string())]);
        self.metrics.connected_peers.record(total as u64, &[]);
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        self.table.release(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_peers_trusted_duplicates_and_self() {
        let metrics = Metrics::new().unwrap();
        let id = |byte| NodeId::repeat_byte(byte);
        let table = PeerTable::new(id(0), 2, [id(9)].into(), metrics.clone());
        assert!(
            metrics
                .render()
                .lines()
                .any(|line| line == "hypasis_connected_peers_total 0"),
            "no peers yet"
        );
        let a = table.admit(id(1), "bor/v2.2.11").unwrap();
        assert_eq!(
            table.admit(id(1), "bor/v2.2.11").err(),
            Some(DisconnectReason::AlreadyConnected)
        );
        let _b = table.admit(id(2), "bor/v2.2.11").unwrap();
        assert_eq!(
            table.admit(id(3), "x").err(),
            Some(DisconnectReason::TooManyPeers)
        );
        let _trusted = table.admit(id(9), "bor/v2.2.10").unwrap();
        assert_eq!(
            table.admit(id(0), "x").err(),
            Some(DisconnectReason::ConnectedToSelf)
        );
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.clients(),
            vec![("bor/v2.2.10".into(), 1), ("bor/v2.2.11".into(), 2)]
        );
        let rendered = metrics.render();
        assert!(
            rendered.contains(r#"hypasis_connected_peers_total{client="bor/v2.2.11"} 2"#)
                && rendered
                    .lines()
                    .any(|line| line == "hypasis_connected_peers_total 3"),
            "{rendered}"
        );
        drop(a);
        let _c = table.admit(id(3), "x").unwrap();
        let rendered = metrics.render();
        assert!(
            rendered.contains(r#"hypasis_connected_peers_total{client="bor/v2.2.11"} 1"#),
            "{rendered}"
        );
    }
}
