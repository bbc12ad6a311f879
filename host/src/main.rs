//! The `hypasis-sync` command line.

mod cli;

/// mimalloc: the sync and serving paths allocate many small buffers (JSON,
/// RLP), where it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

/// How long (ms) each plugin's mimalloc keeps freed memory before giving it
/// back to the OS. Its default (10 ms) returns the multi-megabyte response
/// and batch buffers between two sync batches, and faulting them back in
/// took a tenth of the sync CPU (docs/BENCHMARKS.md). A second keeps them
/// warm while syncing and still frees them when idle.
const MIMALLOC_PURGE_DELAY_MS: &str = "1000";

/// Gives the plugins' allocators [`MIMALLOC_PURGE_DELAY_MS`] unless the
/// operator set `MIMALLOC_PURGE_DELAY` already. Each plugin carries its own
/// mimalloc, which reads the environment when the plugin is loaded.
fn default_allocator_options() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first thing in `main`, before any other thread
        // exists, so nothing reads the environment concurrently.
        unsafe { std::env::set_var("MIMALLOC_PURGE_DELAY", MIMALLOC_PURGE_DELAY_MS) };
    }
}

fn main() -> ExitCode {
    default_allocator_options();
    let args = cli::Cli::parse();
    match cli::execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
