//! Which chain spec an instance runs with: built in for mainnet and Amoy,
//! served by the devnet (Heimdall's `/hypasis/chain-spec`) for the devnet.

use std::time::Duration;

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
}

/// The spec of `chain`; for the devnet it is fetched from `heimdall`.
pub async fn resolve(
    chain: ChainName,
    heimdall: Option<&str>,
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
    }
}
