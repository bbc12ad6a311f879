//! Bidirectional sync: from an anchor (the newest L1 checkpoint, or a
//! configured block), forward to the head and following it, and backward
//! to genesis (or `sync.backward.floor`), both at once; and, behind them at
//! idle priority, the recovery of every verified block's senders.
//!
//! ```text
//! upstream plugin ──fetch──> sync ──validate──> validation plugin
//!                             │ (blocking pool)
//!                             └──atomic write──> storage plugin
//!                                  └── landed ──> Ledger ──> ChainState
//! ```
//!
//! Progress is the store's coverage: the `verified`, `unconfirmed` and
//! `unlinked` interval sets, changed in the same atomic batch as the
//! blocks they cover, plus the anchor record. A crash loses at most the
//! batches in flight, a restart resumes from the sets without fetching a
//! stored block again, and backward work is planned from their gaps, so it
//! can be done in any order.

mod anchor;
mod backward;
mod forward;
mod ledger;
mod observe;
mod range_error;
mod report;
mod senders;
mod services;
mod spans;
mod status;
mod verify;

use std::{sync::Arc, time::Duration};

use parking_lot::RwLock;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use anchor::AnchorError;
pub use ledger::{Anchor, Ledger, SENDERS, unwind_batch};
pub use services::{SyncServices, backoff, pause};
pub use spans::SpanBook;
pub use status::{SyncHandle, SyncSettings, SyncStatus};

/// Starts sync: the anchor first (unless already stored), then forward,
/// backward and sender recovery at once. Returns at once; the work runs
/// until `shutdown`.
pub fn start(
    services: SyncServices,
    settings: SyncSettings,
    shutdown: CancellationToken,
) -> SyncHandle {
    let status = Arc::new(RwLock::new(SyncStatus {
        upstream_healthy: true,
        ..SyncStatus::default()
    }));
    let mut tasks = JoinSet::new();
    tasks.spawn(observe::run(
        services.clone(),
        Duration::from_secs(2),
        shutdown.clone(),
    ));
    if settings.recover_senders {
        tasks.spawn(senders::run(
            services.clone(),
            Arc::clone(&status),
            shutdown.clone(),
        ));
    }
    let task_status = Arc::clone(&status);
    tasks.spawn(async move {
        let Some(anchor) = anchor::establish(&services, &settings, &task_status, &shutdown).await
        else {
            return;
        };
        let mut directions = JoinSet::new();
        if services.forward.is_some() {
            directions.spawn(forward::run(
                services.clone(),
                settings.clone(),
                Arc::clone(&task_status),
                shutdown.clone(),
            ));
        }
        if services.backward.is_some() {
            directions.spawn(backward::run(
                services.clone(),
                settings.clone(),
                anchor,
                Arc::clone(&task_status),
                shutdown.clone(),
            ));
        }
        while directions.join_next().await.is_some() {}
    });
    SyncHandle { status, tasks }
}
