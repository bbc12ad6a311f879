//! `upstream.*`, `l1.*` and `heimdall.*`: where blocks, checkpoints,
//! milestones and spans come from.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `upstream.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// The upstream plugin.
    pub plugin: String,
    /// Polygon JSON-RPC URLs (POLYGON_RPC_1, POLYGON_RPC_2, ...); empty entries are ignored.
    pub endpoints: Vec<String>,
    /// The plugin's own options.
    pub options: serde_json::Value,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            plugin: "upstream-jsonrpc".into(),
            endpoints: Vec::new(),
            options: serde_json::Value::Null,
        }
    }
}

/// `l1.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct L1Config {
    /// Ethereum JSON-RPC URL (ETH_L1_RPC_URL).
    pub rpc_url: Option<String>,
    /// RootChain contract address; the chain spec's when unset.
    pub root_chain: Option<String>,
    /// L1 blocks a checkpoint must be buried under before it is used.
    pub confirmations: u64,
    /// How often to look for new checkpoints.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for L1Config {
    fn default() -> Self {
        L1Config {
            rpc_url: None,
            root_chain: None,
            confirmations: 12,
            poll_interval: Duration::from_secs(30),
        }
    }
}

/// `heimdall.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeimdallConfig {
    /// Heimdall v2 REST URL (HEIMDALL_URL); milestones and spans come from here.
    pub url: Option<String>,
    /// How often to look for new milestones.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

impl Default for HeimdallConfig {
    fn default() -> Self {
        HeimdallConfig {
            url: None,
            poll_interval: Duration::from_secs(5),
        }
    }
}
