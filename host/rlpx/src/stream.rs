//! [`RlpxStream`]: an established RLPx connection — the handshake run over a
//! socket within a timeout, then a `Stream` of received frames and a `Sink`
//! of frames to send. Thin: all the work is in [`RlpxCodec`].

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::{Bytes, BytesMut};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use secp256k1::SecretKey;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_util::codec::Framed;
use tracing::debug;

use crate::{
    auth::HandshakeFormat,
    codec::{EgressItem, IngressItem, RlpxCodec},
    error::RlpxError,
    id::NodeId,
    protocol::HANDSHAKE_TIMEOUT,
};

/// How to run the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeOptions {
    /// The auth format when dialling (the recipient always answers in the
    /// format of the auth it got). Default: EIP-8.
    pub format: HandshakeFormat,
    /// Time allowed for the whole handshake. Default: [`HANDSHAKE_TIMEOUT`].
    pub timeout: Duration,
}

impl Default for HandshakeOptions {
    fn default() -> Self {
        HandshakeOptions {
            format: HandshakeFormat::Eip8,
            timeout: HANDSHAKE_TIMEOUT,
        }
    }
}

/// An RLPx connection after the handshake: a `Stream` of frame data
/// (`rlp(msg-id) ‖ msg-data`) and a `Sink` of the same.
#[derive(Debug)]
pub struct RlpxStream<S = TcpStream> {
    framed: Framed<S, RlpxCodec>,
    remote_id: NodeId,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RlpxStream<S> {
    /// Dials: sends an EIP-8 auth to `remote_id` and waits for its ack,
    /// within [`HANDSHAKE_TIMEOUT`]. The key is copied before the future is
    /// returned, so the future borrows nothing.
    pub fn connect(
        io: S,
        our_key: &SecretKey,
        remote_id: NodeId,
    ) -> impl Future<Output = Result<Self, RlpxError>> + use<S> {
        Self::connect_with(io, our_key, remote_id, HandshakeOptions::default())
    }

    /// [`Self::connect`] with explicit options.
    pub fn connect_with(
        io: S,
        our_key: &SecretKey,
        remote_id: NodeId,
        options: HandshakeOptions,
    ) -> impl Future<Output = Result<Self, RlpxError>> + use<S> {
        let codec = RlpxCodec::initiator(our_key, remote_id, options.format);
        async move { Self::connect_codec(io, codec?, options.timeout).await }
    }

    /// Dials with a prepared codec (e.g. built from an `Initiator` with fixed
    /// randomness).
    pub async fn connect_codec(
        io: S,
        codec: RlpxCodec,
        timeout: Duration,
    ) -> Result<Self, RlpxError> {
        let Some(remote_id) = codec.remote_id() else {
            return Err(RlpxError::InvalidState("connect with a recipient codec"));
        };
        let mut framed = Framed::new(io, codec);
        let exchange = async {
            framed.send(EgressItem::Auth).await?;
            match framed.next().await {
                Some(Ok(IngressItem::Ack)) => Ok(()),
                Some(Ok(_)) => Err(RlpxError::InvalidState("expected an ack")),
                Some(Err(error)) => Err(error),
                None => Err(RlpxError::ClosedDuringHandshake),
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RlpxError::HandshakeTimeout(timeout))??;
        debug!(target: "rlpx", remote = %remote_id, "RLPx handshake done (initiator)");
        Ok(RlpxStream { framed, remote_id })
    }

    /// Accepts: waits for an auth (either format), answers with an ack,
    /// within [`HANDSHAKE_TIMEOUT`]. The remote id is [`Self::remote_id`].
    /// The future borrows nothing.
    pub fn accept(
        io: S,
        our_key: &SecretKey,
    ) -> impl Future<Output = Result<Self, RlpxError>> + use<S> {
        Self::accept_codec(io, RlpxCodec::recipient(our_key), HANDSHAKE_TIMEOUT)
    }

    /// Accepts with a prepared codec and timeout.
    pub async fn accept_codec(
        io: S,
        codec: RlpxCodec,
        timeout: Duration,
    ) -> Result<Self, RlpxError> {
        let mut framed = Framed::new(io, codec);
        let exchange = async {
            let remote_id = match framed.next().await {
                Some(Ok(IngressItem::Auth(id))) => id,
                Some(Ok(_)) => return Err(RlpxError::InvalidState("expected an auth")),
                Some(Err(error)) => return Err(error),
                None => return Err(RlpxError::ClosedDuringHandshake),
            };
            framed.send(EgressItem::Ack).await?;
            Ok(remote_id)
        };
        let remote_id = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RlpxError::HandshakeTimeout(timeout))??;
        debug!(target: "rlpx", remote = %remote_id, "RLPx handshake done (recipient)");
        Ok(RlpxStream { framed, remote_id })
    }
}

impl<S> RlpxStream<S> {
    /// The node id the handshake proved for the other side.
    pub fn remote_id(&self) -> NodeId {
        self.remote_id
    }

    /// The codec, e.g. to change the frame size limit.
    pub fn codec_mut(&mut self) -> &mut RlpxCodec {
        self.framed.codec_mut()
    }

    /// The socket.
    pub fn get_ref(&self) -> &S {
        self.framed.get_ref()
    }

    /// The socket, mutably (writing to it directly corrupts the stream).
    pub fn get_mut(&mut self) -> &mut S {
        self.framed.get_mut()
    }

    /// The socket back; bytes buffered in either direction are lost.
    pub fn into_inner(self) -> S {
        self.framed.into_inner()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for RlpxStream<S> {
    type Item = Result<BytesMut, RlpxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(match std::task::ready!(self.framed.poll_next_unpin(cx)) {
            Some(Ok(IngressItem::Frame(data))) => Some(Ok(data)),
            Some(Ok(_)) => Some(Err(RlpxError::InvalidState(
                "handshake packet after the handshake",
            ))),
            Some(Err(error)) => Some(Err(error)),
            None => None,
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Bytes> for RlpxStream<S> {
    type Error = RlpxError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RlpxError>> {
        self.framed.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Bytes) -> Result<(), RlpxError> {
        self.framed.start_send_unpin(EgressItem::Frame(item))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RlpxError>> {
        self.framed.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), RlpxError>> {
        self.framed.poll_close_unpin(cx)
    }
}
