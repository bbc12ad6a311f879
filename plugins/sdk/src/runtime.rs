//! The plugin's own tokio runtime.
//!
//! A plugin library links its own copy of tokio, so the host's runtime does
//! not exist from inside it. I/O work is spawned here and the join handle is
//! handed to the host as an `FfiFuture`; awaiting a join handle needs no
//! runtime on the awaiting side.

use std::{future::Future, sync::OnceLock};

use async_ffi::{FfiFuture, FutureExt};
use hypasis_plugin_api::{ErrorKind, PluginError, PluginResult};
use tokio::runtime::{Builder, Runtime};

use crate::guard::panic_message;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static THREADS: OnceLock<usize> = OnceLock::new();

/// Sets the worker-thread count for the runtime; only the first call before
/// the runtime starts has an effect.
pub(crate) fn configure_threads(threads: usize) {
    let _ = THREADS.set(threads.max(1));
}

/// The plugin's runtime, started on first use.
///
/// # Panics
/// If the operating system refuses to start threads.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(*THREADS.get_or_init(|| 2))
            .thread_name("hypasis-plugin")
            .enable_all()
            .build()
            .expect("failed to start the plugin runtime")
    })
}

fn join_error(error: tokio::task::JoinError) -> PluginError {
    if error.is_panic() {
        PluginError::new(
            ErrorKind::Panic,
            format!("plugin panicked: {}", panic_message(&error.into_panic())),
        )
    } else {
        PluginError::new(ErrorKind::Shutdown, "plugin task was cancelled")
    }
}

/// Spawns `work` on the plugin's runtime and returns its result as an
/// `FfiFuture` the host can await; a panic in `work` becomes an error.
pub fn spawn_ffi<T, F>(work: F) -> FfiFuture<PluginResult<T>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, PluginError>> + Send + 'static,
{
    let handle = runtime().spawn(work);
    async move {
        match handle.await {
            Ok(result) => result.into(),
            Err(error) => Err(join_error(error)).into(),
        }
    }
    .into_ffi()
}

/// Runs blocking `work` on the plugin runtime's blocking pool and returns
/// its result as an `FfiFuture`; a panic becomes an error.
pub fn spawn_blocking_ffi<T, F>(work: F) -> FfiFuture<PluginResult<T>>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, PluginError> + Send + 'static,
{
    let handle = runtime().spawn_blocking(work);
    async move {
        match handle.await {
            Ok(result) => result.into(),
            Err(error) => Err(join_error(error)).into(),
        }
    }
    .into_ffi()
}
