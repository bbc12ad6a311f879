//! `p2p.*`: devp2p discovery, RLPx and the eth protocol, kept apart from
//! the APIs because it has its own peers, limits and bans.

use std::{net::SocketAddr, time::Duration};

use serde::{Deserialize, Serialize};

/// `p2p.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Run devp2p (ENABLE_DEVP2P).
    pub enabled: bool,
    /// TCP address for RLPx; discovery uses the same port on UDP.
    pub listen_addr: SocketAddr,
    /// Answer discv4 and discv5 on the UDP port.
    pub discovery: bool,
    /// Most peers at once, trusted peers not counted (MAX_PEERS).
    pub max_peers: u32,
    /// Enode URLs always admitted, even above `max_peers`.
    pub trusted_peers: Vec<String>,
    /// Enode URLs to seed discovery with.
    pub bootnodes: Vec<String>,
    /// Time allowed for the RLPx and eth handshakes.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// eth requests per second a peer may make before it is throttled.
    pub peer_requests_per_second: f64,
    /// How long a peer whose score fell to the ban threshold (invalid
    /// messages, flooding) is refused, by node id and IP; `0s` never bans.
    #[serde(with = "humantime_serde")]
    pub ban_duration: Duration,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            enabled: true,
            listen_addr: SocketAddr::from(([0, 0, 0, 0], 30303)),
            discovery: true,
            max_peers: 50,
            trusted_peers: Vec::new(),
            bootnodes: Vec::new(),
            handshake_timeout: Duration::from_secs(5),
            peer_requests_per_second: 50.0,
            ban_duration: Duration::from_secs(3600),
        }
    }
}
