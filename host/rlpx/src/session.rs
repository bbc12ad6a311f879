//! [`P2pSession`]: the devp2p base protocol over an [`RlpxStream`] — the
//! Hello exchange, snappy, capability offsets, Ping/Pong, the periodic ping,
//! read and write timeouts and Disconnect (go-ethereum `p2p/peer.go`,
//! `p2p/transport.go`).
//!
//! One task owns a session. [`P2pSession::recv`] is cancel safe (all state
//! lives in the session), so it can sit in a `tokio::select!` next to the
//! task's other work, and [`P2pSession::send`] may be called from the
//! select's other arms:
//!
//! ```no_run
//! # async fn run(mut session: hypasis_rlpx::P2pSession, mut outbox: tokio::sync::mpsc::Receiver<(u64, bytes::Bytes)>) -> Result<(), hypasis_rlpx::P2pError> {
//! loop {
//!     tokio::select! {
//!         message = session.recv() => {
//!             let message = message?;
//!             // handle message.capability / message.id / message.payload
//!         }
//!         Some((id, payload)) = outbox.recv() => session.send("eth", id, &payload).await?,
//!     }
//! }
//! # }
//! ```
//!
//! Pings are sent and pongs answered while `recv` is being polled, so a task
//! that talks to a peer should keep a `recv` pending whenever it is idle.

use std::{
    future::poll_fn,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    time::{Instant, Interval, MissedTickBehavior, Sleep},
};
use tracing::{debug, trace};

use crate::{
    capability::Capability,
    capability::{Protocol, SharedCapabilities},
    disconnect::DisconnectReason,
    error::{P2pError, RlpxError},
    hello::Hello,
    message::{RawMessage, encode_frame},
    protocol::{
        BASE_PROTOCOL_LENGTH, DISCONNECT_MSG, DISCONNECT_WRITE_TIMEOUT, FRAME_READ_TIMEOUT,
        FRAME_WRITE_TIMEOUT, HANDSHAKE_TIMEOUT, HELLO_MSG, MAX_HELLO_SIZE, PING_INTERVAL, PING_MSG,
        PONG_MSG, SNAPPY_PROTOCOL_VERSION,
    },
    stream::RlpxStream,
};

/// The timings of a session; defaults are go-ethereum's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Time allowed for the Hello exchange ([`HANDSHAKE_TIMEOUT`]).
    pub handshake_timeout: Duration,
    /// Ping period ([`PING_INTERVAL`]); at least 1 ms.
    pub ping_interval: Duration,
    /// Silence after which the peer is dropped ([`FRAME_READ_TIMEOUT`]).
    pub read_timeout: Duration,
    /// Time allowed for one write ([`FRAME_WRITE_TIMEOUT`]).
    pub write_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            handshake_timeout: HANDSHAKE_TIMEOUT,
            ping_interval: PING_INTERVAL,
            read_timeout: FRAME_READ_TIMEOUT,
            write_timeout: FRAME_WRITE_TIMEOUT,
        }
    }
}

/// A message of a shared capability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The capability (name and negotiated version) it belongs to.
    pub capability: Capability,
    /// Message id relative to the capability (e.g. eth `GetBlockHeaders` = 0x03).
    pub id: u64,
    /// The decoded (decompressed) payload.
    pub payload: Bytes,
}

/// A devp2p session after a successful Hello exchange.
#[derive(Debug)]
pub struct P2pSession<S = TcpStream> {
    stream: RlpxStream<S>,
    shared: SharedCapabilities,
    peer: Hello,
    snappy: bool,
    config: SessionConfig,
    ping: Interval,
    read_deadline: Pin<Box<Sleep>>,
    write_deadline: Pin<Box<Sleep>>,
    ping_owed: bool,
    pong_owed: bool,
    flush_pending: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> P2pSession<S> {
    /// Exchanges Hellos on a fresh RLPx connection with the default timings.
    /// `hello` is sent as is (build it with [`Hello::new`] from the same
    /// `protocols`); the peer's Hello is returned with the session.
    pub async fn handshake(
        stream: RlpxStream<S>,
        hello: Hello,
        protocols: &[Protocol],
    ) -> Result<(Self, Hello), P2pError> {
        Self::handshake_with(stream, hello, protocols, SessionConfig::default()).await
    }

    /// [`Self::handshake`] with explicit timings.
    ///
    /// On a protocol failure (oversize or invalid Hello, bad identity, no
    /// shared capability) a Disconnect with the matching reason is sent
    /// before the error is returned.
    pub async fn handshake_with(
        mut stream: RlpxStream<S>,
        hello: Hello,
        protocols: &[Protocol],
        config: SessionConfig,
    ) -> Result<(Self, Hello), P2pError> {
        let timeout = config.handshake_timeout;
        let exchanged = tokio::time::timeout(timeout, exchange_hellos(&mut stream, &hello)).await;
        let peer = match exchanged {
            Ok(Ok(peer)) => peer,
            Ok(Err(error)) => {
                if let Some(reason) = error.disconnect_reason() {
                    send_disconnect(&mut stream, reason, false).await;
                }
                return Err(error);
            }
            Err(_) => return Err(P2pError::HandshakeTimeout(timeout)),
        };
        let snappy = peer.protocol_version >= SNAPPY_PROTOCOL_VERSION;
        let shared = SharedCapabilities::negotiate(protocols, &peer.capabilities);
        let remote_id = stream.remote_id();
        let failure = if peer.id != remote_id {
            Some(P2pError::UnexpectedIdentity {
                expected: Box::new(remote_id),
                got: Box::new(peer.id),
            })
        } else if shared.is_empty() {
            Some(P2pError::NoSharedCapabilities)
        } else {
            None
        };
        if let Some(error) = failure {
            if let Some(reason) = error.disconnect_reason() {
                send_disconnect(&mut stream, reason, snappy).await;
            }
            return Err(error);
        }
        debug!(
            target: "rlpx",
            remote = %remote_id,
            client = ?peer.client_name,
            caps = ?shared.iter().map(|s| s.capability.to_string()).collect::<Vec<_>>(),
            snappy,
            "devp2p session up"
        );
        let now = Instant::now();
        // A zero period would make tokio panic.
        let period = config.ping_interval.max(Duration::from_millis(1));
        let mut ping = tokio::time::interval_at(after(now, period), period);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let session = P2pSession {
            stream,
            shared,
            peer: peer.clone(),
            snappy,
            config,
            ping,
            read_deadline: Box::pin(tokio::time::sleep_until(after(now, config.read_timeout))),
            write_deadline: Box::pin(tokio::time::sleep_until(after(now, config.write_timeout))),
            ping_owed: false,
            pong_owed: false,
            flush_pending: false,
        };
        Ok((session, peer))
    }

    /// The next message of a shared capability. Answers pings, sends the
    /// periodic ping and enforces the read timeout meanwhile. A Disconnect
    /// from the peer is [`P2pError::Disconnected`]. Cancel safe.
    pub async fn recv(&mut self) -> Result<Message, P2pError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Sends message `id` (relative) of capability `capability` (a name),
    /// within the write timeout. If cancelled, the message is either not
    /// sent at all or sent whole by a later `send`/`recv`.
    pub async fn send(
        &mut self,
        capability: &str,
        id: u64,
        payload: &[u8],
    ) -> Result<(), P2pError> {
        let shared = self
            .shared
            .get(capability)
            .ok_or_else(|| P2pError::UnknownCapability(capability.into()))?;
        if id >= shared.length {
            return Err(P2pError::InvalidOutgoingId {
                capability: capability.into(),
                id,
                length: shared.length,
            });
        }
        let frame = encode_frame(shared.offset + id, payload, self.snappy)?;
        let timeout = self.config.write_timeout;
        tokio::time::timeout(timeout, self.write(frame))
            .await
            .map_err(|_| P2pError::WriteTimeout(timeout))?
    }

    /// Sends Disconnect with `reason` (within one second) and closes the
    /// connection.
    pub async fn disconnect(mut self, reason: DisconnectReason) {
        debug!(target: "rlpx", remote = %self.stream.remote_id(), %reason, "disconnecting");
        send_disconnect(&mut self.stream, reason, self.snappy).await;
    }

    async fn write(&mut self, frame: Bytes) -> Result<(), P2pError> {
        poll_fn(|cx| Pin::new(&mut self.stream).poll_ready(cx)).await?;
        Pin::new(&mut self.stream).start_send(frame)?;
        // If this future is dropped mid-flush, `recv` finishes the flush
        // within a fresh write timeout.
        self.flush_pending = true;
        let deadline = after(Instant::now(), self.config.write_timeout);
        self.write_deadline.as_mut().reset(deadline);
        poll_fn(|cx| Pin::new(&mut self.stream).poll_flush(cx)).await?;
        self.flush_pending = false;
        Ok(())
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message, P2pError>> {
        loop {
            self.poll_control_writes(cx)?;
            if self.ping.poll_tick(cx).is_ready() {
                trace!(target: "rlpx", "ping");
                self.ping_owed = true;
                continue;
            }
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let deadline = after(Instant::now(), self.config.read_timeout);
                    self.read_deadline.as_mut().reset(deadline);
                    let raw = RawMessage::parse(frame, self.snappy)?;
                    if let Some(message) = self.handle(raw)? {
                        return Poll::Ready(Ok(message));
                    }
                    continue;
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Err(error.into())),
                Poll::Ready(None) => return Poll::Ready(Err(P2pError::ConnectionClosed)),
                Poll::Pending => {}
            }
            if self.read_deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(P2pError::ReadTimeout(self.config.read_timeout)));
            }
            return Poll::Pending;
        }
    }

    /// Queues owed pings/pongs and flushes what is buffered, failing when a
    /// flush has been stuck past the write timeout.
    fn poll_control_writes(&mut self, cx: &mut Context<'_>) -> Result<(), P2pError> {
        while self.ping_owed || self.pong_owed {
            if Pin::new(&mut self.stream).poll_ready(cx)?.is_pending() {
                break;
            }
            let id = if self.pong_owed { PONG_MSG } else { PING_MSG };
            // An empty list, like go-ethereum's `SendItems(rw, pongMsg)`.
            Pin::new(&mut self.stream).start_send(encode_frame(id, &[0xC0], self.snappy)?)?;
            if id == PONG_MSG {
                self.pong_owed = false;
            } else {
                self.ping_owed = false;
            }
            if !self.flush_pending {
                self.flush_pending = true;
                let deadline = after(Instant::now(), self.config.write_timeout);
                self.write_deadline.as_mut().reset(deadline);
            }
        }
        if self.flush_pending {
            match Pin::new(&mut self.stream).poll_flush(cx) {
                Poll::Ready(result) => {
                    result?;
                    self.flush_pending = false;
                }
                Poll::Pending => {
                    if self.write_deadline.as_mut().poll(cx).is_ready() {
                        return Err(P2pError::WriteTimeout(self.config.write_timeout));
                    }
                }
            }
        }
        Ok(())
    }

    /// Handles one received message: base-protocol ones here, capability
    /// ones returned.
    fn handle(&mut self, raw: RawMessage) -> Result<Option<Message>, P2pError> {
        match raw.id {
            PING_MSG => {
                trace!(target: "rlpx", "ping received");
                self.pong_owed = true;
                Ok(None)
            }
            DISCONNECT_MSG => {
                let reason = raw
                    .decode(MAX_HELLO_SIZE)
                    .map_or(DisconnectReason::Invalid, |payload| {
                        DisconnectReason::decode_message(&payload)
                    });
                Err(P2pError::Disconnected(reason))
            }
            // Pong, a second Hello and unassigned base ids are ignored, as
            // go-ethereum does.
            id if id < BASE_PROTOCOL_LENGTH => Ok(None),
            id => {
                let shared = self
                    .shared
                    .by_wire_id(id)
                    .ok_or(P2pError::MessageIdOutOfRange(id))?;
                let capability = shared.capability.clone();
                let offset = shared.offset;
                let payload = raw.decode(shared.max_message_size)?;
                Ok(Some(Message {
                    capability,
                    id: id - offset,
                    payload,
                }))
            }
        }
    }
}

impl<S> P2pSession<S> {
    /// The peer's Hello.
    pub fn peer_hello(&self) -> &Hello {
        &self.peer
    }

    /// The capabilities both sides speak, with their id ranges.
    pub fn shared_capabilities(&self) -> &SharedCapabilities {
        &self.shared
    }

    /// Whether messages are snappy-compressed (the peer's version ≥ 5).
    pub fn snappy(&self) -> bool {
        self.snappy
    }

    /// The underlying RLPx stream.
    pub fn stream(&self) -> &RlpxStream<S> {
        &self.stream
    }
}

/// `now + duration`, saturating at about thirty years instead of panicking.
fn after(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400))
}

/// Sends our Hello and reads the peer's (which must come first, before
/// anything but a Disconnect). Frames over the Hello limit are refused
/// before their body is read.
async fn exchange_hellos<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut RlpxStream<S>,
    hello: &Hello,
) -> Result<Hello, P2pError> {
    let frame = encode_frame(HELLO_MSG, &hello.encode(), false)?;
    let limit = stream.codec_mut().max_frame_size();
    // One byte of message id (0x80 or 0x01) plus the largest Hello.
    stream.codec_mut().set_max_frame_size(MAX_HELLO_SIZE + 1);
    let result = async {
        write_frame(stream, frame).await?;
        let frame = match poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await {
            Some(Ok(frame)) => frame,
            Some(Err(RlpxError::MessageTooBig { size, .. })) => {
                return Err(P2pError::HelloTooBig {
                    size: size.saturating_sub(1),
                    max: MAX_HELLO_SIZE,
                });
            }
            Some(Err(error)) => return Err(error.into()),
            None => return Err(P2pError::ConnectionClosed),
        };
        let raw = RawMessage::parse(frame, false)?;
        if raw.data.len() > MAX_HELLO_SIZE {
            return Err(P2pError::HelloTooBig {
                size: raw.data.len(),
                max: MAX_HELLO_SIZE,
            });
        }
        match raw.id {
            HELLO_MSG => Hello::decode(&raw.data),
            DISCONNECT_MSG => Err(P2pError::Disconnected(DisconnectReason::decode_message(
                &raw.data,
            ))),
            other => Err(P2pError::ExpectedHello(other)),
        }
    }
    .await;
    stream.codec_mut().set_max_frame_size(limit);
    result
}

async fn write_frame<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut RlpxStream<S>,
    frame: Bytes,
) -> Result<(), RlpxError> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_ready(cx)).await?;
    Pin::new(&mut *stream).start_send(frame)?;
    poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await
}

/// Best effort: Disconnect within [`DISCONNECT_WRITE_TIMEOUT`], then close.
async fn send_disconnect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut RlpxStream<S>,
    reason: DisconnectReason,
    snappy: bool,
) {
    let Ok(frame) = encode_frame(DISCONNECT_MSG, &reason.encode_message(), snappy) else {
        return;
    };
    let _ = tokio::time::timeout(DISCONNECT_WRITE_TIMEOUT, async {
        write_frame(stream, frame).await?;
        poll_fn(|cx| Pin::new(&mut *stream).poll_close(cx)).await
    })
    .await;
}
