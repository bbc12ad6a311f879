//! `sync.*`: the forward and backward directions, their validation levels
//! and the optional configured anchor.

use std::{str::FromStr, time::Duration};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validation level; each is a plugin named `validation-<level>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ValidationLevelName {
    /// Decode only.
    None,
    /// Hashes, parent links, checkpoint roots.
    Header,
    /// Header plus transaction and receipt roots.
    #[default]
    Light,
    /// Light plus Bor consensus.
    Full,
}

string_enum!(ValidationLevelName { None => "none", Header => "header", Light => "light", Full => "full" });

impl ValidationLevelName {
    /// The plugin that implements the level.
    pub fn plugin_name(self) -> &'static str {
        match self {
            ValidationLevelName::None => "validation-none",
            ValidationLevelName::Header => "validation-header",
            ValidationLevelName::Light => "validation-light",
            ValidationLevelName::Full => "validation-full",
        }
    }
}

/// `sync.forward.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ForwardSyncConfig {
    /// Sync from the anchor towards the head and follow it.
    pub enabled: bool,
    /// How forward batches are validated.
    pub validation_level: ValidationLevelName,
    /// Blocks per fetch-and-verify batch.
    pub batch_size: u32,
}

impl Default for ForwardSyncConfig {
    fn default() -> Self {
        ForwardSyncConfig {
            enabled: true,
            validation_level: ValidationLevelName::Light,
            batch_size: 256,
        }
    }
}

/// `sync.backward.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackwardSyncConfig {
    /// Sync from the anchor towards genesis.
    pub enabled: bool,
    /// How backward ranges are validated.
    pub validation_level: ValidationLevelName,
    /// Lowest block to sync down to.
    pub floor: u64,
    /// Checkpoint ranges fetched at once.
    pub ranges_in_flight: u32,
}

impl Default for BackwardSyncConfig {
    fn default() -> Self {
        BackwardSyncConfig {
            enabled: true,
            validation_level: ValidationLevelName::Light,
            floor: 0,
            ranges_in_flight: 4,
        }
    }
}

/// `sync.anchor.*`: start from this block instead of the newest checkpoint.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnchorConfig {
    /// Anchor block number.
    pub number: Option<u64>,
    /// Its hash, `0x`-prefixed hex; trusted as given.
    pub hash: Option<String>,
}

/// `sync.*`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Forward direction.
    pub forward: ForwardSyncConfig,
    /// Backward direction.
    pub backward: BackwardSyncConfig,
    /// A configured anchor, instead of the newest L1 checkpoint.
    pub anchor: AnchorConfig,
    /// How often to poll the upstream head when no subscription is available.
    #[serde(with = "humantime_serde")]
    pub head_poll_interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            forward: ForwardSyncConfig::default(),
            backward: BackwardSyncConfig::default(),
            anchor: AnchorConfig::default(),
            head_poll_interval: Duration::from_secs(2),
        }
    }
}
