//! Sender recovery: the sender of every transaction of every verified
//! block, recovered from its signature once and stored with the block
//! ([`BlockPart::Senders`]), so no JSON-RPC answer recovers a sender.
//!
//! Recovery costs tens of microseconds per transaction, more than the
//! whole ingest of a block costs, so it is not done in the write path:
//! a background stage walks the verified blocks whose senders are not
//! stored yet (the gaps of the `senders` interval set), newest first, on
//! threads at the kernel's idle priority (`SCHED_IDLE`). They use only
//! CPU that ingest and serving leave unused, and catch up when sync
//! rests. Until a block's senders are stored, an answer that needs them
//! recovers them itself.

use std::{
    sync::{Arc, Mutex, mpsc},
    thread,
};

use hypasis_plugin_api::{
    BlockPart, BlockRange, BlockRef, H160, IntervalSet, SenderList, WriteBatch,
};
use hypasis_polygon::{roots::body_transactions, rpc_json::recover_sender};
use parking_lot::RwLock;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::{
    ledger::SENDERS,
    services::{SyncServices, pause},
    status::SyncStatus,
};
use crate::store_records::interval_change;

/// Blocks recovered per stored batch.
const CHUNK_BLOCKS: u64 = 64;

/// One block to recover: its reference, body and transaction count.
struct Job {
    block: BlockRef,
    body: Vec<u8>,
    transactions: usize,
    answer: oneshot::Sender<Result<SenderList, String>>,
}

/// Threads at idle priority that recover senders.
struct IdlePool {
    jobs: mpsc::Sender<Job>,
}

impl IdlePool {
    fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            thread::Builder::new()
                .name(format!("senders-{index}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else {
                            return;
                        };
                        let result = recover(&job);
                        let _ = job.answer.send(result);
                    }
                })?;
        }
        Ok(IdlePool { jobs })
    }
}

/// Puts the calling thread in the idle scheduling class.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain system call on the calling thread with a valid parameter.
        let result = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
        if result != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "sender recovery runs at normal priority");
        }
    }
}

/// Recovers one block's senders; the derived state-sync transaction Bor
/// lists after the body's (when the block has one) is from no one.
fn recover(job: &Job) -> Result<SenderList, String> {
    let items = body_transactions(&job.body).map_err(|error| error.to_string())?;
    if job.transactions != items.len() && job.transactions != items.len() + 1 {
        return Err(format!(
            "block {}: {} indexed transactions for a body of {}",
            job.block.number,
            job.transactions,
            items.len()
        ));
    }
    let mut senders: Vec<H160> = Vec::with_capacity(job.transactions);
    for (index, item) in items.iter().enumerate() {
        let sender = recover_sender(item)
            .map_err(|error| format!("block {} transaction {index}: {error}", job.block.number))?;
        senders.push(sender.0.0);
    }
    senders.resize(job.transactions, [0u8; 20]);
    Ok(SenderList {
        block: job.block,
        senders: senders.into(),
        ext: Default::default(),
    })
}

/// Runs the stage until `shutdown`.
pub async fn run(
    services: SyncServices,
    status: Arc<RwLock<SyncStatus>>,
    shutdown: CancellationToken,
) {
    let threads = thread::available_parallelism().map_or(1, |count| count.get());
    let pool = match IdlePool::start(threads) {
        Ok(pool) => pool,
        Err(error) => {
            tracing::error!(%error, "sender recovery cannot start its threads");
            return;
        }
    };
    let mut coverage = services.state().watch().subscribe_coverage();
    // Ranges that failed (an undecodable transaction, say) wait for a restart.
    let mut failed = IntervalSet::new();
    loop {
        let Some(range) = next_chunk(&services, &failed) else {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = coverage.changed() => continue,
            }
        };
        match recover_range(&services, &pool, range).await {
            Ok(()) => status.write().senders_blocks += range.len(),
            Err(error) => {
                tracing::warn!(start = range.start, end = range.end, %error, "sender recovery failed; answers recover these blocks' senders themselves");
                services.metrics.error("senders");
                failed.insert(range);
                if !pause(std::time::Duration::from_secs(5), &shutdown).await {
                    return;
                }
            }
        }
        if shutdown.is_cancelled() {
            return;
        }
    }
}

/// The newest verified blocks without stored senders, at most [`CHUNK_BLOCKS`].
fn next_chunk(services: &SyncServices, failed: &IntervalSet) -> Option<BlockRange> {
    let verified = services.ledger.coverage().verified;
    let mut done = services.ledger.senders();
    for range in failed.ranges() {
        done.insert(*range);
    }
    verified
        .ranges()
        .iter()
        .rev()
        .flat_map(|range| done.gaps(*range).into_iter().rev())
        .next()
        .map(|gap| {
            BlockRange::new(
                gap.end.saturating_sub(CHUNK_BLOCKS - 1).max(gap.start),
                gap.end,
            )
        })
}

/// Recovers and stores the senders of the canonical blocks of `range`.
async fn recover_range(
    services: &SyncServices,
    pool: &IdlePool,
    range: BlockRange,
) -> Result<(), String> {
    let numbers: Vec<u64> = (range.start..=range.end).collect();
    let hashes: Vec<[u8; 32]> = services
        .storage
        .canonical_hashes(&numbers)
        .map_err(|error| error.to_string())?
        .into_iter()
        .zip(&numbers)
        .map(|(hash, number)| hash.ok_or_else(|| format!("block {number} is not stored")))
        .collect::<Result<_, _>>()?;
    let read = |part| {
        services
            .storage
            .parts(part, &hashes)
            .map_err(|error| error.to_string())
    };
    let bodies = read(BlockPart::Body)?;
    let tx_hashes = read(BlockPart::TxHashes)?;
    let mut answers = Vec::with_capacity(hashes.len());
    let mut lists = Vec::with_capacity(hashes.len());
    for ((number, hash), (body, txs)) in numbers
        .iter()
        .zip(&hashes)
        .zip(bodies.into_iter().zip(tx_hashes))
    {
        let block = BlockRef {
            number: *number,
            hash: *hash,
        };
        let transactions = txs.into_option().map_or(0, |bytes| bytes.len() / 32);
        let Some(body) = body.into_option() else {
            // A block stored without its body has no transactions to recover.
            continue;
        };
        if transactions == 0 {
            lists.push(SenderList {
                block,
                senders: Default::default(),
                ext: Default::default(),
            });
            continue;
        }
        let (answer, receive) = oneshot::channel();
        pool.jobs
            .send(Job {
                block,
                body: body.into_vec(),
                transactions,
                answer,
            })
            .map_err(|_| "the recovery threads are gone".to_string())?;
        answers.push(receive);
    }
    for answer in answers {
        lists.push(
            answer
                .await
                .map_err(|_| "a recovery thread died".to_string())??,
        );
    }
    // Blocks unwound while they were recovered are left for later.
    let still = services
        .storage
        .canonical_hashes(&numbers)
        .map_err(|error| error.to_string())?;
    if still
        .iter()
        .zip(&hashes)
        .any(|(now, then)| now.as_ref() != Some(then))
    {
        return Ok(());
    }
    let batch = WriteBatch {
        senders: lists.into(),
        intervals: vec![interval_change(SENDERS, vec![range], Vec::new())].into(),
        ..Default::default()
    };
    services
        .write_changes(batch)
        .await
        .map_err(|error| error.to_string())?;
    Ok(())
}
