//! Bor's header rules: the seal hash, the signer, and the extra-data layout.
//!
//! `extraData = vanity (32) ‖ payload ‖ seal (65)`. Before Cancun the payload
//! is the raw validator list at sprint ends (40 bytes per validator: address
//! ‖ 20-byte big-endian power) and empty elsewhere; from Cancun on it is
//! always `RLP([validatorBytes, txDependency])`. The seal hash is the RLP of
//! the 15 legacy header fields with the seal cut off the extra data, plus the
//! base fee from Jaipur on.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use secp256k1::{
    Message, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

use crate::spec::ChainSpec;

/// Bytes of vanity at the start of extra data.
pub const EXTRA_VANITY: usize = 32;
/// Bytes of seal at the end of extra data.
pub const EXTRA_SEAL: usize = 65;
/// Bytes per validator in the validator list.
pub const VALIDATOR_BYTES: usize = 40;

/// A Bor header rule that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BorHeaderError {
    /// Extra data too short for vanity and seal.
    #[error("block {number}: extraData is {len} bytes, shorter than vanity + seal ({})", EXTRA_VANITY + EXTRA_SEAL)]
    ShortExtra {
        /// The block.
        number: u64,
        /// Its extra-data length.
        len: usize,
    },
    /// The seal is not a valid recoverable signature.
    #[error("block {number}: seal does not recover a signer: {reason}")]
    BadSeal {
        /// The block.
        number: u64,
        /// Why.
        reason: String,
    },
    /// The validator list is not a whole number of 40-byte entries.
    #[error("block {number}: validator bytes are {len} long, not a multiple of 40")]
    BadValidatorBytes {
        /// The block.
        number: u64,
        /// Their length.
        len: usize,
    },
}

/// The payload between vanity and seal from Cancun on.
#[derive(Debug, Clone, Default, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlockExtraData {
    /// The validator list at sprint ends, empty elsewhere.
    pub validator_bytes: Bytes,
    /// Per-transaction dependency lists (producers leave it empty).
    pub tx_dependency: Vec<Vec<u64>>,
}

/// A validator entry in a header: signer address and voting power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeaderValidator {
    /// Signer address.
    pub address: Address,
    /// Voting power.
    pub power: u64,
}

/// The hash Bor's producers sign.
pub fn seal_hash(header: &Header, spec: &ChainSpec) -> Result<B256, BorHeaderError> {
    let extra = header.extra_data.as_ref();
    if extra.len() < EXTRA_VANITY + EXTRA_SEAL {
        return Err(BorHeaderError::ShortExtra {
            number: header.number,
            len: extra.len(),
        });
    }
    let unsealed = &extra[..extra.len() - EXTRA_SEAL];
    let base_fee = header
        .base_fee_per_gas
        .filter(|_| spec.is_jaipur(header.number));
    let payload_length = header.parent_hash.length()
        + header.ommers_hash.length()
        + header.beneficiary.length()
        + header.state_root.length()
        + header.transactions_root.length()
        + header.receipts_root.length()
        + header.logs_bloom.length()
        + header.difficulty.length()
        + header.number.length()
        + header.gas_limit.length()
        + header.gas_used.length()
        + header.timestamp.length()
        + unsealed.length()
        + header.mix_hash.length()
        + header.nonce.length()
        + base_fee.map_or(0, |fee| fee.length());
    let mut out = Vec::with_capacity(payload_length + 4);
    alloy_rlp::Header {
        list: true,
        payload_length,
    }
    .encode(&mut out);
    header.parent_hash.encode(&mut out);
    header.ommers_hash.encode(&mut out);
    header.beneficiary.encode(&mut out);
    header.state_root.encode(&mut out);
    header.transactions_root.encode(&mut out);
    header.receipts_root.encode(&mut out);
    header.logs_bloom.encode(&mut out);
    header.difficulty.encode(&mut out);
    header.number.encode(&mut out);
    header.gas_limit.encode(&mut out);
    header.gas_used.encode(&mut out);
    header.timestamp.encode(&mut out);
    unsealed.encode(&mut out);
    header.mix_hash.encode(&mut out);
    header.nonce.encode(&mut out);
    if let Some(fee) = base_fee {
        fee.encode(&mut out);
    }
    Ok(keccak256(&out))
}

/// The address of a public key: the last 20 bytes of keccak of its 64 bytes.
pub fn address_of(public: &secp256k1::PublicKey) -> Address {
    Address::from_slice(&keccak256(&public.serialize_uncompressed()[1..])[12..])
}

/// Recovers the address that produced `signature` over `hash` (an
/// Ethereum transaction signature: r, s and the y parity).
pub fn recover_address(
    hash: &B256,
    signature: &alloy_primitives::Signature,
) -> Result<Address, String> {
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    compact[32..].copy_from_slice(&signature.s().to_be_bytes::<32>());
    let recovery =
        RecoveryId::try_from(i32::from(signature.v())).map_err(|error| error.to_string())?;
    let signature = RecoverableSignature::from_compact(&compact, recovery)
        .map_err(|error| error.to_string())?;
    let public = SECP256K1
        .recover_ecdsa(Message::from_digest(hash.0), &signature)
        .map_err(|error| error.to_string())?;
    Ok(address_of(&public))
}

/// Signs `hash` with `key`, as an Ethereum transaction signature.
pub fn sign_hash(hash: &B256, key: &SecretKey) -> alloy_primitives::Signature {
    let signature = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), key);
    let (recovery, compact) = signature.serialize_compact();
    alloy_primitives::Signature::new(
        alloy_primitives::U256::from_be_slice(&compact[..32]),
        alloy_primitives::U256::from_be_slice(&compact[32..]),
        i32::from(recovery) == 1,
    )
}

/// Recovers the producer that sealed `header`.
pub fn recover_signer(header: &Header, spec: &ChainSpec) -> Result<Address, BorHeaderError> {
    let hash = seal_hash(header, spec)?;
    let extra = header.extra_data.as_ref();
    let seal = &extra[extra.len() - EXTRA_SEAL..];
    let bad = |reason: String| BorHeaderError::BadSeal {
        number: header.number,
        reason,
    };
    let recovery = RecoveryId::try_from(i32::from(seal[64]))
        .map_err(|_| bad(format!("recovery id {} is not 0 or 1", seal[64])))?;
    let signature = RecoverableSignature::from_compact(&seal[..64], recovery)
        .map_err(|error| bad(error.to_string()))?;
    let public = SECP256K1
        .recover_ecdsa(Message::from_digest(hash.0), &signature)
        .map_err(|error| bad(error.to_string()))?;
    Ok(address_of(&public))
}

/// Seals `header` with `key`: writes the 65-byte signature over the seal
/// hash into the last 65 bytes of its extra data (which must be present).
pub fn seal(header: &mut Header, key: &SecretKey, spec: &ChainSpec) -> Result<(), BorHeaderError> {
    let hash = seal_hash(header, spec)?;
    let signature = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), key);
    let (recovery, compact) = signature.serialize_compact();
    let mut extra = header.extra_data.to_vec();
    let at = extra.len() - EXTRA_SEAL;
    extra[at..at + 64].copy_from_slice(&compact);
    extra[at + 64] = i32::from(recovery) as u8;
    header.extra_data = extra.into();
    Ok(())
}

/// Encodes a validator list the way headers carry it (sorted by the caller).
pub fn encode_validators(validators: &[HeaderValidator]) -> Vec<u8> {
    let mut out = Vec::with_capacity(validators.len() * VALIDATOR_BYTES);
    for validator in validators {
        out.extend_from_slice(validator.address.as_slice());
        out.extend_from_slice(&[0u8; 12]);
        out.extend_from_slice(&validator.power.to_be_bytes());
    }
    out
}

/// Builds unsealed extra data: vanity, the payload for `number` (validators
/// only given at sprint ends), and 65 zero bytes for the seal.
pub fn build_extra(
    vanity: [u8; EXTRA_VANITY],
    validators: Option<&[HeaderValidator]>,
    number: u64,
    spec: &ChainSpec,
) -> Vec<u8> {
    let raw = validators.map(encode_validators).unwrap_or_default();
    let mut extra = vanity.to_vec();
    if spec.is_cancun(number) {
        let payload = BlockExtraData {
            validator_bytes: raw.into(),
            tx_dependency: Vec::new(),
        };
        payload.encode(&mut extra);
    } else {
        extra.extend_from_slice(&raw);
    }
    extra.extend_from_slice(&[0u8; EXTRA_SEAL]);
    extra
}

/// The raw validator bytes a header carries (empty when it carries none).
/// From Cancun on, an undecodable payload yields no validators, as in Bor.
pub fn validator_bytes(header: &Header, spec: &ChainSpec) -> Result<Vec<u8>, BorHeaderError> {
    let extra = header.extra_data.as_ref();
    if extra.len() < EXTRA_VANITY + EXTRA_SEAL {
        return Err(BorHeaderError::ShortExtra {
            number: header.number,
            len: extra.len(),
        });
    }
    let payload = &extra[EXTRA_VANITY..extra.len() - EXTRA_SEAL];
    if !spec.is_cancun(header.number) {
        return Ok(payload.to_vec());
    }
    let mut cursor = payload;
    Ok(BlockExtraData::decode(&mut cursor)
        .map(|data| data.validator_bytes.to_vec())
        .unwrap_or_default())
}

/// Parses a validator list (40-byte entries).
pub fn parse_validators(number: u64, bytes: &[u8]) -> Result<Vec<HeaderValidator>, BorHeaderError> {
    if !bytes.len().is_multiple_of(VALIDATOR_BYTES) {
        return Err(BorHeaderError::BadValidatorBytes {
            number,
            len: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(VALIDATOR_BYTES)
        .map(|entry| {
            let mut power = [0u8; 8];
            power.copy_from_slice(&entry[32..40]);
            HeaderValidator {
                address: Address::from_slice(&entry[..20]),
                power: u64::from_be_bytes(power),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{U256, address};

    fn devnet_like_spec(cancun: Option<u64>) -> ChainSpec {
        let mut spec = ChainSpec::mainnet();
        spec.cancun_block = cancun;
        spec
    }

    #[test]
    fn seal_then_recover() {
        let key = SecretKey::from_byte_array([7u8; 32]).unwrap();
        let expected = address_of(&key.public_key(SECP256K1));
        let spec = ChainSpec::mainnet();
        for number in [100, 30_000_000] {
            let mut header = Header {
                number,
                difficulty: U256::from(3),
                base_fee_per_gas: (number >= 23_850_000).then_some(7),
                extra_data: build_extra([1; 32], None, number, &spec).into(),
                ..Default::default()
            };
            seal(&mut header, &key, &spec).unwrap();
            assert_eq!(recover_signer(&header, &spec).unwrap(), expected);
            header.gas_used += 1;
            assert_ne!(recover_signer(&header, &spec).unwrap(), expected);
        }
    }

    #[test]
    fn validator_bytes_before_and_after_cancun() {
        let validators = [
            HeaderValidator {
                address: address!("0375b2fc7140977c9c76d45421564e354ed42277"),
                power: 2,
            },
            HeaderValidator {
                address: address!("1ca971963bdb4ba2bf337c90660674acff5beb3f"),
                power: 300,
            },
        ];
        for spec in [devnet_like_spec(None), devnet_like_spec(Some(0))] {
            let header = Header {
                number: 63,
                extra_data: build_extra([0; 32], Some(&validators), 63, &spec).into(),
                ..Default::default()
            };
            let bytes = validator_bytes(&header, &spec).unwrap();
            assert_eq!(parse_validators(63, &bytes).unwrap(), validators);
        }
        // A non-sprint-end header after Cancun carries RLP([0x, []]) = c2 80 c0.
        let spec = devnet_like_spec(Some(0));
        let extra = build_extra([0; 32], None, 5, &spec);
        assert_eq!(&extra[32..35], &[0xc2, 0x80, 0xc0]);
        assert_eq!(
            parse_validators(9, &[0; 41]).unwrap_err(),
            BorHeaderError::BadValidatorBytes { number: 9, len: 41 }
        );
    }
}
