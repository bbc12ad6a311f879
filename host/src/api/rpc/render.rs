//! Stored blocks as Ethereum JSON-RPC shows them, rendered from the raw
//! parts the store holds (header, body, receipts and Bor's state-sync
//! receipt). Field names and encodings are go-ethereum's, through
//! [`hypasis_polygon::rpc_json`]; the two dialects differ only where the
//! producers do:
//! - **Bor** (mainnet, Amoy, the devnet): before Madhugiri a block with
//!   state syncs lists Bor's derived transaction last (a zeroed legacy
//!   transaction whose hash Bor derives from the block) and its receipt
//!   last in `eth_getBlockReceipts`; no `blockTimestamp`.
//! - **Ethereum** (chains taken in by `import`): `blockTimestamp` in
//!   transactions and logs, withdrawals, blob gas.
//!
//! `totalDifficulty` is not rendered: the store does not keep it per block
//! (go-ethereum dropped the field from its JSON too).

use alloy_consensus::{Header, Transaction, TxEnvelope};
use alloy_eips::{eip2718::Decodable2718, eip4895::Withdrawal, eip7840::BlobParams};
use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::{Decodable, Header as RlpHeader};
use hypasis_plugin_api::BlockPart;
use hypasis_polygon::{
    ChainSpec, decode_header,
    roots::envelope_items,
    rpc_json::{
        BorReceiptPlace, ReceiptView, TxContext, bor_receipt_json, data, header_json, quantity,
        receipt_json, recover_sender, transaction_json,
    },
    state_sync::{STATE_SYNC_TX_TYPE, bor_receipt_tx_hash},
};
use serde_json::{Map, Value, json};

use crate::{
    block_store::BlockStore,
    plugins::{PluginCallError, StoragePlugin},
};

/// Gas per blob (EIP-4844).
const GAS_PER_BLOB: u64 = 131_072;

/// A stored block that cannot be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] PluginCallError),
    /// A stored part does not decode (a damaged store).
    #[error("stored block {number}: {reason}")]
    Corrupt {
        /// The block.
        number: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Which producer's JSON to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Bor: derived state-sync transaction and receipt, no `blockTimestamp`.
    Bor,
    /// go-ethereum: `blockTimestamp` in transactions and logs.
    Ethereum,
}

impl Dialect {
    /// The dialect of a chain: Bor for chains with an L1 (Polygon), Ethereum
    /// for imported ones.
    pub fn of(spec: &ChainSpec) -> Self {
        if spec.l1.chain_id != 0 {
            Dialect::Bor
        } else {
            Dialect::Ethereum
        }
    }
}

/// One transaction of a stored block.
struct StoredTx {
    envelope: Vec<u8>,
    /// As stored at ingest (computed here only for a store without them).
    hash: B256,
    /// As stored once sync recovered it; `None` means recover at render.
    sender: Option<Address>,
}

impl StoredTx {
    /// The sender: stored, or recovered from the signature now.
    fn sender(&self, number: u64, index: usize) -> Result<Address, RenderError> {
        match self.sender {
            Some(sender) => Ok(sender),
            None => recover_sender(&self.envelope)
                .map_err(|reason| corrupt(number, format!("transaction {index}: {reason}"))),
        }
    }
}

/// A part the store may not keep (a store built against an older ABI
/// answers `Unsupported`): `None` then, as if not stored.
fn optional_part(
    store: &StoragePlugin,
    part: BlockPart,
    hash: B256,
) -> Result<Option<crate::block_store::StoredBytes>, RenderError> {
    match store.part(part, hash) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.error.kind == hypasis_plugin_api::ErrorKind::Unsupported => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// A stored block, decoded as far as rendering needs.
pub struct StoredBlock {
    /// Its number.
    pub number: u64,
    /// Its hash.
    pub hash: B256,
    /// The decoded header.
    pub header: Header,
    header_len: usize,
    body_payload_len: Option<usize>,
    transactions: Option<Vec<StoredTx>>,
    uncles: Vec<B256>,
    withdrawals: Option<Vec<Withdrawal>>,
    receipts: Option<Vec<(u8, alloy_consensus::ReceiptWithBloom)>>,
    state_sync: Option<alloy_consensus::ReceiptWithBloom>,
}

fn corrupt(number: u64, reason: impl std::fmt::Display) -> RenderError {
    RenderError::Corrupt {
        number,
        reason: reason.to_string(),
    }
}

/// The items of an RLP list, each with its own prefix.
fn list_items(bytes: &[u8]) -> Result<(Vec<&[u8]>, usize), String> {
    let mut cursor = bytes;
    let header = RlpHeader::decode(&mut cursor).map_err(|error| error.to_string())?;
    if !header.list || cursor.len() != header.payload_length {
        return Err("not a single RLP list".into());
    }
    let payload_len = header.payload_length;
    let mut items = Vec::new();
    while !cursor.is_empty() {
        let before = cursor;
        let item = RlpHeader::decode(&mut cursor).map_err(|error| error.to_string())?;
        if cursor.len() < item.payload_length {
            return Err("an item runs past the end".into());
        }
        cursor = &cursor[item.payload_length..];
        items.push(&before[..before.len() - cursor.len()]);
    }
    Ok((items, payload_len))
}

/// Decodes one consensus receipt (`type ‖ rlp` or a bare legacy list).
fn decode_receipt(item: &[u8]) -> Result<(u8, alloy_consensus::ReceiptWithBloom), String> {
    let (tx_type, mut rest) = match item.first() {
        Some(byte) if *byte < 0xc0 => (*byte, &item[1..]),
        Some(_) => (0, item),
        None => return Err("empty receipt".into()),
    };
    let receipt =
        alloy_consensus::ReceiptWithBloom::decode(&mut rest).map_err(|error| error.to_string())?;
    Ok((tx_type, receipt))
}

impl StoredBlock {
    /// Reads block `hash` (number `number`) from the store: the header, and
    /// the body and receipts when `body` / `receipts`. `None` when the
    /// header is not stored.
    pub fn load(
        store: &StoragePlugin,
        number: u64,
        hash: B256,
        body: bool,
        receipts: bool,
    ) -> Result<Option<Self>, RenderError> {
        let Some(header_rlp) = store.part(BlockPart::Header, hash)? else {
            return Ok(None);
        };
        let header = decode_header(&header_rlp).map_err(|error| corrupt(number, error))?;
        let mut block = StoredBlock {
            number,
            hash,
            header,
            header_len: header_rlp.len(),
            body_payload_len: None,
            transactions: None,
            uncles: Vec::new(),
            withdrawals: None,
            receipts: None,
            state_sync: None,
        };
        if body && let Some(bytes) = store.part(BlockPart::Body, hash)? {
            block.set_body(&bytes)?;
            let hashes = optional_part(store, BlockPart::TxHashes, hash)?;
            let senders = optional_part(store, BlockPart::Senders, hash)?;
            block.set_stored_index(hashes.as_deref(), senders.as_deref());
        }
        if receipts && let Some(bytes) = store.part(BlockPart::Receipts, hash)? {
            let items = envelope_items("receipts", &bytes).map_err(|e| corrupt(number, e))?;
            let decoded = items
                .into_iter()
                .map(decode_receipt)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| corrupt(number, format!("receipts: {reason}")))?;
            block.receipts = Some(decoded);
        }
        // Bor's state-sync receipt decides whether the block lists Bor's
        // derived transaction, so it is read with the body too.
        if (body || receipts)
            && let Some(bytes) = store.part(BlockPart::StateSync, hash)?
        {
            let (_, receipt) = decode_receipt(&bytes)
                .map_err(|reason| corrupt(number, format!("state-sync receipt: {reason}")))?;
            block.state_sync = Some(receipt);
        }
        Ok(Some(block))
    }

    fn set_body(&mut self, bytes: &[u8]) -> Result<(), RenderError> {
        let number = self.number;
        let (items, payload_len) =
            list_items(bytes).map_err(|reason| corrupt(number, format!("body: {reason}")))?;
        if !(2..=3).contains(&items.len()) {
            return Err(corrupt(number, format!("body has {} parts", items.len())));
        }
        let transactions = envelope_items("transactions", items[0])
            .map_err(|error| corrupt(number, error))?
            .into_iter()
            .map(|envelope| StoredTx {
                hash: B256::ZERO,
                envelope: envelope.to_vec(),
                sender: None,
            })
            .collect();
        let (uncles, _) =
            list_items(items[1]).map_err(|reason| corrupt(number, format!("uncles: {reason}")))?;
        self.uncles = uncles.into_iter().map(keccak256).collect();
        if let Some(withdrawals) = items.get(2) {
            let mut cursor = *withdrawals;
            self.withdrawals = Some(
                Vec::<Withdrawal>::decode(&mut cursor)
                    .map_err(|error| corrupt(number, format!("withdrawals: {error}")))?,
            );
        }
        self.transactions = Some(transactions);
        self.body_payload_len = Some(payload_len);
        Ok(())
    }

    /// Takes the transaction hashes and senders stored at ingest (32 and 20
    /// bytes per transaction); hashes not stored, or not matching the
    /// body's count, are computed, and senders not stored are recovered
    /// when rendered.
    fn set_stored_index(&mut self, hashes: Option<&[u8]>, senders: Option<&[u8]>) {
        let Some(transactions) = self.transactions.as_mut() else {
            return;
        };
        let count = transactions.len();
        match hashes.filter(|bytes| bytes.len() == count * 32) {
            Some(bytes) => {
                for (tx, hash) in transactions.iter_mut().zip(bytes.chunks_exact(32)) {
                    tx.hash = B256::from_slice(hash);
                }
            }
            None => {
                for tx in transactions.iter_mut() {
                    tx.hash = keccak256(&tx.envelope);
                }
            }
        }
        if let Some(bytes) = senders.filter(|bytes| bytes.len() == count * 20) {
            for (tx, sender) in transactions.iter_mut().zip(bytes.chunks_exact(20)) {
                tx.sender = Some(Address::from_slice(sender));
            }
        }
    }

    /// Whether the body was stored (and asked for).
    pub fn has_body(&self) -> bool {
        self.transactions.is_some()
    }

    /// Whether the receipts were stored (and asked for).
    pub fn has_receipts(&self) -> bool {
        self.receipts.is_some()
    }

    fn txs(&self) -> &[StoredTx] {
        self.transactions.as_deref().unwrap_or_default()
    }

    /// The hash of Bor's derived state-sync transaction, when the block has
    /// a separately stored state-sync receipt.
    fn bor_tx_hash(&self, dialect: Dialect) -> Option<B256> {
        (dialect == Dialect::Bor && self.state_sync.is_some())
            .then(|| bor_receipt_tx_hash(self.number, &self.hash))
    }

    /// Transactions as the API counts them (Bor's derived one included).
    pub fn transaction_count(&self, dialect: Dialect) -> usize {
        self.txs().len() + usize::from(self.bor_tx_hash(dialect).is_some())
    }

    /// The block's RLP size (header, transactions, uncles, withdrawals).
    fn size(&self) -> u64 {
        let payload = self.header_len + self.body_payload_len.unwrap_or(2);
        let prefix = if payload < 56 {
            1
        } else {
            1 + (usize::BITS - payload.leading_zeros()).div_ceil(8) as usize
        };
        (prefix + payload) as u64
    }

    fn context(&self, dialect: Dialect, index: usize) -> TxContext {
        TxContext {
            block_hash: self.hash,
            block_number: self.number,
            block_timestamp: (dialect == Dialect::Ethereum).then_some(self.header.timestamp),
            index: index as u64,
            base_fee: self.header.base_fee_per_gas,
        }
    }

    /// Transaction `index` as `eth_getTransactionByHash` shows it.
    pub fn transaction_json(
        &self,
        dialect: Dialect,
        index: usize,
    ) -> Result<Option<Value>, RenderError> {
        if let Some(tx) = self.txs().get(index) {
            let sender = tx.sender(self.number, index)?;
            return transaction_json(
                &tx.envelope,
                &tx.hash,
                &sender,
                &self.context(dialect, index),
            )
            .map(Some)
            .map_err(|error| corrupt(self.number, error));
        }
        match self.bor_tx_hash(dialect) {
            Some(hash) if index == self.txs().len() => Ok(Some(self.bor_transaction_json(hash))),
            _ => Ok(None),
        }
    }

    /// Bor's derived transaction: zeroed fields, the derived hash.
    fn bor_transaction_json(&self, hash: B256) -> Value {
        json!({
            "blockHash": data(self.hash.as_slice()),
            "blockNumber": quantity(self.number),
            "from": data(Address::ZERO.as_slice()),
            "gas": quantity(0),
            "gasPrice": quantity(0),
            "hash": data(hash.as_slice()),
            "input": "0x",
            "nonce": quantity(0),
            "to": data(Address::ZERO.as_slice()),
            "transactionIndex": quantity(self.txs().len() as u64),
            "value": quantity(0),
            "type": quantity(0),
            "v": quantity(0),
            "r": quantity(0),
            "s": quantity(0),
        })
    }

    /// The block as `eth_getBlockByNumber` shows it, with transaction
    /// hashes or full transactions.
    pub fn block_json(&self, dialect: Dialect, full: bool) -> Result<Value, RenderError> {
        let mut out: Map<String, Value> = header_json(&self.header, &self.hash);
        let mut transactions = Vec::with_capacity(self.transaction_count(dialect));
        for index in 0..self.transaction_count(dialect) {
            if full {
                if let Some(tx) = self.transaction_json(dialect, index)? {
                    transactions.push(tx);
                }
            } else if let Some(tx) = self.txs().get(index) {
                transactions.push(data(tx.hash.as_slice()));
            } else if let Some(hash) = self.bor_tx_hash(dialect) {
                transactions.push(data(hash.as_slice()));
            }
        }
        out.insert("size".into(), quantity(self.size()));
        out.insert("transactions".into(), Value::Array(transactions));
        out.insert(
            "uncles".into(),
            Value::Array(
                self.uncles
                    .iter()
                    .map(|hash| data(hash.as_slice()))
                    .collect(),
            ),
        );
        if let Some(withdrawals) = &self.withdrawals {
            out.insert(
                "withdrawals".into(),
                Value::Array(
                    withdrawals
                        .iter()
                        .map(|withdrawal| {
                            json!({
                                "index": quantity(withdrawal.index),
                                "validatorIndex": quantity(withdrawal.validator_index),
                                "address": data(withdrawal.address.as_slice()),
                                "amount": quantity(withdrawal.amount),
                            })
                        })
                        .collect(),
                ),
            );
        }
        Ok(Value::Object(out))
    }

    /// The blob fee per gas under this block's excess blob gas.
    fn blob_gas_price(&self, spec: &ChainSpec) -> Option<u128> {
        let excess = self.header.excess_blob_gas?;
        let prague = spec
            .timestamp_forks
            .iter()
            .any(|fork| fork.name == "prague" && fork.block <= self.header.timestamp);
        let params = if prague {
            BlobParams::prague()
        } else {
            BlobParams::cancun()
        };
        Some(params.calc_blob_fee(excess))
    }

    /// Receipt `index` as `eth_getTransactionReceipt` shows it (the
    /// receipts must have been loaded).
    pub fn receipt_json(
        &self,
        spec: &ChainSpec,
        dialect: Dialect,
        index: usize,
    ) -> Result<Option<Value>, RenderError> {
        let Some(receipts) = &self.receipts else {
            return Ok(None);
        };
        let first_log_index = receipts[..index.min(receipts.len())]
            .iter()
            .map(|(_, receipt)| receipt.receipt.logs.len() as u64)
            .sum();
        let block_timestamp = (dialect == Dialect::Ethereum).then_some(self.header.timestamp);
        if index == receipts.len()
            && let (Some(hash), Some(receipt)) = (self.bor_tx_hash(dialect), &self.state_sync)
        {
            let place = BorReceiptPlace {
                tx_hash: hash,
                tx_index: index as u64,
                block_hash: self.hash,
                block_number: self.number,
                block_timestamp,
                first_log_index,
            };
            return Ok(Some(bor_receipt_json(
                &place,
                &receipt.receipt.logs,
                &receipt.logs_bloom,
            )));
        }
        let (Some((tx_type, receipt)), Some(tx)) = (receipts.get(index), self.txs().get(index))
        else {
            return Ok(None);
        };
        let number = self.number;
        let previous = index
            .checked_sub(1)
            .and_then(|before| receipts.get(before))
            .map_or(0, |(_, receipt)| receipt.receipt.cumulative_gas_used);
        let cumulative = receipt.receipt.cumulative_gas_used;
        let (from, to, contract_address, effective_gas_price, blob_gas) =
            if tx.envelope.first() == Some(&STATE_SYNC_TX_TYPE) {
                (Address::ZERO, Some(Address::ZERO), None, 0, None)
            } else {
                let envelope = TxEnvelope::decode_2718(&mut tx.envelope.as_slice())
                    .map_err(|error| corrupt(number, format!("transaction {index}: {error}")))?;
                let from = tx.sender(number, index)?;
                let to = envelope.to();
                let created = to.is_none().then(|| from.create(envelope.nonce()));
                let price = envelope.effective_gas_price(self.header.base_fee_per_gas);
                let blobs = envelope
                    .blob_versioned_hashes()
                    .map(|hashes| hashes.len() as u64 * GAS_PER_BLOB);
                (from, to, created, price, blobs)
            };
        let view = ReceiptView {
            tx_hash: tx.hash,
            tx_index: index as u64,
            block_hash: self.hash,
            block_number: number,
            block_timestamp,
            from,
            to,
            contract_address,
            tx_type: *tx_type,
            status: receipt.receipt.status.coerce_status(),
            cumulative_gas_used: cumulative,
            gas_used: cumulative.saturating_sub(previous),
            effective_gas_price,
            logs: &receipt.receipt.logs,
            bloom: &receipt.logs_bloom,
            first_log_index,
        };
        let mut json = receipt_json(&view);
        if let Value::Object(fields) = &mut json {
            if let alloy_consensus::Eip658Value::PostState(root) = receipt.receipt.status {
                // Pre-Byzantium receipts carry the post-state root instead of a status.
                fields.remove("status");
                fields.insert("root".into(), data(root.as_slice()));
            }
            if let Some(used) = blob_gas {
                fields.insert("blobGasUsed".into(), quantity(used));
                if let Some(price) = self.blob_gas_price(spec) {
                    fields.insert("blobGasPrice".into(), Value::String(format!("{price:#x}")));
                }
            }
        }
        Ok(Some(json))
    }

    /// Every receipt as `eth_getBlockReceipts` shows them (`None` when the
    /// receipts are not stored).
    pub fn receipts_json(
        &self,
        spec: &ChainSpec,
        dialect: Dialect,
    ) -> Result<Option<Value>, RenderError> {
        if self.receipts.is_none() {
            return Ok(None);
        }
        let mut list = Vec::with_capacity(self.transaction_count(dialect));
        for index in 0..self.transaction_count(dialect) {
            if let Some(receipt) = self.receipt_json(spec, dialect, index)? {
                list.push(receipt);
            }
        }
        Ok(Some(Value::Array(list)))
    }
}
