//! The running devnet: the chain growing live, its upstream endpoints, the
//! L1, Heimdall REST, the checkpointer and the fault script.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use alloy_primitives::Address;
use hypasis_devnet_l1::{L1Config, L1Devnet};
use hypasis_polygon::ChainSpec;
use parking_lot::RwLock;
use serde_json::json;
use tokio::{net::TcpListener, sync::broadcast, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    block::DevBlock,
    chain::{Chain, ReorgError},
    checkpointer::{CheckpointError, post_due},
    config::{ChainConfig, CheckpointConfig, DEVNET_L1_CHAIN_ID},
    faults::FaultPlan,
    generator::{ChainGenerator, GeneratorError},
    heimdall::{Checkpoints, HeimdallApi},
    http::{self, HttpResponse, Outcome},
    script::FaultScript,
    upstream::UpstreamEndpoint,
    upstream_server::{socket_handler, upstream_handler},
};

/// Everything `hypasis-sync devnet` can be told.
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// The chain's shape.
    pub chain: ChainConfig,
    /// Checkpoints and milestones.
    pub checkpoints: CheckpointConfig,
    /// Wall-clock time between blocks once running (header timestamps
    /// follow Bor's period regardless).
    pub block_time: Duration,
    /// Blocks made (and checkpointed) before the servers start.
    pub prefill: u64,
    /// How many upstream JSON-RPC endpoints to serve (each with its own faults).
    pub upstreams: usize,
    /// Address to listen on.
    pub host: IpAddr,
    /// First port: upstreams take `port..port+upstreams`, then L1, then
    /// Heimdall. 0 picks free ports.
    pub port: u16,
    /// A fault script.
    pub script: Option<FaultScript>,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        DevnetOptions {
            chain: ChainConfig::default(),
            checkpoints: CheckpointConfig::default(),
            block_time: Duration::from_secs(2),
            prefill: 0,
            upstreams: 2,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            script: None,
        }
    }
}

/// Why the devnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The chain configuration is unusable.
    #[error(transparent)]
    Generator(#[from] GeneratorError),
    /// The L1 could not start.
    #[error("L1: {0}")]
    L1(String),
    /// A port could not be bound.
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    /// A checkpoint could not be posted.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A running devnet. Dropping it does not stop it; call [`Devnet::stop`].
pub struct Devnet {
    chain: Arc<RwLock<Chain>>,
    calls: Arc<crate::calls::CallCounts>,
    l1: Arc<L1Devnet>,
    checkpoints: Checkpoints,
    endpoints: Vec<UpstreamEndpoint>,
    upstream_addrs: Vec<SocketAddr>,
    l1_addr: SocketAddr,
    heimdall_addr: SocketAddr,
    growing: Arc<std::sync::atomic::AtomicBool>,
    new_heads: broadcast::Sender<Arc<DevBlock>>,
    options: DevnetOptions,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
}

async fn bind(host: IpAddr, port: u16) -> Result<TcpListener, DevnetError> {
    let addr = SocketAddr::new(host, port);
    TcpListener::bind(addr)
        .await
        .map_err(|cause| DevnetError::Bind { addr, cause })
}

fn next_port(port: u16, offset: usize) -> u16 {
    if port == 0 { 0 } else { port + offset as u16 }
}

impl Devnet {
    /// Makes the prefill, posts its checkpoints, and starts every server and task.
    pub async fn start(mut options: DevnetOptions) -> Result<Devnet, DevnetError> {
        if options.chain.genesis_timestamp == 0 {
            options.chain.genesis_timestamp = now_secs().saturating_sub(options.prefill * 2 + 60);
        }
        let started = Instant::now();
        let generator = ChainGenerator::new(options.chain.clone())?;
        let spec = generator.spec().clone();
        let l1 = L1Devnet::new(L1Config {
            chain_id: DEVNET_L1_CHAIN_ID,
            bor_chain_id: spec.chain_id,
            genesis_timestamp: options.chain.genesis_timestamp,
            seed: options.chain.seed,
        })
        .map_err(|error| DevnetError::L1(error.to_string()))?;
        let l1 = Arc::new(l1);
        let checkpoints: Checkpoints = Arc::default();
        let prefill = options.prefill;
        let checkpoint_config = options.checkpoints.clone();
        let (chain, l1, checkpoints) =
            tokio::task::spawn_blocking(move || -> Result<_, DevnetError> {
                let mut chain = Chain::new(generator);
                for _ in 0..prefill {
                    chain.grow();
                }
                let now = now_secs();
                chain.advance_milestones(
                    checkpoint_config.milestone_length,
                    checkpoint_config.milestone_lag,
                    now,
                );
                post_due(
                    &chain,
                    &l1,
                    &checkpoints,
                    checkpoint_config.interval,
                    checkpoint_config.max_length,
                    chain.head().number(),
                    now,
                )?;
                Ok((chain, l1, checkpoints))
            })
            .await
            .map_err(|error| DevnetError::L1(format!("prefill task failed: {error}")))??;
        tracing::info!(blocks = prefill, elapsed = ?started.elapsed(), checkpoints = checkpoints.read().len(), "devnet prefilled");

        let chain = Arc::new(RwLock::new(chain));
        let shutdown = CancellationToken::new();
        let (new_heads, _) = broadcast::channel(1024);
        let mut tasks = JoinSet::new();
        let mut endpoints = Vec::new();
        let mut upstream_addrs = Vec::new();
        let rendered = Arc::new(crate::upstream::RenderCache::default());
        for index in 0..options.upstreams.max(1) {
            let listener = bind(options.host, next_port(options.port, index)).await?;
            upstream_addrs.push(listener.local_addr().map_err(|cause| DevnetError::Bind {
                addr: SocketAddr::new(options.host, 0),
                cause,
            })?);
            let endpoint = UpstreamEndpoint::with_cache(
                Arc::clone(&chain),
                FaultPlan::new(options.chain.seed ^ index as u64),
                Arc::clone(&rendered),
            );
            tasks.spawn(http::serve(
                listener,
                upstream_handler(endpoint.clone()),
                Some(socket_handler(endpoint.clone(), new_heads.clone())),
                shutdown.clone(),
            ));
            endpoints.push(endpoint);
        }
        let l1_listener = bind(
            options.host,
            next_port(options.port, options.upstreams.max(1)),
        )
        .await?;
        let l1_addr = l1_listener
            .local_addr()
            .map_err(|cause| DevnetError::Bind {
                addr: SocketAddr::new(options.host, 0),
                cause,
            })?;
        let calls = Arc::new(crate::calls::CallCounts::default());
        let l1_for_server = Arc::clone(&l1);
        let l1_calls = Arc::clone(&calls);
        tasks.spawn(http::serve(
            l1_listener,
            http::handler(move |request| {
                let l1 = Arc::clone(&l1_for_server);
                let calls = Arc::clone(&l1_calls);
                async move {
                    let text = String::from_utf8_lossy(&request.body).into_owned();
                    calls.l1(&text);
                    let answer = tokio::task::spawn_blocking(move || l1.rpc_text(&text))
                        .await
                        .unwrap_or_default();
                    Outcome::Respond(HttpResponse {
                        status: 200,
                        headers: Vec::new(),
                        body: vec![answer.into()],
                    })
                }
            }),
            None,
            shutdown.clone(),
        ));
        let heimdall_listener = bind(
            options.host,
            next_port(options.port, options.upstreams.max(1) + 1),
        )
        .await?;
        let heimdall_addr = heimdall_listener
            .local_addr()
            .map_err(|cause| DevnetError::Bind {
                addr: SocketAddr::new(options.host, 0),
                cause,
            })?;
        let api = HeimdallApi::new(
            Arc::clone(&chain),
            Arc::clone(&checkpoints),
            options.checkpoints.interval,
            options.checkpoints.max_length,
            l1.root_chain(),
        );
        let heimdall_calls = Arc::clone(&calls);
        tasks.spawn(http::serve(
            heimdall_listener,
            http::handler(move |request| {
                let api = api.clone();
                let calls = Arc::clone(&heimdall_calls);
                async move {
                    calls.heimdall(&request.path);
                    if request.method != "GET" {
                        return Outcome::Respond(HttpResponse::json(
                            405,
                            &json!({"code": 12, "message": "method not allowed", "details": []}),
                        ));
                    }
                    Outcome::Respond(api.get(&request.path))
                }
            }),
            None,
            shutdown.clone(),
        ));

        let growing = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let devnet = Devnet {
            chain,
            calls,
            l1,
            checkpoints,
            endpoints,
            upstream_addrs,
            l1_addr,
            heimdall_addr,
            growing,
            new_heads,
            options,
            shutdown,
            tasks,
        };
        Ok(devnet.spawn_background())
    }

    fn spawn_background(mut self) -> Self {
        let chain = Arc::clone(&self.chain);
        let l1 = Arc::clone(&self.l1);
        let checkpoints = Arc::clone(&self.checkpoints);
        let growing = Arc::clone(&self.growing);
        let new_heads = self.new_heads.clone();
        let shutdown = self.shutdown.clone();
        let options = self.options.clone();
        self.tasks.spawn(async move {
            let mut ticker =
                tokio::time::interval(options.block_time.max(Duration::from_millis(1)));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate; the first new block comes one block time later.
            ticker.tick().await;
            let mut pending: Option<(Instant, u64)> = None;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                if growing.load(std::sync::atomic::Ordering::Acquire) {
                    let block = chain.write().grow();
                    let now = now_secs();
                    chain.write().advance_milestones(
                        options.checkpoints.milestone_length,
                        options.checkpoints.milestone_lag,
                        now,
                    );
                    let _ = new_heads.send(block);
                }
                // Checkpoints: a range becomes due, waits `delay`, then goes to L1.
                let head = chain.read().head().number();
                if pending.is_none() {
                    pending = Some((Instant::now(), head));
                }
                if let Some((since, seen_head)) = pending
                    && since.elapsed() >= options.checkpoints.delay
                {
                    let chain = Arc::clone(&chain);
                    let l1 = Arc::clone(&l1);
                    let checkpoints = Arc::clone(&checkpoints);
                    let (interval, max_length) =
                        (options.checkpoints.interval, options.checkpoints.max_length);
                    let result = tokio::task::spawn_blocking(move || {
                        let chain = chain.read();
                        let now = now_secs();
                        l1.mine_block(now);
                        post_due(
                            &chain,
                            &l1,
                            &checkpoints,
                            interval,
                            max_length,
                            seen_head,
                            now,
                        )
                    })
                    .await;
                    match result {
                        Ok(Err(error)) => tracing::warn!(%error, "checkpoint not posted"),
                        Err(error) => tracing::warn!(%error, "checkpointer task failed"),
                        Ok(Ok(_)) => {}
                    }
                    pending = None;
                }
            }
        });
        if let Some(script) = self.options.script.clone() {
            let endpoints = self.endpoints.clone();
            let chain = Arc::clone(&self.chain);
            let new_heads = self.new_heads.clone();
            let shutdown = self.shutdown.clone();
            self.tasks
                .spawn(run_script(script, endpoints, chain, new_heads, shutdown));
        }
        self
    }

    /// The upstream JSON-RPC URLs (HTTP).
    pub fn upstream_urls(&self) -> Vec<String> {
        self.upstream_addrs
            .iter()
            .map(|addr| format!("http://{addr}"))
            .collect()
    }

    /// The upstream WebSocket URLs (`eth_subscribe newHeads`).
    pub fn upstream_ws_urls(&self) -> Vec<String> {
        self.upstream_addrs
            .iter()
            .map(|addr| format!("ws://{addr}"))
            .collect()
    }

    /// The L1 JSON-RPC URL.
    pub fn l1_url(&self) -> String {
        format!("http://{}", self.l1_addr)
    }

    /// The Heimdall REST URL.
    pub fn heimdall_url(&self) -> String {
        format!("http://{}", self.heimdall_addr)
    }

    /// The RootChain contract address on the L1.
    pub fn root_chain(&self) -> Address {
        self.l1.root_chain()
    }

    /// The chain spec, with genesis hash and RootChain address.
    pub fn spec(&self) -> ChainSpec {
        let mut spec = self.chain.read().generator().spec().clone();
        spec.l1.root_chain = self.root_chain();
        spec
    }

    /// The fault plan of upstream endpoint `index`.
    pub fn faults(&self, index: usize) -> Option<FaultPlan> {
        self.endpoints
            .get(index)
            .map(|endpoint| endpoint.faults().clone())
    }

    /// What L1 and Heimdall were asked since start.
    pub fn calls(&self) -> &crate::calls::CallCounts {
        &self.calls
    }

    /// How many times each block was served with full transactions, summed
    /// over the endpoints.
    pub fn served_full_blocks(&self) -> std::collections::HashMap<u64, u32> {
        let mut total = std::collections::HashMap::new();
        for endpoint in &self.endpoints {
            for (number, count) in endpoint.served_full_blocks() {
                *total.entry(number).or_insert(0) += count;
            }
        }
        total
    }

    /// The chain, for tests that compare against it.
    pub fn chain(&self) -> Arc<RwLock<Chain>> {
        Arc::clone(&self.chain)
    }

    /// The L1.
    pub fn l1(&self) -> Arc<L1Devnet> {
        Arc::clone(&self.l1)
    }

    /// Checkpoints posted so far.
    pub fn checkpoints(&self) -> Checkpoints {
        Arc::clone(&self.checkpoints)
    }

    /// The current head number.
    pub fn head(&self) -> u64 {
        self.chain.read().head().number()
    }

    /// Renders blocks `range` (full) and their receipts into the upstream
    /// endpoints' shared render cache (see [`UpstreamEndpoint::prerender`]).
    pub fn prerender(&self, range: std::ops::RangeInclusive<u64>) {
        if let Some(endpoint) = self.endpoints.first() {
            endpoint.prerender(range);
        }
    }

    /// Stops or restarts block production.
    pub fn set_growing(&self, growing: bool) {
        self.growing
            .store(growing, std::sync::atomic::Ordering::Release);
    }

    /// Reorganises the tip (all endpoints see it). Refused below the newest
    /// milestone or L1 checkpoint, as on a real chain.
    pub fn reorg(&self, depth: u64) -> Result<Arc<DevBlock>, ReorgError> {
        let head = self.head();
        if let Some(checkpoint) = self.checkpoints.read().last()
            && head.saturating_sub(depth) < checkpoint.end
        {
            return Err(ReorgError::BelowCheckpoint {
                depth,
                first: head.saturating_sub(depth) + 1,
                checkpoint_end: checkpoint.end,
            });
        }
        reorg(&self.chain, &self.new_heads, depth)
    }

    /// Stops every server and task.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

fn reorg(
    chain: &RwLock<Chain>,
    new_heads: &broadcast::Sender<Arc<DevBlock>>,
    depth: u64,
) -> Result<Arc<DevBlock>, ReorgError> {
    let mut chain = chain.write();
    let head = chain.reorg(depth)?;
    let first = head.number() - depth;
    for number in first..=head.number() {
        if let Some(block) = chain.by_number(number) {
            let _ = new_heads.send(block);
        }
    }
    tracing::info!(depth, head = head.number(), "devnet reorganised the tip");
    Ok(head)
}

async fn run_script(
    script: FaultScript,
    endpoints: Vec<UpstreamEndpoint>,
    chain: Arc<RwLock<Chain>>,
    new_heads: broadcast::Sender<Arc<DevBlock>>,
    shutdown: CancellationToken,
) {
    let started = Instant::now();
    let mut steps = script.steps;
    while !steps.is_empty() {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        let head = chain.read().head().number();
        let (due, later): (Vec<_>, Vec<_>) = steps.into_iter().partition(|step| {
            step.at.is_some_and(|at| started.elapsed() >= at)
                || step.after_block.is_some_and(|block| head >= block)
        });
        steps = later;
        for step in due {
            let endpoint = step.endpoint.and_then(|index| endpoints.get(index));
            if let (Some(settings), Some(endpoint)) = (&step.set, endpoint) {
                endpoint.faults().set(settings.clone());
                tracing::info!(endpoint = ?step.endpoint, ?settings, "fault script: settings changed");
            }
            if let (true, Some(endpoint)) = (step.clear, endpoint) {
                endpoint.faults().clear();
                tracing::info!(endpoint = ?step.endpoint, "fault script: faults cleared");
            }
            if let Some(depth) = step.reorg
                && let Err(error) = reorg(&chain, &new_heads, depth)
            {
                tracing::warn!(%error, "fault script: reorg refused");
            }
        }
    }
}
