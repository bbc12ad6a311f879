//! A minimal eth/68 client: dials an enode, exchanges Hello and Status, and
//! requests headers and bodies. It is what `bench p2p` pulls a chain with
//! (from our node and from geth alike) and what the devp2p tests use to act
//! as a peer; it does not sync or judge what it receives.
//!
//! Its Status mirrors the server's (network id, genesis, fork id) with a
//! zero total difficulty, as go-ethereum's eth-test does, so it is accepted
//! by any node without knowing the chain beforehand.

use std::{net::SocketAddr, time::Duration};

use alloy_primitives::{B256, U256};
use hypasis_discovery::NodeRecord;
use hypasis_eth_wire::{
    BlockBodies, BlockHeaders, EthMessage, EthVersion, GetBlockBodies, GetBlockHeaders,
    HashOrNumber, MessageError, MessageId, RequestPair, Status68, protocol::PROTOCOL_NAME,
};
use hypasis_rlpx::{
    DisconnectReason, Hello, Message, NodeId, P2pError, P2pSession, Protocol, RlpxError, RlpxStream,
};
use secp256k1::SecretKey;
use tokio::net::TcpStream;

use super::protocol::client_name;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The enode URL does not parse.
    #[error("enode `{url}`: {reason}")]
    Enode {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The TCP connection failed.
    #[error("connecting to {addr}: {source}")]
    Connect {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The RLPx handshake failed.
    #[error(transparent)]
    Rlpx(#[from] RlpxError),
    /// The session failed, or the peer disconnected.
    #[error(transparent)]
    Session(#[from] P2pError),
    /// A message did not decode.
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The peer sent something other than what was waited for.
    #[error("expected {expected}, got {got}")]
    Unexpected {
        /// What we waited for.
        expected: &'static str,
        /// What came.
        got: String,
    },
    /// Nothing came within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// A connected eth/68 session.
pub struct EthClient {
    session: P2pSession,
    peer_status: Status68,
    peer_hello: Hello,
    next_id: u64,
    timeout: Duration,
}

impl std::fmt::Debug for EthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthClient")
            .field("peer", &self.peer_hello.client_name)
            .finish_non_exhaustive()
    }
}

impl EthClient {
    /// Dials `enode` with `key` and completes Hello and Status, each step
    /// within `timeout`.
    pub async fn connect(
        enode: &str,
        key: &SecretKey,
        timeout: Duration,
    ) -> Result<EthClient, ClientError> {
        let record: NodeRecord = enode.parse().map_err(|error| ClientError::Enode {
            url: enode.to_string(),
            reason: format!("{error}"),
        })?;
        let addr = SocketAddr::new(record.ip, record.tcp);
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = tcp.set_nodelay(true);
        let stream = RlpxStream::connect(tcp, key, NodeId::from(record.id)).await?;
        let protocols = [Protocol::new(PROTOCOL_NAME, 68, 17)];
        let local_id = hypasis_rlpx::node_id(&key.public_key(secp256k1::SECP256K1));
        let hello = Hello::new(client_name(), 0, local_id, &protocols);
        let (mut session, peer_hello) = P2pSession::handshake(stream, hello, &protocols).await?;
        let message = recv_within(&mut session, timeout).await?;
        let peer_status = match decode(&message)? {
            EthMessage::Status68(status) => status,
            other => {
                return Err(ClientError::Unexpected {
                    expected: "Status",
                    got: format!("{:?}", other.id()),
                });
            }
        };
        let ours = EthMessage::Status68(Status68 {
            total_difficulty: U256::ZERO,
            head: peer_status.genesis,
            ..peer_status
        });
        session
            .send(
                PROTOCOL_NAME,
                u64::from(MessageId::Status.id()),
                &ours.encoded(),
            )
            .await?;
        Ok(EthClient {
            session,
            peer_status,
            peer_hello,
            next_id: 1,
            timeout,
        })
    }

    /// The peer's Status.
    pub fn peer_status(&self) -> &Status68 {
        &self.peer_status
    }

    /// The peer's Hello (client name, capabilities).
    pub fn peer_hello(&self) -> &Hello {
        &self.peer_hello
    }

    /// Headers by query; returns each header's RLP as received.
    pub async fn headers(&mut self, query: GetBlockHeaders) -> Result<BlockHeaders, ClientError> {
        let id = self.take_id();
        self.send(&EthMessage::GetBlockHeaders(RequestPair::new(id, query)))
            .await?;
        loop {
            match self.next().await? {
                EthMessage::BlockHeaders(reply) if reply.request_id == id => {
                    return Ok(reply.message);
                }
                _ => continue,
            }
        }
    }

    /// `amount` consecutive headers from `number` upwards.
    pub async fn headers_from(
        &mut self,
        number: u64,
        amount: u64,
    ) -> Result<BlockHeaders, ClientError> {
        self.headers(GetBlockHeaders {
            origin: HashOrNumber::Number(number),
            amount,
            skip: 0,
            reverse: false,
        })
        .await
    }

    /// The bodies of `hashes` (as received).
    pub async fn bodies(&mut self, hashes: Vec<B256>) -> Result<BlockBodies, ClientError> {
        let id = self.take_id();
        self.send(&EthMessage::GetBlockBodies(RequestPair::new(
            id,
            GetBlockBodies(hashes),
        )))
        .await?;
        loop {
            match self.next().await? {
                EthMessage::BlockBodies(reply) if reply.request_id == id => {
                    return Ok(reply.message);
                }
                _ => continue,
            }
        }
    }

    /// The next eth message, whatever it is (announcements included).
    pub async fn next(&mut self) -> Result<EthMessage, ClientError> {
        let message = recv_within(&mut self.session, self.timeout).await?;
        Ok(decode(&message)?)
    }

    /// Sends any eth message.
    pub async fn send(&mut self, message: &EthMessage) -> Result<(), ClientError> {
        self.send_raw(u64::from(message.id().id()), &message.encoded())
            .await
    }

    /// Sends raw bytes as eth message `id` (for tests of malformed input).
    pub async fn send_raw(&mut self, id: u64, payload: &[u8]) -> Result<(), ClientError> {
        Ok(self.session.send(PROTOCOL_NAME, id, payload).await?)
    }

    /// Leaves politely.
    pub async fn disconnect(self) {
        self.session.disconnect(DisconnectReason::Quitting).await;
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }
}

async fn recv_within(session: &mut P2pSession, timeout: Duration) -> Result<Message, ClientError> {
    tokio::time::timeout(timeout, session.recv())
        .await
        .map_err(|_| ClientError::Timeout(timeout))?
        .map_err(ClientError::from)
}

fn decode(message: &Message) -> Result<EthMessage, MessageError> {
    EthMessage::decode(EthVersion::Eth68, message.id, &message.payload)
}
