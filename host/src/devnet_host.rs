//! A host configuration that syncs from a running devnet: used by
//! `hypasis-sync devnet`, the sync benchmark and the end-to-end tests.

use std::{path::Path, time::Duration};

use hypasis_devnet::Devnet;

use crate::config::{ChainName, Config};

/// The configuration of a host syncing `devnet` into `data_dir` with the
/// embedded store. Servers that are not needed to sync are off.
pub fn config_for(devnet: &Devnet, data_dir: &Path) -> Config {
    let mut config = Config {
        chain: ChainName::Devnet,
        ..Config::default()
    };
    config.storage.plugin = "storage-embedded".into();
    config.storage.data_dir = data_dir.to_path_buf();
    config.upstream.endpoints = devnet.upstream_urls();
    config.l1.rpc_url = Some(devnet.l1_url());
    config.l1.confirmations = 0;
    config.l1.poll_interval = Duration::from_secs(1);
    config.heimdall.url = Some(devnet.heimdall_url());
    config.sync.head_poll_interval = Duration::from_millis(100);
    config.p2p.enabled = false;
    config.api.rpc.enabled = false;
    config.api.rest.enabled = false;
    config.metrics.enabled = false;
    config.ratelimit.enabled = false;
    config
}
