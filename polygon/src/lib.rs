//! Polygon chain knowledge shared by the host and the plugins, linked
//! statically into each side (it never crosses the plugin ABI): chain specs,
//! block encodings, Bor's header rules, the validator-set algorithm and
//! Heimdall's checkpoint root.

#![deny(missing_docs)]

pub mod block;
pub mod bor;
pub mod checkpoint;
pub mod rootchain;
pub mod roots;
pub mod rpc_decode;
pub mod rpc_hex;
pub mod rpc_json;
pub mod rpc_parse;
pub mod schedule;
pub mod spec;
pub mod state_sync;
pub mod valset;

pub use block::{BlockDecodeError, decode_body_shape, decode_header, decode_receipts_shape};
pub use spec::ChainSpec;
