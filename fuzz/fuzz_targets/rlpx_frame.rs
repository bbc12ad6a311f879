//! The RLPx frame decoder fed arbitrary bytes after a fixed handshake, and
//! valid frames with a flipped bit (see `hypasis_rlpx::fuzzing::frame_decoder`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hypasis_rlpx::fuzzing::frame_decoder(data);
});
