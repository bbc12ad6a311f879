//! The devnet's Ethereum L1.
//!
//! A stand-in for Ethereum mainnet/Sepolia that tests and `hypasis-sync devnet` run in
//! process. Its state lives in a real EVM ([revm], Cancun rules) running a RootChain-compatible
//! contract (`contracts/RootChain.sol`, compiled by `contracts/build.sh`) that keeps Polygon's
//! ABI: `headerBlocks`, `currentHeaderBlock`, `getLastChildBlock`, `_nextHeaderBlock`, `CHAINID`,
//! `submitCheckpoint` and the `NewHeaderBlock` event. Checkpoints arrive as real signed EIP-1559
//! transactions mined into real post-merge blocks (hash = keccak256 of the RLP header, with real
//! transactions, receipts and state roots), and the chain answers Ethereum JSON-RPC the way geth
//! does through [`L1Devnet::rpc`], with no transport attached.
//!
//! ```
//! use hypasis_devnet_l1::{L1Config, L1Devnet};
//! use alloy_primitives::{Address, B256};
//!
//! let l1 = L1Devnet::new(L1Config::new(137)).unwrap();
//! let checkpoint = l1
//!     .submit_checkpoint(Address::repeat_byte(1), 0, 255, B256::repeat_byte(2), 1_000)
//!     .unwrap();
//! assert_eq!(checkpoint.header_block_id, 10_000);
//! let answer = l1.rpc(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}));
//! assert_eq!(answer["result"], "0x2");
//! ```

#![deny(missing_docs)]

mod block;
mod chain;
pub mod contract;
mod error;
mod evm;
mod json;
mod keys;
mod params;
mod rpc;

pub use chain::{DEFAULT_L1_CHAIN_ID, L1Config, L1Devnet, SubmittedCheckpoint};
pub use error::L1Error;
