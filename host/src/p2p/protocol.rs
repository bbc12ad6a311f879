//! Every constant of the host's devp2p server, with where it comes from.
//! The wire constants themselves (message ids, serving limits, the Status
//! timeout) live in `hypasis_eth_wire::protocol` and
//! `hypasis_rlpx::protocol`; these are the server's own choices.
//!
//! Notation: `B:` is a Bor v2.2.11 file, `B[eth69]:` a file of Bor's eth/69
//! branches, `G:` a go-ethereum v1.15.11 file.

use std::time::Duration;

use hypasis_eth_wire::{
    EthVersion,
    protocol::{ETH68_MESSAGE_COUNT, ETH69_MESSAGE_COUNT, MAX_MESSAGE_SIZE, PROTOCOL_NAME},
};
use hypasis_rlpx::Protocol;

/// Inbound connections allowed in the RLPx + Hello handshake at once; more
/// wait to be accepted (`G:p2p/server.go`, `defaultMaxPendingPeers`).
pub const MAX_PENDING_HANDSHAKES: usize = 50;

/// Blocks the head must move before an eth/69 peer gets a BlockRangeUpdate;
/// a head that goes back sends one at once
/// (`B[eth69]:eth/handler.go`, `blockRangeLoop`).
pub const BLOCK_RANGE_UPDATE_STEP: u64 = 32;

/// Items read from storage per call while filling a response: bodies and
/// receipts can be large, so the soft limit is checked between small reads.
pub const STORAGE_READ_CHUNK: usize = 32;

/// Longest single throttling delay before a request is served.
pub const MAX_THROTTLE_DELAY: Duration = Duration::from_secs(1);

/// A peer throttled on this many more requests than it was served without
/// throttling (a running balance) is dropped with `DiscUselessPeer`; at
/// least this many, or five seconds' worth at the configured rate.
pub const MIN_THROTTLE_STRIKES: u32 = 20;

/// Seconds of continuous excess (at the configured rate) tolerated before a
/// flooding peer is dropped.
pub const THROTTLE_STRIKE_SECONDS: f64 = 5.0;

/// The capabilities we offer in Hello: eth/69 (Bor's form, 18 messages) and
/// eth/68 (17 messages), each with the 10 MiB message limit
/// (`B:eth/protocols/eth/protocol.go`, `maxMessageSize`).
pub fn capabilities() -> Vec<Protocol> {
    EthVersion::ALL
        .iter()
        .map(|version| {
            let length = match version {
                EthVersion::Eth68 => ETH68_MESSAGE_COUNT,
                EthVersion::Eth69 => ETH69_MESSAGE_COUNT,
            };
            Protocol::new(
                PROTOCOL_NAME,
                u64::from(version.number()),
                u64::from(length),
            )
            .with_max_message_size(MAX_MESSAGE_SIZE)
        })
        .collect()
}

/// Our Hello client name, in go-ethereum's shape
/// (`name/vVERSION/OS-ARCH/RUNTIME`, `B:node/config.go`, `NodeName`):
/// `hypasis-sync/v0.1.0/linux-x86_64/rust`.
pub fn client_name() -> String {
    format!(
        "hypasis-sync/v{}/{}-{}/rust",
        crate::VERSION,
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The client label for metrics: the first two segments of a Hello name
/// (`bor/v2.2.11`), so that the label's values stay few; at most 48 characters.
pub fn client_label(client_name: &str) -> String {
    let mut parts = client_name.splitn(3, '/');
    let label = match (parts.next(), parts.next()) {
        (Some(name), Some(version)) => format!("{name}/{version}"),
        (Some(name), None) if !name.is_empty() => name.to_string(),
        _ => "unknown".to_string(),
    };
    label.chars().filter(|c| !c.is_control()).take(48).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_offers_eth69_and_eth68_with_their_lengths() {
        let caps: Vec<_> = capabilities()
            .into_iter()
            .map(|p| (p.name, p.version, p.length, p.max_message_size))
            .collect();
        assert_eq!(
            caps,
            [
                ("eth".to_string(), 69, 18, 10 * 1024 * 1024),
                ("eth".to_string(), 68, 17, 10 * 1024 * 1024)
            ]
        );
    }

    #[test]
    fn client_name_and_label() {
        let name = client_name();
        assert!(name.starts_with(&format!("hypasis-sync/v{}/", crate::VERSION)));
        assert!(name.ends_with("/rust"));
        assert_eq!(name.split('/').count(), 4);
        assert_eq!(
            client_label("bor/v2.2.11/linux-amd64/go1.24.6"),
            "bor/v2.2.11"
        );
        assert_eq!(client_label("ethtest"), "ethtest");
        assert_eq!(client_label(""), "unknown");
        assert_eq!(client_label(&"x".repeat(100)).len(), 48);
    }
}
