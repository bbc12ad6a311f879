//! ECIES as RLPx uses it (devp2p `rlpx.md`, "ECIES Encryption"; SEC 1 §5.1
//! with go-ethereum's parameters for secp256k1):
//!
//! ```text
//! S      = ECDH x-coordinate of (r, K_B)         r: a fresh ephemeral key
//! kE‖kM  = ConcatKDF-SHA256(S, 32 bytes)          no shared info (s1)
//! c      = AES-128-CTR(kE, iv, m)
//! d      = HMAC-SHA256(sha256(kM), iv ‖ c ‖ s2)  s2: the shared MAC data
//! output = R ‖ iv ‖ c ‖ d                         R = r·G, 65 bytes uncompressed
//! ```
//!
//! The shared MAC data `s2` is the EIP-8 size prefix for handshake packets and
//! empty for pre-EIP-8 ones. Pure functions: no I/O, randomness passed in.

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac, digest::KeyInit};
use secp256k1::{PublicKey, SECP256K1, SecretKey, rand::Rng};
use sha2::{Digest, Sha256};

use crate::{error::RlpxError, protocol::ECIES_OVERHEAD};

type Aes128Ctr = ctr::Ctr128BE<Aes128>;

/// Length of the ephemeral public key at the front of a message.
const PUBLIC_KEY_LEN: usize = 65;
/// Length of the AES-CTR IV.
const IV_LEN: usize = 16;
/// Length of the HMAC-SHA256 tag at the end.
const TAG_LEN: usize = 32;

/// The x-coordinate of the ECDH point `secret · public` (devp2p's "ecdh").
pub fn ecdh_x(public: &PublicKey, secret: &SecretKey) -> [u8; 32] {
    let point = secp256k1::ecdh::shared_secret_point(public, secret);
    let mut x = [0u8; 32];
    x.copy_from_slice(&point[..32]);
    x
}

/// The AES key and the HMAC key ECIES derives from a shared secret.
struct Keys {
    enc: [u8; 16],
    mac: [u8; 32],
}

fn derive_keys(shared_x: &[u8; 32]) -> Result<Keys, RlpxError> {
    let mut k = [0u8; 32];
    concat_kdf::derive_key_into::<Sha256>(shared_x, &[], &mut k)
        .map_err(|_| RlpxError::InvalidState("concat-kdf refused a 32-byte key"))?;
    let mut enc = [0u8; 16];
    enc.copy_from_slice(&k[..16]);
    let mac: [u8; 32] = Sha256::digest(&k[16..]).into();
    Ok(Keys { enc, mac })
}

fn tag_mac(
    mac_key: &[u8; 32],
    iv: &[u8],
    ciphertext: &[u8],
    shared_mac_data: &[u8],
) -> Hmac<Sha256> {
    // HMAC zero-pads keys shorter than the block, so padding it ourselves to
    // the 64-byte block gives the same MAC and an infallible constructor.
    let mut block_key = [0u8; 64];
    block_key[..32].copy_from_slice(mac_key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block_key.into());
    mac.update(iv);
    mac.update(ciphertext);
    mac.update(shared_mac_data);
    mac
}

/// Encrypts `plaintext` to `remote` with a fresh ephemeral key and IV from
/// `rng`. The result is [`ECIES_OVERHEAD`] bytes longer than the plaintext.
pub fn encrypt<R: Rng + ?Sized>(
    remote: &PublicKey,
    plaintext: &[u8],
    shared_mac_data: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>, RlpxError> {
    let ephemeral = SecretKey::new(rng);
    let iv: [u8; IV_LEN] = rng.random();
    encrypt_with(remote, plaintext, shared_mac_data, &ephemeral, iv)
}

/// [`encrypt`] with the ephemeral key and IV given (deterministic, for tests
/// and vectors).
pub fn encrypt_with(
    remote: &PublicKey,
    plaintext: &[u8],
    shared_mac_data: &[u8],
    ephemeral: &SecretKey,
    iv: [u8; IV_LEN],
) -> Result<Vec<u8>, RlpxError> {
    let keys = derive_keys(&ecdh_x(remote, ephemeral))?;
    let mut out = Vec::with_capacity(plaintext.len() + ECIES_OVERHEAD);
    out.extend_from_slice(
        &PublicKey::from_secret_key(SECP256K1, ephemeral).serialize_uncompressed(),
    );
    out.extend_from_slice(&iv);
    let start = out.len();
    out.extend_from_slice(plaintext);
    Aes128Ctr::new(&keys.enc.into(), &iv.into()).apply_keystream(&mut out[start..]);
    let tag = tag_mac(&keys.mac, &iv, &out[start..], shared_mac_data)
        .finalize()
        .into_bytes();
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Decrypts a message encrypted to `ours`, checking its tag over the
/// ciphertext and `shared_mac_data` first.
pub fn decrypt(
    ours: &SecretKey,
    message: &[u8],
    shared_mac_data: &[u8],
) -> Result<Vec<u8>, RlpxError> {
    if message.len() < ECIES_OVERHEAD {
        return Err(RlpxError::EciesTooShort {
            len: message.len(),
            min: ECIES_OVERHEAD,
        });
    }
    let (key_bytes, rest) = message.split_at(PUBLIC_KEY_LEN);
    let (iv, rest) = rest.split_at(IV_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    if key_bytes[0] != 0x04 {
        return Err(RlpxError::InvalidPublicKey);
    }
    let ephemeral = PublicKey::from_slice(key_bytes).map_err(|_| RlpxError::InvalidPublicKey)?;
    let keys = derive_keys(&ecdh_x(&ephemeral, ours))?;
    tag_mac(&keys.mac, iv, ciphertext, shared_mac_data)
        .verify_slice(tag)
        .map_err(|_| RlpxError::TagCheckDecryptFailed)?;
    let mut plaintext = ciphertext.to_vec();
    let mut iv_block = [0u8; IV_LEN];
    iv_block.copy_from_slice(iv);
    Aes128Ctr::new(&keys.enc.into(), &iv_block.into()).apply_keystream(&mut plaintext);
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use secp256k1::rand::{SeedableRng, rngs::StdRng};

    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::from_byte_array([byte; 32]).unwrap()
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_with_mac_data() {
        let mut rng = StdRng::seed_from_u64(1);
        let ours = key(3);
        let public = PublicKey::from_secret_key(SECP256K1, &ours);
        for len in [0usize, 1, 15, 16, 17, 300] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = encrypt(&public, &plain, b"\x01\x02", &mut rng).unwrap();
            assert_eq!(sealed.len(), len + ECIES_OVERHEAD);
            assert_eq!(decrypt(&ours, &sealed, b"\x01\x02").unwrap(), plain);
            // The shared MAC data is authenticated.
            assert!(matches!(
                decrypt(&ours, &sealed, b"\x01\x03"),
                Err(RlpxError::TagCheckDecryptFailed)
            ));
        }
    }

    #[test]
    fn a_wrong_key_or_a_flipped_bit_fails_the_tag_check() {
        let mut rng = StdRng::seed_from_u64(2);
        let public = PublicKey::from_secret_key(SECP256K1, &key(3));
        let sealed = encrypt(&public, b"hello", &[], &mut rng).unwrap();
        assert!(matches!(
            decrypt(&key(4), &sealed, &[]),
            Err(RlpxError::TagCheckDecryptFailed)
        ));
        for i in 65..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(matches!(
                decrypt(&key(3), &bad, &[]),
                Err(RlpxError::TagCheckDecryptFailed)
            ));
        }
    }

    #[test]
    fn short_or_keyless_input_is_refused() {
        assert!(matches!(
            decrypt(&key(3), &[4u8; 112], &[]),
            Err(RlpxError::EciesTooShort { .. })
        ));
        assert!(matches!(
            decrypt(&key(3), &[0u8; 200], &[]),
            Err(RlpxError::InvalidPublicKey)
        ));
        assert!(matches!(
            decrypt(&key(3), &[4u8; 200], &[]),
            Err(RlpxError::InvalidPublicKey)
        ));
    }
}
