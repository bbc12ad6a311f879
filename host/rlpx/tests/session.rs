//! The devp2p base protocol over a real TCP loopback: Hello, capability
//! offsets, snappy, ping/pong, timeouts, Disconnect, and a peer that
//! misbehaves during the Hello exchange.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{eth_snap, hello, other_id, recv_raw, rlpx_pair, send_frame, send_raw};
use hypasis_rlpx::{
    Capability, DisconnectReason, HandshakeFormat, Hello, P2pError, P2pSession, Protocol,
    RlpxStream, SessionConfig,
    protocol::{DISCONNECT_MSG, HELLO_MSG, MAX_HELLO_SIZE, PING_MSG, PONG_MSG},
};
use tokio::sync::mpsc;

type Session = P2pSession<tokio::net::TcpStream>;

/// Two sessions: a = key 1 (initiator), b = key 2.
async fn session_pair(
    ours: &[Protocol],
    theirs: &[Protocol],
    config: SessionConfig,
) -> (Session, Session) {
    let (a, b) = rlpx_pair(HandshakeFormat::Eip8).await;
    let (a, b) = tokio::join!(
        P2pSession::handshake_with(a, hello(1, ours), ours, config),
        P2pSession::handshake_with(b, hello(2, theirs), theirs, config),
    );
    let ((a, b_hello), (b, a_hello)) = (a.unwrap(), b.unwrap());
    assert_eq!(b_hello.client_name, "test/2");
    assert_eq!(a_hello.client_name, "test/1");
    (a, b)
}

/// A session (key 1) facing a raw RLPx stream (key 2) the test drives by hand.
async fn session_and_raw(
    peer_hello: Option<Hello>,
    config: SessionConfig,
) -> (Result<Session, P2pError>, RlpxStream) {
    let (a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
    if let Some(peer_hello) = peer_hello {
        send_raw(&mut b, HELLO_MSG, &peer_hello.encode(), false).await;
    }
    let session = P2pSession::handshake_with(a, hello(1, &eth_snap()), &eth_snap(), config).await;
    // Our Hello arrives first, uncompressed.
    let (id, payload) = recv_raw(&mut b, false).await.unwrap();
    assert_eq!(id, HELLO_MSG);
    assert_eq!(Hello::decode(&payload).unwrap().client_name, "test/1");
    (session.map(|(s, _)| s), b)
}

fn fast() -> SessionConfig {
    SessionConfig {
        handshake_timeout: Duration::from_secs(5),
        ping_interval: Duration::from_millis(50),
        read_timeout: Duration::from_secs(5),
        write_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn eth68_and_snap1_negotiate_geth_offsets_and_messages_flow() {
    let ours = eth_snap();
    let mut theirs = eth_snap();
    theirs.push(Protocol::new("eth", 67, 17));
    theirs.push(Protocol::new("les", 4, 23));
    let (mut a, mut b) = session_pair(&ours, &theirs, SessionConfig::default()).await;
    for session in [&a, &b] {
        let ranges: Vec<_> = session
            .shared_capabilities()
            .iter()
            .map(|s| (s.capability.to_string(), s.offset, s.length))
            .collect();
        assert_eq!(
            ranges,
            [
                ("eth/68".to_string(), 16, 17),
                ("snap/1".to_string(), 33, 8)
            ]
        );
        assert!(session.snappy());
    }
    let payload = b"a block header request".repeat(10);
    a.send("eth", 0x03, &payload).await.unwrap();
    a.send("eth", 16, b"last eth id").await.unwrap();
    a.send("snap", 0x00, b"account range").await.unwrap();
    let message = b.recv().await.unwrap();
    assert_eq!(
        (message.capability, message.id),
        (Capability::new("eth", 68), 0x03)
    );
    assert_eq!(message.payload, payload);
    let message = b.recv().await.unwrap();
    assert_eq!(
        (
            message.capability.name.as_str(),
            message.id,
            &message.payload[..]
        ),
        ("eth", 16, &b"last eth id"[..])
    );
    let message = b.recv().await.unwrap();
    assert_eq!(
        (message.capability, message.id),
        (Capability::new("snap", 1), 0x00)
    );
    assert_eq!(message.payload, Bytes::from_static(b"account range"));

    // Ids beyond a capability, and capabilities not shared, are refused on send.
    assert!(matches!(
        a.send("eth", 17, b"").await,
        Err(P2pError::InvalidOutgoingId {
            id: 17,
            length: 17,
            ..
        })
    ));
    assert!(matches!(
        a.send("les", 0, b"").await,
        Err(P2pError::UnknownCapability(_))
    ));
}

#[tokio::test]
async fn messages_are_plain_when_the_peer_speaks_version_4() {
    let (a, mut raw) = rlpx_pair(HandshakeFormat::Eip8).await;
    let mut v4 = hello(2, &eth_snap());
    v4.protocol_version = 4;
    send_raw(&mut raw, HELLO_MSG, &v4.encode(), false).await;
    let (mut session, peer) = P2pSession::handshake(a, hello(1, &eth_snap()), &eth_snap())
        .await
        .unwrap();
    assert_eq!(peer.protocol_version, 4);
    assert!(!session.snappy());
    recv_raw(&mut raw, false).await.unwrap(); // our Hello

    let data = vec![0x42u8; 300];
    session.send("eth", 5, &data).await.unwrap();
    let frame = futures_util::StreamExt::next(&mut raw)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame[0], 16 + 5);
    assert_eq!(&frame[1..], &data[..], "sent uncompressed");

    send_raw(&mut raw, 16 + 7, b"plain reply", false).await;
    let message = session.recv().await.unwrap();
    assert_eq!((message.id, &message.payload[..]), (7, &b"plain reply"[..]));
}

#[tokio::test]
async fn with_snappy_on_the_wire_data_is_compressed() {
    let (session, mut raw) =
        session_and_raw(Some(hello(2, &eth_snap())), SessionConfig::default()).await;
    let mut session = session.unwrap();
    let data = vec![0x42u8; 3000];
    session.send("eth", 5, &data).await.unwrap();
    let frame = futures_util::StreamExt::next(&mut raw)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame[0], 16 + 5);
    assert!(frame.len() < 200, "compressed to {} bytes", frame.len());
    assert_eq!(
        snap::raw::Decoder::new()
            .decompress_vec(&frame[1..])
            .unwrap(),
        data
    );
}

#[tokio::test]
async fn pings_are_answered_and_sent_periodically() {
    let (session, mut raw) = session_and_raw(Some(hello(2, &eth_snap())), fast()).await;
    let mut session = session.unwrap();
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let task = tokio::spawn(async move {
        tokio::select! {
            result = session.recv() => Some(result),
            _ = done_rx.recv() => None,
        }
    });
    // Our ping is answered with a pong; the session pings on its own too.
    send_raw(&mut raw, PING_MSG, &[0xC0], true).await;
    let (mut pongs, mut pings) = (0, 0);
    while pongs < 1 || pings < 2 {
        let (id, payload) = recv_raw(&mut raw, true).await.unwrap();
        assert_eq!(payload[..], [0xC0]);
        match id {
            PONG_MSG => pongs += 1,
            PING_MSG => pings += 1,
            other => panic!("unexpected message {other:#x}"),
        }
    }
    // Pongs from the peer are swallowed; the next real message comes through.
    send_raw(&mut raw, PONG_MSG, &[0xC0], true).await;
    send_raw(&mut raw, 33, b"snap", true).await;
    let message = task.await.unwrap().unwrap().unwrap();
    assert_eq!((message.capability.name.as_str(), message.id), ("snap", 0));
    drop(done_tx);
}

#[tokio::test]
async fn a_silent_peer_times_out() {
    let config = SessionConfig {
        read_timeout: Duration::from_millis(200),
        ping_interval: Duration::from_secs(60),
        ..fast()
    };
    let (session, _raw) = session_and_raw(Some(hello(2, &eth_snap())), config).await;
    let mut session = session.unwrap();
    let error = session.recv().await.unwrap_err();
    assert!(matches!(error, P2pError::ReadTimeout(_)), "{error}");
    assert_eq!(
        error.disconnect_reason(),
        Some(DisconnectReason::ReadTimeout)
    );
}

#[tokio::test]
async fn every_disconnect_reason_reaches_the_peer() {
    for code in [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x10] {
        let reason = DisconnectReason::from_code(code);
        let (a, mut b) = session_pair(&eth_snap(), &eth_snap(), SessionConfig::default()).await;
        a.disconnect(reason).await;
        match b.recv().await {
            Err(P2pError::Disconnected(got)) => assert_eq!(got, reason),
            other => panic!("{reason}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_bare_disconnect_reason_decodes_too() {
    let (session, mut raw) =
        session_and_raw(Some(hello(2, &eth_snap())), SessionConfig::default()).await;
    let mut session = session.unwrap();
    send_raw(&mut raw, DISCONNECT_MSG, &[0x04], true).await;
    assert!(matches!(
        session.recv().await,
        Err(P2pError::Disconnected(DisconnectReason::TooManyPeers))
    ));
}

#[tokio::test]
async fn a_disconnect_instead_of_hello_is_reported() {
    for payload in [&[0xC1, 0x04][..], &[0x04]] {
        let (a, mut raw) = rlpx_pair(HandshakeFormat::Eip8).await;
        send_raw(&mut raw, DISCONNECT_MSG, payload, false).await;
        let result = P2pSession::handshake(a, hello(1, &eth_snap()), &eth_snap()).await;
        assert!(
            matches!(
                result,
                Err(P2pError::Disconnected(DisconnectReason::TooManyPeers))
            ),
            "{payload:02x?}"
        );
    }
}

/// The peer gets a Disconnect with `reason` (uncompressed when `plain`).
async fn expect_disconnect(raw: &mut RlpxStream, reason: DisconnectReason, plain: bool) {
    let (id, payload) = recv_raw(raw, !plain).await.expect("a Disconnect");
    assert_eq!(id, DISCONNECT_MSG);
    assert_eq!(DisconnectReason::decode_message(&payload), reason);
}

#[tokio::test]
async fn an_oversize_hello_is_refused_with_a_protocol_error() {
    let mut big = hello(2, &eth_snap());
    big.client_name = "x".repeat(MAX_HELLO_SIZE);
    let (session, mut raw) = session_and_raw(Some(big), SessionConfig::default()).await;
    assert!(
        matches!(
            session,
            Err(P2pError::HelloTooBig {
                max: MAX_HELLO_SIZE,
                ..
            })
        ),
        "{session:?}"
    );
    expect_disconnect(&mut raw, DisconnectReason::ProtocolError, true).await;

    // A cap name of 2 KiB (devp2p MaliciousHandshake) too.
    let mut big = hello(2, &eth_snap());
    big.capabilities.push(Capability::new("y".repeat(2048), 1));
    let (session, _) = session_and_raw(Some(big), SessionConfig::default()).await;
    assert!(matches!(session, Err(P2pError::HelloTooBig { .. })));
}

#[tokio::test]
async fn bad_node_ids_in_hello_are_invalid_identity() {
    // The id fields devp2p's MaliciousHandshake sends: pub+1 byte, pub+pub; and zero.
    let good = hello(2, &eth_snap());
    let mut encodings = Vec::new();
    for id in [
        [good.id.as_slice(), &[7]].concat(),
        [good.id.as_slice(), good.id.as_slice()].concat(),
        vec![0; 64],
    ] {
        let mut with_id = good.encode();
        let at = with_id
            .windows(64)
            .position(|w| w == good.id.as_slice())
            .unwrap();
        let mut item = Vec::new();
        alloy_rlp::Encodable::encode(&id.as_slice(), &mut item);
        // Replace the 0xb840 header and id with the new string, then fix the list header.
        with_id.splice(at - 2..at + 64, item);
        let payload_at = if with_id[0] == 0xF8 { 2 } else { 3 };
        let mut list = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: with_id.len() - payload_at,
        }
        .encode(&mut list);
        list.extend_from_slice(&with_id[payload_at..]);
        encodings.push((id.len(), list));
    }
    for (len, encoding) in encodings {
        let (a, mut raw) = rlpx_pair(HandshakeFormat::Eip8).await;
        send_raw(&mut raw, HELLO_MSG, &encoding, false).await;
        let result = P2pSession::handshake(a, hello(1, &eth_snap()), &eth_snap()).await;
        assert!(
            matches!(result, Err(P2pError::InvalidIdentity { len: l }) if l == len),
            "{len}: {result:?}"
        );
        recv_raw(&mut raw, false).await.unwrap(); // our Hello
        expect_disconnect(&mut raw, DisconnectReason::InvalidIdentity, true).await;
    }
}

#[tokio::test]
async fn a_hello_id_other_than_the_handshakes_is_unexpected_identity() {
    let mut wrong = hello(2, &eth_snap());
    wrong.id = other_id();
    let (session, mut raw) = session_and_raw(Some(wrong), SessionConfig::default()).await;
    assert!(matches!(session, Err(P2pError::UnexpectedIdentity { got, .. }) if *got == other_id()));
    expect_disconnect(&mut raw, DisconnectReason::UnexpectedIdentity, false).await;
}

#[tokio::test]
async fn no_shared_capability_is_a_useless_peer() {
    let (session, mut raw) = session_and_raw(
        Some(hello(2, &[Protocol::new("les", 4, 23)])),
        SessionConfig::default(),
    )
    .await;
    assert!(matches!(session, Err(P2pError::NoSharedCapabilities)));
    expect_disconnect(&mut raw, DisconnectReason::UselessPeer, false).await;
}

#[tokio::test]
async fn anything_but_hello_first_is_a_protocol_error() {
    let (a, mut raw) = rlpx_pair(HandshakeFormat::Eip8).await;
    send_raw(&mut raw, 0x10, b"status", false).await;
    let result = P2pSession::handshake(a, hello(1, &eth_snap()), &eth_snap()).await;
    assert!(matches!(result, Err(P2pError::ExpectedHello(0x10))));
    recv_raw(&mut raw, false).await.unwrap();
    expect_disconnect(&mut raw, DisconnectReason::ProtocolError, true).await;

    let (a, mut raw) = rlpx_pair(HandshakeFormat::Eip8).await;
    send_frame(&mut raw, &[0x80, 0xC3, 0x01]).await.unwrap(); // a Hello that is not a Hello
    assert!(matches!(
        P2pSession::handshake(a, hello(1, &eth_snap()), &eth_snap()).await,
        Err(P2pError::InvalidHello(_))
    ));
}

#[tokio::test]
async fn the_per_capability_limit_is_checked_before_decompressing() {
    let ours = [Protocol::new("eth", 68, 17).with_max_message_size(1000)];
    let (a, mut raw2) = rlpx_pair(HandshakeFormat::Eip8).await;
    send_raw(&mut raw2, HELLO_MSG, &hello(2, &eth_snap()).encode(), false).await;
    let (mut session, _) = P2pSession::handshake(a, hello(1, &ours), &ours)
        .await
        .unwrap();
    send_raw(&mut raw2, 16, &[0u8; 1000], true).await;
    assert_eq!(session.recv().await.unwrap().payload.len(), 1000);
    send_raw(&mut raw2, 16, &[0u8; 1001], true).await;
    let error = session.recv().await.unwrap_err();
    assert!(
        matches!(
            error,
            P2pError::MessageTooBig {
                id: 16,
                size: 1001,
                max: 1000
            }
        ),
        "{error}"
    );
    assert_eq!(
        error.disconnect_reason(),
        Some(DisconnectReason::ProtocolError)
    );
}

#[tokio::test]
async fn malformed_messages_after_hello_are_clear_errors() {
    type Check = fn(&P2pError) -> bool;
    let cases: [(&[u8], Check); 4] = [
        (&[], |e| matches!(e, P2pError::InvalidMessageId(_))),
        (&[0xC0, 0x00], |e| {
            matches!(e, P2pError::InvalidMessageId(_))
        }),
        (&[0x7F, 0x00], |e| {
            matches!(e, P2pError::MessageIdOutOfRange(0x7F))
        }),
        (&[0x10, 0xFF, 0xFF, 0xFF], |e| {
            matches!(e, P2pError::Snappy { id: 0x10, .. })
        }),
    ];
    for (frame, check) in cases {
        let (session, mut raw) =
            session_and_raw(Some(hello(2, &eth_snap())), SessionConfig::default()).await;
        let mut session = session.unwrap();
        send_frame(&mut raw, frame).await.unwrap();
        let error = session.recv().await.unwrap_err();
        assert!(check(&error), "{frame:02x?}: {error}");
    }
}

#[tokio::test]
async fn a_closed_connection_is_reported() {
    let (session, raw) =
        session_and_raw(Some(hello(2, &eth_snap())), SessionConfig::default()).await;
    let mut session = session.unwrap();
    drop(raw);
    let error = session.recv().await.unwrap_err();
    assert!(
        matches!(error, P2pError::ConnectionClosed | P2pError::Rlpx(_)),
        "{error}"
    );
    assert_eq!(error.disconnect_reason(), None);
}

#[tokio::test]
async fn one_task_serves_a_session_with_select() {
    let (mut a, mut b) = session_pair(&eth_snap(), &eth_snap(), fast()).await;
    let (tx, mut rx) = mpsc::channel::<(u64, Vec<u8>)>(8);
    // b echoes every eth message back with id + 1, sending from the select's other arm.
    let echo = tokio::spawn(async move {
        let (out_tx, mut out_rx) = mpsc::channel::<(u64, Bytes)>(8);
        loop {
            tokio::select! {
                message = b.recv() => match message {
                    Ok(message) => out_tx.send((message.id + 1, message.payload)).await.unwrap(),
                    Err(error) => return error,
                },
                Some((id, payload)) = out_rx.recv() => b.send("eth", id, &payload).await.unwrap(),
            }
        }
    });
    for i in 0..5u64 {
        tx.send((i, vec![i as u8; 10])).await.unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    while let Some((id, payload)) = rx.recv().await {
        a.send("eth", id, &payload).await.unwrap();
        let message = a.recv().await.unwrap();
        got.push((message.id, message.payload[0]));
    }
    assert_eq!(got, [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]);
    a.disconnect(DisconnectReason::Requested).await;
    assert!(matches!(
        echo.await.unwrap(),
        P2pError::Disconnected(DisconnectReason::Requested)
    ));
}
