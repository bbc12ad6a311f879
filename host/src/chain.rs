//! Which chain spec an instance runs with: built in for mainnet and Amoy,
//! served by the devnet (Heimdall's `/hypasis/chain-spec`) for the devnet,
//! read from its genesis file for a `custom` chain.

use std::{path::Path, time::Duration};

use hypasis_polygon::ChainSpec;

use crate::{
    checkpoints::{HeimdallError, HeimdallSource},
    config::ChainName,
};

/// Why no chain spec could be had.
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// The devnet spec needs the devnet's Heimdall URL.
    #[error("chain `devnet` needs heimdall.url (the devnet serves its chain spec there)")]
    NoHeimdall,
    /// Heimdall did not answer with a spec.
    #[error("fetching the devnet's chain spec")]
    Heimdall(#[from] HeimdallError),
    /// A custom chain needs its genesis file.
    #[error(
        "chain `custom` needs genesis_file (the chain's genesis, go-ethereum's or Bor's format)"
    )]
    NoGenesisFile,
    /// The genesis file could not be read or is not a genesis.
    #[error("reading the custom chain's genesis")]
    Genesis(#[from] Box<hypasis_import::ImportError>),
}

/// The spec of `chain`; for the devnet it is fetched from `heimdall`, for a
/// custom chain built from `genesis_file` (named `custom`).
pub async fn resolve(
    chain: ChainName,
    heimdall: Option<&str>,
    genesis_file: Option<&Path>,
) -> Result<ChainSpec, ChainSpecError> {
    match chain {
        ChainName::Mainnet => Ok(ChainSpec::mainnet()),
        ChainName::Amoy => Ok(ChainSpec::amoy()),
        ChainName::Devnet => {
            let url = heimdall
                .filter(|url| !url.is_empty())
                .ok_or(ChainSpecError::NoHeimdall)?;
            Ok(HeimdallSource::new(url, Duration::from_secs(10))
                .devnet_chain_spec()
                .await?)
        }
        ChainName::Custom => {
            let path = genesis_file.ok_or(ChainSpecError::NoGenesisFile)?;
            let mut spec = hypasis_import::genesis_file(path).map_err(Box::new)?.spec;
            spec.name = "custom".into();
            Ok(spec)
        }
    }
}
