//! A block's transactions: decoding their EIP-2718 bytes, checking chain id
//! and signature, recovering the sender, and handing them to revm.

use alloy_consensus::{EthereumTxEnvelope, Transaction as _, TxEip4844};
use alloy_eips::eip2718::{Decodable2718, Typed2718};
use alloy_primitives::{Address, B256, U256, uint};
use revm::context::TxEnv;

use crate::forks::EthereumForks;

/// A transaction as a block holds it (blob transactions without sidecars).
pub(crate) type Transaction = EthereumTxEnvelope<TxEip4844>;

/// Half the order of secp256k1: EIP-2 (Homestead) rejects larger `s`.
const HALF_ORDER: U256 =
    uint!(0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0_U256);

/// A decoded transaction with its sender.
#[derive(Debug, Clone)]
pub(crate) struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// Who signed it.
    pub sender: Address,
    /// Its hash (keccak256 of the EIP-2718 bytes).
    pub hash: B256,
}

/// Decodes one EIP-2718 transaction, checks its chain id against the chain
/// (EIP-155 replay protection only from the `eip155` block) and its
/// signature (low `s` from Homestead), and recovers the sender.
pub(crate) fn decode(
    envelope: &[u8],
    forks: &EthereumForks,
    number: u64,
) -> Result<SignedTransaction, String> {
    let tx = Transaction::decode_2718_exact(envelope).map_err(|error| error.to_string())?;
    match (tx.chain_id(), tx.is_legacy()) {
        (Some(id), true) if !forks.is_block_active("eip155", number) => {
            return Err(format!("chain id {id} before EIP-155"));
        }
        (Some(id), _) if id != forks.chain_id => {
            return Err(format!("chain id {id}, the chain's is {}", forks.chain_id));
        }
        (None, false) => return Err("typed transaction without chain id".into()),
        _ => {}
    }
    let signature = tx.signature();
    if forks.is_block_active("homestead", number) && signature.s() > HALF_ORDER {
        return Err("signature s is above half the curve order (EIP-2)".into());
    }
    let sender = hypasis_polygon::bor::recover_address(&tx.signature_hash(), signature)
        .map_err(|error| format!("signature does not recover a sender: {error}"))?;
    Ok(SignedTransaction {
        hash: hypasis_polygon::roots::transaction_hash(envelope),
        tx,
        sender,
    })
}

/// The number of blobs a transaction carries.
pub(crate) fn blob_count(tx: &Transaction) -> u64 {
    tx.blob_versioned_hashes()
        .map_or(0, |hashes| hashes.len() as u64)
}

/// The transaction as revm runs it.
pub(crate) fn tx_env(signed: &SignedTransaction) -> TxEnv {
    let tx = &signed.tx;
    let mut env = TxEnv {
        tx_type: tx.ty(),
        caller: signed.sender,
        gas_limit: tx.gas_limit(),
        // The gas price for legacy and access-list transactions, the fee cap
        // for the others.
        gas_price: tx.max_fee_per_gas(),
        kind: tx.kind(),
        value: tx.value(),
        data: tx.input().clone(),
        nonce: tx.nonce(),
        chain_id: tx.chain_id(),
        access_list: tx.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: tx.max_priority_fee_per_gas(),
        blob_hashes: tx
            .blob_versioned_hashes()
            .map(<[B256]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or_default(),
        authorization_list: Vec::new(),
    };
    if let Some(list) = tx.authorization_list() {
        // revm recovers each authority itself and skips invalid ones.
        env.set_signed_authorization(list.to_vec());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::TxKind;

    fn forks(chain_id: u64) -> EthereumForks {
        let config = serde_json::from_str(&format!(
            r#"{{"chainId":{chain_id},"homesteadBlock":0,"eip155Block":5,"londonBlock":0}}"#
        ))
        .unwrap();
        EthereumForks::from_config(&config).unwrap()
    }

    fn sign<T>(tx: T) -> (Vec<u8>, Address)
    where
        T: SignableTransaction<alloy_primitives::Signature>,
        alloy_consensus::Signed<T>: Into<Transaction>,
    {
        let key = secp256k1::SecretKey::from_byte_array([7; 32]).unwrap();
        let public = key.public_key(secp256k1::SECP256K1);
        let signature = hypasis_polygon::bor::sign_hash(&tx.signature_hash(), &key);
        let signed: Transaction = tx.into_signed(signature).into();
        (
            signed.encoded_2718(),
            hypasis_polygon::bor::address_of(&public),
        )
    }

    #[test]
    fn recovers_senders_and_checks_chain_ids() {
        let (bytes, sender) = sign(TxEip1559 {
            chain_id: 9,
            nonce: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(1)),
            ..Default::default()
        });
        let decoded = decode(&bytes, &forks(9), 10).unwrap();
        assert_eq!(decoded.sender, sender);
        assert_eq!(tx_env(&decoded).tx_type, 2);
        assert!(
            decode(&bytes, &forks(8), 10)
                .unwrap_err()
                .contains("chain id 9")
        );

        let (legacy, _) = sign(TxLegacy {
            chain_id: Some(9),
            gas_limit: 21_000,
            ..Default::default()
        });
        assert!(decode(&legacy, &forks(9), 10).is_ok());
        assert!(
            decode(&legacy, &forks(9), 4)
                .unwrap_err()
                .contains("before EIP-155")
        );
        assert!(decode(&legacy[..legacy.len() - 1], &forks(9), 10).is_err());
    }
}
