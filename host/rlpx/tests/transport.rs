//! The RLPx transport over a real TCP loopback: handshakes in both formats,
//! frames, limits, garbage.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{key, rlpx_pair, tcp_pair};
use futures_util::{SinkExt, StreamExt};
use hypasis_rlpx::{
    HandshakeFormat, RlpxCodec, RlpxError, RlpxStream, node_id_of,
    protocol::{MAX_FRAME_SIZE, MAX_HANDSHAKE_PACKET_SIZE},
};
use secp256k1::rand::{RngCore, SeedableRng, rngs::StdRng};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn handshake_and_frames_both_ways_in_both_formats() {
    for format in [HandshakeFormat::Eip8, HandshakeFormat::Legacy] {
        let (mut a, mut b) = rlpx_pair(format).await;
        assert_eq!(a.remote_id(), node_id_of(&key(2)), "{format:?}");
        assert_eq!(b.remote_id(), node_id_of(&key(1)), "{format:?}");
        for len in [1usize, 16, 17, 5000] {
            let data = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
            a.send(data.clone()).await.unwrap();
            assert_eq!(
                b.next().await.unwrap().unwrap(),
                data,
                "{format:?} a→b {len}"
            );
            b.send(data.clone()).await.unwrap();
            assert_eq!(
                a.next().await.unwrap().unwrap(),
                data,
                "{format:?} b→a {len}"
            );
        }
        // Several frames in one write are read one by one.
        for i in 0..10u8 {
            a.feed(Bytes::from(vec![i; 100])).await.unwrap();
        }
        a.flush().await.unwrap();
        for i in 0..10u8 {
            assert_eq!(b.next().await.unwrap().unwrap()[..], vec![i; 100][..]);
        }
    }
}

#[tokio::test]
async fn a_large_frame_passes_and_a_lowered_limit_refuses_before_the_body() {
    let (mut a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
    let big = Bytes::from(vec![0x5A; 1 << 20]);
    let (sent, received) = tokio::join!(a.send(big.clone()), b.next());
    sent.unwrap();
    assert_eq!(received.unwrap().unwrap(), big);
    assert!(matches!(
        a.send(Bytes::from(vec![0u8; MAX_FRAME_SIZE + 1])).await,
        Err(RlpxError::MessageTooBig { size, max: MAX_FRAME_SIZE }) if size == MAX_FRAME_SIZE + 1
    ));

    let (mut a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
    b.codec_mut().set_max_frame_size(1000);
    a.send(Bytes::from(vec![1u8; 1000])).await.unwrap();
    assert_eq!(b.next().await.unwrap().unwrap().len(), 1000);
    a.send(Bytes::from(vec![1u8; 1001])).await.unwrap();
    assert!(matches!(
        b.next().await,
        Some(Err(RlpxError::MessageTooBig {
            size: 1001,
            max: 1000
        }))
    ));
}

/// The 24-bit boundary end to end. Slow in debug builds (the generic AES
/// and keccak code is compiled at this crate's opt-level): run with
/// `cargo test --release -p hypasis-rlpx -- --ignored`.
#[tokio::test]
#[ignore = "16 MiB through debug-build AES and keccak takes ~20 s"]
async fn the_largest_frame_passes() {
    let (mut a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
    let big = Bytes::from(vec![0x5A; MAX_FRAME_SIZE]);
    let (sent, received) = tokio::join!(a.send(big.clone()), b.next());
    sent.unwrap();
    assert_eq!(received.unwrap().unwrap(), big);
}

#[tokio::test]
async fn garbage_instead_of_an_auth_is_a_clear_error() {
    let mut rng = StdRng::seed_from_u64(42);
    for (i, len) in [1usize, 2, 100, 307, 400, 2050, 5000]
        .into_iter()
        .enumerate()
    {
        let (mut client, server) = tcp_pair().await;
        let mut garbage = vec![0u8; len];
        rng.fill_bytes(&mut garbage);
        if i % 2 == 0 {
            garbage[0] = 0x04; // looks like a legacy packet
        }
        client.write_all(&garbage).await.unwrap();
        client.shutdown().await.unwrap();
        let codec = RlpxCodec::recipient(&key(2));
        let error = RlpxStream::accept_codec(server, codec, Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                RlpxError::TagCheckDecryptFailed
                    | RlpxError::InvalidPublicKey
                    | RlpxError::EciesTooShort { .. }
                    | RlpxError::HandshakeTooBig { .. }
                    | RlpxError::Io(_)
                    | RlpxError::ClosedDuringHandshake
            ),
            "{len} bytes: {error}"
        );
    }
}

#[tokio::test]
async fn an_oversize_handshake_packet_is_refused_from_its_prefix() {
    let (mut client, server) = tcp_pair().await;
    client
        .write_all(&(MAX_HANDSHAKE_PACKET_SIZE as u16 + 1).to_be_bytes())
        .await
        .unwrap();
    let error = RlpxStream::accept(server, &key(2)).await.unwrap_err();
    assert!(
        matches!(
            error,
            RlpxError::HandshakeTooBig {
                size: 2049,
                max: 2048
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn silence_times_the_handshake_out() {
    let (_client, server) = tcp_pair().await;
    let codec = RlpxCodec::recipient(&key(2));
    let error = RlpxStream::accept_codec(server, codec, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(error, RlpxError::HandshakeTimeout(_)), "{error}");
}

#[tokio::test]
async fn dialling_the_wrong_node_id_fails_on_both_sides() {
    let (client, server) = tcp_pair().await;
    let (a, b) = tokio::join!(
        RlpxStream::connect(client, &key(1), node_id_of(&key(3))),
        RlpxStream::accept(server, &key(2)),
    );
    assert!(matches!(b.unwrap_err(), RlpxError::TagCheckDecryptFailed));
    let error = a.unwrap_err();
    assert!(
        matches!(error, RlpxError::ClosedDuringHandshake | RlpxError::Io(_)),
        "{error}"
    );
}

#[tokio::test]
async fn corrupted_frames_fail_the_mac_and_garbage_after_the_handshake_does_not_panic() {
    let (a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
    // Bypass the codec: junk where a header should be.
    let mut socket = a.into_inner();
    socket.write_all(&[0xAB; 64]).await.unwrap();
    assert!(matches!(
        b.next().await,
        Some(Err(RlpxError::TagCheckHeaderFailed))
    ));

    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..20 {
        let (a, mut b) = rlpx_pair(HandshakeFormat::Eip8).await;
        let mut socket = a.into_inner();
        let mut junk = vec![0u8; 1 + (rng.next_u32() % 200) as usize];
        rng.fill_bytes(&mut junk);
        socket.write_all(&junk).await.unwrap();
        socket.shutdown().await.unwrap();
        // Either a MAC failure or the stream ending mid-frame; never a panic or a frame.
        match b.next().await {
            Some(Err(_)) | None => {}
            Some(Ok(frame)) => panic!("junk produced a frame of {} bytes", frame.len()),
        }
    }
}
