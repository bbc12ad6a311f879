//! The cargo-fuzz targets' bodies (`hypasis_rlpx::fuzzing`) on a few
//! thousand pseudo-random inputs each, so every `cargo test` exercises them
//! without a fuzzer: raw random bytes, and random bytes behind the mode
//! bytes that make the bodies build valid traffic and corrupt it.

use hypasis_rlpx::fuzzing::{frame_decoder, handshake_decoder};
use secp256k1::rand::{Rng, RngCore, SeedableRng, rngs::StdRng};

fn inputs(seed: u64, count: usize, max_len: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(move |_| {
        let mut input = vec![0u8; rng.random_range(0..=max_len)];
        rng.fill_bytes(&mut input);
        input
    })
}

#[test]
fn rlpx_frame_body_survives_pseudo_random_input() {
    for input in inputs(1, 3000, 600) {
        frame_decoder(&input);
    }
    // Frames built from random data, intact (mode 1) and with a flipped bit.
    for (i, mut input) in inputs(2, 2000, 300).enumerate() {
        input.insert(0, if i % 4 == 0 { 1 } else { (i as u8) | 1 });
        frame_decoder(&input);
    }
    // Raw bytes that start with a valid-looking header length.
    for (i, mut input) in inputs(3, 500, 100).enumerate() {
        input.insert(0, (i as u8) & 0xFE);
        input.splice(1..1, [0u8; 32]);
        frame_decoder(&input);
    }
}

#[test]
fn rlpx_handshake_body_survives_pseudo_random_input() {
    for input in inputs(4, 2000, 700) {
        handshake_decoder(&input);
    }
    // Valid auths of both formats, intact and with one bit flipped.
    for (i, input) in inputs(5, 600, 4).enumerate() {
        let mut input = input;
        input.insert(0, 0xF0 | (i as u8 & 1));
        if i % 10 == 0 {
            input.truncate(1);
        }
        handshake_decoder(&input);
    }
    // Random tails behind an EIP-8 size prefix and behind the legacy 0x04 tag.
    for (i, mut input) in inputs(6, 1000, 600).enumerate() {
        let len = input.len().saturating_sub(2) as u16;
        if i % 2 == 0 && input.len() >= 2 {
            input[..2].copy_from_slice(&len.to_be_bytes());
        } else if !input.is_empty() {
            input[0] = 0x04;
        }
        handshake_decoder(&input);
    }
}
