//! Keeps fjall's write-ahead journal within [`MAX_JOURNAL`] plus one
//! journal file during fast ingest.
//!
//! fjall deletes a sealed journal file once every table that has entries
//! in it has flushed them, and asks the tables pinning the oldest file to
//! flush only when a flush of its own finds the journal over its limit.
//! Nothing slows a writer while flushes queue behind a long compaction (one
//! background worker), and small tables (`canonical`, `state`, `meta`)
//! rarely fill a memtable, so the journal was seen at 268–339 MB after a
//! fast sync against a 128 MiB limit. After each batch the writer checks
//! the journal's size: over [`MAX_JOURNAL`] it rotates every memtable
//! holding data once (so the oldest file can go), and over
//! [`JOURNAL_HARD_BOUND`] it waits for the background flushes before
//! taking the next batch.

use std::time::{Duration, Instant};

use crate::{engine::Inner, error::StoreError, schema::Table};

/// Journal kept before memtables are forced to disk; bounds the replay after
/// a crash.
pub const MAX_JOURNAL: u64 = 128 << 20;

/// fjall seals its active journal file once it passes this size.
const JOURNAL_FILE: u64 = 64_000_000;

/// The most journal a writer leaves behind it: past this, the next batch
/// waits until flushes bring the journal back under [`MAX_JOURNAL`].
pub const JOURNAL_HARD_BOUND: u64 = MAX_JOURNAL + JOURNAL_FILE;

/// The longest a writer waits for flushes before going on (and saying so).
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// The journal state the writer keeps between batches (behind the
/// store's writer lock).
#[derive(Debug, Default)]
pub(crate) struct JournalBound {
    /// Memtables were rotated since the journal last fell under the limit.
    rotated: bool,
}

impl JournalBound {
    /// Called by the writer after each committed batch.
    pub(crate) fn after_batch(&mut self, inner: &Inner) -> Result<(), StoreError> {
        let size = journal_size(inner)?;
        if size <= MAX_JOURNAL {
            self.rotated = false;
            return Ok(());
        }
        if size <= JOURNAL_HARD_BOUND {
            if !self.rotated {
                self.rotated = true;
                rotate_all(inner)?;
            }
            return Ok(());
        }
        // Over the hard bound: flush what pins the journal (again every
        // half second, in case a memtable took writes since) and wait.
        let started = Instant::now();
        let mut rotated_at: Option<Instant> = None;
        loop {
            if rotated_at.is_none_or(|at| at.elapsed() >= Duration::from_millis(500)) {
                rotate_all(inner)?;
                rotated_at = Some(Instant::now());
            }
            std::thread::sleep(Duration::from_millis(5));
            let size = journal_size(inner)?;
            if size <= MAX_JOURNAL {
                self.rotated = false;
                return Ok(());
            }
            if started.elapsed() > LONGEST_WAIT {
                hypasis_plugin_sdk::tracing::warn!(
                    journal_bytes = size,
                    waited_s = started.elapsed().as_secs(),
                    "the store's journal is still over its bound: flushes are not keeping up"
                );
                return Ok(());
            }
        }
    }
}

/// Seals every memtable holding data, so its journal entries can go once flushed.
fn rotate_all(inner: &Inner) -> Result<(), StoreError> {
    for table in Table::ALL {
        inner
            .table(table)
            .rotate_memtable()
            .map_err(|error| StoreError::engine("flushing", table, b"", error))?;
    }
    Ok(())
}

fn journal_size(inner: &Inner) -> Result<u64, StoreError> {
    inner
        .db
        .journal_disk_space()
        .map_err(|source| StoreError::Commit {
            action: "measuring the journal",
            source,
        })
}
