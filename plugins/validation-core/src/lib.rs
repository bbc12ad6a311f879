//! The four validation levels, as plain functions over plugin-api requests.
//! Each validation plugin is a thin shell that picks one level.
//!
//! | level | checks |
//! |---|---|
//! | none | every part decodes; the header's number is the claimed one |
//! | header | every header hashes to its claimed hash and links to its parent (and to the trusted neighbours and anchors given); every checkpoint inside the batch reproduces its root |
//! | light | header, plus each body reproduces `transactionsRoot`, the ommers hash (and withdrawals root), and each receipt list reproduces `receiptsRoot`, `logsBloom` (the OR of the receipts' blooms) and `gasUsed` |
//! | full | light, plus each receipt's bloom recomputed from its logs, plus Bor consensus: the seal recovers to a producer of the span, difficulty follows the in-turn rule, sprint-end validator lists match the span, timestamps respect the period and delays |
//!
//! A rejection names the block, the field, what was expected and what was found.

#![deny(missing_docs)]

mod body;
mod consensus;
mod decode;
mod header;
mod rejection;

use hypasis_plugin_api::{
    BlockRange, ErrorKind, PluginError, Requirements, ValidationRequest, Verdict,
};
use hypasis_polygon::ChainSpec;

pub use decode::DecodedBlock;
pub use rejection::Reject;

/// A validation level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Decode only.
    None,
    /// Hashes, links, anchors, checkpoint roots.
    Header,
    /// Header plus bodies and receipts against the header's roots.
    Light,
    /// Light plus Bor consensus.
    Full,
}

impl Level {
    /// What the level reads beyond headers.
    pub fn requirements(self) -> Requirements {
        Requirements::new(
            self >= Level::Light,
            self >= Level::Light,
            self == Level::Full,
        )
    }
}

/// Validates `request` at `level` under `spec`.
pub fn validate(
    level: Level,
    spec: &ChainSpec,
    request: &ValidationRequest,
) -> Result<Verdict, PluginError> {
    let needs = level.requirements();
    let blocks = match decode::decode_all(request, needs) {
        Ok(blocks) => blocks,
        Err(Reject::Block(rejection)) => return Ok(Verdict::rejected(*rejection)),
        Err(Reject::Request(message)) => {
            return Err(PluginError::new(ErrorKind::InvalidInput, message));
        }
    };
    let mut confirmed: Vec<BlockRange> = Vec::new();
    let outcome = (|| -> Result<(), Reject> {
        if level >= Level::Header {
            confirmed = header::check(&blocks, request)?;
        }
        if level >= Level::Light {
            body::check(&blocks, level >= Level::Full)?;
        }
        if level >= Level::Full {
            consensus::check(&blocks, request, spec)?;
            // Seals verified against the span's producers confirm the batch.
            if let (Some(first), Some(last)) = (blocks.first(), blocks.last()) {
                confirmed = vec![BlockRange::new(first.number(), last.number())];
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(Verdict::accepted(confirmed)),
        Err(Reject::Block(rejection)) => Ok(Verdict::rejected(*rejection)),
        Err(Reject::Request(message)) => Err(PluginError::new(ErrorKind::InvalidInput, message)),
    }
}

/// Runs only the header and consensus checks of `full` (no bodies or
/// receipts needed): for audits of header-only data such as
/// `hypasis-sync checkpoint verify`.
pub fn validate_headers_and_consensus(
    spec: &ChainSpec,
    request: &ValidationRequest,
) -> Result<Verdict, PluginError> {
    let needs = Requirements::new(false, false, true);
    let blocks = match decode::decode_all(request, needs) {
        Ok(blocks) => blocks,
        Err(Reject::Block(rejection)) => return Ok(Verdict::rejected(*rejection)),
        Err(Reject::Request(message)) => {
            return Err(PluginError::new(ErrorKind::InvalidInput, message));
        }
    };
    let outcome = header::check(&blocks, request)
        .and_then(|confirmed| consensus::check(&blocks, request, spec).map(|()| confirmed));
    match outcome {
        Ok(confirmed) => Ok(Verdict::accepted(confirmed)),
        Err(Reject::Block(rejection)) => Ok(Verdict::rejected(*rejection)),
        Err(Reject::Request(message)) => Err(PluginError::new(ErrorKind::InvalidInput, message)),
    }
}

/// A validation level as a plugin: what each validation cdylib exports.
pub struct LevelPlugin {
    level: Level,
    spec: ChainSpec,
}

impl hypasis_plugin_sdk::ValidationLevel for LevelPlugin {
    fn requirements(&self) -> Requirements {
        self.level.requirements()
    }

    fn validate(&self, request: &ValidationRequest) -> Result<Verdict, PluginError> {
        validate(self.level, &self.spec, request)
    }
}

impl LevelPlugin {
    /// The level with its chain spec, outside any plugin (for benchmarks and tests).
    pub fn new(level: Level, spec: ChainSpec) -> Self {
        LevelPlugin { level, spec }
    }
}

/// Creates a plugin instance of `level` from its configuration envelope.
/// Every level except `none` needs the chain spec; none takes options.
pub fn instance(
    level: Level,
    config: hypasis_plugin_sdk::PluginConfig,
) -> Result<hypasis_plugin_api::PluginInstance, PluginError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoOptions {}
    let _: NoOptions = config.options()?;
    let spec = match (level, &config.chain) {
        (Level::None, None) => ChainSpec::mainnet(),
        _ => config.chain()?,
    };
    Ok(hypasis_plugin_sdk::validation_instance(LevelPlugin {
        level,
        spec,
    }))
}
