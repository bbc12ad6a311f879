//! Why an import failed: each error names the file, and where it applies the
//! block, the transaction and the header field.

use alloy_primitives::B256;

/// Why a chain did not import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The genesis file is not a usable go-ethereum genesis.
    #[error("{file}: {reason}")]
    Genesis {
        /// The genesis file.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The chain's blocks follow Bor's execution rules (fee-transfer logs,
    /// the burnt contract, system calls at sprint and span ends), which
    /// this importer does not execute yet; the genesis alone imports.
    #[error(
        "{chain_file}: {blocks} blocks after genesis on a Bor-format chain ({genesis_file}); \
         import cannot execute Bor blocks yet, so it cannot derive their receipts. \
         Import the genesis alone, or sync the chain from a Bor node's JSON-RPC \
         (upstream.endpoints) with a configured anchor"
    )]
    BorExecution {
        /// The genesis file.
        genesis_file: String,
        /// The chain file.
        chain_file: String,
        /// How many blocks the chain file has after the genesis.
        blocks: usize,
    },
    /// The chain file is not a sequence of well-formed RLP blocks.
    #[error("{file}: block #{index} (at byte {offset}): {reason}")]
    ChainRlp {
        /// The chain file.
        file: String,
        /// The block's position in the file, from 0.
        index: usize,
        /// Where the block starts in the file.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The genesis built from the genesis file is not the parent of the
    /// chain's first block (a different alloc or config).
    #[error(
        "{genesis_file} gives genesis hash {computed}, but block 1 of {chain_file} has parent hash {expected}"
    )]
    GenesisMismatch {
        /// The genesis file.
        genesis_file: String,
        /// The chain file.
        chain_file: String,
        /// The hash of the genesis header built from the genesis file.
        computed: B256,
        /// The parent hash that block 1 carries.
        expected: B256,
    },
    /// A header field disagrees with what executing the block (or its
    /// parent) gives.
    #[error("{file}: block {number}: {field}: header has {expected}, computed {found}")]
    Mismatch {
        /// The chain file.
        file: String,
        /// The block number.
        number: u64,
        /// The header field (`stateRoot`, `receiptsRoot`, `logsBloom`, `gasUsed`, …).
        field: &'static str,
        /// The value in the header.
        expected: String,
        /// The value that execution or the parent gives.
        found: String,
    },
    /// A block breaks a rule that is not a single header field.
    #[error("{file}: block {number}: {reason}")]
    InvalidBlock {
        /// The chain file.
        file: String,
        /// The block number.
        number: u64,
        /// What is wrong.
        reason: String,
    },
    /// A transaction does not decode, has a bad signature or chain id, or
    /// the EVM refuses it.
    #[error("{file}: block {number}: transaction {index}: {reason}")]
    InvalidTransaction {
        /// The chain file.
        file: String,
        /// The block number.
        number: u64,
        /// The transaction's index in the block.
        index: usize,
        /// What is wrong.
        reason: String,
    },
}

/// A problem with one block, before the file name is attached.
#[derive(Debug)]
pub(crate) enum BlockFault {
    /// A header field disagrees with execution.
    Mismatch {
        field: &'static str,
        expected: String,
        found: String,
    },
    /// Some other rule is broken.
    Invalid(String),
    /// A transaction is at fault.
    Transaction { index: usize, reason: String },
}

impl BlockFault {
    /// Fails with a mismatch unless `expected == found`.
    pub(crate) fn check<T: PartialEq + std::fmt::Display>(
        field: &'static str,
        expected: T,
        found: T,
    ) -> Result<(), BlockFault> {
        if expected == found {
            Ok(())
        } else {
            Err(BlockFault::Mismatch {
                field,
                expected: expected.to_string(),
                found: found.to_string(),
            })
        }
    }

    /// Attaches the file and block number.
    pub(crate) fn at(self, file: &str, number: u64) -> ImportError {
        let file = file.to_string();
        match self {
            BlockFault::Mismatch {
                field,
                expected,
                found,
            } => ImportError::Mismatch {
                file,
                number,
                field,
                expected,
                found,
            },
            BlockFault::Invalid(reason) => ImportError::InvalidBlock {
                file,
                number,
                reason,
            },
            BlockFault::Transaction { index, reason } => ImportError::InvalidTransaction {
                file,
                number,
                index,
                reason,
            },
        }
    }
}
