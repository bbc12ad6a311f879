//! Bor's validator set and proposer rotation (Tendermint's weighted
//! round-robin as Bor uses it), from which the expected difficulty of every
//! pre-Rio block follows.
//!
//! The set is kept sorted by address. Each sprint end replaces it with the
//! validators listed in that header ([`ValidatorSet::apply_sprint_end`]);
//! the proposer then advances once. The in-turn producer seals with
//! difficulty `n`; the one `k` places after it in address order, `n - k`.

use alloy_primitives::Address;

/// Priorities are kept within this many times the total power.
const PRIORITY_WINDOW_SIZE_FACTOR: i64 = 2;

/// One validator with its weight and current priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validator {
    /// Signer address.
    pub address: Address,
    /// Voting power.
    pub power: i64,
    /// Proposer priority.
    pub priority: i64,
}

/// Why a signer cannot seal, or a set cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// The signer is not in the set.
    #[error("{0} is not in the validator set")]
    UnknownSigner(Address),
    /// No validators with power.
    #[error("the validator set is empty")]
    Empty,
}

/// A Bor validator set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    proposer: Option<Address>,
    total_power: i64,
}

fn clip(value: i128) -> i64 {
    value.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

impl ValidatorSet {
    /// Bor's `NewValidatorSet`: the validators (address, power) as a change
    /// set applied to an empty set, then one proposer increment.
    pub fn new(validators: &[(Address, u64)]) -> Result<Self, ValidatorSetError> {
        let mut set = ValidatorSet {
            validators: Vec::new(),
            proposer: None,
            total_power: 0,
        };
        set.update(
            validators
                .iter()
                .map(|(address, power)| (*address, *power as i64))
                .collect(),
        );
        if set.validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        set.increment_proposer_priority(1);
        Ok(set)
    }

    /// The validators, sorted by address.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The total voting power.
    pub fn total_power(&self) -> i64 {
        self.total_power
    }

    /// The current proposer (the highest priority; lower address on ties).
    pub fn proposer(&self) -> Option<Address> {
        self.proposer
            .or_else(|| self.find_proposer().map(|validator| validator.address))
    }

    fn find_proposer(&self) -> Option<&Validator> {
        self.validators
            .iter()
            .fold(None, |best: Option<&Validator>, candidate| match best {
                None => Some(candidate),
                Some(best) if candidate.priority > best.priority => Some(candidate),
                Some(best)
                    if candidate.priority == best.priority && candidate.address < best.address =>
                {
                    Some(candidate)
                }
                Some(best) => Some(best),
            })
    }

    /// Whether `address` is in the set.
    pub fn contains(&self, address: &Address) -> bool {
        self.index_of(address).is_some()
    }

    fn index_of(&self, address: &Address) -> Option<usize> {
        self.validators
            .binary_search_by(|validator| validator.address.cmp(address))
            .ok()
    }

    /// How many places after the proposer `signer` is, in address order
    /// (0 for the in-turn proposer).
    pub fn succession(&self, signer: &Address) -> Result<u64, ValidatorSetError> {
        let n = self.validators.len();
        let signer_index = self
            .index_of(signer)
            .ok_or(ValidatorSetError::UnknownSigner(*signer))?;
        let proposer = self.proposer().ok_or(ValidatorSetError::Empty)?;
        let proposer_index = self.index_of(&proposer).ok_or(ValidatorSetError::Empty)?;
        Ok(((signer_index + n - proposer_index) % n) as u64)
    }

    /// The signer `succession` places after the proposer.
    pub fn signer_at(&self, succession: u64) -> Option<Address> {
        let n = self.validators.len();
        let proposer_index = self.index_of(&self.proposer()?)?;
        Some(self.validators[(proposer_index + succession as usize % n) % n].address)
    }

    /// The difficulty `signer` must seal with: `n - succession`.
    pub fn difficulty(&self, signer: &Address) -> Result<u64, ValidatorSetError> {
        Ok(self.validators.len() as u64 - self.succession(signer)?)
    }

    /// Applies a sprint-end header's validator list, as Bor's snapshot does:
    /// validators missing from the list leave, the others take the listed
    /// power, new ones join; then the proposer advances once.
    pub fn apply_sprint_end(&mut self, listed: &[(Address, u64)]) {
        // Bor sets the new powers on the set's own entries before computing
        // the change set, so the running total used for new validators'
        // starting priority only grows by the new validators' power.
        let mut changes: Vec<(Address, i64)> = Vec::new();
        for validator in &mut self.validators {
            let power = listed
                .iter()
                .find(|(address, _)| *address == validator.address)
                .map_or(0, |(_, power)| *power as i64);
            validator.power = power;
            changes.push((validator.address, power));
        }
        for (address, power) in listed {
            if !changes.iter().any(|(known, _)| known == address) {
                changes.push((*address, *power as i64));
            }
        }
        self.update(changes);
        if !self.validators.is_empty() {
            self.increment_proposer_priority(1);
        }
    }

    /// Tendermint's `updateWithChangeSet`: powers of 0 remove, others add or update.
    fn update(&mut self, mut changes: Vec<(Address, i64)>) {
        changes.sort_by_key(|a| a.0);
        changes.dedup_by(|a, b| a.0 == b.0);
        let (updates, removals): (Vec<_>, Vec<_>) =
            changes.into_iter().partition(|(_, power)| *power > 0);

        let mut updated_total = self.total_power as i128;
        for (address, power) in &updates {
            match self.index_of(address) {
                None => updated_total += *power as i128,
                Some(index) => updated_total += (*power - self.validators[index].power) as i128,
            }
        }
        let new_priority = -clip(updated_total + (updated_total >> 3));

        let mut merged: Vec<Validator> = Vec::with_capacity(self.validators.len() + updates.len());
        let mut existing = self.validators.iter().peekable();
        let mut incoming = updates.iter().peekable();
        loop {
            match (existing.peek(), incoming.peek()) {
                (Some(old), Some((address, power))) if old.address == *address => {
                    merged.push(Validator {
                        address: *address,
                        power: *power,
                        priority: old.priority,
                    });
                    existing.next();
                    incoming.next();
                }
                (Some(old), Some((address, _))) if old.address < *address => {
                    merged.push(**old);
                    existing.next();
                }
                (_, Some((address, power))) => {
                    merged.push(Validator {
                        address: *address,
                        power: *power,
                        priority: new_priority,
                    });
                    incoming.next();
                }
                (Some(old), None) => {
                    merged.push(**old);
                    existing.next();
                }
                (None, None) => break,
            }
        }
        merged.retain(|validator| {
            !removals
                .iter()
                .any(|(address, _)| *address == validator.address)
        });
        self.validators = merged;
        self.total_power = clip(
            self.validators
                .iter()
                .map(|validator| validator.power as i128)
                .sum(),
        );
        if self.validators.is_empty() {
            return;
        }
        self.rescale_priorities(PRIORITY_WINDOW_SIZE_FACTOR * self.total_power);
        self.shift_by_average_priority();
    }

    fn rescale_priorities(&mut self, diff_max: i64) {
        if diff_max <= 0 || self.validators.is_empty() {
            return;
        }
        let max = self
            .validators
            .iter()
            .map(|validator| validator.priority)
            .max()
            .unwrap_or(0);
        let min = self
            .validators
            .iter()
            .map(|validator| validator.priority)
            .min()
            .unwrap_or(0);
        let diff = clip(max as i128 - min as i128);
        if diff > diff_max {
            let ratio = (diff + diff_max - 1) / diff_max;
            for validator in &mut self.validators {
                validator.priority /= ratio;
            }
        }
    }

    fn shift_by_average_priority(&mut self) {
        let n = self.validators.len() as i128;
        let sum: i128 = self
            .validators
            .iter()
            .map(|validator| validator.priority as i128)
            .sum();
        // Go's big.Int Div is Euclidean: a floor for a positive divisor.
        let average = clip(sum.div_euclid(n));
        for validator in &mut self.validators {
            validator.priority = clip(validator.priority as i128 - average as i128);
        }
    }

    /// Tendermint's `IncrementProposerPriority(times)`.
    pub fn increment_proposer_priority(&mut self, times: u32) {
        if self.validators.is_empty() || times == 0 {
            return;
        }
        self.rescale_priorities(PRIORITY_WINDOW_SIZE_FACTOR * self.total_power);
        self.shift_by_average_priority();
        for _ in 0..times {
            for validator in &mut self.validators {
                validator.priority = clip(validator.priority as i128 + validator.power as i128);
            }
            let total = self.total_power;
            let proposer = self.find_proposer().map(|validator| validator.address);
            if let Some(address) = proposer
                && let Some(index) = self.index_of(&address)
            {
                let validator = &mut self.validators[index];
                validator.priority = clip(validator.priority as i128 - total as i128);
            }
            self.proposer = proposer;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(byte: u8) -> Address {
        Address::repeat_byte(byte)
    }

    #[test]
    fn equal_powers_rotate_in_address_order() {
        let mut set =
            ValidatorSet::new(&[(address(3), 1), (address(1), 1), (address(2), 1)]).unwrap();
        let mut proposers = Vec::new();
        for _ in 0..6 {
            proposers.push(set.proposer().unwrap());
            set.increment_proposer_priority(1);
        }
        assert_eq!(proposers, [1, 2, 3, 1, 2, 3].map(address));
    }

    #[test]
    fn weights_decide_how_often_a_validator_proposes() {
        let mut set = ValidatorSet::new(&[(address(1), 3), (address(2), 1)]).unwrap();
        let mut counts = [0; 2];
        for _ in 0..400 {
            let proposer = set.proposer().unwrap();
            counts[usize::from(proposer == address(2))] += 1;
            set.increment_proposer_priority(1);
        }
        assert_eq!(counts, [300, 100]);
    }

    #[test]
    fn difficulty_is_n_minus_succession() {
        let set = ValidatorSet::new(&[
            (address(1), 1),
            (address(2), 1),
            (address(3), 1),
            (address(4), 1),
        ])
        .unwrap();
        let proposer = set.proposer().unwrap();
        assert_eq!(set.difficulty(&proposer).unwrap(), 4);
        let next = set.signer_at(1).unwrap();
        assert_ne!(next, proposer);
        assert_eq!(set.difficulty(&next).unwrap(), 3);
        assert_eq!(set.succession(&set.signer_at(3).unwrap()).unwrap(), 3);
        assert_eq!(
            set.difficulty(&address(9)),
            Err(ValidatorSetError::UnknownSigner(address(9)))
        );
    }

    #[test]
    fn sprint_end_changes_membership() {
        let mut set =
            ValidatorSet::new(&[(address(1), 1), (address(2), 1), (address(3), 1)]).unwrap();
        set.apply_sprint_end(&[(address(2), 5), (address(3), 1), (address(4), 2)]);
        let members: Vec<(Address, i64)> = set
            .validators()
            .iter()
            .map(|v| (v.address, v.power))
            .collect();
        assert_eq!(
            members,
            vec![(address(2), 5), (address(3), 1), (address(4), 2)]
        );
        assert_eq!(set.total_power(), 8);
        assert!(
            set.proposer()
                .is_some_and(|proposer| set.contains(&proposer))
        );
        // Priorities stay centred around zero.
        let sum: i64 = set.validators().iter().map(|v| v.priority).sum();
        assert!(sum.abs() < set.validators().len() as i64 * 8, "{sum}");
    }
}
