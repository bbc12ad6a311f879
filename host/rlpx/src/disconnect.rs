//! Disconnect reasons (go-ethereum `p2p/peer_error.go`) and the Disconnect
//! message: `[reason]`, or a bare `reason` as some clients sent it
//! (`decodeDisconnectMessage`, `p2p/peer.go`).

use alloy_rlp::{Decodable, Encodable, Header};

/// Why a peer is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// 0x00 — asked by the application ("disconnect requested").
    Requested,
    /// 0x01 — "network error".
    NetworkError,
    /// 0x02 — "breach of protocol".
    ProtocolError,
    /// 0x03 — "useless peer" (no shared capability, wrong chain, …).
    UselessPeer,
    /// 0x04 — "too many peers".
    TooManyPeers,
    /// 0x05 — "already connected".
    AlreadyConnected,
    /// 0x06 — "incompatible p2p protocol version".
    IncompatibleVersion,
    /// 0x07 — "invalid node identity".
    InvalidIdentity,
    /// 0x08 — "client quitting".
    Quitting,
    /// 0x09 — "unexpected identity".
    UnexpectedIdentity,
    /// 0x0a — "connected to self".
    ConnectedToSelf,
    /// 0x0b — "read timeout".
    ReadTimeout,
    /// 0x10 — "subprotocol error".
    SubprotocolError,
    /// 0xff — "invalid disconnect reason": what an undecodable Disconnect
    /// reads as (never sent).
    Invalid,
    /// Any other code, kept as received.
    Other(u8),
}

impl DisconnectReason {
    /// The wire code.
    pub fn code(self) -> u8 {
        use DisconnectReason::*;
        match self {
            Requested => 0x00,
            NetworkError => 0x01,
            ProtocolError => 0x02,
            UselessPeer => 0x03,
            TooManyPeers => 0x04,
            AlreadyConnected => 0x05,
            IncompatibleVersion => 0x06,
            InvalidIdentity => 0x07,
            Quitting => 0x08,
            UnexpectedIdentity => 0x09,
            ConnectedToSelf => 0x0a,
            ReadTimeout => 0x0b,
            SubprotocolError => 0x10,
            Invalid => 0xff,
            Other(code) => code,
        }
    }

    /// The reason for a wire code.
    pub fn from_code(code: u8) -> Self {
        use DisconnectReason::*;
        match code {
            0x00 => Requested,
            0x01 => NetworkError,
            0x02 => ProtocolError,
            0x03 => UselessPeer,
            0x04 => TooManyPeers,
            0x05 => AlreadyConnected,
            0x06 => IncompatibleVersion,
            0x07 => InvalidIdentity,
            0x08 => Quitting,
            0x09 => UnexpectedIdentity,
            0x0a => ConnectedToSelf,
            0x0b => ReadTimeout,
            0x10 => SubprotocolError,
            0xff => Invalid,
            other => Other(other),
        }
    }

    /// The Disconnect payload we send: `rlp([reason])`.
    pub fn encode_message(self) -> Vec<u8> {
        let mut payload = Vec::with_capacity(2);
        self.code().encode(&mut payload);
        let mut out = Vec::with_capacity(3);
        Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend_from_slice(&payload);
        out
    }

    /// Reads a Disconnect payload: `[reason]` or a bare `reason`. Anything
    /// that does not decode is [`DisconnectReason::Invalid`], as in go-ethereum.
    pub fn decode_message(payload: &[u8]) -> Self {
        let mut buf = payload;
        let Ok(header) = Header::decode(&mut buf) else {
            return DisconnectReason::Invalid;
        };
        let code = if header.list {
            u8::decode(&mut &buf[..header.payload_length])
        } else {
            u8::decode(&mut &payload[..])
        };
        code.map(Self::from_code)
            .unwrap_or(DisconnectReason::Invalid)
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use DisconnectReason::*;
        let text = match self {
            Requested => "disconnect requested",
            NetworkError => "network error",
            ProtocolError => "breach of protocol",
            UselessPeer => "useless peer",
            TooManyPeers => "too many peers",
            AlreadyConnected => "already connected",
            IncompatibleVersion => "incompatible p2p protocol version",
            InvalidIdentity => "invalid node identity",
            Quitting => "client quitting",
            UnexpectedIdentity => "unexpected identity",
            ConnectedToSelf => "connected to self",
            ReadTimeout => "read timeout",
            SubprotocolError => "subprotocol error",
            Invalid => "invalid disconnect reason",
            Other(code) => return write!(f, "unknown disconnect reason {code}"),
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [DisconnectReason; 14] = [
        DisconnectReason::Requested,
        DisconnectReason::NetworkError,
        DisconnectReason::ProtocolError,
        DisconnectReason::UselessPeer,
        DisconnectReason::TooManyPeers,
        DisconnectReason::AlreadyConnected,
        DisconnectReason::IncompatibleVersion,
        DisconnectReason::InvalidIdentity,
        DisconnectReason::Quitting,
        DisconnectReason::UnexpectedIdentity,
        DisconnectReason::ConnectedToSelf,
        DisconnectReason::ReadTimeout,
        DisconnectReason::SubprotocolError,
        DisconnectReason::Invalid,
    ];

    #[test]
    fn every_code_round_trips_through_the_message() {
        for code in 0..=255u8 {
            let reason = DisconnectReason::from_code(code);
            assert_eq!(reason.code(), code);
            assert_eq!(
                DisconnectReason::decode_message(&reason.encode_message()),
                reason
            );
        }
        let codes: Vec<u8> = ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x10, 0xff]);
        assert!(ALL.iter().all(|r| !matches!(r, DisconnectReason::Other(_))));
    }

    #[test]
    fn list_and_bare_forms_decode() {
        assert_eq!(
            DisconnectReason::encode_message(DisconnectReason::TooManyPeers),
            [0xC1, 0x04]
        );
        assert_eq!(
            DisconnectReason::encode_message(DisconnectReason::Requested),
            [0xC1, 0x80]
        );
        assert_eq!(
            DisconnectReason::decode_message(&[0xC1, 0x04]),
            DisconnectReason::TooManyPeers
        );
        assert_eq!(
            DisconnectReason::decode_message(&[0x04]),
            DisconnectReason::TooManyPeers
        );
        assert_eq!(
            DisconnectReason::decode_message(&[0x80]),
            DisconnectReason::Requested
        );
        assert_eq!(
            DisconnectReason::decode_message(&[0x81, 0xff]),
            DisconnectReason::Invalid
        );
        assert_eq!(
            DisconnectReason::decode_message(&[0xC1, 0x10]),
            DisconnectReason::SubprotocolError
        );
    }

    #[test]
    fn garbage_reads_as_invalid() {
        for payload in [
            &[][..],
            &[0xC0],
            &[0xC2, 0x82, 0x01],
            &[0xB8],
            &[0x82, 0x01, 0x02],
            &[0xC1, 0xC0],
        ] {
            assert_eq!(
                DisconnectReason::decode_message(payload),
                DisconnectReason::Invalid,
                "{payload:02x?}"
            );
        }
    }
}
