//! The `full` level: Bor consensus from the span data.
//!
//! For each block the producer set is the span's selected producers that
//! the previous sprint end listed (span of the sprint's first block; from
//! Rio on, the span covering the block). The seal must recover to one of
//! them; the difficulty must be `n - succession`, and every block of a
//! sprint must imply the same in-turn proposer (the proposer only moves at
//! sprint ends; from Rio on it is computed exactly); sprint-end headers must
//! list the next span's producers; timestamps must respect the period, the
//! producer delay at sprint starts and the backup delay.
//!
//! Not checked: how the proposer advances from one sprint to the next (it
//! depends on priorities accumulated since genesis, which a batch does not carry).

use std::collections::BTreeMap;

use alloy_primitives::Address;
use hypasis_plugin_api::{Span, ValidationRequest};
use hypasis_polygon::{ChainSpec, bor, valset::ValidatorSet};

use crate::{
    decode::DecodedBlock,
    rejection::{Reject, mismatch},
};

fn span_for(spans: &[Span], number: u64) -> Option<&Span> {
    // Spans can overlap after Rio: the highest id covering the block wins.
    spans
        .iter()
        .filter(|span| span.range.contains(number))
        .max_by_key(|span| span.id)
}

fn producers(span: &Span) -> Vec<(Address, u64)> {
    let mut list: Vec<(Address, u64)> = span
        .producers
        .iter()
        .map(|producer| (Address::from(producer.address), producer.power))
        .collect();
    list.sort();
    list
}

fn listed(list: &[(Address, u64)]) -> String {
    let entries: Vec<String> = list
        .iter()
        .map(|(address, power)| format!("{address:#x}:{power}"))
        .collect();
    format!("[{}]", entries.join(", "))
}

/// Runs the consensus checks on every block (genesis excepted).
pub fn check(
    blocks: &[DecodedBlock<'_>],
    request: &ValidationRequest,
    spec: &ChainSpec,
) -> Result<(), Reject> {
    let spans = request.spans.as_slice();
    // The proposer each sprint implies, by the sprint's first block number.
    let mut proposers: BTreeMap<u64, Address> = BTreeMap::new();
    for (index, block) in blocks.iter().enumerate() {
        let number = block.number();
        if number == 0 {
            continue;
        }
        let header = &block.header;
        let sprint = spec.sprint(number);
        let sprint_start = number - number % sprint;
        let rio = spec.is_rio(number);
        let span_number = if rio { number } else { sprint_start };
        let span = span_for(spans, span_number).ok_or_else(|| {
            Reject::Request(format!(
                "block {number}: no span covers block {span_number}"
            ))
        })?;
        let set = producers(span);
        let signer = bor::recover_signer(header, spec).map_err(|error| {
            mismatch(
                number,
                "seal",
                format!("a producer of span {}", span.id),
                error,
            )
        })?;
        let Some(signer_index) = set.iter().position(|(address, _)| *address == signer) else {
            return Err(mismatch(
                number,
                "seal",
                format!("a producer of span {}: {}", span.id, listed(&set)),
                format!("{signer:#x}"),
            ));
        };
        let n = set.len() as u64;
        let difficulty: u64 = header.difficulty.saturating_to();
        if difficulty == 0 || difficulty > n {
            return Err(mismatch(
                number,
                "difficulty",
                format!("1..={n}"),
                header.difficulty,
            ));
        }
        let succession = n - difficulty;
        let implied = set[(signer_index + set.len() - succession as usize) % set.len()].0;
        let proposer = if rio {
            let fresh = ValidatorSet::new(&set)
                .map_err(|error| Reject::Request(format!("block {number}: {error}")))?;
            fresh.proposer().unwrap_or(implied)
        } else {
            *proposers.entry(sprint_start).or_insert(implied)
        };
        if implied != proposer {
            let signer_distance = (signer_index + set.len()
                - set
                    .iter()
                    .position(|(address, _)| *address == proposer)
                    .unwrap_or(0))
                % set.len();
            return Err(mismatch(
                number,
                "difficulty",
                n - signer_distance as u64,
                difficulty,
            ));
        }

        if let Some(parent) = index.checked_sub(1).and_then(|at| blocks.get(at)) {
            let mut delay = spec.bor.period.at(number);
            if !rio {
                if number % sprint == 0 {
                    delay = spec.bor.producer_delay.at(number);
                }
                delay += succession * spec.bor.backup_multiplier.at(number);
            }
            if header.timestamp < parent.header.timestamp + delay {
                return Err(mismatch(
                    number,
                    "timestamp",
                    format!(">= {} (parent + {delay}s)", parent.header.timestamp + delay),
                    header.timestamp,
                ));
            }
        }

        let bytes = bor::validator_bytes(header, spec)
            .map_err(|error| mismatch(number, "extraData", "vanity, payload and seal", error))?;
        if !rio && spec.is_sprint_end(number) {
            let next = span_for(spans, number + 1).ok_or_else(|| {
                Reject::Request(format!(
                    "block {number}: no span covers block {}",
                    number + 1
                ))
            })?;
            let expected = producers(next);
            let found: Vec<(Address, u64)> = bor::parse_validators(number, &bytes)
                .map_err(|error| mismatch(number, "validators", listed(&expected), error))?
                .iter()
                .map(|validator| (validator.address, validator.power))
                .collect();
            if found != expected {
                return Err(mismatch(
                    number,
                    "validators",
                    listed(&expected),
                    listed(&found),
                ));
            }
        } else if !bytes.is_empty() {
            return Err(mismatch(
                number,
                "validators",
                "none outside sprint ends",
                format!("{} bytes", bytes.len()),
            ));
        }
    }
    Ok(())
}
