//! Forwards the plugin's `tracing` events to the host's log sink.

use std::fmt::Write as _;

use abi_stable::std_types::RStr;
use hypasis_plugin_api::{LogLevel, LogRecord, LogSinkRef};
use tracing::{Event, Level, Subscriber, field::Field, level_filters::LevelFilter};
use tracing_subscriber::{Layer, layer::Context, prelude::*};

struct Forwarder {
    plugin: &'static str,
    log: extern "C" fn(RStr<'_>, LogRecord<'_>),
}

fn level_of(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

/// The filter for the host's level; a level this version does not know
/// lets through what `Info` would.
fn filter_of(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
        _ => LevelFilter::INFO,
    }
}

#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl tracing::field::Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }
}

impl<S: Subscriber> Layer<S> for Forwarder {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        visitor.message.push_str(&visitor.fields);
        let metadata = event.metadata();
        let record = LogRecord {
            level: level_of(metadata.level()),
            target: RStr::from_str(metadata.target()),
            message: RStr::from_str(&visitor.message),
        };
        (self.log)(RStr::from_str(self.plugin), record);
    }
}

/// Installs the forwarder as this library's global `tracing` subscriber.
/// Only the first call has an effect (the host calls it once per library).
pub fn install_log_forwarder(plugin: &'static str, sink: LogSinkRef) {
    let forwarder = Forwarder {
        plugin,
        log: sink.log(),
    };
    let subscriber =
        tracing_subscriber::registry().with(forwarder.with_filter(filter_of(sink.max_level())));
    let _ = tracing::subscriber::set_global_default(subscriber);
}
