//! Any bytes as an eth/68 message: the first byte picks the message id
//! (including unknown ones), the rest is the payload. Decoding must never
//! panic, and a decoded message must encode back to the same payload.

#![no_main]

use hypasis_eth_wire::{EthMessage, EthVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&id, payload)) = data.split_first() else {
        return;
    };
    let id = u64::from(id % 0x14);
    if let Ok(message) = EthMessage::decode(EthVersion::Eth68, id, payload) {
        assert_eq!(u64::from(message.id().id()), id);
        assert_eq!(message.encoded(), payload);
    }
});
