//! Real signed transactions (legacy with EIP-155, EIP-2930, EIP-1559) and
//! the receipts and logs that go with them. Nothing is executed: gas and
//! logs are chosen, not computed, and state roots are not real.

use alloy_consensus::{
    Receipt, ReceiptEnvelope, ReceiptWithBloom, SignableTransaction, TxEip1559, TxEip2930,
    TxEnvelope, TxLegacy,
};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
};
use alloy_primitives::{Address, B256, Bytes, Log, LogData, TxKind, U256, keccak256};
use alloy_rlp::Encodable;
use hypasis_polygon::bor::sign_hash;
use secp256k1::SecretKey;

use crate::{
    block::{DevReceipt, DevTx},
    keys::{Stream, address_of, derive_key},
};

/// keccak("Transfer(address,address,uint256)").
pub const TRANSFER_TOPIC: B256 =
    alloy_primitives::b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// The accounts that send transactions, with their nonces.
#[derive(Debug, Clone)]
pub struct Senders {
    keys: Vec<SecretKey>,
    addresses: Vec<Address>,
    nonces: Vec<u64>,
    tokens: Vec<Address>,
}

/// A transaction and its receipt, before the block is assembled.
pub struct Generated {
    /// The transaction.
    pub tx: DevTx,
    /// Its receipt.
    pub receipt: DevReceipt,
}

/// Gas-price inputs for one block.
#[derive(Debug, Clone, Copy)]
pub struct Fees {
    /// The block's base fee, from London on.
    pub base_fee: Option<u64>,
    /// Whether typed EIP-1559 transactions are allowed.
    pub london: bool,
}

impl Senders {
    /// `count` funded accounts and a few token contracts, from the seed.
    pub fn new(seed: u64, count: usize) -> Self {
        let keys: Vec<SecretKey> = (0..count as u64)
            .map(|index| derive_key(seed, "account", index))
            .collect();
        let addresses = keys.iter().map(address_of).collect();
        let tokens = (0..4u64)
            .map(|index| {
                Address::from_slice(
                    &keccak256(
                        [
                            b"token".as_slice(),
                            &seed.to_be_bytes(),
                            &index.to_be_bytes(),
                        ]
                        .concat(),
                    )[12..],
                )
            })
            .collect();
        Senders {
            keys,
            addresses,
            nonces: vec![0; count],
            tokens,
        }
    }

    /// Makes one transaction and its receipt; `cumulative` is the block's gas so far.
    pub fn next(
        &mut self,
        stream: &mut Stream,
        chain_id: u64,
        fees: Fees,
        cumulative: u64,
    ) -> Generated {
        let sender_index = stream.below(self.keys.len() as u64) as usize;
        let sender = self.addresses[sender_index];
        let nonce = self.nonces[sender_index];
        self.nonces[sender_index] += 1;
        let tip: u128 = 30_000_000_000;
        let base_fee = u128::from(fees.base_fee.unwrap_or(0));
        let kind = stream.below(20);
        let recipient = Address::from_slice(&stream.bytes32()[12..]);
        let token = self.tokens[stream.below(self.tokens.len() as u64) as usize];

        // What the transaction does: a transfer, a token transfer (with a
        // Transfer log, sometimes failing), or a contract creation.
        let (to, value, input, gas_limit, gas_used, logs, status) = match kind {
            0..=9 => (
                TxKind::Call(recipient),
                U256::from(stream.below(1 << 40)),
                Bytes::new(),
                21_000,
                21_000,
                Vec::new(),
                true,
            ),
            10..=18 => {
                let amount = U256::from(stream.below(1 << 50));
                let mut input = vec![0xa9, 0x05, 0x9c, 0xbb];
                input.extend_from_slice(&[0u8; 12]);
                input.extend_from_slice(recipient.as_slice());
                input.extend_from_slice(&amount.to_be_bytes::<32>());
                let failed = stream.chance(5);
                let logs = if failed {
                    Vec::new()
                } else {
                    vec![Log {
                        address: token,
                        data: LogData::new_unchecked(
                            vec![TRANSFER_TOPIC, sender.into_word(), recipient.into_word()],
                            Bytes::from(amount.to_be_bytes::<32>().to_vec()),
                        ),
                    }]
                };
                (
                    TxKind::Call(token),
                    U256::ZERO,
                    Bytes::from(input),
                    90_000,
                    34_000 + stream.below(20_000),
                    logs,
                    !failed,
                )
            }
            _ => {
                let code = Bytes::from(stream.bytes32().to_vec());
                (
                    TxKind::Create,
                    U256::ZERO,
                    code,
                    300_000,
                    120_000 + stream.below(50_000),
                    Vec::new(),
                    true,
                )
            }
        };
        let access_list = AccessList(vec![AccessListItem {
            address: match to {
                TxKind::Call(address) => address,
                TxKind::Create => recipient,
            },
            storage_keys: vec![B256::from(stream.bytes32())],
        }]);
        let type_choice = stream.below(if fees.london { 3 } else { 2 });
        let key = &self.keys[sender_index];
        let (envelope, tx_type, effective_gas_price) = match type_choice {
            0 => {
                let tx = TxLegacy {
                    chain_id: Some(chain_id),
                    nonce,
                    gas_price: base_fee + tip,
                    gas_limit,
                    to,
                    value,
                    input,
                };
                let signature = sign_hash(&tx.signature_hash(), key);
                (
                    TxEnvelope::from(tx.into_signed(signature)),
                    0u8,
                    base_fee + tip,
                )
            }
            1 => {
                let tx = TxEip2930 {
                    chain_id,
                    nonce,
                    gas_price: base_fee + tip,
                    gas_limit: gas_limit + 4_000,
                    to,
                    value,
                    access_list,
                    input,
                };
                let signature = sign_hash(&tx.signature_hash(), key);
                (
                    TxEnvelope::from(tx.into_signed(signature)),
                    1,
                    base_fee + tip,
                )
            }
            _ => {
                let max_fee = base_fee * 2 + tip;
                let tx = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: gas_limit + 4_000,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip,
                    to,
                    value,
                    access_list,
                    input,
                };
                let signature = sign_hash(&tx.signature_hash(), key);
                (
                    TxEnvelope::from(tx.into_signed(signature)),
                    2,
                    base_fee + tip.min(max_fee - base_fee),
                )
            }
        };
        let bytes = Bytes::from(envelope.encoded_2718());
        let contract_address = matches!(to, TxKind::Create).then(|| sender.create(nonce));
        let cumulative_gas_used = cumulative + gas_used;
        let receipt = ReceiptWithBloom::from(Receipt {
            status: status.into(),
            cumulative_gas_used,
            logs: logs.clone(),
        });
        let bloom = receipt.logs_bloom;
        let receipt_envelope = match tx_type {
            0 => ReceiptEnvelope::Legacy(receipt),
            1 => ReceiptEnvelope::Eip2930(receipt),
            _ => ReceiptEnvelope::Eip1559(receipt),
        };
        Generated {
            tx: DevTx {
                hash: keccak256(&bytes),
                envelope: bytes,
                sender,
                to: match to {
                    TxKind::Call(address) => Some(address),
                    TxKind::Create => None,
                },
                contract_address,
            },
            receipt: DevReceipt {
                envelope: Bytes::from(receipt_envelope.encoded_2718()),
                tx_type,
                status,
                cumulative_gas_used,
                gas_used,
                effective_gas_price,
                logs,
                bloom,
            },
        }
    }
}

/// The consensus encoding of a receipt of `tx_type` (used for Bor's 0x7F
/// type, which alloy does not know): `type ‖ rlp([status, gas, bloom, logs])`,
/// or the bare list for type 0.
pub fn encode_receipt(
    tx_type: u8,
    status: bool,
    cumulative_gas_used: u64,
    logs: Vec<Log>,
) -> (Bytes, alloy_primitives::Bloom) {
    let receipt = ReceiptWithBloom::from(Receipt {
        status: status.into(),
        cumulative_gas_used,
        logs,
    });
    let bloom = receipt.logs_bloom;
    let mut out = Vec::new();
    if tx_type != 0 {
        out.push(tx_type);
    }
    receipt.encode(&mut out);
    (Bytes::from(out), bloom)
}
