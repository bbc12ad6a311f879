//! The eth Status exchange: we send our Status first (go-ethereum's
//! eth-test reads before it writes), then read the peer's within the
//! handshake timeout and judge it with Bor's checks (`check_status68/69`:
//! network id, version, genesis, fork id filter, TD ≤ 100 bits; the block
//! range on eth/69). A low TD is fine: go-ethereum's suite sends 0.
//!
//! eth/68: `[68, networkid, td, head, genesis, forkid]`; Bor's eth/69:
//! `[69, networkid, td, genesis, forkid, earliest, latest, latestHash]`.
//! A peer that sends go-ethereum's TD-less eth/69 Status is not a Bor node:
//! it is told `DiscUselessPeer`.

use std::time::Duration;

use hypasis_eth_wire::{
    EthMessage, EthVersion, ForkFilter, ForkHead, ForkIdError, HandshakeError, MessageError,
    MessageId, Status68, Status69, check_status68, check_status69, fork_filter,
    protocol::PROTOCOL_NAME,
};
use hypasis_polygon::ChainSpec;
use hypasis_rlpx::{DisconnectReason, P2pError, P2pSession};

use crate::chain_state::ServedHead;

/// The peer's Status, of the negotiated version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStatus {
    /// eth/68.
    Eth68(Status68),
    /// Bor's eth/69.
    Eth69(Status69),
}

impl PeerStatus {
    /// The peer's total difficulty.
    pub fn total_difficulty(&self) -> alloy_primitives::U256 {
        match self {
            PeerStatus::Eth68(status) => status.total_difficulty,
            PeerStatus::Eth69(status) => status.total_difficulty,
        }
    }

    /// The peer's head hash.
    pub fn head(&self) -> alloy_primitives::B256 {
        match self {
            PeerStatus::Eth68(status) => status.head,
            PeerStatus::Eth69(status) => status.latest_hash,
        }
    }
}

/// Why the Status exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeFailure {
    /// Our fork id cannot be computed.
    #[error("our fork id: {0}")]
    ForkId(#[from] ForkIdError),
    /// The session failed (or the peer left).
    #[error(transparent)]
    Session(#[from] P2pError),
    /// No Status within the timeout.
    #[error("no Status within {0:?}")]
    Timeout(Duration),
    /// The first eth message was not a Status.
    #[error("expected Status, got {0}")]
    NotStatus(String),
    /// The Status does not decode (go-ethereum's eth/69 shape included).
    #[error(transparent)]
    Malformed(#[from] MessageError),
    /// The Status is for another chain, version, or fork.
    #[error(transparent)]
    Rejected(#[from] HandshakeError),
}

impl HandshakeFailure {
    /// What to tell the peer, if anything.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        match self {
            HandshakeFailure::ForkId(_) => Some(DisconnectReason::UselessPeer),
            HandshakeFailure::Session(error) => error.disconnect_reason(),
            HandshakeFailure::Timeout(_) => Some(DisconnectReason::ReadTimeout),
            HandshakeFailure::NotStatus(_) => Some(DisconnectReason::ProtocolError),
            HandshakeFailure::Malformed(MessageError::GethStatus69) => {
                Some(DisconnectReason::UselessPeer)
            }
            HandshakeFailure::Malformed(_) => Some(DisconnectReason::ProtocolError),
            HandshakeFailure::Rejected(_) => Some(DisconnectReason::UselessPeer),
        }
    }
}

/// The fork filter for our head; a spec without a genesis hash (the devnet
/// before it is learnt) takes the head's.
pub fn our_fork_filter(spec: &ChainSpec, head: &ServedHead) -> Result<ForkFilter, ForkIdError> {
    let fork_head = ForkHead::new(head.number, head.timestamp);
    if spec.genesis_hash.is_some() {
        return fork_filter(spec, fork_head);
    }
    let spec = ChainSpec {
        genesis_hash: Some(head.genesis),
        ..spec.clone()
    };
    fork_filter(&spec, fork_head)
}

/// Our Status for `version`.
pub fn our_status(
    version: EthVersion,
    spec: &ChainSpec,
    head: &ServedHead,
    filter: &ForkFilter,
) -> EthMessage {
    let fork_id = filter.current();
    match version {
        EthVersion::Eth68 => EthMessage::Status68(Status68 {
            version: u32::from(version.number()),
            network_id: spec.network_id,
            total_difficulty: head.total_difficulty,
            head: head.hash,
            genesis: head.genesis,
            fork_id,
        }),
        EthVersion::Eth69 => EthMessage::Status69(Status69 {
            version: u32::from(version.number()),
            network_id: spec.network_id,
            total_difficulty: head.total_difficulty,
            genesis: head.genesis,
            fork_id,
            earliest: head.earliest.min(head.number),
            latest: head.number,
            latest_hash: head.hash,
        }),
    }
}

/// Sends our Status, reads and checks the peer's. Returns the peer's Status
/// and the bytes sent and received.
pub async fn exchange_status(
    session: &mut P2pSession,
    version: EthVersion,
    spec: &ChainSpec,
    head: &ServedHead,
    timeout: Duration,
) -> Result<(PeerStatus, usize, usize), HandshakeFailure> {
    let filter = our_fork_filter(spec, head)?;
    let ours = our_status(version, spec, head, &filter);
    let sent = ours.encoded();
    session
        .send(PROTOCOL_NAME, u64::from(MessageId::Status.id()), &sent)
        .await?;
    let message = tokio::time::timeout(timeout, session.recv())
        .await
        .map_err(|_| HandshakeFailure::Timeout(timeout))??;
    let received = message.payload.len();
    if message.id != u64::from(MessageId::Status.id()) {
        let name = MessageId::for_version(message.id, version)
            .map_or_else(|| format!("message {:#x}", message.id), |id| id.to_string());
        return Err(HandshakeFailure::NotStatus(name));
    }
    let theirs = match (
        EthMessage::decode(version, message.id, &message.payload)?,
        ours,
    ) {
        (EthMessage::Status68(theirs), EthMessage::Status68(ours)) => {
            check_status68(&ours, &theirs, &filter)?;
            PeerStatus::Eth68(theirs)
        }
        (EthMessage::Status69(theirs), EthMessage::Status69(ours)) => {
            check_status69(&ours, &theirs, &filter)?;
            PeerStatus::Eth69(theirs)
        }
        (other, _) => return Err(HandshakeFailure::NotStatus(other.id().to_string())),
    };
    Ok((theirs, sent.len(), received))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{B256, U256};

    use super::*;

    fn head() -> ServedHead {
        ServedHead {
            number: 80_000_000,
            hash: B256::repeat_byte(1),
            timestamp: 1,
            total_difficulty: U256::from(12345),
            earliest: 0,
            genesis: ChainSpec::mainnet().genesis_hash.unwrap(),
        }
    }

    #[test]
    fn statuses_carry_the_head_and_fork_id() {
        let spec = ChainSpec::mainnet();
        let filter = our_fork_filter(&spec, &head()).unwrap();
        assert_eq!(filter.current().hash.0, [0x22, 0xd5, 0x23, 0xb2]);
        let EthMessage::Status68(status) = our_status(EthVersion::Eth68, &spec, &head(), &filter)
        else {
            panic!("eth/68 status")
        };
        assert_eq!(
            (status.version, status.network_id, status.head),
            (68, 137, B256::repeat_byte(1))
        );
        let EthMessage::Status69(status) = our_status(EthVersion::Eth69, &spec, &head(), &filter)
        else {
            panic!("eth/69 status")
        };
        assert_eq!(
            (
                status.version,
                status.latest,
                status.earliest,
                status.total_difficulty
            ),
            (69, 80_000_000, 0, U256::from(12345))
        );
        assert_eq!(status.block_range().validate(), Ok(()));
    }

    #[test]
    fn a_spec_without_genesis_takes_the_heads() {
        let spec = ChainSpec {
            genesis_hash: None,
            ..ChainSpec::mainnet()
        };
        let ours = our_fork_filter(&spec, &head()).unwrap();
        let mainnet = our_fork_filter(&ChainSpec::mainnet(), &head()).unwrap();
        assert_eq!(ours.current(), mainnet.current());
    }

    #[test]
    fn failures_map_to_disconnect_reasons() {
        use DisconnectReason as R;
        let cases = [
            (
                HandshakeFailure::Timeout(Duration::from_secs(5)),
                R::ReadTimeout,
            ),
            (
                HandshakeFailure::NotStatus("GetBlockHeaders".into()),
                R::ProtocolError,
            ),
            (
                HandshakeFailure::Malformed(MessageError::GethStatus69),
                R::UselessPeer,
            ),
            (
                HandshakeFailure::Rejected(HandshakeError::NetworkIdMismatch {
                    ours: 1,
                    theirs: 2,
                }),
                R::UselessPeer,
            ),
        ];
        for (failure, reason) in cases {
            assert_eq!(failure.disconnect_reason(), Some(reason), "{failure}");
        }
    }
}
