//! The devp2p server: a TCP listener on `p2p.listen_addr`, discovery (discv4
//! and discv5) on the same port over UDP, and per connection the RLPx
//! handshake, Hello, admission and an eth session in its own task and
//! tracing span (peer id and client name).
//!
//! ```text
//! accept ─> RlpxStream::accept ─> P2pSession::handshake ─> PeerTable::admit ─> peer::run
//! (banned IP: (p2p.handshake_timeout, at most 50 at once)  (banned id refused;
//!  closed)                                                   max_peers, trusted)
//! ```

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    sync::Arc,
    time::Duration,
};

use hypasis_discovery::{Discovery, DiscoveryConfig, DiscoveryError, ForkId, NodeRecord};
use hypasis_eth_wire::{EthVersion, protocol::PROTOCOL_NAME};
use hypasis_rlpx::{
    DisconnectReason, Hello, NodeId, P2pSession, Protocol, RlpxCodec, RlpxStream, SessionConfig,
};
use opentelemetry::KeyValue;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::Semaphore,
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{
    handshake::our_fork_filter,
    identity::{ExternalAddress, IpDiscovery, IpSource, write_enode_file},
    limits::RequestLimiter,
    peer::{self, Conduct, Offender, PeerContext, SessionEnd},
    peers::PeerTable,
    protocol::{MAX_PENDING_HANDSHAKES, capabilities, client_label, client_name},
    reputation::Reputation,
};
use crate::{
    block_store::BlockStore, chain_state::ChainWatch, config::Config, metrics::Metrics,
    nodekey::NodeKey, plugins::RateLimitPlugin,
};

/// Why the devp2p server could not start.
#[derive(Debug, thiserror::Error)]
pub enum P2pStartError {
    /// The TCP listener could not be bound.
    #[error("cannot listen for devp2p on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A `p2p.trusted_peers` entry is not an enode URL.
    #[error("p2p.trusted_peers: `{url}`: {reason}")]
    TrustedPeer {
        /// The entry.
        url: String,
        /// Why.
        reason: String,
    },
    /// Discovery could not start.
    #[error("discovery: {0}")]
    Discovery(#[from] DiscoveryError),
    /// `enode.txt` could not be written.
    #[error("writing {path}: {source}")]
    EnodeFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What the server runs with.
pub struct P2pServices {
    /// The node key (the data directory's).
    pub key: NodeKey,
    /// The block store.
    pub store: Arc<dyn BlockStore>,
    /// The rate-limit policy, when `ratelimit.enabled`.
    pub rate_limit: Option<Arc<RateLimitPlugin>>,
    /// The head we announce.
    pub chain: ChainWatch,
    /// Metrics.
    pub metrics: Metrics,
}

/// A running devp2p server.
pub struct P2pServer {
    enode: String,
    local_addr: SocketAddr,
    external: ExternalAddress,
    peers: Arc<PeerTable>,
    reputation: Arc<Reputation>,
    chain: ChainWatch,
    tasks: JoinSet<()>,
    discovery: Option<Arc<Discovery>>,
}

/// Settings taken from the configuration, shared by connection tasks.
struct Listener {
    key: NodeKey,
    hello: Hello,
    protocols: Vec<Protocol>,
    handshake_timeout: Duration,
    peers: Arc<PeerTable>,
    reputation: Arc<Reputation>,
    context: Arc<PeerContext>,
    rate_limit: Option<Arc<RateLimitPlugin>>,
    peer_rps: f64,
    operator_rps: f64,
}

fn parse_trusted(urls: &[String]) -> Result<HashSet<NodeId>, P2pStartError> {
    urls.iter()
        .filter(|url| !url.trim().is_empty())
        .map(|url| {
            url.parse::<NodeRecord>()
                .map(|record| record.id)
                .map_err(|error| P2pStartError::TrustedPeer {
                    url: url.clone(),
                    reason: error.to_string(),
                })
        })
        .collect()
}

impl P2pServer {
    /// Binds, writes `enode.txt`, starts discovery (when `p2p.discovery`)
    /// and accepts peers until `shutdown`.
    pub async fn start(
        config: &Config,
        services: P2pServices,
        shutdown: CancellationToken,
    ) -> Result<P2pServer, P2pStartError> {
        let p2p = &config.p2p;
        let trusted = parse_trusted(&p2p.trusted_peers)?;
        let chain = services.chain;
        let listener =
            TcpListener::bind(p2p.listen_addr)
                .await
                .map_err(|source| P2pStartError::Bind {
                    addr: p2p.listen_addr,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| P2pStartError::Bind {
                addr: p2p.listen_addr,
                source,
            })?;
        let port = local_addr.port();
        let external = IpDiscovery::from_config(&config.cloud)
            .resolve(local_addr.ip())
            .await;
        let enode = services.key.enode_url(external.ip, port, port);
        let data_dir = &config.storage.data_dir;
        let enode_file =
            write_enode_file(data_dir, &enode).map_err(|source| P2pStartError::EnodeFile {
                path: data_dir.join(super::identity::ENODE_FILE),
                source,
            })?;
        let local_id = NodeId::from(services.key.node_id());
        let peers = PeerTable::new(
            local_id,
            p2p.max_peers as usize,
            trusted,
            services.metrics.clone(),
        );
        let mut tasks = JoinSet::new();
        let discovery = if p2p.discovery {
            let advertised = match external.source {
                IpSource::ListenAddress if local_addr.ip().is_unspecified() => None,
                _ => Some(external.ip),
            };
            let discovery = start_discovery(
                &services.key,
                SocketAddr::new(local_addr.ip(), port),
                advertised,
                p2p.bootnodes.clone(),
                &chain,
                shutdown.clone(),
            )
            .await?;
            let discovery = Arc::new(discovery);
            tasks.spawn(follow_fork_id(
                Arc::clone(&discovery),
                chain.clone(),
                shutdown.clone(),
            ));
            Some(discovery)
        } else {
            None
        };
        // Bans reach discovery too: a banned node is ignored there as well.
        let reputation = Arc::new(
            Reputation::new(p2p.ban_duration, services.metrics.clone())
                .with_discovery(discovery.clone()),
        );
        let protocols = capabilities();
        let listener_state = Arc::new(Listener {
            hello: Hello::new(client_name(), port, local_id, &protocols),
            key: services.key,
            protocols,
            handshake_timeout: p2p.handshake_timeout,
            peers: Arc::clone(&peers),
            reputation: Arc::clone(&reputation),
            context: Arc::new(PeerContext {
                store: services.store,
                chain: chain.clone(),
                metrics: services.metrics,
                handshake_timeout: p2p.handshake_timeout,
            }),
            rate_limit: services.rate_limit,
            peer_rps: p2p.peer_requests_per_second,
            operator_rps: config.ratelimit.per_operator_rps,
        });
        tasks.spawn(accept_loop(listener, listener_state, shutdown));
        tracing::info!(
            %enode,
            listen = %local_addr,
            ip_from = %external.source,
            discovery = p2p.discovery,
            max_peers = p2p.max_peers,
            file = %enode_file.display(),
            "devp2p listening"
        );
        Ok(P2pServer {
            enode,
            local_addr,
            external,
            peers,
            reputation,
            chain,
            tasks,
            discovery,
        })
    }

    /// Our enode URL (also in `<data_dir>/enode.txt`).
    pub fn enode(&self) -> &str {
        &self.enode
    }

    /// The bound TCP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The advertised IP and where it came from.
    pub fn external_address(&self) -> ExternalAddress {
        self.external
    }

    /// Peers connected now.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Connected peers by client label, sorted.
    pub fn peer_clients(&self) -> Vec<(String, u64)> {
        self.peers.clients()
    }

    /// The peer table (shared, for status snapshots that outlive a borrow).
    pub fn peer_table(&self) -> Arc<PeerTable> {
        Arc::clone(&self.peers)
    }

    /// Peer scores and bans (the status and the admin API read and lift them).
    pub fn reputation(&self) -> Arc<Reputation> {
        Arc::clone(&self.reputation)
    }

    /// The chain and head we announce.
    pub fn chain(&self) -> &ChainWatch {
        &self.chain
    }

    /// Our node record (ENR), when discovery runs.
    pub fn local_enr(&self) -> Option<String> {
        self.discovery.as_ref().map(|d| d.local_enr().to_base64())
    }

    /// Waits for every task to end (after the shutdown token is cancelled).
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
        if let Some(discovery) = self.discovery.take().and_then(Arc::into_inner) {
            discovery.stopped().await;
        }
    }
}

async fn start_discovery(
    key: &NodeKey,
    listen: SocketAddr,
    external_ip: Option<IpAddr>,
    bootnodes: Vec<String>,
    chain: &ChainWatch,
    shutdown: CancellationToken,
) -> Result<Discovery, DiscoveryError> {
    Discovery::start(
        DiscoveryConfig {
            key: *key.secret(),
            listen,
            external_ip,
            tcp_port: listen.port(),
            bootnodes: bootnodes
                .into_iter()
                .filter(|url| !url.trim().is_empty())
                .collect(),
            fork_id: current_fork_id(chain).unwrap_or(ForkId::from(([0; 4], 0))),
            enable_v5: true,
        },
        shutdown,
    )
    .await
}

fn current_fork_id(chain: &ChainWatch) -> Option<ForkId> {
    let head = chain.head()?;
    let id = our_fork_filter(chain.spec(), &head).ok()?.current();
    Some(ForkId::from((id.hash.0, id.next)))
}

/// Keeps the `eth` entry of our ENR on the current fork id.
async fn follow_fork_id(discovery: Arc<Discovery>, chain: ChainWatch, shutdown: CancellationToken) {
    let mut heads = chain.subscribe();
    loop {
        if let Some(fork_id) = current_fork_id(&chain)
            && let Err(error) = discovery.set_fork_id(fork_id)
        {
            tracing::warn!(%error, "cannot update the ENR fork id");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            changed = heads.changed() => if changed.is_err() { return },
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<Listener>, shutdown: CancellationToken) {
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = Arc::clone(&pending).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        match accepted {
            Ok((_, remote)) if state.reputation.ip_banned(remote.ip()) => {
                // Closed before any handshake work: a banned IP costs an accept.
                tracing::debug!(%remote, "connection from a banned IP refused");
                count_disconnect(
                    &state.context.metrics,
                    DisconnectReason::UselessPeer,
                    "local",
                );
            }
            Ok((tcp, remote)) => {
                let state = Arc::clone(&state);
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    connection(tcp, remote, state, permit, shutdown).await;
                });
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a devp2p connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    while connections.join_next().await.is_some() {}
}

fn short_id(id: &NodeId) -> String {
    hex::encode(&id[..8])
}

/// One inbound connection, from TCP to the end of its eth session.
async fn connection(
    tcp: TcpStream,
    remote: SocketAddr,
    state: Arc<Listener>,
    permit: tokio::sync::OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let _ = tcp.set_nodelay(true);
    let timeout = state.handshake_timeout;
    let handshake = async {
        let stream =
            RlpxStream::accept_codec(tcp, RlpxCodec::recipient(state.key.secret()), timeout)
                .await?;
        let config = SessionConfig {
            handshake_timeout: timeout,
            ..SessionConfig::default()
        };
        P2pSession::handshake_with(stream, state.hello.clone(), &state.protocols, config).await
    };
    let handshake = tokio::select! {
        _ = shutdown.cancelled() => return,
        handshake = handshake => handshake,
    };
    drop(permit);
    let (session, hello) = match handshake {
        Ok(done) => done,
        Err(error) => {
            tracing::debug!(%remote, %error, "devp2p handshake failed");
            if let Some(reason) = error.disconnect_reason() {
                count_disconnect(&state.context.metrics, reason, "local");
            }
            return;
        }
    };
    let id = session.stream().remote_id();
    let span = tracing::info_span!("peer", id = %short_id(&id), client = %hello.client_name);
    async move {
        let version = session
            .shared_capabilities()
            .get(PROTOCOL_NAME)
            .and_then(|shared| EthVersion::from_number(shared.capability.version));
        let Some(version) = version else {
            // Hello only succeeds with a shared capability, and eth is our only one.
            session.disconnect(DisconnectReason::UselessPeer).await;
            return;
        };
        let trusted = state.peers.is_trusted(&id);
        if !trusted && state.reputation.id_banned(&id) {
            tracing::debug!(%remote, "banned peer refused");
            count_disconnect(
                &state.context.metrics,
                DisconnectReason::UselessPeer,
                "local",
            );
            session.disconnect(DisconnectReason::UselessPeer).await;
            return;
        }
        let conduct = Conduct {
            reputation: Arc::clone(&state.reputation),
            offender: (!trusted).then_some(Offender {
                id,
                ip: remote.ip(),
            }),
        };
        let slot = match state.peers.admit(id, &client_label(&hello.client_name)) {
            Ok(slot) => slot,
            Err(reason) => {
                tracing::debug!(%remote, %reason, "peer refused");
                count_disconnect(&state.context.metrics, reason, "local");
                session.disconnect(reason).await;
                return;
            }
        };
        let limiter = match &state.rate_limit {
            Some(plugin) => {
                RequestLimiter::plugin(Arc::clone(plugin), hex::encode(id), state.operator_rps)
            }
            None => RequestLimiter::bucket(state.peer_rps),
        };
        tracing::debug!(%remote, %version, trusted = state.peers.is_trusted(&id), "session up");
        let end = peer::run(
            session,
            version,
            Arc::clone(&state.context),
            limiter,
            conduct,
            shutdown,
        )
        .await;
        drop(slot);
        match end {
            SessionEnd::Local(reason, why) => {
                count_disconnect(&state.context.metrics, reason, "local");
                if matches!(reason, DisconnectReason::Quitting) {
                    tracing::debug!(%reason, "peer disconnected: {why}");
                } else {
                    tracing::info!(%reason, "peer disconnected: {why}");
                }
            }
            SessionEnd::Remote(reason, why) => {
                let label =
                    reason.map_or_else(|| "connection closed".to_string(), |r| r.to_string());
                state.context.metrics.p2p_disconnects.add(
                    1,
                    &[
                        KeyValue::new("reason", label),
                        KeyValue::new("side", "remote"),
                    ],
                );
                tracing::info!("peer left: {why}");
            }
        }
    }
    .instrument(span)
    .await;
}

fn count_disconnect(metrics: &Metrics, reason: DisconnectReason, side: &'static str) {
    metrics.p2p_disconnects.add(
        1,
        &[
            KeyValue::new("reason", reason.to_string()),
            KeyValue::new("side", side),
        ],
    );
}
