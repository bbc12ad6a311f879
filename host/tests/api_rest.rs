//! REST, the admin API and the limits on a syncing host: `/health` and its
//! 503, `/api/v1/status` against the host's own state, bootnodes,
//! checkpoints, every JWT case, per-operator limits taking effect at once
//! and surviving a restart, the accepted rate under a 10x overload, and the
//! Prometheus names scraped and parsed.

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use common::api::{SECRET, call, config, devnet, now_secs, rest_url, rpc_url, synced};
use hypasis_sync::{api::jwt::TokenVerifier, app::Host, nodekey::NodeKey, p2p::client::EthClient};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const HEAD: u64 = 600;

fn token(claims: Value) -> String {
    TokenVerifier::new(SECRET).sign(&claims)
}

fn admin() -> String {
    token(json!({"sub": "ops", "role": "admin", "exp": now_secs() + 600}))
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Parses the Prometheus text exposition into `name{labels}` → value.
fn scrape(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_admin_limits_and_metrics() {
    let devnet = devnet(HEAD).await;
    let data = tempfile::tempdir().unwrap();
    let mut settings = config(&devnet, data.path());
    settings.p2p.enabled = true;
    settings.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.p2p.discovery = false;
    let shutdown = CancellationToken::new();
    let host = Host::start(settings.clone(), shutdown.clone())
        .await
        .unwrap();
    synced(&host, HEAD).await;
    let rest = rest_url(&host);
    let rpc = rpc_url(&host);
    let client = reqwest::Client::new();

    // /health: healthy, with the four checks.
    let (status, health) = get(&client, &format!("{rest}/health")).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], json!("healthy"));
    for part in ["storage", "cache", "sync", "p2p"] {
        assert_eq!(
            health["checks"][part]["healthy"],
            json!(true),
            "{part}: {health}"
        );
        assert!(health["checks"][part]["message"].is_string());
    }
    assert!(health["uptime_hours"].as_f64().unwrap() >= 0.0);

    // A peer connects (our own eth/68 client): it shows in the status and the metrics.
    let enode = host.p2p.as_ref().unwrap().enode().to_string();
    let _peer = EthClient::connect(&enode, NodeKey::random().secret(), Duration::from_secs(10))
        .await
        .unwrap();

    // /api/v1/status agrees with the host's own state.
    let (status, body) = get(&client, &format!("{rest}/api/v1/status")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["instance"]["id"], json!("test-instance"));
    assert_eq!(body["instance"]["region"], json!("test-region"));
    assert_eq!(body["mode"], json!("sync"));
    assert_eq!(body["head"]["number"], json!(HEAD));
    assert_eq!(body["forward"]["cursor"], json!(HEAD));
    assert_eq!(body["forward"]["validation_level"], json!("light"));
    assert_eq!(body["backward"]["cursor"], json!(0));
    assert_eq!(body["backward"]["done"], json!(true));
    let newest = host.api_context.finalized().unwrap();
    assert_eq!(body["checkpoint"]["end"], json!(newest.end));
    assert_eq!(
        body["checkpoint"]["root"],
        json!(format!("{:#x}", newest.root))
    );
    let milestone = host.api_context.safe().unwrap();
    assert_eq!(body["milestone"]["end"], json!(milestone.end));
    let verified: u64 = host
        .plugins
        .storage
        .intervals(hypasis_plugin_api::Namespace::Chain, "verified")
        .unwrap()
        .iter()
        .map(|r| r.len())
        .sum();
    assert_eq!(body["coverage"]["verified_blocks"], json!(verified));
    assert_eq!(body["peers"]["connected"], json!(1));
    assert_eq!(body["peers"]["clients"][0]["client"], json!("hypasis-sync"));
    assert_eq!(body["upstreams"][0]["healthy"], json!(true));
    assert_eq!(body["chain"]["chain_id"], json!(137137));

    // Bootnodes and checkpoints.
    let (_, bootnodes) = get(&client, &format!("{rest}/api/v1/bootnodes")).await;
    assert_eq!(bootnodes["count"], json!(1));
    assert_eq!(bootnodes["bootnodes"][0]["enode"], json!(enode));
    assert_eq!(bootnodes["bootnodes"][0]["region"], json!("test-region"));
    let (_, listed) = get(&client, &format!("{rest}/api/v1/checkpoints?limit=1")).await;
    assert_eq!(listed["count"], json!(1), "{listed}");
    assert_eq!(listed["checkpoints"][0]["end"], json!(newest.end));
    assert_eq!(listed["checkpoints"][0]["stored_and_verified"], json!(true));
    let (status, bad) = get(&client, &format!("{rest}/api/v1/checkpoints?limit=zero")).await;
    assert_eq!((status, bad["error"].clone()), (400, json!("bad_request")));
    let (status, missing) = get(&client, &format!("{rest}/api/v1/nothing")).await;
    assert_eq!(
        (status, missing["error"].clone()),
        (404, json!("not_found"))
    );
    let (status, openapi) = get(&client, &format!("{rest}/api/v1/openapi.json")).await;
    assert_eq!(status, 200);
    assert_eq!(openapi["openapi"], json!("3.0.3"));

    // JWT: 401 without, expired, forged; 403 without the role; JSON bodies.
    let limits_url = |operator: &str| format!("{rest}/api/v1/operators/{operator}/limits");
    let body = r#"{"rps": 2, "burst": 2}"#;
    let (status, answer) = post(&client, &limits_url("slow"), None, body).await;
    assert_eq!(
        (status, answer["error"].clone()),
        (401, json!("unauthorized")),
        "{answer}"
    );
    let expired = token(json!({"role": "admin", "exp": now_secs() - 10}));
    let (status, answer) = post(&client, &limits_url("slow"), Some(&expired), body).await;
    assert_eq!(status, 401);
    assert!(
        answer["message"].as_str().unwrap().contains("expired"),
        "{answer}"
    );
    let forged = TokenVerifier::new("not-the-secret")
        .sign(&json!({"role": "admin", "exp": now_secs() + 60}));
    let (status, answer) = post(&client, &limits_url("slow"), Some(&forged), body).await;
    assert_eq!(
        (status, answer["message"].clone()),
        (401, json!("bad token signature"))
    );
    let viewer = token(json!({"role": "viewer", "exp": now_secs() + 60}));
    let (status, answer) = post(&client, &limits_url("slow"), Some(&viewer), body).await;
    assert_eq!((status, answer["error"].clone()), (403, json!("forbidden")));
    let (status, answer) = post(
        &client,
        &limits_url("slow"),
        Some(&admin()),
        r#"{"rps": -1, "burst": 1}"#,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = post(
        &client,
        &limits_url("slow"),
        Some(&admin()),
        r#"{"rps": 1}"#,
    )
    .await;
    assert_eq!(status, 400, "{answer}");

    // A change applies at once: 2 requests, then 429 with Retry-After.
    let (status, answer) = post(&client, &limits_url("slow"), Some(&admin()), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["limits"], json!({"rps": 2.0, "burst": 2}));
    let keyed = |key: &str| {
        client
            .post(&rpc)
            .header("x-api-key", key)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}))
    };
    for _ in 0..2 {
        assert_eq!(keyed("slow").send().await.unwrap().status().as_u16(), 200);
    }
    let refused = keyed("slow").send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], json!(-32005), "{refused}");
    // The other admin route sets the rate and keeps the burst.
    let (status, answer) = post(
        &client,
        &format!("{rest}/api/v1/ratelimit/operator/slow"),
        Some(&admin()),
        r#"{"rps": 3}"#,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["limits"], json!({"rps": 3.0, "burst": 2}));
    // The REST API is limited the same way.
    // (the new limits start with a full burst of 2: the third request at once is over)
    let mut rest_refused = None;
    for _ in 0..3 {
        let response = client
            .get(format!("{rest}/api/v1/status"))
            .header("x-api-key", "slow")
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            rest_refused = Some(response);
            break;
        }
    }
    let rest_refused = rest_refused.expect("the REST API refuses over the limit");
    assert!(rest_refused.headers().get("retry-after").is_some());
    let rest_refused: Value = rest_refused.json().await.unwrap();
    assert_eq!(rest_refused["error"], json!("rate_limited"));
    assert!(rest_refused["retry_after_ms"].as_u64().unwrap() > 0);

    // 10x overload: an operator limited to 50/s is offered ~500/s for 4 s.
    let (status, _) = post(
        &client,
        &limits_url("load"),
        Some(&admin()),
        r#"{"rps": 50, "burst": 10}"#,
    )
    .await;
    assert_eq!(status, 200);
    let accepted = Arc::new(AtomicU64::new(0));
    let rejected = Arc::new(AtomicU64::new(0));
    let other = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(4);
    let mut workers = Vec::new();
    for worker in 0..10u64 {
        let (client, rpc) = (client.clone(), rpc.clone());
        let (accepted, rejected, other) = (
            Arc::clone(&accepted),
            Arc::clone(&rejected),
            Arc::clone(&other),
        );
        workers.push(tokio::spawn(async move {
            // Each worker sends every 20 ms: 10 workers offer 500/s.
            let mut next = Instant::now() + Duration::from_millis(2 * worker);
            while next < until {
                tokio::time::sleep_until(next.into()).await;
                next += Duration::from_millis(20);
                let response = client
                    .post(&rpc)
                    .header("x-api-key", "load")
                    .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"}))
                    .send()
                    .await;
                match response.map(|response| response.status().as_u16()) {
                    Ok(200) => accepted.fetch_add(1, Ordering::Relaxed),
                    Ok(429) => rejected.fetch_add(1, Ordering::Relaxed),
                    _ => other.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (accepted, rejected, other) = (
        accepted.load(Ordering::Relaxed),
        rejected.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    );
    assert_eq!(other, 0, "only 200 and 429 answers");
    let offered = (accepted + rejected) as f64 / elapsed;
    assert!(
        offered > 300.0,
        "the load reached {offered:.0}/s, not ~10x the limit"
    );
    let rate = (accepted as f64 - 10.0) / elapsed;
    assert!(
        (47.5..=52.5).contains(&rate),
        "accepted {accepted} in {elapsed:.2} s: {rate:.1}/s against a limit of 50/s"
    );

    // Metrics: the guide's names, parsed from the exposition.
    let metrics_url = format!("http://{}/metrics", host.metrics_addr().unwrap());
    let text = client
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = scrape(&text);
    let value = |prefix: &str| -> f64 {
        series
            .iter()
            .filter(|(name, _)| name.as_str() == prefix || name.starts_with(&format!("{prefix}{{")))
            .map(|(_, value)| value)
            .sum()
    };
    assert_eq!(
        value("hypasis_forward_sync_blocks_total"),
        0.0 + host.sync_status.as_ref().unwrap().read().forward_blocks as f64
    );
    assert!(value("hypasis_backward_sync_blocks_total") >= HEAD as f64 - 600.0);
    // The unlabelled series counts every peer; the per-client ones add up to it.
    assert_eq!(series.get("hypasis_connected_peers_total"), Some(&1.0));
    assert_eq!(value("hypasis_connected_peers_total"), 2.0);
    assert!(value("hypasis_rpc_requests_total") > 100.0);
    assert!(
        series
            .keys()
            .any(|name| name.starts_with("hypasis_rpc_requests_total{")
                && name.contains("method=\"eth_blockNumber\""))
    );
    assert!(value("hypasis_rate_limit_rejected_total") >= rejected as f64);
    assert!(series.contains_key("hypasis_cache_hit_ratio"), "{text}");
    assert!(
        series
            .keys()
            .any(|name| name.starts_with("hypasis_errors_total{"))
    );
    assert!(
        series
            .keys()
            .any(|name| name.starts_with("hypasis_rpc_request_duration_seconds_bucket{"))
    );
    assert!(
        series
            .keys()
            .any(|name| name.starts_with("hypasis_rest_request_duration_seconds_bucket{"))
    );

    // Restart on the same data dir: the limits come back and apply.
    shutdown.cancel();
    host.stop().await.unwrap();
    let shutdown = CancellationToken::new();
    let host = Host::start(settings, shutdown.clone()).await.unwrap();
    let rest = rest_url(&host);
    let rpc = rpc_url(&host);
    let listed: Value = client
        .get(format!("{rest}/api/v1/operators/limits"))
        .bearer_auth(admin())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["operators"]["slow"],
        json!({"rps": 3.0, "burst": 2}),
        "{listed}"
    );
    assert_eq!(
        listed["operators"]["load"],
        json!({"rps": 50.0, "burst": 10})
    );
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            let answer = client
                .post(&rpc)
                .header("x-api-key", "slow")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}))
                .send()
                .await
                .unwrap();
            statuses.push(answer.status().as_u16());
        }
        statuses
    };
    assert_eq!(
        statuses,
        vec![200, 200, 429],
        "the restored burst of 2 applies"
    );
    // Removing the override returns the operator to the defaults.
    let removed = client
        .delete(format!("{rest}/api/v1/operators/slow/limits"))
        .bearer_auth(admin())
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status().as_u16(), 200);
    let answer = call(&client, &rpc, "eth_chainId", json!([])).await;
    assert!(answer.get("result").is_some());

    // Unhealthy: with every upstream gone, /health says so with a 503.
    devnet.stop().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = client.get(format!("{rest}/health")).send().await.unwrap();
        if response.status().as_u16() == 503 {
            let health: Value = response.json().await.unwrap();
            assert_eq!(health["status"], json!("unhealthy"));
            assert_eq!(health["checks"]["sync"]["healthy"], json!(false));
            break;
        }
        assert!(Instant::now() < deadline, "health never turned unhealthy");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    shutdown.cancel();
    host.stop().await.unwrap();
}
