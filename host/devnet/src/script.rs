//! A fault script: changes to endpoints' faults, and reorgs, on a timeline
//! (`--faults FILE`).
//!
//! ```yaml
//! steps:
//!   - at: 5s            # after start; or `after_block: 300`
//!     endpoint: 1
//!     set: { latency: 200ms, error_rate: 0.2 }
//!   - at: 20s
//!     endpoint: 1
//!     clear: true
//!   - after_block: 500
//!     reorg: 3
//! ```

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

use crate::faults::FaultSettings;

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultStep {
    /// Time after the devnet started.
    #[serde(default, with = "humantime_serde")]
    pub at: Option<Duration>,
    /// Or: once the head reaches this block.
    #[serde(default)]
    pub after_block: Option<u64>,
    /// Which upstream endpoint (0-based) the settings apply to.
    #[serde(default)]
    pub endpoint: Option<usize>,
    /// New fault settings for the endpoint.
    #[serde(default)]
    pub set: Option<FaultSettings>,
    /// Clear the endpoint's faults.
    #[serde(default)]
    pub clear: bool,
    /// Reorganise the tip to this depth.
    #[serde(default)]
    pub reorg: Option<u64>,
}

/// A whole script.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultScript {
    /// The steps, in any order.
    pub steps: Vec<FaultStep>,
}

/// Why a script could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// Unreadable file.
    #[error("{file}: {cause}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        cause: std::io::Error,
    },
    /// Not a valid script.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

impl FaultScript {
    /// Reads a YAML (or JSON) script.
    pub fn load(path: &Path) -> Result<Self, ScriptError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|cause| ScriptError::Read {
            file: file.clone(),
            cause,
        })?;
        Self::parse(&text).map_err(|message| ScriptError::Invalid { file, message })
    }

    /// Parses a YAML (or JSON) script and checks each step.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Yaml))
            .build()
            .map_err(|error| error.to_string())?;
        let script: FaultScript = value.try_deserialize().map_err(|error| error.to_string())?;
        for (index, step) in script.steps.iter().enumerate() {
            if step.at.is_some() == step.after_block.is_some() {
                return Err(format!(
                    "step {index}: give exactly one of `at` and `after_block`"
                ));
            }
            let actions = usize::from(step.set.is_some())
                + usize::from(step.clear)
                + usize::from(step.reorg.is_some());
            if actions != 1 {
                return Err(format!(
                    "step {index}: give exactly one of `set`, `clear` and `reorg`"
                ));
            }
            if (step.set.is_some() || step.clear) && step.endpoint.is_none() {
                return Err(format!(
                    "step {index}: `set` and `clear` need an `endpoint`"
                ));
            }
        }
        Ok(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_steps() {
        let script = FaultScript::parse(
            "steps:\n  - at: 2s\n    endpoint: 1\n    set:\n      latency: 150ms\n      error_rate: 0.5\n  - after_block: 40\n    reorg: 3\n",
        )
        .unwrap();
        assert_eq!(script.steps.len(), 2);
        assert_eq!(
            script.steps[0].set.as_ref().unwrap().latency,
            Some(Duration::from_millis(150))
        );
        assert_eq!(script.steps[1].reorg, Some(3));
        let error = FaultScript::parse(
            "steps:\n  - at: 2s\n    reorg: 1\n    clear: true\n    endpoint: 0\n",
        )
        .unwrap_err();
        assert_eq!(
            error,
            "step 0: give exactly one of `set`, `clear` and `reorg`"
        );
        assert!(
            FaultScript::parse("steps:\n  - at: 2s\n    endpoint: 0\n    set:\n      latenc: 1s\n")
                .is_err()
        );
    }
}
