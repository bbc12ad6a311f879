//! Loading a configuration file: `.env`, `${VAR}` substitution, YAML,
//! `HYPASIS__*` environment overrides, typed decoding, validation.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use config::{Environment, File, FileFormat};

use super::{
    Config,
    substitute::{SubstituteError, substitute},
    validate::validate,
};

/// Prefix of environment overrides: `HYPASIS__P2P__MAX_PEERS=80` sets `p2p.max_peers`.
pub const ENV_OVERRIDE_PREFIX: &str = "HYPASIS";

/// Keys that take a comma-separated list when given as an environment override.
const LIST_KEYS: [&str; 3] = ["upstream.endpoints", "p2p.bootnodes", "p2p.trusted_peers"];

/// Why a configuration could not be used. Every variant names the file, and
/// the key path where one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {cause}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A `${VAR}` could not be filled.
    #[error("{file}: {cause}")]
    Substitute {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        cause: SubstituteError,
    },
    /// The YAML does not parse.
    #[error("{file}: not valid YAML: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A key is unknown or its value is wrong.
    #[error("{origin}: `{key}`: {message}")]
    Value {
        /// The file, or the environment variable that set the key.
        origin: String,
        /// The key path, like `sync.forward.validation_level`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

/// The environment a configuration is loaded in: process variables plus `.env`.
#[derive(Debug, Clone, Default)]
pub struct ConfigEnv {
    vars: HashMap<String, String>,
}

impl ConfigEnv {
    /// The process environment, with `.env` from the working directory (if
    /// present) filling variables that are not already set.
    pub fn from_process() -> Self {
        Self::from_process_and_file(Path::new(".env"))
    }

    /// The process environment, with `dotenv` (if present) filling
    /// variables that are not already set.
    pub fn from_process_and_file(dotenv: &Path) -> Self {
        let mut vars: HashMap<String, String> = std::env::vars().collect();
        if let Ok(entries) = dotenvy::from_path_iter(dotenv) {
            for (key, value) in entries.flatten() {
                vars.entry(key).or_insert(value);
            }
        }
        ConfigEnv { vars }
    }

    /// Exactly these variables; for tests.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        ConfigEnv {
            vars: vars.into_iter().collect(),
        }
    }

    /// One variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn overrides(&self) -> HashMap<String, String> {
        let prefix = format!("{ENV_OVERRIDE_PREFIX}__");
        self.vars
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// The override variable that sets `key`, if one is set.
    fn override_for(&self, key: &str) -> Option<String> {
        let path = key.split('[').next().unwrap_or(key);
        let name = format!(
            "{ENV_OVERRIDE_PREFIX}__{}",
            path.replace('.', "__").to_ascii_uppercase()
        );
        self.vars.contains_key(&name).then_some(name)
    }
}

/// Loads, decodes and validates a configuration file.
pub fn load(file: &Path, env: &ConfigEnv) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|cause| ConfigError::Read {
        file: file.to_owned(),
        cause,
    })?;
    parse(&text, file, env)
}

/// Decodes and validates configuration text; `file` is used in messages.
pub fn parse(text: &str, file: &Path, env: &ConfigEnv) -> Result<Config, ConfigError> {
    let substituted =
        substitute(text, |name| env.get(name)).map_err(|cause| ConfigError::Substitute {
            file: file.to_owned(),
            cause,
        })?;
    let mut environment = Environment::with_prefix(ENV_OVERRIDE_PREFIX)
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .source(Some(env.overrides()));
    for key in LIST_KEYS {
        environment = environment.with_list_parse_key(key);
    }
    let merged = config::Config::builder()
        .add_source(File::from_str(&substituted, FileFormat::Yaml))
        .add_source(environment)
        .build()
        .map_err(|error| ConfigError::Syntax {
            file: file.to_owned(),
            message: error.to_string(),
        })?;
    let merged = with_our_names(merged, file, env)?;
    let config: Config = serde_path_to_error::deserialize(merged).map_err(|error| {
        let key = error.path().to_string();
        let origin = env
            .override_for(&key)
            .unwrap_or_else(|| file.display().to_string());
        ConfigError::Value {
            origin,
            key,
            message: clean_message(&error.inner().to_string()),
        }
    })?;
    validate(&config).map_err(|(key, message)| ConfigError::Value {
        origin: env
            .override_for(&key)
            .unwrap_or_else(|| file.display().to_string()),
        key,
        message,
    })?;
    Ok(config)
}

/// The merged tree with the operator guide's key names read as ours
/// ([`super::aliases`]); unchanged when it uses none.
fn with_our_names(
    merged: config::Config,
    file: &Path,
    env: &ConfigEnv,
) -> Result<config::Config, ConfigError> {
    let syntax = |message: String| ConfigError::Syntax {
        file: file.to_owned(),
        message,
    };
    let mut tree: serde_json::Value = merged
        .clone()
        .try_deserialize()
        .map_err(|error| syntax(error.to_string()))?;
    if !super::aliases::needed(&tree) {
        return Ok(merged);
    }
    super::aliases::apply(&mut tree).map_err(|(key, message)| ConfigError::Value {
        origin: env
            .override_for(&key)
            .unwrap_or_else(|| file.display().to_string()),
        key,
        message,
    })?;
    // JSON is YAML: the rewritten tree goes through the same decoder.
    let text = serde_json::to_string(&tree).map_err(|error| syntax(error.to_string()))?;
    config::Config::builder()
        .add_source(File::from_str(&text, FileFormat::Yaml))
        .build()
        .map_err(|error| syntax(error.to_string()))
}

/// The `config` crate appends its own key/origin decoration to some
/// messages; ours already say both.
fn clean_message(message: &str) -> String {
    message
        .split(" for key `")
        .next()
        .unwrap_or(message)
        .trim()
        .to_string()
}
