//! The public face: [`DiscoveryConfig`] in, a running [`Discovery`] out.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use enr::EnrPublicKey;
use parking_lot::{Mutex, RwLock};
use secp256k1::SecretKey;
use tokio::{net::UdpSocket, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::{
    error::{DiscoveryError, NodeUrlError},
    fork_id::ForkId,
    local_record::{Enr, LocalRecord, build_enr, enr_key},
    node::{NodeRecord, PeerId, peer_id, peer_id_of_secret},
    service::{FrameSource, Service},
    v4node::{Now, V4Node, V4Settings},
    v4wire::Endpoint,
    v5,
};

/// What discovery needs to start.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// The node key (the same one RLPx uses, so the enode id matches).
    pub key: SecretKey,
    /// The UDP address to bind; discv4 and discv5 share it. Port 0 picks one.
    pub listen: SocketAddr,
    /// The IP to advertise (in our ENR, enode URL and Pings). Without it the
    /// listen IP is advertised if it is specific; otherwise the ENR carries
    /// no IP and the enode URL shows 127.0.0.1, as go-ethereum does.
    pub external_ip: Option<IpAddr>,
    /// The RLPx TCP port to advertise (0: none).
    pub tcp_port: u16,
    /// Nodes to bootstrap from: `enode://…` URLs (discv4), or `enr:…`
    /// records (discv5, and discv4 too when they carry an IPv4 endpoint).
    pub bootnodes: Vec<String>,
    /// The fork id for the `eth` ENR entry.
    pub fork_id: ForkId,
    /// Also run discv5 on the same UDP port.
    pub enable_v5: bool,
}

/// A running discovery service. It stops when the `shutdown` token given to
/// [`Discovery::start`] is cancelled; [`Discovery::stopped`] waits for that.
pub struct Discovery {
    local_addr: SocketAddr,
    local_id: PeerId,
    advertised_ip: Option<IpAddr>,
    tcp_port: u16,
    record: LocalRecord,
    node: Arc<Mutex<V4Node>>,
    discv5: Arc<Mutex<Option<discv5::Discv5>>>,
    task: JoinHandle<()>,
}

/// Splits the configured bootnodes into discv4 records and discv5 ENRs.
fn parse_bootnodes(urls: &[String]) -> Result<(Vec<NodeRecord>, Vec<Enr>), DiscoveryError> {
    let mut v4 = Vec::new();
    let mut v5 = Vec::new();
    for url in urls {
        let bad = |source| DiscoveryError::Bootnode {
            url: url.clone(),
            source,
        };
        if url.trim().starts_with("enr:") {
            let enr: Enr = url
                .trim()
                .parse()
                .map_err(|_| bad(NodeUrlError::MissingScheme))?;
            if let (Some(ip), Some(udp)) = (enr.ip4(), enr.udp4()) {
                let key = secp256k1::PublicKey::from_slice(&enr.public_key().encode());
                if let Ok(key) = key {
                    v4.push(NodeRecord {
                        id: peer_id(&key),
                        ip: IpAddr::V4(ip),
                        udp,
                        tcp: enr.tcp4().unwrap_or(0),
                    });
                }
            }
            v5.push(enr);
        } else {
            v4.push(url.parse().map_err(bad)?);
        }
    }
    Ok((v4, v5))
}

impl Discovery {
    /// Binds the socket, builds our ENR, starts discv5 if enabled and spawns
    /// the discv4 service. Must be called within a tokio runtime.
    pub async fn start(
        config: DiscoveryConfig,
        shutdown: CancellationToken,
    ) -> Result<Self, DiscoveryError> {
        let (v4_bootnodes, v5_bootnodes) = parse_bootnodes(&config.bootnodes)?;
        let bind_error = |source| DiscoveryError::Bind {
            addr: config.listen,
            source,
        };
        let socket = Arc::new(UdpSocket::bind(config.listen).await.map_err(bind_error)?);
        let local_addr = socket.local_addr().map_err(bind_error)?;
        let advertised_ip = config.external_ip.or_else(|| {
            let ip = local_addr.ip();
            (!ip.is_unspecified()).then_some(ip)
        });
        let enr = build_enr(
            &enr_key(&config.key)?,
            advertised_ip,
            local_addr.port(),
            config.tcp_port,
            config.fork_id,
        )?;

        let discv5_cell = Arc::new(Mutex::new(None));
        let (record, source) = if config.enable_v5 {
            let started = v5::start(
                socket.clone(),
                local_addr,
                enr,
                enr_key(&config.key)?,
                config.external_ip.is_some(),
                &v5_bootnodes,
            )
            .await?;
            let record = LocalRecord::new(enr_key(&config.key)?, started.discv5.external_enr());
            *discv5_cell.lock() = Some(started.discv5);
            (record, FrameSource::Discv5(started.events))
        } else {
            let record = LocalRecord::new(enr_key(&config.key)?, Arc::new(RwLock::new(enr)));
            (record, FrameSource::Socket)
        };

        let settings = V4Settings {
            key: config.key,
            endpoint: Endpoint {
                ip: advertised_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                udp: local_addr.port(),
                tcp: config.tcp_port,
            },
            bootnodes: v4_bootnodes,
        };
        let node = Arc::new(Mutex::new(V4Node::new(
            settings,
            record.clone(),
            Now::current(),
        )));
        let service = Service {
            socket,
            socket_is_v6: local_addr.is_ipv6(),
            node: node.clone(),
            source,
            discv5: discv5_cell.clone(),
            shutdown,
        };
        let discovery = Self {
            local_addr,
            local_id: peer_id_of_secret(&config.key),
            advertised_ip,
            tcp_port: config.tcp_port,
            record,
            node,
            discv5: discv5_cell,
            task: tokio::spawn(service.run()),
        };
        info!(
            enode = %discovery.enode_url(),
            enr = %discovery.local_enr().to_base64(),
            v5 = config.enable_v5,
            "discovery started"
        );
        Ok(discovery)
    }

    /// Our current node record.
    pub fn local_enr(&self) -> Enr {
        self.record.enr()
    }

    /// Our discv4 identity and endpoint (the IP is 127.0.0.1 when none is
    /// known, as go-ethereum prints it).
    pub fn node_record(&self) -> NodeRecord {
        NodeRecord {
            id: self.local_id,
            ip: self
                .advertised_ip
                .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            udp: self.local_addr.port(),
            tcp: self.tcp_port,
        }
    }

    /// Our `enode://` URL, the form Bor takes in `--bootnodes`.
    pub fn enode_url(&self) -> String {
        self.node_record().to_string()
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Nodes in the discv4 routing table.
    pub fn table_size(&self) -> usize {
        self.node.lock().table_size()
    }

    /// The discv4 routing table's nodes.
    pub fn table_nodes(&self) -> Vec<NodeRecord> {
        self.node.lock().table_nodes()
    }

    /// Nodes in the discv5 routing table (0 when discv5 is off).
    pub fn v5_table_size(&self) -> usize {
        self.discv5
            .lock()
            .as_ref()
            .map_or(0, |d| d.table_entries_id().len())
    }

    /// Updates the `eth` entry of our ENR (call when the chain passes a
    /// fork). The record's sequence number goes up; peers see the new one in
    /// our next Ping/Pong and can fetch it with ENRRequest or discv5.
    pub fn set_fork_id(&self, fork_id: impl Into<ForkId>) -> Result<(), DiscoveryError> {
        self.record.set_fork_id(fork_id.into())
    }

    /// Bans node `id` (and `ip`) for `duration`, as the host does a peer that
    /// misbehaved over RLPx: discv4 ignores its packets (by id or IP), drops
    /// it from the table and tells no one of it; discv5 drops it too, by node
    /// id only (the discv5 crate keeps one ban list per process, so banning
    /// an IP there would reach every instance in it).
    pub fn ban(&self, id: PeerId, ip: IpAddr, duration: Duration) {
        self.node.lock().ban(id, ip, Instant::now() + duration);
        if let Some(discv5) = self.discv5.lock().as_ref() {
            discv5.ban_node(&v5_node_id(&id), Some(duration));
        }
    }

    /// Lifts the ban on node `id`; whether discv4 had one.
    pub fn lift_ban(&self, id: &PeerId) -> bool {
        if let Some(discv5) = self.discv5.lock().as_ref() {
            discv5.ban_node_remove(&v5_node_id(id));
        }
        self.node.lock().lift_ban(id)
    }

    /// Waits until the service has stopped (after the shutdown token is
    /// cancelled).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "discovery task ended abnormally");
        }
    }
}

/// The discv5 node id of a node: keccak256 of its public key.
fn v5_node_id(id: &PeerId) -> enr::NodeId {
    enr::NodeId::new(&alloy_primitives::keccak256(id).0)
}
