//! `next-host PLUGIN DATA_DIR`: loads a storage plugin the way the real
//! host does (ABI stamp, then abi_stable's version and layout checks),
//! uses it through the 3.1 types, and prints one JSON line of what it saw.
//! Exits non-zero, with the reason on stderr, when anything fails.

use std::path::Path;

use abi_stable::{
    library::lib_header_from_path,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RArc, ROption, RSlice, RStr},
};
use hypasis_plugin_api::{
    ABI_STAMP_SYMBOL, ABI_VERSION, AbiStamp, BlockPart, Extension, LogLevel, LogRecord, LogSink,
    RawBlock, WriteBatch, WriteBatchExt, WriteBatchExt_TO,
};

/// The 3.1 extension of a write batch: the new field set.
#[derive(Clone)]
struct LazyBatch;

impl WriteBatchExt for LazyBatch {
    fn minor(&self) -> u32 {
        ABI_VERSION.minor
    }

    fn lazy(&self) -> bool {
        true
    }
}

extern "C" fn log(_plugin: RStr<'_>, _record: LogRecord<'_>) {}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("next-host: {message}");
    std::process::exit(1)
}

fn stamp(path: &Path) -> AbiStamp {
    // SAFETY: test-only: the library is a plugin the test built.
    let library = unsafe { libloading::Library::new(path) }.unwrap_or_else(|error| fail(error));
    // SAFETY: the symbol is the plain-data `AbiStamp` static of a plugin.
    let stamp = unsafe { library.get::<*const AbiStamp>(ABI_STAMP_SYMBOL).map(|symbol| **symbol) }
        .unwrap_or_else(|error| fail(error));
    std::mem::forget(library);
    stamp
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(plugin), Some(data_dir)) = (args.next(), args.next()) else {
        fail("usage: next-host PLUGIN DATA_DIR");
    };
    let path = Path::new(&plugin);
    let stamp = stamp(path);
    if !ABI_VERSION.accepts(stamp.version) {
        fail(format!(
            "plugin ABI mismatch: expected plugin ABI {ABI_VERSION}, found {}",
            stamp.version
        ));
    }
    let header = lib_header_from_path(path).unwrap_or_else(|error| fail(error));
    // The host's own check: the plugin's types must be a prefix of ours.
    let module = hypasis_plugin_api::open_root_module(header).unwrap_or_else(|refusal| {
        let text = format!("{refusal:?}");
        let brief: Vec<&str> = text.lines().filter(|line| line.contains("Error:")).collect();
        fail(format!("layout check refused the plugin: {}", brief.join("; ")))
    });
    let info = (module.info())();
    (module.set_logger())(
        LogSink {
            max_level: LogLevel::Warn,
            log,
        }
        .leak_into_prefix(),
    );
    let envelope = serde_json::json!({
        "plugin": info.name.as_str(),
        "instance": "storage",
        "data_dir": data_dir,
        "settings": { "cache_size": 8 << 20 },
        "options": {},
    });
    let instance = (module.instantiate())(RStr::from_str(&envelope.to_string()))
        .into_result()
        .unwrap_or_else(|error| fail(error));
    let Some(storage) = instance.storage.into_option() else {
        fail(format!("{} is not a storage plugin", info.name));
    };
    let block = RawBlock {
        number: 7,
        hash: [7; 32],
        header: vec![0xc0].into(),
        tx_hashes: vec![[1; 32]].into(),
        ..Default::default()
    };
    let batch = WriteBatch {
        blocks: vec![block].into(),
        ext: Extension::some(WriteBatchExt_TO::from_ptr(RArc::new(LazyBatch), TD_Opaque)),
        ..Default::default()
    };
    futures_lite(storage.write(batch))
        .into_result()
        .unwrap_or_else(|error| fail(error));
    let header = storage
        .parts(BlockPart::Header, RSlice::from_slice(&[[7; 32]]))
        .into_result()
        .unwrap_or_else(|error| fail(error));
    let stats = storage.stats().into_result().unwrap_or_else(|error| fail(error));
    let stats_ext = stats.ext.get();
    let compact = storage.compact().into_result();
    println!(
        "{}",
        serde_json::json!({
            "host_abi": ABI_VERSION.to_string(),
            "plugin": info.name.as_str(),
            "plugin_abi": info.abi.to_string(),
            "header_read_back": matches!(header.first(), Some(ROption::RSome(bytes)) if bytes.as_slice() == [0xc0]),
            "blocks": stats.blocks,
            "stats_ext_minor": stats_ext.map(|ext| ext.minor()),
            "stats_ext_compactions": stats_ext.map_or(0, |ext| ext.compactions()),
            "compact": compact.map(|()| "ok".to_string()).unwrap_or_else(|error| error.to_string()),
        })
    );
}

/// Polls a plugin future to completion on this thread (the plugin runs the
/// work on its own runtime; the host only waits).
fn futures_lite<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
        std::thread::park();
    }
}
