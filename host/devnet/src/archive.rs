//! Canonical blocks older than the chain's hot window, kept on disk so a
//! devnet chain can grow to millions of mainnet-like blocks on one
//! machine: an append-only file of block records, with only each block's
//! hash, file position and a compact transaction index in memory (~60
//! bytes per block and ~17 per transaction instead of the ~65 KB a
//! 100-transaction block takes as a [`DevBlock`]).
//!
//! A record holds the block's RLP (header, body, receipts, Bor's receipt)
//! as generated and the few facts that RLP does not carry (the senders,
//! the recipients and created contracts, each receipt's type, status, gas
//! and effective price, the total difficulty); reading a block back
//! decodes the rest, so [`ColdBlocks::block`] returns the block exactly as
//! it was made. The file lives in a temporary directory removed with the
//! chain.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Write},
    os::unix::fs::FileExt,
    sync::Arc,
};

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bloom, Bytes, Log, U256, keccak256};
use alloy_rlp::Decodable;

use crate::block::{BorReceipt, DevBlock, DevReceipt, DevTx};

/// Where one archived block is.
#[derive(Debug, Clone, Copy)]
struct Slot {
    offset: u64,
    len: u32,
    /// Length of the header part at the start of the record.
    header_len: u32,
    hash: B256,
}

/// The archived blocks `0..len()`, on disk.
pub struct ColdBlocks {
    file: File,
    _dir: tempfile::TempDir,
    end: u64,
    slots: Vec<Slot>,
    numbers: HashMap<B256, u64>,
    /// Transaction hash (first 8 bytes) → block number; a transaction whose
    /// prefix is taken goes to `tx_collisions` under its whole hash.
    txs: HashMap<u64, u32>,
    tx_collisions: HashMap<B256, u64>,
}

impl std::fmt::Debug for ColdBlocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColdBlocks")
            .field("blocks", &self.slots.len())
            .field("bytes", &self.end)
            .finish_non_exhaustive()
    }
}

fn tx_prefix(hash: &B256) -> u64 {
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(prefix)
}

fn corrupt(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("devnet archive: {what}"),
    )
}

impl ColdBlocks {
    /// An empty archive in a new temporary directory under `parent` (the
    /// system's temporary directory when `None`).
    pub fn new(parent: Option<&std::path::Path>) -> io::Result<Self> {
        let dir = match parent {
            Some(parent) => tempfile::Builder::new()
                .prefix("devnet-blocks")
                .tempdir_in(parent)?,
            None => tempfile::Builder::new().prefix("devnet-blocks").tempdir()?,
        };
        let file = File::options()
            .create_new(true)
            .read(true)
            .append(true)
            .open(dir.path().join("blocks.bin"))?;
        Ok(ColdBlocks {
            file,
            _dir: dir,
            end: 0,
            slots: Vec::new(),
            numbers: HashMap::new(),
            txs: HashMap::new(),
            tx_collisions: HashMap::new(),
        })
    }

    /// How many blocks are archived (numbers `0..len`).
    pub fn len(&self) -> u64 {
        self.slots.len() as u64
    }

    /// Whether nothing is archived yet.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Bytes of the archive file.
    pub fn bytes(&self) -> u64 {
        self.end
    }

    /// Appends the next block (its number must be [`ColdBlocks::len`]).
    pub fn push(&mut self, block: &DevBlock) -> io::Result<()> {
        if block.number() != self.len() {
            return Err(corrupt(format!(
                "block {} appended after {} blocks",
                block.number(),
                self.len()
            )));
        }
        let (record, header_len) = encode(block)?;
        let len = u32::try_from(record.len()).map_err(|_| corrupt("a record over 4 GiB"))?;
        (&self.file).write_all(&record)?;
        self.slots.push(Slot {
            offset: self.end,
            len,
            header_len,
            hash: block.hash,
        });
        self.end += u64::from(len);
        self.numbers.insert(block.hash, block.number());
        let number = u32::try_from(block.number()).map_err(|_| corrupt("block number over u32"))?;
        let bor = block.bor_receipt.as_ref().map(|bor| bor.tx_hash);
        for hash in block.txs.iter().map(|tx| tx.hash).chain(bor) {
            match self.txs.entry(tx_prefix(&hash)) {
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(number);
                }
                std::collections::hash_map::Entry::Occupied(_) => {
                    self.tx_collisions.insert(hash, block.number());
                }
            }
        }
        Ok(())
    }

    /// The hash of archived block `number`.
    pub fn hash(&self, number: u64) -> Option<B256> {
        Some(self.slots.get(usize::try_from(number).ok()?)?.hash)
    }

    /// The number of the archived block with `hash`.
    pub fn number_of(&self, hash: &B256) -> Option<u64> {
        self.numbers.get(hash).copied()
    }

    fn read(&self, number: u64, header_only: bool) -> io::Result<Option<(Slot, Vec<u8>)>> {
        let Some(slot) = usize::try_from(number)
            .ok()
            .and_then(|index| self.slots.get(index))
        else {
            return Ok(None);
        };
        let len = if header_only {
            slot.header_len
        } else {
            slot.len
        };
        let mut bytes = vec![0u8; len as usize];
        self.file.read_exact_at(&mut bytes, slot.offset)?;
        Ok(Some((*slot, bytes)))
    }

    /// The header of archived block `number` (one short read).
    pub fn header(&self, number: u64) -> Option<Header> {
        let result = self.read(number, true).and_then(|found| {
            found
                .map(|(_, bytes)| {
                    let mut reader = Reader::new(&bytes);
                    let rlp = reader.bytes()?;
                    Header::decode(&mut &rlp[..]).map_err(corrupt)
                })
                .transpose()
        });
        logged(number, result)
    }

    /// Archived block `number`, as it was made.
    pub fn block(&self, number: u64) -> Option<Arc<DevBlock>> {
        let result = self.read(number, false).and_then(|found| {
            found
                .map(|(slot, bytes)| decode(slot.hash, &bytes).map(Arc::new))
                .transpose()
        });
        logged(number, result)
    }

    /// An archived transaction's block and index (`index == txs.len()` is
    /// the bor receipt's).
    pub fn transaction(&self, hash: &B256) -> Option<(Arc<DevBlock>, usize)> {
        let number = match self.tx_collisions.get(hash) {
            Some(number) => *number,
            None => u64::from(*self.txs.get(&tx_prefix(hash))?),
        };
        let block = self.block(number)?;
        if let Some(index) = block.txs.iter().position(|tx| tx.hash == *hash) {
            return Some((block, index));
        }
        let bor = block.bor_receipt.as_ref()?.tx_hash == *hash;
        bor.then(|| {
            let index = block.txs.len();
            (block, index)
        })
    }
}

/// A failed read is the archive's fault, not the caller's: logged, and the
/// block is reported missing.
fn logged<T>(number: u64, result: io::Result<Option<T>>) -> Option<T> {
    result.unwrap_or_else(|error| {
        tracing::error!(number, %error, "devnet archive read failed");
        None
    })
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| corrupt("a part over 4 GiB"))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_address(out: &mut Vec<u8>, address: Option<Address>) {
    match address {
        Some(address) => {
            out.push(1);
            out.extend_from_slice(address.as_slice());
        }
        None => out.push(0),
    }
}

/// A record: `header RLP` (the header part), then the hash-free rest.
fn encode(block: &DevBlock) -> io::Result<(Vec<u8>, u32)> {
    let mut out = Vec::with_capacity(
        block.header_rlp.len() + block.body_rlp.len() + block.receipts_rlp.len() + 128,
    );
    put_bytes(&mut out, &block.header_rlp)?;
    let header_len = u32::try_from(out.len()).map_err(|_| corrupt("a header over 4 GiB"))?;
    put_bytes(&mut out, &block.body_rlp)?;
    put_bytes(&mut out, &block.receipts_rlp)?;
    out.extend_from_slice(&block.total_difficulty.to_le_bytes::<32>());
    out.extend_from_slice(block.signer.as_slice());
    out.extend_from_slice(&block.size.to_le_bytes());
    let count = u32::try_from(block.txs.len()).map_err(|_| corrupt("too many transactions"))?;
    if block.receipts.len() != block.txs.len() {
        return Err(corrupt(format!(
            "block {}: {} receipts for {} transactions",
            block.number(),
            block.receipts.len(),
            block.txs.len()
        )));
    }
    out.extend_from_slice(&count.to_le_bytes());
    for (tx, receipt) in block.txs.iter().zip(&block.receipts) {
        out.extend_from_slice(tx.sender.as_slice());
        put_address(&mut out, tx.to);
        put_address(&mut out, tx.contract_address);
        out.push(receipt.tx_type);
        out.push(u8::from(receipt.status));
        out.extend_from_slice(&receipt.gas_used.to_le_bytes());
        out.extend_from_slice(&receipt.effective_gas_price.to_le_bytes());
    }
    match &block.bor_receipt {
        Some(bor) => {
            out.push(1);
            out.extend_from_slice(bor.tx_hash.as_slice());
            put_bytes(&mut out, &bor.rlp)?;
        }
        None => out.push(0),
    }
    Ok((out, header_len))
}

/// Reads a record's fields in order.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn take(&mut self, len: usize) -> io::Result<&'a [u8]> {
        if self.bytes.len() < len {
            return Err(corrupt("a record ends early"));
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn bytes(&mut self) -> io::Result<&'a [u8]> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        self.take(len)
    }

    fn address(&mut self) -> io::Result<Option<Address>> {
        match self.array::<1>()? {
            [0] => Ok(None),
            [1] => Ok(Some(Address::from(self.array::<20>()?))),
            [other] => Err(corrupt(format!("address flag {other}"))),
        }
    }
}

/// The items of an RLP list (each as its whole encoding and its header).
fn list_items(mut data: &[u8]) -> io::Result<Vec<(alloy_rlp::Header, &[u8])>> {
    let header = alloy_rlp::Header::decode(&mut data).map_err(corrupt)?;
    if !header.list || header.payload_length > data.len() {
        return Err(corrupt("not an RLP list"));
    }
    let mut payload = &data[..header.payload_length];
    let mut items = Vec::new();
    while !payload.is_empty() {
        let start = payload;
        let item = alloy_rlp::Header::decode(&mut payload).map_err(corrupt)?;
        let header_len = start.len() - payload.len();
        let whole = start
            .get(..header_len + item.payload_length)
            .ok_or_else(|| corrupt("an RLP item ends early"))?;
        payload = &payload[item.payload_length..];
        items.push((item, whole));
    }
    Ok(items)
}

/// The EIP-2718 encoding a list item carries (a typed one is a byte string).
fn envelope<'a>(header: &alloy_rlp::Header, whole: &'a [u8]) -> &'a [u8] {
    if header.list {
        whole
    } else {
        &whole[whole.len() - header.payload_length..]
    }
}

/// `(cumulative gas, bloom, logs)` of a receipt's encoding (typed or not).
fn receipt_parts(encoding: &[u8]) -> io::Result<(u64, Bloom, Vec<Log>)> {
    let list = match encoding.first() {
        Some(0xc0..) => encoding,
        Some(_) => &encoding[1..],
        None => return Err(corrupt("an empty receipt")),
    };
    let fields = list_items(list)?;
    let [_, (_, cumulative), (_, bloom), (_, logs)] = fields.as_slice() else {
        return Err(corrupt("a receipt without four fields"));
    };
    let cumulative = u64::decode(&mut &cumulative[..]).map_err(corrupt)?;
    let bloom = Bloom::decode(&mut &bloom[..]).map_err(corrupt)?;
    let logs = Vec::<Log>::decode(&mut &logs[..]).map_err(corrupt)?;
    Ok((cumulative, bloom, logs))
}

fn decode(hash: B256, bytes: &[u8]) -> io::Result<DevBlock> {
    let mut reader = Reader::new(bytes);
    let header_rlp = Bytes::copy_from_slice(reader.bytes()?);
    let body_rlp = Bytes::copy_from_slice(reader.bytes()?);
    let receipts_rlp = Bytes::copy_from_slice(reader.bytes()?);
    let total_difficulty = U256::from_le_bytes::<32>(reader.array()?);
    let signer = Address::from(reader.array::<20>()?);
    let size = u64::from_le_bytes(reader.array()?);
    let count = u32::from_le_bytes(reader.array()?) as usize;
    let header = Header::decode(&mut &header_rlp[..]).map_err(corrupt)?;
    let body = list_items(&body_rlp)?;
    let (_, transactions) = body.first().ok_or_else(|| corrupt("an empty body"))?;
    let envelopes = list_items(transactions)?;
    let receipt_items = list_items(&receipts_rlp)?;
    if envelopes.len() != count || receipt_items.len() != count {
        return Err(corrupt(format!(
            "{count} transactions recorded, {} in the body, {} receipts",
            envelopes.len(),
            receipt_items.len()
        )));
    }
    let mut txs = Vec::with_capacity(count);
    let mut receipts = Vec::with_capacity(count);
    for ((tx_header, tx_whole), (receipt_header, receipt_whole)) in
        envelopes.iter().zip(&receipt_items)
    {
        let tx_envelope = envelope(tx_header, tx_whole);
        let sender = Address::from(reader.array::<20>()?);
        let to = reader.address()?;
        let contract_address = reader.address()?;
        let [tx_type, status] = reader.array::<2>()?;
        let gas_used = u64::from_le_bytes(reader.array()?);
        let effective_gas_price = u128::from_le_bytes(reader.array()?);
        let receipt_envelope = envelope(receipt_header, receipt_whole);
        let (cumulative_gas_used, bloom, logs) = receipt_parts(receipt_envelope)?;
        txs.push(DevTx {
            envelope: Bytes::copy_from_slice(tx_envelope),
            hash: keccak256(tx_envelope),
            sender,
            to,
            contract_address,
        });
        receipts.push(DevReceipt {
            envelope: Bytes::copy_from_slice(receipt_envelope),
            tx_type,
            status: status != 0,
            cumulative_gas_used,
            gas_used,
            effective_gas_price,
            logs,
            bloom,
        });
    }
    let bor_receipt = match reader.array::<1>()? {
        [0] => None,
        [1] => {
            let tx_hash = B256::from(reader.array::<32>()?);
            let rlp = Bytes::copy_from_slice(reader.bytes()?);
            let (_, bloom, logs) = receipt_parts(&rlp)?;
            Some(BorReceipt {
                tx_hash,
                rlp,
                logs,
                bloom,
            })
        }
        [other] => return Err(corrupt(format!("bor receipt flag {other}"))),
    };
    if !reader.bytes.is_empty() {
        return Err(corrupt("bytes after a record's end"));
    }
    Ok(DevBlock {
        header,
        hash,
        header_rlp,
        body_rlp,
        receipts_rlp,
        txs,
        receipts,
        bor_receipt,
        total_difficulty,
        signer,
        size,
    })
}
