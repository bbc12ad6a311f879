//! Polygon chain knowledge shared by the host and the plugins, linked
//! statically into each side (it never crosses the plugin ABI).

#![deny(missing_docs)]

pub mod block;

pub use block::{BlockDecodeError, decode_body_shape, decode_header, decode_receipts_shape};
