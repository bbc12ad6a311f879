//! The devnet's deployer/checkpointer key: derived from the seed, signing real
//! secp256k1 transaction signatures.

use alloy_primitives::{Address, B256, Signature, U256, keccak256};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

use crate::L1Error;

/// Domain separator of the key derivation, so other devnet keys derived from the same
/// seed (Bor validators, Heimdall) never collide with this one.
const KEY_DOMAIN: &[u8] = b"hypasis-devnet-l1/checkpointer";

/// A secp256k1 key and its Ethereum address.
#[derive(Clone)]
pub(crate) struct DevnetKey {
    secret: SecretKey,
    address: Address,
}

impl std::fmt::Debug for DevnetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevnetKey")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl DevnetKey {
    /// The key for `seed`: keccak256(domain ‖ seed as 8 big-endian bytes ‖ counter), the first
    /// counter that gives a valid secret key (the first one, in all but a 2^-128 case).
    pub(crate) fn from_seed(seed: u64) -> Self {
        let mut counter = 0u32;
        loop {
            let mut preimage = KEY_DOMAIN.to_vec();
            preimage.extend_from_slice(&seed.to_be_bytes());
            preimage.extend_from_slice(&counter.to_be_bytes());
            if let Ok(secret) = SecretKey::from_byte_array(keccak256(&preimage).0) {
                let address = address_of(&PublicKey::from_secret_key(SECP256K1, &secret));
                return Self { secret, address };
            }
            counter += 1;
        }
    }

    /// The key's Ethereum address.
    pub(crate) fn address(&self) -> Address {
        self.address
    }

    /// Signs a 32-byte digest (a transaction's signature hash): low-s, with y parity.
    pub(crate) fn sign(&self, digest: B256) -> Signature {
        let signature =
            SECP256K1.sign_ecdsa_recoverable(Message::from_digest(digest.0), &self.secret);
        let (recovery_id, compact) = signature.serialize_compact();
        let r = U256::from_be_slice(&compact[..32]);
        let s = U256::from_be_slice(&compact[32..]);
        Signature::new(r, s, i32::from(recovery_id) == 1)
    }
}

/// The address whose key produced `signature` over `digest`.
pub(crate) fn recover_signer(digest: B256, signature: &Signature) -> Result<Address, L1Error> {
    let recovery_id = RecoveryId::try_from(i32::from(signature.v()))
        .map_err(|error| L1Error::Signing(error.to_string()))?;
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let recoverable = RecoverableSignature::from_compact(&compact, recovery_id)
        .map_err(|error| L1Error::Signing(error.to_string()))?;
    let public = SECP256K1
        .recover_ecdsa(Message::from_digest(digest.0), &recoverable)
        .map_err(|error| L1Error::Signing(error.to_string()))?;
    Ok(address_of(&public))
}

/// keccak256 of the uncompressed public key without its 0x04 prefix, last 20 bytes.
fn address_of(public: &PublicKey) -> Address {
    Address::from_slice(&keccak256(&public.serialize_uncompressed()[1..])[12..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_matches_a_known_key() {
        // The well-known Hardhat/Anvil account 0: private key 0xac09…ff80.
        let secret = SecretKey::from_byte_array(
            alloy_primitives::b256!(
                "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            )
            .0,
        )
        .unwrap();
        let address = address_of(&PublicKey::from_secret_key(SECP256K1, &secret));
        assert_eq!(
            address,
            alloy_primitives::address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        );
    }

    #[test]
    fn seeds_give_distinct_stable_keys_and_signatures_recover() {
        let a = DevnetKey::from_seed(1);
        assert_eq!(a.address(), DevnetKey::from_seed(1).address());
        assert_ne!(a.address(), DevnetKey::from_seed(2).address());
        let digest = keccak256(b"a transaction");
        let signature = a.sign(digest);
        assert_eq!(recover_signer(digest, &signature).unwrap(), a.address());
        assert_ne!(
            recover_signer(keccak256(b"another"), &signature).unwrap(),
            a.address()
        );
    }
}
