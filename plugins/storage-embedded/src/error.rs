//! The store's errors, and how they become [`PluginError`]s at the boundary.

use std::path::PathBuf;

use hypasis_plugin_sdk::{ErrorKind, PluginError};

use crate::schema::{Malformed, Table, printable};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store was shut down; no call succeeds any more.
    #[error("storage-embedded is shut down")]
    Shutdown,
    /// A key or value read back does not have its table's shape.
    #[error("corrupt store: {0}")]
    Malformed(#[from] Malformed),
    /// The store was written by a newer schema than this build knows.
    #[error(
        "{path}: the store has schema version {found}, this build of storage-embedded reads \
         version {supported} and older; run a newer hypasis-sync, or point `storage.options.path` \
         at another directory"
    )]
    NewerSchema {
        /// The store's directory.
        path: PathBuf,
        /// The version found in the store.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// The store cannot be opened (permissions, locked by another process, …).
    #[error("cannot open the store at {path}: {message}")]
    Open {
        /// The store's directory.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The batch asks for something the store cannot hold.
    #[error("invalid batch: {0}")]
    InvalidInput(String),
    /// The engine failed reading or writing a key.
    #[error("{action} table `{table}`, key {key}: {source}")]
    Engine {
        /// `reading`, `scanning` or `writing`.
        action: &'static str,
        /// The table.
        table: &'static str,
        /// The key, printed.
        key: String,
        /// The engine's error.
        source: fjall::Error,
    },
    /// The engine failed committing a batch or persisting its journal.
    #[error("{action}: {source}")]
    Commit {
        /// What was being done.
        action: &'static str,
        /// The engine's error.
        source: fjall::Error,
    },
}

impl StoreError {
    /// An engine error on `key` of `table`.
    pub(crate) fn engine(
        action: &'static str,
        table: Table,
        key: &[u8],
        source: fjall::Error,
    ) -> Self {
        StoreError::Engine {
            action,
            table: table.name(),
            key: printable(key),
            source,
        }
    }

    /// The kind the host sees.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Shutdown => ErrorKind::Shutdown,
            StoreError::Malformed(_) => ErrorKind::Corrupt,
            StoreError::NewerSchema { .. } | StoreError::Open { .. } => ErrorKind::Config,
            StoreError::InvalidInput(_) => ErrorKind::InvalidInput,
            StoreError::Engine { source, .. } | StoreError::Commit { source, .. } => {
                if is_corruption(source) {
                    ErrorKind::Corrupt
                } else {
                    ErrorKind::Internal
                }
            }
        }
    }
}

/// Whether an engine error means the bytes on disk are damaged (as opposed
/// to an I/O failure or a poisoned engine).
pub(crate) fn is_corruption(error: &fjall::Error) -> bool {
    use fjall::{Error as E, LsmError as L};
    match error {
        E::Storage(inner) => matches!(
            inner,
            L::Decompress(_)
                | L::InvalidVersion(_)
                | L::Unrecoverable
                | L::ChecksumMismatch { .. }
                | L::InvalidTag(_)
                | L::InvalidTrailer
                | L::InvalidHeader(_)
                | L::Utf8(_)
        ),
        E::JournalRecovery(_)
        | E::Decompress(_)
        | E::InvalidTrailer
        | E::InvalidTag(_)
        | E::Unrecoverable => true,
        _ => false,
    }
}

impl From<StoreError> for PluginError {
    fn from(error: StoreError) -> Self {
        PluginError::new(error.kind(), format!("storage-embedded: {error}"))
    }
}
