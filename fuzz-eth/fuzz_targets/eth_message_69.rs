//! Any bytes as a (Bor) eth/69 message: the first byte picks the message id
//! (including unknown ones), the rest is the payload. Decoding must never
//! panic, and a decoded message must encode back to the same payload. Bytes
//! sent as Receipts are also fed to the 68→69 receipt conversion, which
//! reads stored receipt lists.

#![no_main]

use hypasis_eth_wire::{EthMessage, EthVersion, receipts_68_to_69};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&id, payload)) = data.split_first() else {
        return;
    };
    let id = u64::from(id % 0x14);
    match EthMessage::decode(EthVersion::Eth69, id, payload) {
        Ok(EthMessage::Receipts(pair)) => {
            for block in &pair.message.0 {
                let _ = receipts_68_to_69(block.as_bytes(), None);
            }
            assert_eq!(EthMessage::Receipts(pair).encoded(), payload);
        }
        Ok(message) => {
            assert_eq!(u64::from(message.id().id()), id);
            assert_eq!(message.encoded(), payload);
        }
        Err(_) => {
            let _ = receipts_68_to_69(payload, None);
        }
    }
});
