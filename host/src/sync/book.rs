//! What sync knows of the trusted world: L1 checkpoints (cached in the
//! store) and Heimdall spans (cached in memory).

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::Address;
use hypasis_plugin_api::{BlockRange, Checkpoint, Producer, Span};
use hypasis_polygon::{ChainSpec, rootchain::HEADER_BLOCK_SPACING};
use parking_lot::RwLock;

use crate::{
    checkpoints::{
        CheckpointCache, HeimdallError, HeimdallSource, L1Checkpoint, L1CheckpointSource, L1Error,
    },
    plugins::StoragePlugin,
};

/// Known checkpoints by start block, backed by L1 and the store's cache.
pub struct CheckpointBook {
    known: RwLock<BTreeMap<u64, L1Checkpoint>>,
    source: Option<L1CheckpointSource>,
    storage: Arc<StoragePlugin>,
}

impl CheckpointBook {
    /// A book over `source` (none: only what the cache holds), loading the
    /// cached checkpoints so a restart does not read L1 history again.
    pub fn load(source: Option<L1CheckpointSource>, storage: Arc<StoragePlugin>) -> Self {
        let mut known = BTreeMap::new();
        let cache = CheckpointCache::new(&storage);
        if let Ok(Some(latest)) = cache.latest() {
            let mut id = latest.header_block_id;
            while let Ok(Some(checkpoint)) = cache.get(id) {
                id = checkpoint
                    .header_block_id
                    .saturating_sub(HEADER_BLOCK_SPACING);
                known.insert(checkpoint.start, checkpoint);
                if id == 0 {
                    break;
                }
            }
        }
        CheckpointBook {
            known: RwLock::new(known),
            source,
            storage,
        }
    }

    /// How many checkpoints are known.
    pub fn len(&self) -> usize {
        self.known.read().len()
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.known.read().is_empty()
    }

    async fn remember(&self, checkpoints: &[L1Checkpoint]) {
        {
            let mut known = self.known.write();
            for checkpoint in checkpoints {
                known.insert(checkpoint.start, checkpoint.clone());
            }
        }
        if let Err(error) = CheckpointCache::new(&self.storage).put(checkpoints).await {
            tracing::warn!(%error, "could not cache checkpoints");
        }
    }

    /// The newest known checkpoint.
    pub fn newest(&self) -> Option<L1Checkpoint> {
        self.known.read().values().next_back().cloned()
    }

    /// Asks L1 for its newest checkpoint and remembers it; returns it.
    pub async fn refresh(&self) -> Result<Option<L1Checkpoint>, L1Error> {
        let Some(source) = &self.source else {
            return Ok(self.newest());
        };
        let latest = source.latest().await?;
        if let Some(checkpoint) = &latest
            && self.newest().as_ref() != Some(checkpoint)
        {
            self.remember(std::slice::from_ref(checkpoint)).await;
        }
        Ok(latest)
    }

    /// The known checkpoint covering `number`.
    pub fn covering(&self, number: u64) -> Option<L1Checkpoint> {
        self.known
            .read()
            .range(..=number)
            .next_back()
            .map(|(_, checkpoint)| checkpoint.clone())
            .filter(|checkpoint| checkpoint.end >= number)
    }

    /// The checkpoint covering `number`, asking L1 if it is not known.
    pub async fn fetch_covering(&self, number: u64) -> Result<Option<L1Checkpoint>, L1Error> {
        if let Some(checkpoint) = self.covering(number) {
            return Ok(Some(checkpoint));
        }
        let (Some(source), Some(newest)) = (&self.source, self.newest()) else {
            return Ok(None);
        };
        // Usually the one just below a known checkpoint.
        let above = self
            .known
            .read()
            .range(number..)
            .next()
            .map(|(_, checkpoint)| checkpoint.clone());
        if let Some(above) = above
            && above.header_block_id > HEADER_BLOCK_SPACING
            && let Some(below) = source
                .get(above.header_block_id - HEADER_BLOCK_SPACING)
                .await?
            && below.start <= number
            && number <= below.end
        {
            self.remember(std::slice::from_ref(&below)).await;
            return Ok(Some(below));
        }
        let found = source.covering(number, &newest).await?;
        if let Some(checkpoint) = &found {
            self.remember(std::slice::from_ref(checkpoint)).await;
        }
        Ok(found)
    }

    /// Checkpoints wholly inside `range`, as validation wants them.
    pub fn inside(&self, range: BlockRange) -> Vec<Checkpoint> {
        self.known
            .read()
            .range(range.start..=range.end)
            .map(|(_, checkpoint)| checkpoint)
            .filter(|checkpoint| checkpoint.end <= range.end)
            .map(|checkpoint| Checkpoint {
                id: checkpoint.header_block_id,
                range: BlockRange::new(checkpoint.start, checkpoint.end),
                root: checkpoint.root.0,
            })
            .collect()
    }

    /// Every known checkpoint, ascending.
    pub fn all(&self) -> Vec<L1Checkpoint> {
        self.known.read().values().cloned().collect()
    }
}

/// Heimdall spans, fetched once each.
pub struct SpanBook {
    source: HeimdallSource,
    spec: Arc<ChainSpec>,
    known: RwLock<BTreeMap<u64, Span>>,
}

impl SpanBook {
    /// A book over `source`.
    pub fn new(source: HeimdallSource, spec: Arc<ChainSpec>) -> Self {
        SpanBook {
            source,
            spec,
            known: RwLock::default(),
        }
    }

    async fn span(&self, id: u64) -> Result<Span, HeimdallError> {
        if let Some(span) = self.known.read().get(&id) {
            return Ok(span.clone());
        }
        let info = self.source.span(id).await?;
        // Bor's first snapshot uses span 0's whole validator set.
        let members = if id == 0 {
            &info.validators
        } else {
            &info.producers
        };
        let producers: Vec<Producer> = members
            .iter()
            .map(|(id, address, power): &(u64, Address, u64)| Producer {
                id: *id,
                address: address.0.0,
                power: *power,
            })
            .collect();
        let span = Span {
            id,
            range: BlockRange::new(info.start, info.end),
            producers: producers.into(),
        };
        self.known.write().insert(id, span.clone());
        Ok(span)
    }

    /// The spans `full` needs for `range`: those covering it and the next
    /// block (sprint ends list the next span's producers).
    pub async fn covering(&self, range: BlockRange) -> Result<Vec<Span>, HeimdallError> {
        let first = self.spec.span_id(range.start);
        let last = self.spec.span_id(range.end + 1);
        let mut spans = Vec::new();
        for id in first..=last {
            spans.push(self.span(id).await?);
        }
        Ok(spans)
    }
}
