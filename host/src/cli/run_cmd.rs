//! `hypasis-sync run --config FILE`.

use std::path::Path;

use anyhow::Context;
use hypasis_sync::{
    app,
    config::{self, Config, ConfigEnv},
    logging, shutdown,
};
use tokio_util::sync::CancellationToken;

pub fn run(file: &Path) -> anyhow::Result<()> {
    let env = ConfigEnv::from_process();
    let config = config::load(file, &env)?;
    run_host(config, &env, &file.display().to_string())
}

/// Starts logging and the runtime, then runs the host with `config` until
/// SIGINT or SIGTERM (`run`, and `serve` with its overrides).
pub(super) fn run_host(config: Config, env: &ConfigEnv, source: &str) -> anyhow::Result<()> {
    logging::init(&config.log, env.get("HYPASIS_LOG").as_deref())
        .map_err(anyhow::Error::msg)
        .context("starting logs")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hypasis")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let token = CancellationToken::new();
        shutdown::cancel_on_signal(token.clone());
        tracing::info!(version = hypasis_sync::VERSION, config = source, chain = ?config.chain, "starting");
        app::run(config, token).await
    })?;
    Ok(())
}
