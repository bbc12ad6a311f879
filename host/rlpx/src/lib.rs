//! RLPx and the devp2p base protocol, as Bor (go-ethereum) speaks them.
//!
//! Layers, bottom up, each usable on its own:
//!
//! | layer | what | files |
//! |---|---|---|
//! | cryptography (pure) | ECIES, auth/ack bodies, the key exchange, secrets, the frame MAC and cipher | [`ecies`], [`auth`], [`handshake`], [`secrets`], [`mac`], [`frame`] |
//! | transport | the `Decoder`/`Encoder` state machine and the connected stream | [`codec`], [`stream`] |
//! | base protocol | Hello, capabilities, snappy, ping, disconnect | [`hello`], [`capability`], [`message`], [`disconnect`], [`session`] |
//!
//! Every constant, with its source, is in [`protocol`].
//!
//! ```no_run
//! # async fn dial(key: secp256k1::SecretKey, remote: hypasis_rlpx::NodeId) -> Result<(), hypasis_rlpx::P2pError> {
//! use hypasis_rlpx::{Hello, P2pSession, Protocol, RlpxStream, node_id_of};
//!
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:30303").await.map_err(hypasis_rlpx::RlpxError::from)?;
//! let stream = RlpxStream::connect(tcp, &key, remote).await?;
//! let protocols = [Protocol::new("eth", 68, 17).with_max_message_size(10 * 1024 * 1024), Protocol::new("snap", 1, 8)];
//! let hello = Hello::new("hypasis-sync/v0.1.0", 30303, node_id_of(&key), &protocols);
//! let (mut session, peer) = P2pSession::handshake(stream, hello, &protocols).await?;
//! let message = session.recv().await?; // message.capability, message.id (relative), message.payload
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod auth;
pub mod capability;
pub mod codec;
pub mod disconnect;
pub mod ecies;
pub mod error;
pub mod frame;
pub mod fuzzing;
pub mod handshake;
pub mod hello;
pub mod id;
pub mod mac;
pub mod message;
pub mod protocol;
pub mod secrets;
pub mod session;
pub mod stream;

pub use auth::HandshakeFormat;
pub use capability::{Capability, Protocol, SharedCapabilities, SharedCapability};
pub use codec::RlpxCodec;
pub use disconnect::DisconnectReason;
pub use error::{P2pError, RlpxError};
pub use hello::Hello;
pub use id::{NodeId, node_id, node_id_of, public_key};
pub use session::{Message, P2pSession, SessionConfig};
pub use stream::{HandshakeOptions, RlpxStream};
