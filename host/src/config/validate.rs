//! Checks that span several keys or need more than a type: each failure
//! names the key at fault.

use super::{Config, ExternalIp};

/// The first problem found, as `(key path, message)`.
pub fn validate(config: &Config) -> Result<(), (String, String)> {
    let fail = |key: &str, message: String| Err((key.to_string(), message));
    if config.cloud.instance_id.trim().is_empty() {
        return fail("cloud.instance_id", "must not be empty".into());
    }
    if let ExternalIp::Fixed(ip) = config.cloud.external_ip
        && ip.is_unspecified()
    {
        return fail(
            "cloud.external_ip",
            format!("{ip} cannot be dialled; give a public address or `auto`"),
        );
    }
    match (config.chain, &config.genesis_file) {
        (super::ChainName::Custom, None) => {
            return fail(
                "genesis_file",
                "chain `custom` needs the chain's genesis file (go-ethereum's or Bor's format)"
                    .into(),
            );
        }
        (chain, Some(_)) if chain != super::ChainName::Custom => {
            return fail(
                "genesis_file",
                format!(
                    "is only read for chain `custom`; chain `{}` has its own genesis",
                    chain.as_str()
                ),
            );
        }
        _ => {}
    }
    if config.cluster.enabled && !crate::cluster::member::is_id(&config.cloud.instance_id) {
        return fail(
            "cloud.instance_id",
            format!(
                "`{}` cannot name a cluster member: use 1-128 of A-Z a-z 0-9 . _ -",
                config.cloud.instance_id
            ),
        );
    }
    if config.cluster.enabled && !crate::cluster::member::is_id(&config.cluster.key_prefix) {
        return fail(
            "cluster.key_prefix",
            format!(
                "`{}` is not 1-128 of A-Z a-z 0-9 . _ -",
                config.cluster.key_prefix
            ),
        );
    }
    for (key, url) in [
        ("cloud.public_api_url", &config.cloud.public_api_url),
        ("cloud.public_rpc_url", &config.cloud.public_rpc_url),
    ] {
        if let Some(url) = url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return fail(key, format!("`{url}` is not an http:// or https:// URL"));
        }
    }
    if config.cluster.enabled
        && !config.cluster.redis_url.starts_with("redis://")
        && !config.cluster.redis_url.starts_with("rediss://")
    {
        return fail(
            "cluster.redis_url",
            format!(
                "`{}` is not a redis:// or rediss:// URL",
                config.cluster.redis_url
            ),
        );
    }
    if config.cluster.member_ttl <= config.cluster.heartbeat_interval {
        return fail(
            "cluster.member_ttl",
            "must be longer than cluster.heartbeat_interval".into(),
        );
    }
    if config.p2p.max_peers == 0 && config.p2p.enabled {
        return fail(
            "p2p.max_peers",
            "must be at least 1 when p2p is enabled".into(),
        );
    }
    for (key, value) in [
        (
            "ratelimit.per_operator_rps",
            config.ratelimit.per_operator_rps,
        ),
        ("ratelimit.global_rps", config.ratelimit.global_rps),
        (
            "p2p.peer_requests_per_second",
            config.p2p.peer_requests_per_second,
        ),
    ] {
        if !(value.is_finite() && value > 0.0) {
            return fail(key, format!("must be a positive number, found {value}"));
        }
    }
    if config.ratelimit.per_operator_rps > config.ratelimit.global_rps {
        return fail(
            "ratelimit.per_operator_rps",
            format!(
                "{} is above ratelimit.global_rps ({})",
                config.ratelimit.per_operator_rps, config.ratelimit.global_rps
            ),
        );
    }
    if config.sync.forward.batch_size == 0 || config.sync.forward.batch_size > 8192 {
        return fail(
            "sync.forward.batch_size",
            format!("must be 1..=8192, found {}", config.sync.forward.batch_size),
        );
    }
    if config.sync.backward.ranges_in_flight == 0 {
        return fail(
            "sync.backward.ranges_in_flight",
            "must be at least 1".into(),
        );
    }
    if let Some(hash) = &config.sync.anchor.hash {
        let digits = hash.strip_prefix("0x").unwrap_or(hash);
        if digits.len() != 64 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return fail(
                "sync.anchor.hash",
                format!("`{hash}` is not a 32-byte hex hash"),
            );
        }
        if config.sync.anchor.number.is_none() {
            return fail(
                "sync.anchor.number",
                "must be set when sync.anchor.hash is".into(),
            );
        }
    }
    if let Some(number) = config.sync.anchor.number
        && number < config.sync.backward.floor
    {
        return fail(
            "sync.backward.floor",
            format!(
                "{} is above sync.anchor.number ({number})",
                config.sync.backward.floor
            ),
        );
    }
    if config.storage.plugin.trim().is_empty() {
        return fail("storage.plugin", "must name a storage plugin".into());
    }
    for (index, url) in config.upstream.endpoints.iter().enumerate() {
        if !url.is_empty()
            && !["http://", "https://", "ws://", "wss://"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
        {
            return fail(
                &format!("upstream.endpoints.{index}"),
                format!("`{url}` is not an http(s) or ws(s) URL"),
            );
        }
    }
    for (key, enodes) in [
        ("p2p.trusted_peers", &config.p2p.trusted_peers),
        ("p2p.bootnodes", &config.p2p.bootnodes),
    ] {
        for (index, enode) in enodes.iter().enumerate() {
            if !enode.starts_with("enode://") {
                return fail(
                    &format!("{key}.{index}"),
                    format!("`{enode}` is not an enode:// URL"),
                );
            }
        }
    }
    let listeners = [
        (
            "p2p.listen_addr",
            config.p2p.enabled,
            config.p2p.listen_addr,
        ),
        (
            "api.rpc.listen",
            config.api.rpc.enabled,
            config.api.rpc.listen,
        ),
        (
            "api.rest.listen",
            config.api.rest.enabled,
            config.api.rest.listen,
        ),
        (
            "metrics.listen",
            config.metrics.enabled,
            config.metrics.listen,
        ),
    ];
    for (index, (key, enabled, addr)) in listeners.iter().enumerate() {
        for (other_key, other_enabled, other) in &listeners[..index] {
            if *enabled
                && *other_enabled
                && addr.port() != 0
                && addr.port() == other.port()
                && addr.ip() == other.ip()
            {
                return fail(key, format!("{addr} is already used by {other_key}"));
            }
        }
    }
    if config.plugins.runtime_threads == 0 {
        return fail("plugins.runtime_threads", "must be at least 1".into());
    }
    if let Err(error) = tracing_subscriber::EnvFilter::builder().parse(&config.log.level) {
        return fail(
            "log.level",
            format!("`{}` is not a log filter: {error}", config.log.level),
        );
    }
    Ok(())
}
