//! JSON-RPC on `api.rpc.listen` (8545): HTTP with batches, and WebSocket
//! with `eth_subscribe("newHeads")`.
//!
//! [`protocol`] (codes, envelope), [`params`] (strict parameter parsing),
//! [`render`] (stored RLP to JSON), [`methods`] (one function per method),
//! [`dispatch`] (a request body to its answer: batch and rate limits,
//! metrics), [`server`] (HTTP and the listener), `subscriptions` (WebSocket).

pub mod dispatch;
pub mod methods;
pub mod params;
pub mod protocol;
pub mod render;
pub mod server;
mod subscriptions;

pub use dispatch::answer;
pub use server::serve;
