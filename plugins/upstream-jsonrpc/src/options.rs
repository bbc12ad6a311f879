//! What the plugin is told: the host's upstream settings and the plugin's
//! own options (`upstream.options` in the YAML).

use std::time::Duration;

use hypasis_plugin_sdk::{ErrorKind, PluginError};
use serde::Deserialize;

/// The settings every upstream plugin gets from the host. Unknown settings
/// are ignored (a newer host may add some).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The JSON-RPC endpoints: `http(s)://` or `ws(s)://` URLs.
    pub endpoints: Vec<String>,
    /// Give up on one request after this long.
    pub request_timeout_ms: u64,
    /// Idle HTTP connections kept per endpoint host.
    pub max_idle_per_host: usize,
    /// Close HTTP connections idle this long.
    pub idle_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoints: Vec::new(),
            request_timeout_ms: 30_000,
            max_idle_per_host: 32,
            idle_timeout_ms: 90_000,
        }
    }
}

impl Settings {
    /// The request timeout (at least 1 ms).
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }
}

/// The plugin's own options. Every field has a default; an unknown key is an
/// error that names it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Options {
    /// Calls per JSON-RPC batch (block and receipt calls); 1 sends single calls.
    pub batch_size: usize,
    /// Requests (single calls or batches) in flight at once per endpoint.
    pub max_concurrency_per_endpoint: usize,
    /// Retries: of failed calls inside a batch on the same endpoint, and of
    /// whole rounds over the endpoints once every one of them has failed.
    pub retries: u32,
    /// First retry delay; doubles per retry, jittered.
    pub backoff_base_ms: u64,
    /// Longest retry delay.
    pub backoff_max_ms: u64,
    /// How often each endpoint is asked for its head (`eth_blockNumber`).
    /// WebSocket endpoints also push heads through `newHeads`.
    pub head_poll_interval_ms: u64,
    /// Consecutive failed requests after which an endpoint is unhealthy.
    pub unhealthy_after_errors: u32,
    /// Score below which an endpoint is unhealthy.
    pub min_healthy_score: f64,
    /// First pause before an unhealthy endpoint is tried again (doubles per
    /// further failure, up to `unhealthy_cooldown_max_ms`); until then it is
    /// used only when nothing else is left. Head polls keep probing it.
    pub unhealthy_cooldown_ms: u64,
    /// Longest pause before an unhealthy endpoint is tried again.
    pub unhealthy_cooldown_max_ms: u64,
    /// How fast a caught lie or a reported fault is forgiven: the penalty
    /// halves every this many seconds.
    pub fault_half_life_secs: u64,
    /// Latency at which the latency part of the score is 0.75 (it tends to
    /// 0.5 for very slow endpoints and is 1 for instant ones).
    pub latency_reference_ms: u64,
    /// Park an endpoint this long after an HTTP 429 without a usable
    /// `Retry-After`.
    pub default_retry_after_ms: u64,
    /// When every usable endpoint is parked (429), wait at most this long
    /// for the first to come back before failing with `RateLimited`.
    pub max_park_wait_ms: u64,
    /// Largest answer read from an endpoint, before it fills memory: a longer
    /// HTTP body is refused as malformed, a longer WebSocket message closes
    /// the connection (its calls fail as a transport error).
    pub max_answer_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 32,
            max_concurrency_per_endpoint: 8,
            retries: 3,
            backoff_base_ms: 100,
            backoff_max_ms: 5_000,
            head_poll_interval_ms: 1_000,
            unhealthy_after_errors: 3,
            min_healthy_score: 0.3,
            unhealthy_cooldown_ms: 2_000,
            unhealthy_cooldown_max_ms: 60_000,
            fault_half_life_secs: 600,
            latency_reference_ms: 1_000,
            default_retry_after_ms: 1_000,
            max_park_wait_ms: 5_000,
            max_answer_bytes: 512 << 20,
        }
    }
}

impl Options {
    /// Checks the values that have a range.
    pub fn validate(&self) -> Result<(), PluginError> {
        let fail = |option: &str, reason: &str| {
            Err(PluginError::new(
                ErrorKind::Config,
                format!("upstream-jsonrpc: option `{option}`: {reason}"),
            ))
        };
        if self.batch_size == 0 {
            return fail("batch_size", "must be at least 1");
        }
        if self.max_concurrency_per_endpoint == 0 {
            return fail("max_concurrency_per_endpoint", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.min_healthy_score) {
            return fail("min_healthy_score", "must be in [0, 1]");
        }
        if self.backoff_max_ms < self.backoff_base_ms {
            return fail("backoff_max_ms", "must not be below backoff_base_ms");
        }
        if self.max_answer_bytes < 1 << 10 {
            return fail("max_answer_bytes", "must be at least 1024");
        }
        if self.head_poll_interval_ms == 0 {
            return fail("head_poll_interval_ms", "must be at least 1");
        }
        Ok(())
    }

    /// The head poll interval.
    pub fn head_poll_interval(&self) -> Duration {
        Duration::from_millis(self.head_poll_interval_ms.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypasis_plugin_sdk::PluginConfig;

    #[test]
    fn settings_ignore_unknown_and_options_refuse_unknown() {
        let config = PluginConfig::parse(
            r#"{"plugin":"upstream-jsonrpc","settings":{"endpoints":["http://a"],"request_timeout_ms":500,"new_host_setting":1},"options":{"batch_size":8}}"#,
        )
        .unwrap();
        let settings: Settings = config.settings().unwrap();
        assert_eq!(settings.endpoints, vec!["http://a".to_string()]);
        assert_eq!(settings.request_timeout_ms, 500);
        assert_eq!(settings.max_idle_per_host, 32);
        let options: Options = config.options().unwrap();
        assert_eq!(options.batch_size, 8);
        assert_eq!(options.retries, 3);

        let config =
            PluginConfig::parse(r#"{"plugin":"upstream-jsonrpc","options":{"batch_sise":8}}"#)
                .unwrap();
        let error = config.options::<Options>().unwrap_err();
        assert!(error.message.contains("batch_sise"), "{}", error.message);

        let bad = Options {
            batch_size: 0,
            ..Options::default()
        };
        assert!(bad.validate().is_err());
    }
}
