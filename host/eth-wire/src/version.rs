//! The `eth` protocol versions we speak.

use std::fmt;

use crate::protocol::{ETH68, ETH68_MESSAGE_COUNT, ETH69, ETH69_MESSAGE_COUNT};

/// An `eth` protocol version, as negotiated in the devp2p Hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EthVersion {
    /// eth/68: Status with TD and head; receipts with blooms.
    Eth68,
    /// Bor's eth/69: Status with TD and a block range; receipts without
    /// blooms; BlockRangeUpdate.
    Eth69,
}

impl EthVersion {
    /// Every version we speak, newest first (the order of our Hello caps).
    pub const ALL: [EthVersion; 2] = [EthVersion::Eth69, EthVersion::Eth68];

    /// The version number on the wire.
    pub const fn number(self) -> u8 {
        match self {
            EthVersion::Eth68 => ETH68,
            EthVersion::Eth69 => ETH69,
        }
    }

    /// The version with this number, if we speak it.
    pub const fn from_number(number: u64) -> Option<Self> {
        match number {
            n if n == ETH68 as u64 => Some(EthVersion::Eth68),
            n if n == ETH69 as u64 => Some(EthVersion::Eth69),
            _ => None,
        }
    }

    /// How many message ids the version reserves (its devp2p protocol length).
    pub const fn message_count(self) -> u8 {
        match self {
            EthVersion::Eth68 => ETH68_MESSAGE_COUNT,
            EthVersion::Eth69 => ETH69_MESSAGE_COUNT,
        }
    }
}

impl fmt::Display for EthVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "eth/{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_lengths() {
        assert_eq!(EthVersion::from_number(68), Some(EthVersion::Eth68));
        assert_eq!(EthVersion::from_number(69), Some(EthVersion::Eth69));
        assert_eq!(EthVersion::from_number(67), None);
        assert_eq!(EthVersion::Eth68.message_count(), 17);
        assert_eq!(EthVersion::Eth69.message_count(), 18);
        assert_eq!(EthVersion::Eth69.to_string(), "eth/69");
        assert!(EthVersion::Eth68 < EthVersion::Eth69);
    }
}
