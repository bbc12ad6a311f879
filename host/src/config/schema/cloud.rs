//! `cloud.*` and `cluster.*`: where and as what this instance runs, how it
//! finds its public IP, and how it shares state with other instances.

use std::{net::IpAddr, str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::units::Secret;

/// The public IP to put in the enode: discovered, or given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExternalIp {
    /// Ask the cloud metadata endpoints (and `cloud.ip_echo_url`), else use the listen address.
    #[default]
    Auto,
    /// This address.
    Fixed(IpAddr),
}

impl FromStr for ExternalIp {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("auto") || text.is_empty() {
            return Ok(ExternalIp::Auto);
        }
        text.parse()
            .map(ExternalIp::Fixed)
            .map_err(|_| format!("`{text}` is neither `auto` nor an IP address"))
    }
}

impl<'de> Deserialize<'de> for ExternalIp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for ExternalIp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExternalIp::Auto => serializer.serialize_str("auto"),
            ExternalIp::Fixed(ip) => serializer.collect_str(ip),
        }
    }
}

/// Which cloud's metadata endpoint to ask for the public IP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CloudProvider {
    /// Try each known provider.
    #[default]
    Auto,
    /// Amazon Web Services (IMDSv2).
    Aws,
    /// Google Cloud.
    Gcp,
    /// Microsoft Azure.
    Azure,
    /// Not in a cloud: do not ask metadata endpoints.
    None,
}

string_enum!(CloudProvider { Auto => "auto", Aws => "aws", Gcp => "gcp", Azure => "azure", None => "none" });

/// `cloud.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudConfig {
    /// This instance's id in the cluster and on the status page (INSTANCE_ID).
    pub instance_id: String,
    /// The region shown on the status page and in the bootnode list (REGION).
    pub region: String,
    /// The public IP for the enode (EXTERNAL_IP): `auto` or an address.
    pub external_ip: ExternalIp,
    /// Which metadata endpoints `auto` asks.
    pub provider: CloudProvider,
    /// An optional URL that answers with the caller's IP, tried after the metadata endpoints.
    pub ip_echo_url: Option<String>,
    /// This instance's public REST URL as other members and `/api/v1/cluster`
    /// list it (PUBLIC_API_URL); default `http://<public IP>:<REST port>`.
    pub public_api_url: Option<String>,
    /// This instance's public JSON-RPC URL (PUBLIC_RPC_URL); default
    /// `http://<public IP>:<RPC port>`.
    pub public_rpc_url: Option<String>,
}

impl Default for CloudConfig {
    fn default() -> Self {
        CloudConfig {
            instance_id: "hypasis-1".into(),
            region: "local".into(),
            external_ip: ExternalIp::Auto,
            provider: CloudProvider::Auto,
            ip_echo_url: None,
            public_api_url: None,
            public_rpc_url: None,
        }
    }
}

/// `cluster.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Join a cluster through Redis (ENABLE_CLUSTER).
    pub enabled: bool,
    /// Redis URL (REDIS_URL).
    pub redis_url: String,
    /// Redis password (REDIS_PASSWORD), if not in the URL.
    pub redis_password: Secret,
    /// Prefix for every Redis key, so clusters can share a Redis.
    pub key_prefix: String,
    /// How often this instance renews its membership.
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// How long a membership lasts without renewal.
    #[serde(with = "humantime_serde")]
    pub member_ttl: Duration,
    /// How long a backward-range lease lasts without renewal.
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,
    /// Redis connection-pool size.
    pub pool_size: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_password: Secret::default(),
            key_prefix: "hypasis".into(),
            heartbeat_interval: Duration::from_secs(5),
            member_ttl: Duration::from_secs(15),
            lease_ttl: Duration::from_secs(60),
            pool_size: 16,
        }
    }
}
