//! Heimdall spans for the `full` level, fetched once each.

use std::{collections::BTreeMap, sync::Arc};

use alloy_primitives::Address;
use hypasis_plugin_api::{BlockRange, Producer, Span};
use hypasis_polygon::ChainSpec;
use parking_lot::RwLock;

use crate::checkpoints::{HeimdallError, HeimdallSource};

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
                ext: Default::default(),
            })
            .collect();
        let span = Span {
            id,
            range: BlockRange::new(info.start, info.end),
            producers: producers.into(),
            ext: Default::default(),
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
