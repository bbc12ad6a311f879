//! The devnet: a faithful stand-in for Polygon mainnet and Ethereum L1.
//!
//! It generates a Bor-format chain (sealed by devnet validators, sprints and
//! spans, signed transactions, receipts with logs, state syncs in both of
//! Bor's forms), serves it over the JSON-RPC a Polygon provider offers, runs
//! an L1 whose RootChain contract (in a real EVM) receives checkpoints
//! computed by Heimdall's rule, serves Heimdall-style checkpoints,
//! milestones and spans, and misbehaves on request.
//!
//! State roots are not real: nothing executes the transactions, so every
//! `stateRoot` is a deterministic stand-in and nothing checks it.

#![deny(missing_docs)]

pub mod archive;
pub mod block;
pub mod calls;
pub mod chain;
pub mod checkpointer;
pub mod config;
pub mod faults;
pub mod generator;
pub mod heimdall;
pub mod http;
pub mod jsonrpc;
pub mod keys;
pub mod network;
pub mod render;
pub mod script;
pub mod txgen;
pub mod upstream;
mod upstream_server;

pub use config::{ChainConfig, CheckpointConfig, DEFAULT_GENESIS_TIMESTAMP};
pub use network::{Devnet, DevnetOptions};
