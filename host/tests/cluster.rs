//! Cluster membership through a real redis-server (password on): three
//! instances over one devnet list each other's enodes and URLs, a graceful
//! stop leaves at once, a fourth joins with no change to the others, a
//! record that is not renewed expires, a foreign value in Redis is ignored
//! and counted; Redis killed: every instance keeps serving (degraded, not
//! unhealthy) and, once a Redis with no data is back, all rejoin. Operator
//! overrides set on one instance are listed and enforced on the others
//! (by pub/sub), reach instances started later, are refused while Redis is
//! down, and are seeded again into a Redis that lost them. An operator
//! spreading requests over three instances is held to its limit in total.

mod common;

use std::time::Duration;

use common::{
    api::{SECRET, config, devnet, now_secs, rest_url, synced},
    redis::{PASSWORD, RedisServer},
};
use hypasis_devnet::Devnet;
use hypasis_sync::{api::jwt::TokenVerifier, app::Host};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

// Past the first checkpoint (every 256 blocks), which anchors the sync.
const HEAD: u64 = 600;
const PREFIX: &str = "hyptest";

struct Instance {
    host: Host,
    shutdown: CancellationToken,
    _data: tempfile::TempDir,
}

async fn instance(devnet: &Devnet, redis: &RedisServer, id: &str, region: &str) -> Instance {
    instance_beating(devnet, redis, id, region, Duration::from_millis(200)).await
}

/// An instance whose heartbeat (and full comparison of overrides) runs
/// every `heartbeat`; its record lasts 7.5 heartbeats.
async fn instance_beating(
    devnet: &Devnet,
    redis: &RedisServer,
    id: &str,
    region: &str,
    heartbeat: Duration,
) -> Instance {
    let data = tempfile::tempdir().unwrap();
    let settings = cluster_settings(devnet, redis, data.path(), id, region, heartbeat);
    start(settings, data).await
}

/// The settings of one cluster member with devp2p on.
fn cluster_settings(
    devnet: &Devnet,
    redis: &RedisServer,
    data: &std::path::Path,
    id: &str,
    region: &str,
    heartbeat: Duration,
) -> hypasis_sync::config::Config {
    let mut settings = config(devnet, data);
    settings.cloud.instance_id = id.into();
    settings.cloud.region = region.into();
    settings.p2p.enabled = true;
    settings.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.p2p.discovery = false;
    settings.cluster.enabled = true;
    settings.cluster.redis_url = redis.url();
    settings.cluster.redis_password = PASSWORD.into();
    settings.cluster.key_prefix = PREFIX.into();
    settings.cluster.heartbeat_interval = heartbeat;
    settings.cluster.member_ttl = heartbeat * 15 / 2;
    settings
}

async fn start(settings: hypasis_sync::config::Config, data: tempfile::TempDir) -> Instance {
    let shutdown = CancellationToken::new();
    let host = Host::start(settings, shutdown.clone()).await.unwrap();
    Instance {
        host,
        shutdown,
        _data: data,
    }
}

/// A graceful stop, as on SIGTERM.
async fn stop(instance: Instance) {
    instance.shutdown.cancel();
    instance.host.stop().await.unwrap();
}

/// Whether `key` (under the prefix) exists in Redis.
fn exists(redis: &RedisServer, key: &str) -> bool {
    redis
        .command(&["EXISTS", &format!("{PREFIX}:{key}")])
        .unwrap()
        == "1"
}

fn enode(instance: &Instance) -> String {
    instance.host.p2p.as_ref().unwrap().enode().to_string()
}

async fn get(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The instance ids `instance`'s `/api/v1/cluster` lists.
async fn listed(instance: &Instance) -> Vec<String> {
    let (_, body) = get(&format!("{}/api/v1/cluster", rest_url(&instance.host))).await;
    body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member["instance_id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits until every instance lists exactly `ids`.
async fn until_listed(instances: &[&Instance], ids: &[&str]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for instance in instances {
        loop {
            let found = listed(instance).await;
            if found == ids {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} lists {found:?}, not {ids:?}",
                instance.host.api_context.settings.instance_id
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn metric(instance: &Instance, name: &str) -> Option<f64> {
    let addr = instance.host.metrics_addr()?;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|line| line.starts_with(name) && !line.starts_with('#'))
        .and_then(|line| line.rsplit_once(' '))
        .and_then(|(_, value)| value.parse().ok())
}

/// Waits until `instance` has counted a bad value read from Redis.
async fn until_bad_value_counted(instance: &Instance) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metric(instance, "hypasis_cluster_bad_values")
        .await
        .unwrap_or(0.0)
        < 1.0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the bad value was not counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_list_each_other_leave_and_join() {
    let redis = RedisServer::start();
    let devnet = devnet(HEAD).await;
    let a = instance(&devnet, &redis, "hypasis-sync-1", "us-east-1").await;
    let b = instance(&devnet, &redis, "hypasis-sync-2", "us-west-2").await;
    let c = instance(&devnet, &redis, "hypasis-sync-3", "eu-central-1").await;
    for instance in [&a, &b, &c] {
        synced(&instance.host, HEAD).await;
    }
    let ids = ["hypasis-sync-1", "hypasis-sync-2", "hypasis-sync-3"];
    until_listed(&[&a, &b, &c], &ids).await;

    // Every instance gives Bor the three enodes, ready for --bootnodes.
    let enodes: Vec<String> = [&a, &b, &c].iter().map(|i| enode(i)).collect();
    for instance in [&a, &b, &c] {
        let (status, body) = get(&format!("{}/api/v1/bootnodes", rest_url(&instance.host))).await;
        assert_eq!(status, 200);
        assert_eq!(body["count"], 3, "{body}");
        assert_eq!(body["recommended"].as_str().unwrap(), enodes.join(","));
        let own: Vec<&Value> = body["bootnodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["self"] == true)
            .collect();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0]["enode"].as_str().unwrap(), enode(instance));
        assert!(own[0]["peers"].is_u64());
    }
    // /api/v1/cluster: regions, heads, URLs that answer. A sibling's head
    // is as of its last heartbeat, so it reaches HEAD a beat or two late.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (_, body) = get(&format!("{}/api/v1/cluster", rest_url(&a.host))).await;
        let heads: Vec<&Value> = body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|member| &member["head"])
            .collect();
        if heads.iter().all(|head| **head == HEAD) {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "heads {heads:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(body["enabled"], true);
    assert_eq!(body["redis"]["up"], true, "{body}");
    let members = body["members"].as_array().unwrap();
    assert_eq!(members[2]["region"], "eu-central-1");
    assert_eq!(members[1]["role"], "syncer");
    for (member, instance) in members.iter().zip([&a, &b, &c]) {
        assert_eq!(
            member["api_url"].as_str().unwrap(),
            rest_url(&instance.host)
        );
        assert!(member["heartbeat_age_ms"].as_u64().unwrap() < 5_000);
        let (status, _) = get(&format!("{}/health", member["api_url"].as_str().unwrap())).await;
        assert_eq!(status, 200);
    }
    let (_, health) = get(&format!("{}/health", rest_url(&b.host))).await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["checks"]["cluster"]["healthy"], true);
    assert_eq!(metric(&a, "hypasis_cluster_members").await, Some(3.0));
    assert_eq!(metric(&a, "hypasis_cluster_redis_up").await, Some(1.0));

    // Every key is under the prefix.
    let keys = redis.command(&["--scan", "--pattern", "*"]).unwrap();
    assert!(
        keys.lines()
            .all(|key| key.starts_with(&format!("{PREFIX}:"))),
        "{keys}"
    );

    // A foreign value under a member key is ignored and counted; a record
    // that is not renewed expires by itself.
    let ghost = r#"{"v":1,"instance_id":"ghost","region":"x","enode":null,"api_url":null,"rpc_url":null,"head":null,"version":"0","role":"server","heartbeat_ms":1}"#;
    for (id, value, ttl) in [
        ("intruder", "{\"rps\":1e9}", None),
        ("ghost", ghost, Some("1200")),
    ] {
        let key = format!("{PREFIX}:member:{id}");
        let mut set = vec!["SET", &key, value];
        set.extend(ttl.iter().flat_map(|ms| ["PX", *ms]));
        redis.command(&set).unwrap();
        let index = format!("{PREFIX}:members");
        redis
            .command(&["ZADD", &index, "99999999999999", id])
            .unwrap();
    }
    until_listed(&[&a], &["ghost", ids[0], ids[1], ids[2]]).await;
    until_listed(&[&a, &b, &c], &ids).await;
    until_bad_value_counted(&a).await;
    redis
        .command(&["DEL", &format!("{PREFIX}:member:intruder")])
        .unwrap();
    redis
        .command(&["ZREM", &format!("{PREFIX}:members"), "intruder", "ghost"])
        .unwrap();

    // A graceful stop leaves at once.
    stop(c).await;
    assert!(!exists(&redis, "member:hypasis-sync-3"));
    until_listed(&[&a, &b], &ids[..2]).await;

    // A fourth instance joins; the others need no change.
    let d = instance(&devnet, &redis, "hypasis-sync-4", "ap-south-1").await;
    until_listed(
        &[&a, &b, &d],
        &["hypasis-sync-1", "hypasis-sync-2", "hypasis-sync-4"],
    )
    .await;

    for instance in [a, b, d] {
        stop(instance).await;
    }
    assert!(!exists(&redis, "members"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_run_alone_while_redis_is_down_and_rejoin() {
    let mut redis = RedisServer::start();
    let devnet = devnet(HEAD).await;
    let a = instance(&devnet, &redis, "hypasis-sync-1", "us-east-1").await;
    let b = instance(&devnet, &redis, "hypasis-sync-2", "us-west-2").await;
    synced(&a.host, HEAD).await;
    synced(&b.host, HEAD).await;
    let ids = ["hypasis-sync-1", "hypasis-sync-2"];
    until_listed(&[&a, &b], &ids).await;

    redis.kill();
    let rest = rest_url(&a.host);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, health) = get(&format!("{rest}/health")).await;
        assert_eq!(
            status, 200,
            "Redis down must not take the instance out: {health}"
        );
        if health["status"] == "degraded" {
            assert_eq!(health["checks"]["cluster"]["healthy"], false);
            let message = health["checks"]["cluster"]["message"].as_str().unwrap();
            assert!(message.contains("Redis unreachable"), "{message}");
            assert!(message.contains("serving alone"), "{message}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never degraded: {health}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(metric(&a, "hypasis_cluster_redis_up").await, Some(0.0));
    let (_, cluster) = get(&format!("{rest}/api/v1/cluster")).await;
    assert_eq!(cluster["redis"]["up"], false);
    // Still serving: the API answers from the store.
    let (status, _) = get(&format!("{rest}/api/v1/status")).await;
    assert_eq!(status, 200);
    // The sibling last seen drops out once its record would have expired.
    until_listed(&[&a], &ids[..1]).await;
    until_listed(&[&b], &ids[1..]).await;

    // A Redis with no data: the heartbeats refill it.
    redis.restart();
    until_listed(&[&a, &b], &ids).await;
    let (_, health) = get(&format!("{rest}/health")).await;
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(metric(&b, "hypasis_cluster_redis_up").await, Some(1.0));

    for instance in [a, b] {
        stop(instance).await;
    }
}

/// The overrides `instance`'s admin API lists.
async fn overrides(instance: &Instance, admin: &str) -> Value {
    let url = format!("{}/api/v1/operators/limits", rest_url(&instance.host));
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["operators"].clone()
}

/// Waits until every instance lists `wanted`; returns how long the last took.
async fn until_overrides(instances: &[&Instance], admin: &str, wanted: &Value) -> Duration {
    let started = std::time::Instant::now();
    for instance in instances {
        loop {
            let found = overrides(instance, admin).await;
            if found == *wanted {
                break;
            }
            // Far below the 30 s full comparison: only pub/sub (or, after a
            // reconnect, the comparison it starts with) can deliver in time.
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{} lists {found}, not {wanted}",
                instance.host.api_context.settings.instance_id
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    started.elapsed()
}

async fn post_limits(
    instance: &Instance,
    admin: &str,
    operator: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!(
        "{}/api/v1/operators/{operator}/limits",
        rest_url(&instance.host)
    );
    let client = reqwest::Client::new();
    let request = match body {
        Some(body) => client.post(url).json(&body),
        None => client.delete(url),
    };
    let response = request.bearer_auth(admin).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Requests `instance` answers (not 429) out of `count` sent at once as `operator`.
async fn admitted(instance: &Instance, operator: &str, count: usize) -> usize {
    let url = format!("{}/api/v1/status", rest_url(&instance.host));
    let client = reqwest::Client::new();
    let mut answered = 0;
    for _ in 0..count {
        let response = client
            .get(&url)
            .header("X-API-Key", operator)
            .send()
            .await
            .unwrap();
        if response.status() != 429 {
            answered += 1;
        }
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_set_on_one_instance_holds_on_every_instance() {
    let mut redis = RedisServer::start();
    let devnet = devnet(HEAD).await;
    // A full comparison every 30 s: what reaches the others sooner came by pub/sub.
    let beat = Duration::from_secs(30);
    let a = instance_beating(&devnet, &redis, "hypasis-sync-1", "us-east-1", beat).await;
    let b = instance_beating(&devnet, &redis, "hypasis-sync-2", "us-west-2", beat).await;
    let c = instance_beating(&devnet, &redis, "hypasis-sync-3", "eu-central-1", beat).await;
    let channel = format!("{PREFIX}:operator-limits");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while redis
        .command(&["PUBSUB", "NUMSUB", &channel])
        .unwrap()
        .lines()
        .nth(1)
        != Some("3")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not every instance subscribed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let admin = TokenVerifier::new(SECRET).sign(&json!({"role": "admin", "exp": now_secs() + 600}));

    // Posted to instance 1, listed and enforced by instance 3.
    let (status, body) =
        post_limits(&a, &admin, "acme", Some(json!({"rps": 0.5, "burst": 2}))).await;
    assert_eq!(status, 200, "{body}");
    let wanted = json!({"acme": {"rps": 0.5, "burst": 2}});
    let took = until_overrides(&[&c, &b], &admin, &wanted).await;
    println!("override posted to instance 1 listed on instances 3 and 2 after {took:?}");
    let answered = admitted(&c, "acme", 6).await;
    assert!(
        (2..=3).contains(&answered),
        "instance 3 answered {answered} of 6 under burst 2"
    );
    assert_eq!(admitted(&c, "someone-else", 6).await, 6);

    // Removed on instance 2: gone everywhere.
    let (status, _) = post_limits(&b, &admin, "acme", None).await;
    assert_eq!(status, 200);
    until_overrides(&[&a, &c], &admin, &json!({})).await;
    let (status, _) = post_limits(&a, &admin, "acme", Some(json!({"rps": 7.0, "burst": 9}))).await;
    assert_eq!(status, 200);
    let wanted = json!({"acme": {"rps": 7.0, "burst": 9}});
    until_overrides(&[&b, &c], &admin, &wanted).await;

    // An instance that starts later (or restarts with a new disk) has them.
    stop(c).await;
    let d = instance_beating(&devnet, &redis, "hypasis-sync-4", "ap-south-1", beat).await;
    until_overrides(&[&d], &admin, &wanted).await;

    // A foreign value in Redis is counted and not applied.
    let hash = format!("{PREFIX}:operator-limits");
    redis
        .command(&["HSET", &hash, "mallory", "{\"rps\":-1,\"burst\":1}"])
        .unwrap();
    redis.command(&["PUBLISH", &hash, "mallory"]).unwrap();
    until_bad_value_counted(&a).await;
    assert_eq!(overrides(&a, &admin).await, wanted);
    redis.command(&["HDEL", &hash, "mallory"]).unwrap();

    // Redis down: a change is refused (it would hold here only) and nothing changes.
    redis.kill();
    let (status, body) =
        post_limits(&a, &admin, "acme", Some(json!({"rps": 1.0, "burst": 1}))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (503, Some("cluster_unavailable")),
        "{body}"
    );
    assert_eq!(overrides(&a, &admin).await, wanted);

    // Redis back with no data: the instances seed it from their stores.
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while redis.command(&["HGET", &hash, "acme"]).unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "Redis was not seeded again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = post_limits(&d, &admin, "beta", Some(json!({"rps": 3.0, "burst": 3}))).await;
    assert_eq!(status, 200);
    let both = json!({"acme": {"rps": 7.0, "burst": 9}, "beta": {"rps": 3.0, "burst": 3}});
    until_overrides(&[&a, &b, &d], &admin, &both).await;

    for instance in [a, b, d] {
        stop(instance).await;
    }
}

/// An instance whose default operator limit is 30/s with a burst of 30.
async fn limited_instance(devnet: &Devnet, redis: &RedisServer, id: &str) -> Instance {
    let data = tempfile::tempdir().unwrap();
    let beat = Duration::from_millis(200);
    let mut settings = cluster_settings(devnet, redis, data.path(), id, "us-east-1", beat);
    settings.ratelimit.per_operator_rps = 30.0;
    settings.ratelimit.burst = 30;
    start(settings, data).await
}

/// Requests answered (not 429) by `instances`, sent round robin as
/// `operator` from `callers` concurrent callers for `period`.
async fn spread(
    instances: &[&Instance],
    operator: &str,
    callers: usize,
    period: Duration,
) -> (u64, Duration) {
    let urls: Vec<String> = instances
        .iter()
        .map(|instance| format!("{}/api/v1/bootnodes", rest_url(&instance.host)))
        .collect();
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for caller in 0..callers {
        let urls = urls.clone();
        let operator = operator.to_string();
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let mut answered = 0u64;
            let mut next = caller;
            while started.elapsed() < period {
                let response = client
                    .get(&urls[next % urls.len()])
                    .header("X-API-Key", &operator)
                    .send()
                    .await
                    .unwrap();
                if response.status() != 429 {
                    answered += 1;
                }
                next += 1;
            }
            answered
        });
    }
    let mut answered = 0;
    while let Some(count) = tasks.join_next().await {
        answered += count.unwrap();
    }
    (answered, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_spread_over_three_instances_gets_its_limit_in_total() {
    let mut redis = RedisServer::start();
    let devnet = devnet(HEAD).await;
    let a = limited_instance(&devnet, &redis, "hypasis-sync-1").await;
    let b = limited_instance(&devnet, &redis, "hypasis-sync-2").await;
    let c = limited_instance(&devnet, &redis, "hypasis-sync-3").await;
    let ids = ["hypasis-sync-1", "hypasis-sync-2", "hypasis-sync-3"];
    until_listed(&[&a, &b, &c], &ids).await;
    let admin = TokenVerifier::new(SECRET).sign(&json!({"role": "admin", "exp": now_secs() + 600}));
    let (rps, burst) = (20.0, 20);
    let (status, _) = post_limits(
        &a,
        &admin,
        "spread",
        Some(json!({"rps": rps, "burst": burst})),
    )
    .await;
    assert_eq!(status, 200);
    let wanted = json!({"spread": {"rps": rps, "burst": burst}});
    until_overrides(&[&b, &c], &admin, &wanted).await;

    let (answered, took) = spread(&[&a, &b, &c], "spread", 6, Duration::from_secs(30)).await;
    // The burst is spent at the start; the rest is the rate.
    let rate = (answered as f64 - f64::from(burst)) / took.as_secs_f64();
    println!("answered {answered} in {took:?}: {rate:.2}/s against a limit of {rps}/s in total");
    assert!(
        (rate - rps).abs() <= rps * 0.1,
        "{rate:.2}/s accepted across three instances, limit {rps}/s"
    );

    // Redis down: once they know it, each instance allows its third, so
    // the total holds.
    redis.kill();
    for instance in [&a, &b, &c] {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while metric(instance, "hypasis_cluster_redis_up").await != Some(0.0) {
            assert!(
                std::time::Instant::now() < deadline,
                "Redis never seen down"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let (answered, took) = spread(&[&a, &b, &c], "fallback", 6, Duration::from_secs(10)).await;
    // The three local buckets start with a third of the default burst each.
    let default_burst = f64::from(a.host.api_context.settings.default_burst);
    let default_rps = a.host.api_context.settings.default_rps;
    let rate = (answered as f64 - default_burst) / took.as_secs_f64();
    println!(
        "Redis down: answered {answered} in {took:?}: {rate:.2}/s against {default_rps}/s in total"
    );
    assert!(
        (rate - default_rps).abs() <= default_rps * 0.15,
        "{rate:.2}/s accepted while Redis is down, limit {default_rps}/s"
    );

    for instance in [a, b, c] {
        stop(instance).await;
    }
}
