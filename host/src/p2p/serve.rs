//! Answering the eth data requests from the store, one function per request
//! kind, each bounded by Bor's serving limits ([`ResponseBudget`]: 1024
//! items, the 2 MiB soft limit, twice the item limit in lookups), as
//! `B:eth/protocols/eth/handlers.go` (`ServiceGet*Query`) does. Stored
//! bytes are copied into the response, never re-encoded; only eth/69
//! receipts are rewritten (bloom dropped, `receipts_68_to_69`).
//!
//! Header queries (`GetBlockHeaders`) walk the canonical chain: by number,
//! or from a hash whose block is canonical (a stored non-canonical origin is
//! answered with that header alone). They stop at the first block not
//! stored, at an arithmetic overflow (a number of `u64::MAX`, a skip past
//! genesis), or at a budget limit; an unknown origin is an empty answer.

use alloy_primitives::{B256, b256};
use hypasis_eth_wire::{
    EthVersion, GetBlockHeaders, HashOrNumber, ResponseBudget, protocol::MAX_HEADERS_SERVE,
    receipts_68_to_69,
};
use hypasis_plugin_api::BlockPart;

use super::protocol::STORAGE_READ_CHUNK;
use crate::{
    block_store::{BlockStore, StoredBytes},
    plugins::PluginCallError,
};

/// The root of an empty trie: a header with it as `receiptsRoot` has no receipts.
pub const EMPTY_ROOT_HASH: B256 =
    b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

/// The RLP of an empty list: the receipts of a block without transactions.
const EMPTY_LIST: [u8; 1] = [0xc0];

/// One item of a response: stored bytes, or bytes built for the peer's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// Copied as stored.
    Stored(StoredBytes),
    /// Built for this response (eth/69 receipts, an empty receipt list).
    Built(Vec<u8>),
}

impl AsRef<[u8]> for Item {
    fn as_ref(&self) -> &[u8] {
        match self {
            Item::Stored(bytes) => bytes.as_slice(),
            Item::Built(bytes) => bytes,
        }
    }
}

/// The block numbers a header query visits from `origin`, at most `amount`,
/// stopping before an overflow or underflow.
fn header_numbers(origin: u64, amount: u64, skip: u64, reverse: bool) -> Vec<u64> {
    let amount = usize::try_from(amount)
        .unwrap_or(usize::MAX)
        .min(MAX_HEADERS_SERVE);
    let mut numbers = Vec::with_capacity(amount.min(256));
    let Some(step) = skip.checked_add(1) else {
        return if amount > 0 { vec![origin] } else { numbers };
    };
    let mut next = Some(origin);
    while numbers.len() < amount {
        let Some(number) = next else { break };
        numbers.push(number);
        next = if reverse {
            number.checked_sub(step)
        } else {
            number.checked_add(step)
        };
    }
    numbers
}

/// `GetBlockHeaders`: the headers the query names, in order.
pub fn block_headers(
    store: &dyn BlockStore,
    query: &GetBlockHeaders,
) -> Result<Vec<Item>, PluginCallError> {
    let origin = match query.origin {
        HashOrNumber::Number(number) => number,
        HashOrNumber::Hash(hash) => {
            let Some(number) = store.block_number(hash)? else {
                return Ok(Vec::new());
            };
            if store.canonical_hash(number)? != Some(hash) {
                // A stored side-chain block: its header alone.
                let header = (query.amount > 0)
                    .then(|| store.part(BlockPart::Header, hash))
                    .transpose()?
                    .flatten();
                return Ok(header.into_iter().map(Item::Stored).collect());
            }
            number
        }
    };
    let numbers = header_numbers(origin, query.amount, query.skip, query.reverse);
    let mut budget = ResponseBudget::headers();
    let mut headers = Vec::new();
    for chunk in numbers.chunks(STORAGE_READ_CHUNK * 8) {
        let hashes: Vec<B256> = store
            .canonical_hashes(chunk)?
            .into_iter()
            .map_while(|hash| hash)
            .collect();
        let complete = hashes.len() == chunk.len();
        for header in store.parts(BlockPart::Header, &hashes)? {
            let Some(header) = header else {
                return Ok(headers);
            };
            if !budget.try_lookup() {
                return Ok(headers);
            }
            budget.add_item(header.len());
            headers.push(Item::Stored(header));
        }
        if !complete {
            break;
        }
    }
    Ok(headers)
}

/// `GetBlockBodies`: the stored bodies of the blocks named, in order;
/// blocks not stored are left out (`ServiceGetBlockBodiesQuery`).
pub fn block_bodies(store: &dyn BlockStore, hashes: &[B256]) -> Result<Vec<Item>, PluginCallError> {
    let mut budget = ResponseBudget::bodies();
    let mut bodies = Vec::new();
    for chunk in hashes.chunks(STORAGE_READ_CHUNK) {
        // The budget is checked before each item, so the soft size limit
        // ends the answer at the body that crosses it, as Bor does.
        for body in store.parts(BlockPart::Body, chunk)? {
            if !budget.try_lookup() {
                return Ok(bodies);
            }
            if let Some(body) = body {
                budget.add_item(body.len());
                bodies.push(Item::Stored(body));
            }
        }
    }
    Ok(bodies)
}

/// `GetReceipts`: each named block's receipt list in the connection's form.
///
/// eth/68 copies the stored list. eth/69 drops the blooms and, for blocks
/// before `madhugiri` (all blocks when `None`), appends Bor's separately
/// stored state-sync receipt (`B[eth69]:eth/protocols/eth/handlers.go`,
/// `ServiceGetReceiptsQuery69`). A block whose receipts are not stored is
/// left out, unless its stored header says it has none (an empty list).
/// A stored list that cannot be converted is left out and logged.
pub fn receipts(
    store: &dyn BlockStore,
    hashes: &[B256],
    version: EthVersion,
    madhugiri: Option<u64>,
) -> Result<Vec<Item>, PluginCallError> {
    let mut budget = ResponseBudget::receipts();
    let mut lists = Vec::new();
    for chunk in hashes.chunks(STORAGE_READ_CHUNK) {
        let mut lookups = 0;
        // Items of this chunk are added one by one, so the soft limit is
        // checked between blocks as Bor does.
        let stored = store.parts(BlockPart::Receipts, chunk)?;
        let state_syncs = match version {
            EthVersion::Eth68 => vec![None; chunk.len()],
            EthVersion::Eth69 => store.parts(BlockPart::StateSync, chunk)?,
        };
        for ((hash, list), state_sync) in chunk.iter().zip(stored).zip(state_syncs) {
            if !budget.try_lookup() {
                return Ok(lists);
            }
            lookups += 1;
            let item = match list {
                Some(list) => match version {
                    EthVersion::Eth68 => Some(Item::Stored(list)),
                    EthVersion::Eth69 => {
                        let state_sync = match state_sync {
                            Some(bytes) if before(store, *hash, madhugiri)? => Some(bytes),
                            _ => None,
                        };
                        match receipts_68_to_69(&list, state_sync.as_deref()) {
                            Ok(converted) => Some(Item::Built(converted)),
                            Err(error) => {
                                tracing::error!(block = %hash, %error, "stored receipts cannot be served on eth/69");
                                None
                            }
                        }
                    }
                },
                None if has_no_receipts(store, *hash)? => Some(Item::Built(EMPTY_LIST.to_vec())),
                None => None,
            };
            if let Some(item) = item {
                budget.add_item(item.as_ref().len());
                lists.push(item);
            }
        }
        if lookups < chunk.len() {
            break;
        }
    }
    Ok(lists)
}

/// Whether block `hash` is before the Madhugiri fork (`None`: no such fork).
fn before(
    store: &dyn BlockStore,
    hash: B256,
    madhugiri: Option<u64>,
) -> Result<bool, PluginCallError> {
    let Some(fork) = madhugiri else {
        return Ok(true);
    };
    Ok(store
        .block_number(hash)?
        .is_some_and(|number| number < fork))
}

/// Whether the stored header of `hash` has the empty receipts root.
fn has_no_receipts(store: &dyn BlockStore, hash: B256) -> Result<bool, PluginCallError> {
    let Some(header) = store.part(BlockPart::Header, hash)? else {
        return Ok(false);
    };
    Ok(hypasis_polygon::decode_header(&header)
        .is_ok_and(|header| header.receipts_root == EMPTY_ROOT_HASH))
}

#[cfg(test)]
mod tests {
    use alloy_primitives::keccak256;
    use hypasis_eth_wire::protocol::SOFT_RESPONSE_LIMIT;

    use super::*;
    use crate::block_store::memory::MemoryStore;

    fn query(origin: HashOrNumber, amount: u64, skip: u64, reverse: bool) -> GetBlockHeaders {
        GetBlockHeaders {
            origin,
            amount,
            skip,
            reverse,
        }
    }

    fn numbers_of(store: &MemoryStore, items: &[Item]) -> Vec<u64> {
        items
            .iter()
            .map(|item| store.numbers[&keccak256(item.as_ref())])
            .collect()
    }

    #[test]
    fn header_walks() {
        let store = MemoryStore::chain(100);
        let by_number = |origin, amount, skip, reverse| {
            numbers_of(
                &store,
                &block_headers(
                    &store,
                    &query(HashOrNumber::Number(origin), amount, skip, reverse),
                )
                .unwrap(),
            )
        };
        assert_eq!(by_number(1, 2, 1, false), [1, 3]);
        assert_eq!(by_number(0, 2, 0, false), [0, 1]);
        assert_eq!(by_number(10, 3, 2, true), [10, 7, 4]);
        assert_eq!(by_number(3, 10, 1, true), [3, 1]);
        // Stops at the first block not stored.
        assert_eq!(by_number(95, 10, 0, false), [95, 96, 97, 98, 99]);
        assert_eq!(by_number(100, 1, 0, false), Vec::<u64>::new());
        assert_eq!(by_number(u64::MAX, 1, 0, false), Vec::<u64>::new());
        assert_eq!(by_number(5, 0, 0, false), Vec::<u64>::new());
        // A skip that overflows ends the walk after the origin.
        assert_eq!(by_number(5, 3, u64::MAX, false), [5]);
        assert_eq!(by_number(5, 3, u64::MAX - 1, true), [5]);
        // By hash, the same walks.
        let hash = store.hash(1);
        let by_hash = |amount, skip, reverse| {
            numbers_of(
                &store,
                &block_headers(
                    &store,
                    &query(HashOrNumber::Hash(hash), amount, skip, reverse),
                )
                .unwrap(),
            )
        };
        assert_eq!(by_hash(2, 1, false), [1, 3]);
        assert_eq!(by_hash(4, 1, false), [1, 3, 5, 7]);
        assert_eq!(by_hash(3, 0, true), [1, 0]);
        let unknown = query(HashOrNumber::Hash(B256::repeat_byte(7)), 5, 0, false);
        assert!(block_headers(&store, &unknown).unwrap().is_empty());
    }

    #[test]
    fn header_answers_are_bounded() {
        let store = MemoryStore::chain(1100);
        let all = block_headers(&store, &query(HashOrNumber::Number(0), 5000, 0, false)).unwrap();
        assert_eq!(all.len(), MAX_HEADERS_SERVE);
        assert_eq!(numbers_of(&store, &all)[1023], 1023);
        // The response holds exactly the stored bytes.
        assert_eq!(all[7].as_ref(), store.header(7).as_slice());
    }

    #[test]
    fn a_side_chain_origin_is_its_header_alone() {
        let mut store = MemoryStore::chain(10);
        let side = store.insert(5, MemoryStore::fake_header(5, 9, 1), false);
        let answer = block_headers(&store, &query(HashOrNumber::Hash(side), 3, 0, false)).unwrap();
        assert_eq!(answer.len(), 1);
        assert_eq!(keccak256(answer[0].as_ref()), side);
    }

    #[test]
    fn bodies_skip_missing_blocks_and_stop_past_the_soft_limit() {
        let mut store = MemoryStore::chain(10);
        for number in [1, 2, 4] {
            let hash = store.hash(number);
            store.set_part(
                BlockPart::Body,
                hash,
                vec![0xc2, 0xc0, 0xc0 + number as u8 % 2],
            );
        }
        let hashes: Vec<B256> = [1, 3, 4, 2].iter().map(|n| store.hash(*n)).collect();
        let bodies = block_bodies(&store, &hashes).unwrap();
        assert_eq!(bodies.len(), 3);
        assert_eq!(bodies[1].as_ref(), &[0xc2, 0xc0, 0xc0]);

        // Bodies of 700 KiB: the third reaches the 2 MiB soft limit and ends the answer.
        let big = vec![0u8; 700 << 10];
        let mut store = MemoryStore::chain(5);
        for number in 0..5 {
            let hash = store.hash(number);
            store.set_part(BlockPart::Body, hash, big.clone());
        }
        let hashes: Vec<B256> = (0..5).map(|n| store.hash(n)).collect();
        let bodies = block_bodies(&store, &hashes).unwrap();
        assert_eq!(bodies.len(), SOFT_RESPONSE_LIMIT.div_ceil(big.len()));
    }

    /// A legacy receipt `[status, cumulativeGas, bloom, logs]`.
    fn legacy_receipt(gas: u64) -> Vec<u8> {
        let mut payload = vec![0x01];
        alloy_rlp::Encodable::encode(&gas, &mut payload);
        payload.extend([0xb9, 0x01, 0x00]);
        payload.extend([0u8; 256]);
        payload.push(0xc0);
        list(&[payload])
    }

    /// An RLP list of already-encoded items.
    fn list(items: &[Vec<u8>]) -> Vec<u8> {
        let payload: Vec<u8> = items.concat();
        let mut out = Vec::new();
        alloy_rlp::Header {
            list: true,
            payload_length: payload.len(),
        }
        .encode(&mut out);
        out.extend(payload);
        out
    }

    #[test]
    fn receipts_per_version_with_the_state_sync_receipt() {
        let mut store = MemoryStore::chain(10);
        let stored = list(&[legacy_receipt(21_000)]);
        let state_sync = legacy_receipt(0);
        for number in [1, 2, 8] {
            let hash = store.hash(number);
            store.set_part(BlockPart::Receipts, hash, stored.clone());
            store.set_part(BlockPart::StateSync, hash, state_sync.clone());
        }
        let hashes: Vec<B256> = [1, 8].iter().map(|n| store.hash(*n)).collect();

        let eth68 = receipts(&store, &hashes, EthVersion::Eth68, None).unwrap();
        assert_eq!(eth68, vec![Item::Stored(stored.clone().into()); 2]);

        let eth69 = receipts(&store, &hashes, EthVersion::Eth69, Some(5)).unwrap();
        let with = receipts_68_to_69(&stored, Some(&state_sync)).unwrap();
        let without = receipts_68_to_69(&stored, None).unwrap();
        assert_eq!(eth69, [Item::Built(with), Item::Built(without)]);
        let decoded = hypasis_eth_wire::decode_block_receipts_69(eth69[0].as_ref()).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[1].cumulative_gas_used, 0);
    }

    #[test]
    fn blocks_without_stored_receipts() {
        let store = MemoryStore::chain(4);
        // Not stored, but the header's receipts root is empty: an empty list.
        let answer = receipts(&store, &[store.hash(2)], EthVersion::Eth69, None).unwrap();
        assert_eq!(answer, [Item::Built(vec![0xc0])]);
        // Unknown blocks are left out.
        let answer = receipts(&store, &[B256::repeat_byte(3)], EthVersion::Eth68, None).unwrap();
        assert!(answer.is_empty());
    }
}
