//! Helpers shared by the integration tests: keys and connected pairs over
//! a real TCP loopback.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use hypasis_rlpx::{
    HandshakeFormat, HandshakeOptions, Hello, NodeId, Protocol, RlpxError, RlpxStream,
    message::RawMessage, message::encode_frame, node_id_of,
};
use secp256k1::SecretKey;
use tokio::net::{TcpListener, TcpStream};

/// A fixed key from one byte.
pub fn key(byte: u8) -> SecretKey {
    SecretKey::from_byte_array([byte; 32]).unwrap()
}

/// A listener on 127.0.0.1 and a connected client socket, plus the accepted one.
pub async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), server.unwrap().0)
}

/// Two RLPx streams after a handshake of `format`: (initiator with key 1, recipient with key 2).
pub async fn rlpx_pair(format: HandshakeFormat) -> (RlpxStream, RlpxStream) {
    let (client, server) = tcp_pair().await;
    let options = HandshakeOptions {
        format,
        ..Default::default()
    };
    let (a, b) = tokio::join!(
        RlpxStream::connect_with(client, &key(1), node_id_of(&key(2)), options),
        RlpxStream::accept(server, &key(2)),
    );
    (a.unwrap(), b.unwrap())
}

/// eth/68 (17 ids, 10 MiB) and snap/1 (8 ids).
pub fn eth_snap() -> Vec<Protocol> {
    vec![
        Protocol::new("eth", 68, 17).with_max_message_size(10 * 1024 * 1024),
        Protocol::new("snap", 1, 8),
    ]
}

/// A Hello for the node with key `byte`.
pub fn hello(byte: u8, protocols: &[Protocol]) -> Hello {
    Hello::new(
        format!("test/{byte}"),
        30303,
        node_id_of(&key(byte)),
        protocols,
    )
}

/// Sends one raw message on an RLPx stream.
pub async fn send_raw(stream: &mut RlpxStream, id: u64, data: &[u8], compress: bool) {
    stream
        .send(encode_frame(id, data, compress).unwrap())
        .await
        .unwrap();
}

/// Sends an arbitrary frame.
pub async fn send_frame(stream: &mut RlpxStream, frame: &[u8]) -> Result<(), RlpxError> {
    stream.send(Bytes::copy_from_slice(frame)).await
}

/// Reads one raw message (None when the stream ends or fails).
pub async fn recv_raw(stream: &mut RlpxStream, compressed: bool) -> Option<(u64, Bytes)> {
    let frame: BytesMut = stream.next().await?.ok()?;
    let raw = RawMessage::parse(frame, compressed).ok()?;
    let id = raw.id;
    Some((id, raw.decode(usize::MAX).ok()?))
}

/// Some node id that is a valid key but not the handshake's.
pub fn other_id() -> NodeId {
    node_id_of(&key(9))
}
