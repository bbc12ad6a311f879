//! One peer's eth session after Hello: the Status exchange, then a loop
//! that answers requests in the order they arrive (each with its request
//! id), announces our head as it moves, and ends with a Disconnect that
//! says why.
//!
//! - GetBlockHeaders / GetBlockBodies / GetReceipts: served from the store
//!   ([`serve`](super::serve)), inline; GetPooledTransactions: an empty answer.
//! - Transactions, NewPooledTransactionHashes, NewBlockHashes, NewBlock and
//!   responses we never asked for: ignored.
//! - BlockRangeUpdate (eth/69): checked (`earliest ≤ latest`, non-zero hash).
//! - Anything malformed, an unknown id, an oversized message, a second
//!   Status or an invalid range: `DiscProtocolError`.
//! - Head announcements: NewBlockHashes for every new head; on eth/69 also
//!   BlockRangeUpdate once the head has moved 32 blocks (or gone back).

use std::{sync::Arc, time::Duration};

use hypasis_eth_wire::{
    BlockHashNumber, BlockRangeUpdate, EthMessage, EthVersion, MessageId, NewBlockHashes,
    PooledTransactions, RequestPair, encode_raw_response, protocol::PROTOCOL_NAME,
};
use hypasis_rlpx::{DisconnectReason, Message, P2pError, P2pSession};
use opentelemetry::KeyValue;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    handshake::{HandshakeFailure, exchange_status},
    limits::{Admission, RequestLimiter},
    protocol::BLOCK_RANGE_UPDATE_STEP,
    reputation::{Offence, Reputation},
    serve,
};
use crate::{
    block_store::BlockStore,
    chain_state::{ChainWatch, ServedHead},
    metrics::Metrics,
};

/// What every peer task shares.
pub struct PeerContext {
    /// The block store.
    pub store: Arc<dyn BlockStore>,
    /// Our chain and head.
    pub chain: ChainWatch,
    /// Metrics.
    pub metrics: Metrics,
    /// Time allowed for the Status exchange.
    pub handshake_timeout: Duration,
}

/// Who the peer is, for its reputation (`None` for a trusted peer, which
/// is never banned).
#[derive(Clone, Copy)]
pub struct Offender {
    /// Its node id.
    pub id: hypasis_rlpx::NodeId,
    /// The IP it connected from.
    pub ip: std::net::IpAddr,
}

/// A peer's identity and the table its offences go to.
#[derive(Clone)]
pub struct Conduct {
    /// The reputation table.
    pub reputation: Arc<Reputation>,
    /// The peer, unless trusted.
    pub offender: Option<Offender>,
}

impl Conduct {
    /// Records `offence`; whether the peer is now banned.
    fn offended(&self, offence: Offence) -> bool {
        self.offender
            .is_some_and(|offender| self.reputation.penalise(offender.id, offender.ip, offence))
    }

    /// Records the offence a disconnect of ours stands for, if any.
    fn disconnected(&self, reason: DisconnectReason) {
        if reason == DisconnectReason::ProtocolError {
            self.offended(Offence::InvalidMessage);
        }
    }
}

/// How a session ended.
#[derive(Debug)]
pub enum SessionEnd {
    /// We disconnected the peer.
    Local(DisconnectReason, String),
    /// The peer disconnected (with its reason) or the connection failed.
    Remote(Option<DisconnectReason>, String),
}

/// The reason a peer gave, if the error is its Disconnect.
fn remote_reason(error: &P2pError) -> Option<DisconnectReason> {
    match error {
        P2pError::Disconnected(reason) => Some(*reason),
        _ => None,
    }
}

/// Runs the eth session until it ends or `shutdown`.
pub async fn run(
    mut session: P2pSession,
    version: EthVersion,
    context: Arc<PeerContext>,
    mut limiter: RequestLimiter,
    conduct: Conduct,
    shutdown: CancellationToken,
) -> SessionEnd {
    let Some(head) = context.chain.head() else {
        let reason = DisconnectReason::UselessPeer;
        session.disconnect(reason).await;
        return SessionEnd::Local(reason, "no served head yet".into());
    };
    let spec = Arc::clone(context.chain.spec());
    let status = tokio::select! {
        _ = shutdown.cancelled() => Err(HandshakeFailure::Session(P2pError::Disconnected(DisconnectReason::Quitting))),
        status = exchange_status(&mut session, version, &spec, &head, context.handshake_timeout) => status,
    };
    let peer_status = match status {
        Ok((status, sent, received)) => {
            count_bytes(&context.metrics, sent, received);
            status
        }
        Err(failure) => {
            let end = end_failed_handshake(session, failure, &shutdown).await;
            if let SessionEnd::Local(reason, _) = &end {
                conduct.disconnected(*reason);
            }
            return end;
        }
    };
    tracing::info!(
        %version,
        td = %peer_status.total_difficulty(),
        head = %peer_status.head(),
        "peer connected"
    );
    let session = Session {
        session,
        version,
        context,
        announced: head,
        range_sent: head.number,
        conduct,
    };
    let mut heads = session.context.chain.subscribe();
    heads.mark_unchanged();
    session.serve(&mut heads, &mut limiter, &shutdown).await
}

async fn end_failed_handshake(
    session: P2pSession,
    failure: HandshakeFailure,
    shutdown: &CancellationToken,
) -> SessionEnd {
    if shutdown.is_cancelled() {
        session.disconnect(DisconnectReason::Quitting).await;
        return SessionEnd::Local(DisconnectReason::Quitting, "shutting down".into());
    }
    let why = match &failure {
        HandshakeFailure::Malformed(hypasis_eth_wire::MessageError::GethStatus69) => {
            "peer speaks go-ethereum's eth/69 (Status without total difficulty), not Bor's".into()
        }
        other => format!("Status exchange: {other}"),
    };
    match failure.disconnect_reason() {
        Some(reason) => {
            session.disconnect(reason).await;
            SessionEnd::Local(reason, why)
        }
        None => {
            let reason = match &failure {
                HandshakeFailure::Session(error) => remote_reason(error),
                _ => None,
            };
            SessionEnd::Remote(reason, why)
        }
    }
}

fn count_bytes(metrics: &Metrics, sent: usize, received: usize) {
    metrics
        .p2p_bytes
        .add(sent as u64, &[KeyValue::new("direction", "out")]);
    metrics
        .p2p_bytes
        .add(received as u64, &[KeyValue::new("direction", "in")]);
}

/// A peer after a successful Status exchange.
struct Session {
    session: P2pSession,
    version: EthVersion,
    context: Arc<PeerContext>,
    /// The head the peer last heard of from us.
    announced: ServedHead,
    /// The `latest` of the last range the peer got (Status or update).
    range_sent: u64,
    /// Where its offences go.
    conduct: Conduct,
}

/// What handling one message asks for.
enum Next {
    Continue,
    Disconnect(DisconnectReason, String),
}

impl Session {
    async fn serve(
        mut self,
        heads: &mut watch::Receiver<Option<ServedHead>>,
        limiter: &mut RequestLimiter,
        shutdown: &CancellationToken,
    ) -> SessionEnd {
        let mut heads_open = true;
        loop {
            let next = tokio::select! {
                biased;
                _ = shutdown.cancelled() => Next::Disconnect(DisconnectReason::Quitting, "shutting down".into()),
                changed = heads.changed(), if heads_open => {
                    match changed {
                        Ok(()) => {
                            let head = *heads.borrow_and_update();
                            match head {
                                Some(head) => self.announce(head).await,
                                None => Next::Continue,
                            }
                        }
                        Err(_) => {
                            heads_open = false;
                            Next::Continue
                        }
                    }
                }
                message = self.session.recv() => match message {
                    Ok(message) => self.handle(message, limiter).await,
                    Err(error) => return self.failed(error).await,
                },
            };
            if let Next::Disconnect(reason, why) = next {
                self.conduct.disconnected(reason);
                self.session.disconnect(reason).await;
                return SessionEnd::Local(reason, why);
            }
        }
    }

    async fn failed(self, error: P2pError) -> SessionEnd {
        match error.disconnect_reason() {
            Some(reason) => {
                self.conduct.disconnected(reason);
                self.session.disconnect(reason).await;
                SessionEnd::Local(reason, error.to_string())
            }
            None => SessionEnd::Remote(remote_reason(&error), error.to_string()),
        }
    }

    async fn send(&mut self, id: MessageId, payload: &[u8]) -> Next {
        self.context
            .metrics
            .p2p_bytes
            .add(payload.len() as u64, &[KeyValue::new("direction", "out")]);
        match self
            .session
            .send(PROTOCOL_NAME, u64::from(id.id()), payload)
            .await
        {
            Ok(()) => Next::Continue,
            Err(error) => Next::Disconnect(
                error
                    .disconnect_reason()
                    .unwrap_or(DisconnectReason::NetworkError),
                format!("sending {id}: {error}"),
            ),
        }
    }

    /// Tells the peer about a new head.
    async fn announce(&mut self, head: ServedHead) -> Next {
        if head.hash == self.announced.hash {
            return Next::Continue;
        }
        self.announced = head;
        let hashes = NewBlockHashes(vec![BlockHashNumber {
            hash: head.hash,
            number: head.number,
        }]);
        if let Next::Disconnect(reason, why) = self
            .send(MessageId::NewBlockHashes, &alloy_rlp::encode(&hashes))
            .await
        {
            return Next::Disconnect(reason, why);
        }
        let moved = head.number < self.range_sent
            || head.number - self.range_sent >= BLOCK_RANGE_UPDATE_STEP;
        if self.version == EthVersion::Eth69 && moved {
            self.range_sent = head.number;
            let update = BlockRangeUpdate {
                earliest: head.earliest.min(head.number),
                latest: head.number,
                latest_hash: head.hash,
            };
            return self
                .send(MessageId::BlockRangeUpdate, &alloy_rlp::encode(update))
                .await;
        }
        Next::Continue
    }

    async fn handle(&mut self, message: Message, limiter: &mut RequestLimiter) -> Next {
        let metrics = &self.context.metrics;
        metrics.p2p_bytes.add(
            message.payload.len() as u64,
            &[KeyValue::new("direction", "in")],
        );
        let decoded = match EthMessage::decode(self.version, message.id, &message.payload) {
            Ok(decoded) => decoded,
            Err(error) => {
                return Next::Disconnect(DisconnectReason::ProtocolError, error.to_string());
            }
        };
        let kind = match &decoded {
            EthMessage::GetBlockHeaders(_) => "headers",
            EthMessage::GetBlockBodies(_) => "bodies",
            EthMessage::GetReceipts(_) => "receipts",
            EthMessage::GetPooledTransactions(_) => "pooled_transactions",
            EthMessage::Status68(_) | EthMessage::Status69(_) => {
                return Next::Disconnect(DisconnectReason::ProtocolError, "a second Status".into());
            }
            EthMessage::BlockRangeUpdate(update) => {
                return match update.validate() {
                    Ok(()) => {
                        tracing::debug!(latest = update.latest, "peer's block range updated");
                        Next::Continue
                    }
                    Err(error) => {
                        Next::Disconnect(DisconnectReason::ProtocolError, error.to_string())
                    }
                };
            }
            other => {
                tracing::trace!(message = %other.id(), "ignored");
                return Next::Continue;
            }
        };
        match limiter.admit().await {
            Admission::Now => {}
            Admission::After(delay) => {
                metrics.p2p_throttled.add(1, &[]);
                tracing::debug!(?delay, "throttling peer: request rate over its limit");
                tokio::time::sleep(delay).await;
            }
            Admission::Drop => {
                self.conduct.offended(Offence::Flooding);
                return Next::Disconnect(
                    DisconnectReason::UselessPeer,
                    "request rate over its limit for too long".into(),
                );
            }
        }
        metrics.p2p_request(kind);
        let (id, payload) = self.answer(decoded, kind);
        self.send(id, &payload).await
    }

    /// The response to a request (of metrics kind `kind`), from the store.
    /// A storage failure is an empty answer (and an error in the log and
    /// metrics), not a disconnect.
    fn answer(&self, request: EthMessage, kind: &'static str) -> (MessageId, Vec<u8>) {
        let store = self.context.store.as_ref();
        let (id, request_id, items) = match request {
            EthMessage::GetBlockHeaders(RequestPair {
                request_id,
                message,
            }) => (
                MessageId::BlockHeaders,
                request_id,
                serve::block_headers(store, &message),
            ),
            EthMessage::GetBlockBodies(RequestPair {
                request_id,
                message,
            }) => (
                MessageId::BlockBodies,
                request_id,
                serve::block_bodies(store, &message.0),
            ),
            EthMessage::GetReceipts(RequestPair {
                request_id,
                message,
            }) => {
                let madhugiri = self.context.chain.spec().bor.madhugiri_block;
                (
                    MessageId::Receipts,
                    request_id,
                    serve::receipts(store, &message.0, self.version, madhugiri),
                )
            }
            other => {
                let request_id = match other {
                    EthMessage::GetPooledTransactions(pair) => pair.request_id,
                    _ => 0,
                };
                let empty = EthMessage::PooledTransactions(RequestPair::new(
                    request_id,
                    PooledTransactions::default(),
                ));
                return (MessageId::PooledTransactions, empty.encoded());
            }
        };
        let items = items.unwrap_or_else(|error| {
            tracing::error!(%error, response = %id, "storage failed while serving");
            self.context.metrics.error("p2p_storage");
            Vec::new()
        });
        self.context.metrics.p2p_served(kind, items.len());
        (id, encode_raw_response(request_id, &items))
    }
}
