//! Crash safety: a child process (this test binary, re-executed as the
//! writer) writes numbered batches in a loop; the test kills it with SIGKILL
//! at random moments, reopens the store after each kill and checks that every
//! batch is entirely present or entirely absent — blocks, transaction index,
//! canonical chain, interval sets and the progress key agreeing exactly with
//! the reference store fed the same committed batches — then lets a new child
//! carry on from the progress key.

use hypasis_plugin_sdk::api::Namespace;
mod common;

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::*;
use hypasis_plugin_sdk::{
    StorageBackend,
    api::{WriteBatch, reexports::abi_stable::std_types::ROption},
};
use hypasis_storage_memory::MemoryStore;

/// Set (to the store's directory) in the child: act as the writer.
const WRITER_ENV: &str = "HYPASIS_STORAGE_EMBEDDED_CRASH_WRITER";
const PROGRESS: &str = "crash/progress";
const BLOCKS_PER_BATCH: u64 = 8;
const KILLS: usize = 20;
/// The line the writer prints once the store is open (recovery done).
const READY: &str = "crash writer ready";

/// Batch `index`: 8 new blocks with transactions; every fifth batch also
/// reorganises the last two blocks of the previous one first. Intervals and
/// meta record what the batch did, so they must agree with the blocks.
fn crash_batch(index: u64) -> WriteBatch {
    let first = index * BLOCKS_PER_BATCH;
    let last = first + BLOCKS_PER_BATCH - 1;
    let mut batch = WriteBatch::default();
    let mut blocks = Vec::new();
    if index % 5 == 4 {
        batch.unwind_above = ROption::RSome(first - 3);
        blocks.push(block(first - 2, index, 2));
        blocks.push(block(first - 1, index, 2));
    }
    blocks.extend((first..=last).map(|number| block(number, 0, 1 + number % 3)));
    batch.blocks = blocks.into();
    batch.intervals = vec![
        intervals("written", &[range(first, last)], &[]),
        intervals("batches", &[range(index, index)], &[]),
    ]
    .into();
    batch.meta = vec![
        meta(PROGRESS, Some(&(index + 1).to_be_bytes())),
        meta(&format!("crash/batch/{index}"), Some(b"done")),
    ]
    .into();
    batch
}

/// How many batches the store holds, by its progress key.
fn progress(store: &dyn StorageBackend) -> u64 {
    match ok(store.meta(Namespace::Host, PROGRESS)) {
        Some(bytes) => {
            let array: [u8; 8] = bytes
                .as_slice()
                .try_into()
                .unwrap_or_else(|_| panic!("progress key of {} bytes", bytes.len()));
            u64::from_be_bytes(array)
        }
        None => 0,
    }
}

/// The writer: runs only in the child, until killed (or 60 s pass).
#[test]
fn crash_writer_child() {
    let Some(dir) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let store = open_embedded(Path::new(&dir));
    let started = Instant::now();
    let mut next = progress(&store);
    println!("{READY}");
    while started.elapsed() < Duration::from_secs(60) {
        ok(store.write(crash_batch(next)));
        next += 1;
    }
}

/// Kills the child if the test fails half-way.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_writer(dir: &Path) -> Writer {
    let exe = std::env::current_exe().unwrap_or_else(|error| panic!("current_exe: {error}"));
    let child = Command::new(exe)
        .args([
            "crash_writer_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRITER_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("spawn the writer: {error}"));
    Writer(child)
}

/// Waits for the writer's ready line.
fn wait_ready(writer: &mut Writer) {
    use std::io::BufRead;
    let stdout = writer
        .0
        .stdout
        .as_mut()
        .unwrap_or_else(|| panic!("no stdout pipe"));
    let mut lines = std::io::BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(READY) => return,
            Some(Ok(_)) => {}
            other => panic!("the writer ended before it was ready: {other:?}"),
        }
    }
}

/// What batches `from..=to` touch.
fn window(from: u64, to: u64) -> Universe {
    let mut universe = Universe::default();
    for index in from..=to {
        universe.learn(&crash_batch(index));
    }
    universe
}

#[test]
fn batches_survive_kill_9_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |since| since.as_nanos() as u64)
        | 1;
    println!("kill schedule seed {seed}");
    let mut rng = Rng(seed);
    let reference = MemoryStore::default();
    let mut everything = Universe::default();
    let mut committed = 0u64;
    let mut productive_kills = 0;
    for kill in 0..KILLS {
        let mut writer = spawn_writer(dir.path());
        // Most kills land while batches are being written (a random moment
        // after the writer is ready: recovery of a debug build can take a
        // while); one in four lands at any moment, recovery included.
        if rng.chance(75) {
            wait_ready(&mut writer);
        }
        std::thread::sleep(Duration::from_millis(rng.below(250)));
        let _ = writer.0.kill();
        let status = writer.0.wait();
        assert!(
            status.as_ref().is_ok_and(|status| !status.success()),
            "the writer ended on its own ({status:?}): it must be killed"
        );
        drop(writer);

        let store = open_embedded(dir.path());
        let found = progress(&store);
        assert!(
            found >= committed,
            "kill {kill}: progress went back from {committed} to {found}"
        );
        for index in committed..found {
            let batch = crash_batch(index);
            everything.learn(&batch);
            ok(reference.write(batch));
        }
        // The last two committed batches must be whole, the next one absent.
        let view = window(found.saturating_sub(2), found);
        assert_same(
            &observe(&store, &view),
            &observe(&reference, &view),
            &format!("kill {kill} (seed {seed}), after {found} batches"),
        );
        let next = crash_batch(found);
        if next.blocks.iter().any(|stored| {
            ok(store.block_number(&stored.hash)).is_some()
                || stored.tx_hashes.iter().any(|tx| {
                    ok(store.transaction(tx)).is_some_and(|at| at.block_hash == stored.hash)
                })
        }) {
            panic!("kill {kill}: part of batch {found} is stored without its progress key");
        }
        if found > committed {
            productive_kills += 1;
        }
        committed = found;
        ok(store.shutdown());
    }
    println!("{committed} batches over {KILLS} kills ({productive_kills} kills after progress)");
    assert!(
        productive_kills >= KILLS / 4,
        "the writer made progress before only {productive_kills} of {KILLS} kills"
    );
    // Finally everything, not just the windows.
    let store = open_embedded(dir.path());
    assert_same(
        &observe(&store, &everything),
        &observe(&reference, &everything),
        "after the last kill",
    );
    assert_eq!(
        ok(store.intervals(Namespace::Chain, "batches")).to_vec(),
        vec![range(0, committed - 1)]
    );
    ok(store.shutdown());
}
