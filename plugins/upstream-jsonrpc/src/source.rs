//! [`JsonRpcUpstream`]: the plugin's [`UpstreamSource`], tying the pool,
//! failover, fetching and head tracking together.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use hypasis_plugin_sdk::{
    PluginConfig, PluginError, UpstreamSource,
    api::{ChainHead, EndpointStatus, FaultKind, FetchRequest, Fetched},
    tracing,
};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    endpoint::{Endpoint, unique_names},
    error::UpstreamError,
    failover::{self, Plan},
    fetch::fetch_from,
    heads,
    options::{Options, Settings},
    pool::Pool,
    rpc,
};

/// The upstream: many JSON-RPC endpoints behind one [`UpstreamSource`].
///
/// Background work (head polls, `newHeads` subscriptions) starts on the
/// runtime of the first asynchronous call and stops at [`shutdown`] or
/// when the value is dropped.
///
/// [`shutdown`]: UpstreamSource::shutdown
#[derive(Debug)]
pub struct JsonRpcUpstream {
    pool: Arc<Pool>,
    shutdown: CancellationToken,
    started: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl JsonRpcUpstream {
    /// Builds the upstream from the host's settings and the plugin's options.
    pub fn new(settings: Settings, options: Options) -> Result<Self, PluginError> {
        options.validate()?;
        let urls: Vec<String> = settings
            .endpoints
            .iter()
            .map(|url| url.trim().to_string())
            .filter(|url| !url.is_empty())
            .collect();
        if urls.is_empty() {
            return Err(PluginError::new(
                hypasis_plugin_sdk::ErrorKind::Config,
                "upstream-jsonrpc: setting `endpoints`: no endpoint configured",
            ));
        }
        // wss:// goes through rustls' process-wide provider: make sure there is
        // one even if several get compiled in (an error means one is set).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let timeout = settings.request_timeout();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .pool_max_idle_per_host(settings.max_idle_per_host)
            .pool_idle_timeout(Duration::from_millis(settings.idle_timeout_ms.max(1)))
            .tcp_nodelay(true)
            .build()
            .map_err(|error| {
                PluginError::new(
                    hypasis_plugin_sdk::ErrorKind::Config,
                    format!("upstream-jsonrpc: cannot build the HTTP client: {error}"),
                )
            })?;
        let shutdown = CancellationToken::new();
        let names = unique_names(&urls);
        let endpoints = urls
            .iter()
            .zip(names)
            .enumerate()
            .map(|(index, (url, name))| {
                Endpoint::new(index, url, name, &client, &settings, &options, &shutdown)
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        tracing::info!(
            endpoints = ?endpoints.iter().map(|endpoint| endpoint.name()).collect::<Vec<_>>(),
            batch_size = options.batch_size,
            "upstream-jsonrpc ready"
        );
        Ok(JsonRpcUpstream {
            pool: Arc::new(Pool::new(endpoints, options)),
            shutdown,
            started: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Builds the upstream from the plugin's configuration envelope.
    pub fn from_config(config: &PluginConfig) -> Result<Self, PluginError> {
        JsonRpcUpstream::new(config.settings()?, config.options()?)
    }

    /// Starts head polling (and `newHeads` subscriptions) on the current
    /// runtime, once.
    fn ensure_started(&self) -> Result<(), UpstreamError> {
        if self.shutdown.is_cancelled() {
            return Err(UpstreamError::Shutdown);
        }
        if self.started.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let mut tasks = self.tasks.lock();
        for endpoint in self.pool.endpoints() {
            tasks.push(tokio::spawn(heads::poll(
                Arc::clone(&self.pool),
                Arc::clone(endpoint),
                self.shutdown.clone(),
            )));
            if endpoint.ws().is_some() {
                tasks.push(tokio::spawn(heads::subscribe(
                    Arc::clone(&self.pool),
                    Arc::clone(endpoint),
                    self.shutdown.clone(),
                )));
            }
        }
        Ok(())
    }

    /// Probes (chain id and head) at once every endpoint that `select` picks.
    async fn probe_all(&self, select: impl Fn(&Endpoint) -> bool) {
        let probes = self
            .pool
            .endpoints()
            .iter()
            .filter(|endpoint| select(endpoint))
            .map(|endpoint| async move {
                if let Err(error) = heads::probe(&self.pool, endpoint).await {
                    tracing::debug!(endpoint = endpoint.name(), %error, "probe failed");
                }
            });
        futures_util::future::join_all(probes).await;
    }

    /// How old a polled head may be and still count as current.
    fn head_freshness(&self) -> Duration {
        self.pool.options().head_poll_interval() * 2
    }
}

impl Drop for JsonRpcUpstream {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn params_array(params: &str) -> Result<Value, UpstreamError> {
    let trimmed = params.trim();
    if trimmed.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    let value: Value = serde_json::from_str(trimmed)
        .map_err(|error| UpstreamError::InvalidRequest(format!("params are not JSON: {error}")))?;
    match value {
        Value::Array(_) => Ok(value),
        Value::Null => Ok(Value::Array(Vec::new())),
        _ => Err(UpstreamError::InvalidRequest(
            "params must be a JSON array".into(),
        )),
    }
}

impl UpstreamSource for JsonRpcUpstream {
    async fn chain_id(self: Arc<Self>) -> Result<u64, PluginError> {
        self.ensure_started()?;
        self.probe_all(|endpoint| endpoint.chain_id().is_none() && self.pool.may_ask(endpoint))
            .await;
        self.pool.chain_id().ok_or_else(|| {
            UpstreamError::NoEndpoint("no endpoint reported its chain id".into()).into()
        })
    }

    async fn head(self: Arc<Self>) -> Result<ChainHead, PluginError> {
        self.ensure_started()?;
        // Ask the usable endpoints whose head is not fresh (at start: all of
        // them), so that the best head is not just the first one known.
        let fresh = self.head_freshness();
        self.probe_all(|endpoint| self.pool.needs_probe(endpoint, fresh))
            .await;
        self.pool.best_head(None).ok_or_else(|| {
            UpstreamError::NoEndpoint("no healthy endpoint reported a head".into()).into()
        })
    }

    async fn wait_head(
        self: Arc<Self>,
        after: u64,
        timeout_ms: u64,
    ) -> Result<Option<ChainHead>, PluginError> {
        self.ensure_started()?;
        let mut changes = self.pool.head_changes();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            changes.borrow_and_update();
            if let Some(head) = self.pool.best_head(None).filter(|head| head.number > after) {
                return Ok(Some(head));
            }
            tokio::select! {
                _ = self.shutdown.cancelled() => return Err(UpstreamError::Shutdown.into()),
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Err(UpstreamError::Shutdown.into());
                    }
                }
            }
        }
    }

    async fn fetch(self: Arc<Self>, request: FetchRequest) -> Result<Fetched, PluginError> {
        self.ensure_started()?;
        if request.start > request.end {
            return Err(UpstreamError::InvalidRequest(format!(
                "start {} is above end {}",
                request.start, request.end
            ))
            .into());
        }
        let what = format!("blocks {}..={}", request.start, request.end);
        let avoid: Vec<String> = request.avoid.iter().map(|name| name.to_string()).collect();
        let plan = Plan {
            what: &what,
            avoid: &avoid,
            need: Some(request.end),
            errors_are_answers: false,
        };
        let options = self.pool.options();
        let (blocks, endpoint) = failover::run(&self.pool, plan, &self.shutdown, |endpoint| {
            let request = &request;
            async move { fetch_from(&endpoint, request, options).await }
        })
        .await?;
        Ok(Fetched {
            blocks: blocks.into(),
            endpoint: endpoint.name().into(),
            ext: Default::default(),
        })
    }

    async fn call(self: Arc<Self>, method: String, params: String) -> Result<String, PluginError> {
        self.ensure_started()?;
        let params = params_array(&params)?;
        let what = format!("call {method}");
        let plan = Plan {
            what: &what,
            avoid: &[],
            need: None,
            errors_are_answers: true,
        };
        let options = self.pool.options();
        let (result, _) = failover::run(&self.pool, plan, &self.shutdown, |endpoint| {
            let (method, params) = (&method, &params);
            async move { rpc::call(&endpoint, method, params.clone(), options).await }
        })
        .await?;
        Ok(result.to_string())
    }

    fn report(&self, endpoint: &str, fault: FaultKind, detail: &str) {
        self.pool.report(endpoint, fault, detail);
    }

    fn endpoints(&self) -> Vec<EndpointStatus> {
        self.pool.statuses()
    }

    async fn shutdown(self: Arc<Self>) -> Result<(), PluginError> {
        self.shutdown.cancel();
        for endpoint in self.pool.endpoints() {
            endpoint.close();
        }
        let tasks: Vec<JoinHandle<()>> = self.tasks.lock().drain(..).collect();
        for task in tasks {
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("a background task did not stop within 5 s");
            }
        }
        tracing::info!("upstream-jsonrpc stopped");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_must_be_an_array() {
        assert_eq!(params_array("").unwrap(), Value::Array(Vec::new()));
        assert_eq!(params_array("[1]").unwrap(), serde_json::json!([1]));
        assert!(params_array("{}").is_err());
        assert!(params_array("[").is_err());
    }

    #[test]
    fn configuration_is_checked() {
        let error = JsonRpcUpstream::new(Settings::default(), Options::default()).unwrap_err();
        assert!(error.message.contains("endpoints"), "{}", error.message);
        let settings = Settings {
            endpoints: vec!["ftp://example.com".into()],
            ..Settings::default()
        };
        let error = JsonRpcUpstream::new(settings, Options::default()).unwrap_err();
        assert!(error.message.contains("scheme `ftp`"), "{}", error.message);
    }
}
