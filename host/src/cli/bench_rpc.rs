//! `hypasis-sync bench rpc`: `eth_getBlockByNumber` (hashes only, full
//! transactions) and `eth_getBlockReceipts` on random stored blocks against
//! one or more JSON-RPC servers side by side — ours from `serve`, a geth
//! that imported the same chain, the previous release — at several
//! concurrencies, printing requests/s, latency, and each row's ratio to the
//! first target's.
//!
//! The client is a minimal HTTP/1.1 keep-alive client (one connection per
//! concurrent caller), so that as little of the machine as possible goes to
//! the load generator; every answer is checked to be a JSON-RPC result.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use clap::Args;
use parking_lot::Mutex;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[derive(Debug, Args)]
pub struct RpcBenchArgs {
    /// A server, as `name=http://host:port` (repeat for side-by-side runs).
    #[arg(long = "target", required = true, value_name = "NAME=URL")]
    targets: Vec<String>,
    /// Concurrent callers (one connection each), one run per value.
    #[arg(long, value_delimiter = ',', default_value = "1,16,256")]
    concurrency: Vec<usize>,
    /// Seconds each run lasts (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Ask for blocks FROM..=N at random.
    #[arg(long)]
    blocks: u64,
    /// The lowest block asked for.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// What to ask for, one run per value: `hashes`, `full` (eth_getBlockByNumber
    /// without and with transactions), `receipts` (eth_getBlockReceipts).
    #[arg(long, value_delimiter = ',', default_value = "hashes,full")]
    queries: Vec<Query>,
}

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Query {
    /// `eth_getBlockByNumber(n, false)`.
    Hashes,
    /// `eth_getBlockByNumber(n, true)`.
    Full,
    /// `eth_getBlockReceipts(n)`.
    Receipts,
}

impl Query {
    fn body(self, number: u64) -> String {
        match self {
            Query::Hashes | Query::Full => format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["{number:#x}",{}]}}"#,
                self == Query::Full
            ),
            Query::Receipts => format!(
                r#"{{"jsonrpc":"2.0","id":1,"method":"eth_getBlockReceipts","params":["{number:#x}"]}}"#
            ),
        }
    }

    /// Whether `answer` is a result (an object, or the receipts' array).
    fn answered(self, answer: &[u8]) -> bool {
        let wanted: &[u8] = match self {
            Query::Receipts => br#""result":["#,
            _ => br#""result":{"#,
        };
        find(answer, wanted).is_some()
    }

    fn name(self) -> &'static str {
        match self {
            Query::Hashes => "block, hashes",
            Query::Full => "block, full",
            Query::Receipts => "block receipts",
        }
    }
}

/// The blocks asked for: `from..=to`.
#[derive(Debug, Clone, Copy)]
struct Blocks {
    from: u64,
    to: u64,
}

struct Target {
    name: String,
    address: String,
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    bytes: AtomicU64,
    errors: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
}

struct Row {
    target: String,
    query: Query,
    concurrency: usize,
    per_second: f64,
    mb_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// One keep-alive HTTP/1.1 connection.
struct Connection {
    stream: TcpStream,
    host: String,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(address: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            host: address.to_string(),
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    /// Reads more bytes into the buffer.
    async fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            bail!("connection closed");
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }

    /// Posts `body` and returns the response body (by Content-Length, or
    /// chunked, as go-ethereum sends large answers).
    async fn post(&mut self, body: &str) -> anyhow::Result<Vec<u8>> {
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end])
            .context("response head")?
            .to_string();
        if !head.starts_with("HTTP/1.1 200") {
            bail!("{}", head.lines().next().unwrap_or_default());
        }
        let field = |wanted: &str| {
            head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case(wanted)
                    .then(|| value.trim().to_string())
            })
        };
        let mut position = header_end + 4;
        if let Some(length) = field("content-length") {
            let length: usize = length.parse().context("Content-Length")?;
            while self.buffer.len() < position + length {
                self.fill().await?;
            }
            return Ok(self.buffer[position..position + length].to_vec());
        }
        if !field("transfer-encoding").is_some_and(|value| value.eq_ignore_ascii_case("chunked")) {
            bail!("a response with neither Content-Length nor chunked encoding");
        }
        let mut out = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = find(&self.buffer[position..], b"\r\n") {
                    break position + end;
                }
                self.fill().await?;
            };
            let size_text =
                std::str::from_utf8(&self.buffer[position..line_end]).context("chunk size")?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .context("chunk size")?;
            position = line_end + 2;
            while self.buffer.len() < position + size + 2 {
                self.fill().await?;
            }
            out.extend_from_slice(&self.buffer[position..position + size]);
            position += size + 2;
            if size == 0 {
                return Ok(out);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A small fast generator (xorshift64*), seeded per caller.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

async fn caller(
    mut connection: Connection,
    seed: u64,
    blocks: Blocks,
    query: Query,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    counting: Arc<AtomicBool>,
) {
    let mut random = Random(seed | 1);
    let mut latencies = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let number = blocks.from + random.below(blocks.to.saturating_sub(blocks.from) + 1);
        let body = query.body(number);
        let started = Instant::now();
        let outcome = connection.post(&body).await;
        let elapsed = started.elapsed();
        let counted = counting.load(Ordering::Relaxed);
        match outcome {
            Ok(answer) if query.answered(&answer) => {
                if counted {
                    tally.requests.fetch_add(1, Ordering::Relaxed);
                    tally
                        .bytes
                        .fetch_add(answer.len() as u64, Ordering::Relaxed);
                    latencies.push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32);
                }
            }
            Ok(_) | Err(_) => {
                if counted {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                }
                // Reconnect after a failure; give up if the server is gone.
                match Connection::open(&connection.host).await {
                    Ok(fresh) => connection = fresh,
                    Err(_) => break,
                }
            }
        }
    }
    tally.latencies_us.lock().extend(latencies);
}

async fn measure(
    target: &Target,
    concurrency: usize,
    query: Query,
    blocks: Blocks,
    seconds: u64,
) -> anyhow::Result<Row> {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let counting = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..concurrency {
        let connection = Connection::open(&target.address).await?;
        tasks.spawn(caller(
            connection,
            0x9e37_79b9_7f4a_7c15 ^ (index as u64).wrapping_mul(0xbf58_476d_1ce4_e5b9),
            blocks,
            query,
            Arc::clone(&tally),
            Arc::clone(&stop),
            Arc::clone(&counting),
        ));
    }
    // Warm-up: connections, caches, the server's allocator.
    tokio::time::sleep(Duration::from_secs(1)).await;
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    counting.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock());
    latencies.sort_unstable();
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    let requests = tally.requests.load(Ordering::Relaxed);
    Ok(Row {
        target: target.name.clone(),
        query,
        concurrency,
        per_second: requests as f64 / elapsed,
        mb_per_second: tally.bytes.load(Ordering::Relaxed) as f64 / elapsed / 1e6,
        p50_ms: quantile(0.50),
        p99_ms: quantile(0.99),
        errors: tally.errors.load(Ordering::Relaxed),
    })
}

pub fn run(args: RpcBenchArgs) -> anyhow::Result<()> {
    let targets = args
        .targets
        .iter()
        .map(|text| {
            let (name, url) = text
                .split_once('=')
                .with_context(|| format!("`{text}` is not NAME=URL"))?;
            let address = url
                .strip_prefix("http://")
                .with_context(|| format!("`{url}` is not an http:// URL"))?
                .trim_end_matches('/')
                .to_string();
            Ok(Target {
                name: name.to_string(),
                address,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let blocks = Blocks {
        from: args.from,
        to: args.blocks,
    };
    runtime.block_on(async move {
        let mut rows = Vec::new();
        for &query in &args.queries {
            for &concurrency in &args.concurrency {
                for target in &targets {
                    eprintln!(
                        "{}: {}, {concurrency} concurrent, {} s...",
                        target.name,
                        query.name(),
                        args.seconds
                    );
                    rows.push(measure(target, concurrency, query, blocks, args.seconds).await?);
                }
            }
        }
        println!(
            "| server | request | concurrency | requests/s | × first | MB/s | p50 ms | p99 ms | errors |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in &rows {
            // The same request and concurrency on the first target.
            let base = rows
                .iter()
                .find(|other| other.query == row.query && other.concurrency == row.concurrency)
                .map_or(0.0, |other| other.per_second);
            let ratio = if base > 0.0 {
                row.per_second / base
            } else {
                0.0
            };
            println!(
                "| {} | {} | {} | {:.0} | {:.2} | {:.1} | {:.2} | {:.2} | {} |",
                row.target,
                row.query.name(),
                row.concurrency,
                row.per_second,
                ratio,
                row.mb_per_second,
                row.p50_ms,
                row.p99_ms,
                row.errors
            );
        }
        anyhow::Ok(())
    })
}
