//! The endpoints together: which to ask first, who is parked or unhealthy,
//! which chain id they agree on, the best head, faults reported by the
//! host, and the status the host shows.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use hypasis_plugin_sdk::{
    api::{ChainHead, EndpointStatus, FaultKind},
    tracing,
};
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::{endpoint::Endpoint, options::Options, score::SeenHead};

/// All endpoints of one plugin instance.
#[derive(Debug)]
pub struct Pool {
    endpoints: Vec<Arc<Endpoint>>,
    options: Options,
    /// The chain id the endpoints agree on, and who was told to be excluded.
    agreement: Mutex<Agreement>,
    heads: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct Agreement {
    chain_id: Option<u64>,
    excluded: Vec<usize>,
}

impl Pool {
    /// A pool over `endpoints`.
    pub fn new(endpoints: Vec<Arc<Endpoint>>, options: Options) -> Self {
        Pool {
            endpoints,
            options,
            agreement: Mutex::new(Agreement::default()),
            heads: watch::channel(0).0,
        }
    }

    /// Every endpoint, in configuration order.
    pub fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.endpoints
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The endpoint `reference` names (redacted name or URL).
    pub fn find(&self, reference: &str) -> Option<&Arc<Endpoint>> {
        self.endpoints
            .iter()
            .find(|endpoint| endpoint.matches(reference))
    }

    /// Whether the endpoint serves another chain than the others agree on.
    pub fn excluded(&self, endpoint: &Endpoint) -> bool {
        self.agreement.lock().excluded.contains(&endpoint.index())
    }

    /// Records the chain id an endpoint reported and recomputes what the
    /// endpoints agree on: the id most of them report (ties go to the
    /// endpoint configured first). Those that disagree are excluded.
    pub fn record_chain_id(&self, endpoint: &Endpoint, chain_id: u64) {
        endpoint.set_chain_id(chain_id);
        let mut counts: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
        for known in &self.endpoints {
            if let Some(id) = known.chain_id() {
                let entry = counts.entry(id).or_insert((0, known.index()));
                entry.0 += 1;
                entry.1 = entry.1.min(known.index());
            }
        }
        let agreed = counts
            .iter()
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
            .map(|(id, _)| *id);
        let excluded: Vec<usize> = self
            .endpoints
            .iter()
            .filter(|known| known.chain_id().is_some_and(|id| Some(id) != agreed))
            .map(|known| known.index())
            .collect();
        let mut agreement = self.agreement.lock();
        for index in &excluded {
            if !agreement.excluded.contains(index)
                && let (Some(known), Some(agreed)) = (self.endpoints.get(*index), agreed)
            {
                tracing::error!(
                    endpoint = known.name(),
                    chain_id = known.chain_id().unwrap_or(0),
                    agreed,
                    "endpoint serves another chain than the others; excluded"
                );
            }
        }
        agreement.chain_id = agreed;
        agreement.excluded = excluded;
    }

    /// The chain id the endpoints agree on, once one reported it.
    pub fn chain_id(&self) -> Option<u64> {
        self.agreement.lock().chain_id
    }

    /// Endpoints to ask, best first: healthy ones by score, then unhealthy
    /// ones due for another try, then those still cooling down (a last
    /// resort). Within a tier, endpoints known to be behind `need` come
    /// later. Parked (429) and excluded endpoints, and those `skip` names,
    /// are left out.
    pub fn candidates(
        &self,
        skip: &dyn Fn(&Endpoint) -> bool,
        need: Option<u64>,
    ) -> Vec<Arc<Endpoint>> {
        let now = Instant::now();
        let mut ranked: Vec<(u8, bool, f64, Arc<Endpoint>)> = self
            .endpoints
            .iter()
            .filter(|endpoint| !skip(endpoint) && !self.excluded(endpoint))
            .filter_map(|endpoint| {
                endpoint.with_health(|health| {
                    if health.parked(now).is_some() {
                        return None;
                    }
                    let tier = if health.healthy(now, &self.options) {
                        0
                    } else if !health.cooling_down(now) {
                        1
                    } else {
                        2
                    };
                    let behind = match (need, health.head) {
                        (Some(need), Some(head)) => head.number < need,
                        _ => false,
                    };
                    Some((
                        tier,
                        behind,
                        health.score(now, &self.options),
                        Arc::clone(endpoint),
                    ))
                })
            })
            .collect();
        ranked.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then(b.2.total_cmp(&a.2))
                .then(a.3.index().cmp(&b.3.index()))
        });
        ranked
            .into_iter()
            .map(|(_, _, _, endpoint)| endpoint)
            .collect()
    }

    /// When the first parked endpoint that `skip` does not name comes back.
    pub fn earliest_unpark(&self, skip: &dyn Fn(&Endpoint) -> bool) -> Option<Instant> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .filter(|endpoint| !skip(endpoint) && !self.excluded(endpoint))
            .filter_map(|endpoint| endpoint.with_health(|health| health.parked(now)))
            .min()
    }

    /// Books a fault (a lie caught here, or reported by the host).
    pub fn fault(&self, endpoint: &Endpoint, kind: FaultKind, detail: &str) {
        tracing::warn!(endpoint = endpoint.name(), ?kind, detail, "endpoint fault");
        endpoint.with_health(|health| health.fault(kind, Instant::now(), &self.options));
    }

    /// Books a fault the host reports about `reference`; false if no
    /// endpoint has that name.
    pub fn report(&self, reference: &str, kind: FaultKind, detail: &str) -> bool {
        match self.find(reference) {
            Some(endpoint) => {
                self.fault(endpoint, kind, detail);
                true
            }
            None => {
                tracing::warn!(
                    endpoint = reference,
                    ?kind,
                    detail,
                    "fault reported for an unknown endpoint"
                );
                false
            }
        }
    }

    /// Records a head an endpoint reported and wakes head waiters if it changed.
    pub fn update_head(&self, endpoint: &Endpoint, number: u64, hash: [u8; 32]) {
        let changed = endpoint.with_health(|health| {
            let changed = health
                .head
                .is_none_or(|seen| seen.number != number || seen.hash != hash);
            health.head = Some(SeenHead {
                number,
                hash,
                at: Instant::now(),
            });
            changed
        });
        if changed {
            self.heads.send_modify(|version| *version += 1);
        }
    }

    /// A receiver that changes whenever some endpoint's head does.
    pub fn head_changes(&self) -> watch::Receiver<u64> {
        self.heads.subscribe()
    }

    /// The highest head among healthy endpoints (ties: the better score),
    /// considering only heads seen within `fresh` when given.
    pub fn best_head(&self, fresh: Option<Duration>) -> Option<ChainHead> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .filter(|endpoint| !self.excluded(endpoint))
            .filter_map(|endpoint| {
                endpoint.with_health(|health| {
                    let head = health.head?;
                    let recent =
                        fresh.is_none_or(|fresh| now.saturating_duration_since(head.at) <= fresh);
                    (health.healthy(now, &self.options) && recent).then(|| {
                        (
                            head,
                            health.score(now, &self.options),
                            endpoint.name().to_string(),
                        )
                    })
                })
            })
            .max_by(|a, b| a.0.number.cmp(&b.0.number).then(a.1.total_cmp(&b.1)))
            .map(|(head, _, name)| ChainHead {
                number: head.number,
                hash: head.hash,
                endpoint: name.into(),
                ext: Default::default(),
            })
    }

    /// Whether the endpoint may be asked now: not excluded, parked or
    /// cooling down after failures.
    pub fn may_ask(&self, endpoint: &Endpoint) -> bool {
        let now = Instant::now();
        !self.excluded(endpoint)
            && endpoint
                .with_health(|health| health.parked(now).is_none() && !health.cooling_down(now))
    }

    /// Whether the endpoint should be asked for its head now: it may be
    /// asked and has not reported a head within `fresh`.
    pub fn needs_probe(&self, endpoint: &Endpoint, fresh: Duration) -> bool {
        let now = Instant::now();
        self.may_ask(endpoint)
            && endpoint.with_health(|health| {
                health
                    .head
                    .is_none_or(|head| now.saturating_duration_since(head.at) > fresh)
            })
    }

    /// Every endpoint's status.
    pub fn statuses(&self) -> Vec<EndpointStatus> {
        let now = Instant::now();
        self.endpoints
            .iter()
            .map(|endpoint| {
                let excluded = self.excluded(endpoint);
                endpoint.with_health(|health| EndpointStatus {
                    name: endpoint.name().into(),
                    healthy: !excluded && health.healthy(now, &self.options),
                    score: if excluded {
                        0.0
                    } else {
                        health.score(now, &self.options)
                    },
                    head: health.head.map_or(0, |head| head.number),
                    requests: health.requests(),
                    errors: health.errors(),
                    faults: health.faults(),
                    latency_ms: health.latency_ms(),
                    ext: Default::default(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{endpoint::unique_names, options::Settings};
    use tokio_util::sync::CancellationToken;

    fn pool(count: usize) -> Pool {
        let urls: Vec<String> = (0..count)
            .map(|index| format!("http://127.0.0.1:{}", 9000 + index))
            .collect();
        let names = unique_names(&urls);
        let client = reqwest::Client::new();
        let options = Options::default();
        let endpoints = urls
            .iter()
            .zip(names)
            .enumerate()
            .map(|(index, (url, name))| {
                Arc::new(
                    Endpoint::new(
                        index,
                        url,
                        name,
                        &client,
                        &Settings::default(),
                        &options,
                        &CancellationToken::new(),
                    )
                    .unwrap(),
                )
            })
            .collect();
        Pool::new(endpoints, options)
    }

    #[test]
    fn chain_id_majority_excludes_the_odd_one() {
        let pool = pool(3);
        let [a, b, c] = [0, 1, 2].map(|index| Arc::clone(&pool.endpoints()[index]));
        pool.record_chain_id(&a, 5);
        assert_eq!(pool.chain_id(), Some(5));
        pool.record_chain_id(&b, 137);
        // A tie goes to the endpoint configured first.
        assert_eq!(pool.chain_id(), Some(5));
        assert!(pool.excluded(&b));
        pool.record_chain_id(&c, 137);
        assert_eq!(pool.chain_id(), Some(137));
        assert!(pool.excluded(&a) && !pool.excluded(&b) && !pool.excluded(&c));
        let order: Vec<usize> = pool
            .candidates(&|_| false, None)
            .iter()
            .map(|e| e.index())
            .collect();
        assert_eq!(order, vec![1, 2]);
        assert!(!pool.statuses()[0].healthy);
    }

    #[test]
    fn candidates_rank_health_heads_and_reports() {
        let pool = pool(3);
        let options = pool.options().clone();
        pool.update_head(&pool.endpoints()[0], 10, [1; 32]);
        pool.update_head(&pool.endpoints()[1], 20, [2; 32]);
        pool.update_head(&pool.endpoints()[2], 20, [2; 32]);
        assert!(pool.report("http://127.0.0.1:9001", FaultKind::InvalidData, "lied"));
        assert!(!pool.report("http://nowhere", FaultKind::Slow, ""));
        let order = |need| -> Vec<usize> {
            pool.candidates(&|_| false, need)
                .iter()
                .map(|e| e.index())
                .collect()
        };
        assert_eq!(order(None), vec![0, 2, 1]);
        // Endpoint 0 is behind block 15: it comes after those that have it.
        assert_eq!(order(Some(15)), vec![2, 1, 0]);
        let head = pool.best_head(None).unwrap();
        assert_eq!(
            (head.number, head.endpoint.as_str()),
            (20, "http://127.0.0.1:9002")
        );
        // A parked endpoint is not a candidate until it comes back.
        pool.endpoints()[2].record(
            crate::score::Outcome::RateLimited {
                until: Instant::now() + Duration::from_secs(60),
            },
            &options,
        );
        assert_eq!(order(None), vec![0, 1]);
        assert!(pool.earliest_unpark(&|_| false).is_some());
        assert_eq!(order(None).len(), 2);
        let skip_first = |endpoint: &Endpoint| endpoint.index() == 0;
        assert_eq!(
            pool.candidates(&skip_first, None)
                .iter()
                .map(|e| e.index())
                .collect::<Vec<_>>(),
            vec![1]
        );
    }
}
