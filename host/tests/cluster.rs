//! Cluster membership through a real redis-server (password on): three
//! instances over one devnet list each other's enodes and URLs, a graceful
//! stop leaves at once, a fourth joins with no change to the others, a
//! record that is not renewed expires, a foreign value in Redis is ignored
//! and counted; Redis killed: every instance keeps serving (degraded, not
//! unhealthy) and, once a Redis with no data is back, all rejoin.

mod common;

use std::time::Duration;

use common::{
    api::{config, devnet, rest_url, synced},
    redis::{PASSWORD, RedisServer},
};
use hypasis_devnet::Devnet;
use hypasis_sync::app::Host;
use serde_json::Value;
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
    let data = tempfile::tempdir().unwrap();
    let mut settings = config(devnet, data.path());
    settings.cloud.instance_id = id.into();
    settings.cloud.region = region.into();
    settings.p2p.enabled = true;
    settings.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.p2p.discovery = false;
    settings.cluster.enabled = true;
    settings.cluster.redis_url = redis.url();
    settings.cluster.redis_password = PASSWORD.into();
    settings.cluster.key_prefix = PREFIX.into();
    settings.cluster.heartbeat_interval = Duration::from_millis(200);
    settings.cluster.member_ttl = Duration::from_millis(1500);
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
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while metric(&a, "hypasis_cluster_bad_values")
        .await
        .unwrap_or(0.0)
        < 1.0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the bad value was not counted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
