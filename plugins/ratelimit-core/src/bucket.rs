//! One token bucket: `rate` tokens a second, holding at most `capacity`.

/// A token bucket refilled lazily from the time of the last call.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last_ms: u64,
}

impl Bucket {
    /// A full bucket: `rate` tokens per second (0 or less blocks every
    /// request), at most `capacity` (at least one request's worth).
    pub fn new(rate: f64, capacity: f64, now_ms: u64) -> Self {
        let rate = if rate.is_finite() { rate.max(0.0) } else { 0.0 };
        let capacity = if capacity.is_finite() {
            capacity.max(1.0)
        } else {
            1.0
        };
        Bucket {
            rate,
            capacity,
            tokens: capacity,
            last_ms: now_ms,
        }
    }

    /// Adds what accrued since the last call; a clock that goes back adds nothing.
    fn refill(&mut self, now_ms: u64) {
        if now_ms > self.last_ms {
            let elapsed = (now_ms - self.last_ms) as f64 / 1000.0;
            self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
            self.last_ms = now_ms;
        }
    }

    /// Milliseconds until `cost` tokens are there (0 when they are now;
    /// `u64::MAX` when they never will be).
    pub fn wait_ms(&mut self, cost: f64, now_ms: u64) -> u64 {
        self.refill(now_ms);
        if self.tokens >= cost {
            return 0;
        }
        if self.rate <= 0.0 || cost > self.capacity {
            return u64::MAX;
        }
        ((cost - self.tokens) / self.rate * 1000.0).ceil().max(1.0) as u64
    }

    /// Takes `cost` tokens whether or not they are there — a loan, the debt
    /// bounded at ten capacities so that a caller who stops recovers — and
    /// returns the milliseconds until the debt is repaid (0: no debt;
    /// `u64::MAX` at a rate of 0). devp2p's per-peer limit throttles this
    /// way: the request is served after the wait, not refused.
    pub fn lend(&mut self, cost: f64, now_ms: u64) -> u64 {
        self.refill(now_ms);
        self.tokens = (self.tokens - cost).max(-self.capacity * 10.0);
        if self.tokens >= 0.0 {
            0
        } else if self.rate <= 0.0 {
            u64::MAX
        } else {
            (-self.tokens / self.rate * 1000.0).ceil().max(1.0) as u64
        }
    }

    /// Takes `cost` tokens; call only after [`Bucket::wait_ms`] said 0.
    pub fn take(&mut self, cost: f64) {
        self.tokens -= cost;
    }

    /// Whether the bucket is full at `now_ms` (an idle operator's bucket
    /// can then be forgotten: a new one would be the same).
    pub fn is_full(&mut self, now_ms: u64) -> bool {
        self.refill(now_ms);
        self.tokens >= self.capacity
    }

    /// The sustained rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// The capacity (burst).
    pub fn capacity(&self) -> f64 {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loan_is_served_after_the_debt_is_repaid() {
        let mut bucket = Bucket::new(10.0, 10.0, 1_000);
        for _ in 0..10 {
            assert_eq!(bucket.lend(1.0, 1_000), 0);
        }
        assert_eq!(bucket.lend(1.0, 1_000), 100);
        assert_eq!(bucket.lend(1.0, 1_000), 200);
        // Time pays the debt back (2 owed, 3 earned), then lends again.
        assert_eq!(bucket.lend(1.0, 1_300), 0);
        assert_eq!(bucket.lend(1.0, 1_300), 100);
        // The debt is bounded: a flood owes at most ten capacities.
        for _ in 0..1_000 {
            bucket.lend(1.0, 1_300);
        }
        assert_eq!(bucket.lend(1.0, 1_300), 10_000);
        assert_eq!(bucket.lend(1.0, 12_400), 0);
    }

    #[test]
    fn a_full_bucket_allows_its_capacity_then_refills_at_its_rate() {
        let mut bucket = Bucket::new(10.0, 5.0, 1_000);
        for _ in 0..5 {
            assert_eq!(bucket.wait_ms(1.0, 1_000), 0);
            bucket.take(1.0);
        }
        // Empty: the next token is 100 ms away at 10 per second.
        assert_eq!(bucket.wait_ms(1.0, 1_000), 100);
        assert_eq!(bucket.wait_ms(1.0, 1_050), 50);
        assert_eq!(bucket.wait_ms(1.0, 1_100), 0);
        // A long pause refills to the capacity, never beyond.
        assert!(bucket.is_full(60_000));
        assert_eq!(bucket.wait_ms(5.0, 60_000), 0);
        assert_eq!(bucket.wait_ms(6.0, 60_000), u64::MAX);
    }

    #[test]
    fn zero_rate_and_backward_clocks() {
        let mut closed = Bucket::new(0.0, 1.0, 0);
        closed.take(1.0);
        assert_eq!(closed.wait_ms(1.0, 10_000), u64::MAX);
        let mut bucket = Bucket::new(1.0, 1.0, 5_000);
        bucket.take(1.0);
        // The clock going back neither refills nor panics.
        assert_eq!(bucket.wait_ms(1.0, 4_000), 1_000);
        assert_eq!(bucket.wait_ms(1.0, 6_000), 0);
    }
}
