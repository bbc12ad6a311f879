//! The plugin against the real devnet (in-process), through its
//! `UpstreamSource` implementation.

mod chain;
mod common;
mod faults;
mod fetch;
mod heads;
