//! The RLPx auth/ack readers and handshake body parsers on arbitrary bytes
//! (see `hypasis_rlpx::fuzzing::handshake_decoder`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hypasis_rlpx::fuzzing::handshake_decoder(data);
});
