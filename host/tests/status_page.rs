//! The status page in a real browser (Debian's headless Chromium, which
//! `.ci/run` installs; `HYPASIS_CHROMIUM` picks another binary): it loads
//! without a single console message (errors and uncaught exceptions are
//! console messages), the numbers it shows are the ones `/api/v1/status`
//! serves, and a screenshot is saved to `target/status-page.png`.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use common::api::{config, devnet, rest_url, synced};
use hypasis_sync::app::Host;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

fn chromium() -> PathBuf {
    let path = std::env::var_os("HYPASIS_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium is not installed at {}: `apt-get install chromium` (.ci/run does) or set HYPASIS_CHROMIUM",
        path.display()
    );
    path
}

/// Runs headless Chromium on `url` with `extra` flags; returns (stdout, stderr).
fn browse(profile: &Path, url: &str, extra: &[String]) -> (String, String) {
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=6000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The text of the element with `id` in a dumped DOM.
fn text_of(dom: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let open_end = start + dom[start..].find('>').unwrap() + 1;
    let close = open_end + dom[open_end..].find('<').unwrap();
    dom[open_end..close].replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_the_status_without_console_errors() {
    let browser_profile = tempfile::tempdir().unwrap();
    let devnet = devnet(800).await;
    let data = tempfile::tempdir().unwrap();
    let mut settings = config(&devnet, data.path());
    settings.p2p.enabled = true;
    settings.p2p.listen_addr = "127.0.0.1:0".parse().unwrap();
    settings.p2p.discovery = false;
    let shutdown = CancellationToken::new();
    let host = Host::start(settings, shutdown.clone()).await.unwrap();
    // Let the chain grow for a while, so the chart has real samples
    // (one every 10 s), then stop it and let sync catch up.
    synced(&host, 800).await;
    devnet.set_growing(true);
    tokio::time::sleep(Duration::from_secs(25)).await;
    devnet.set_growing(false);
    let head = devnet.head();
    synced(&host, head).await;
    let rest = rest_url(&host);

    let (dom, log) = browse(
        browser_profile.path(),
        &format!("{rest}/"),
        &["--dump-dom".into()],
    );
    let console: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .collect();
    assert!(
        console.is_empty(),
        "the page wrote to the console:\n{}",
        console.join("\n")
    );
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page never rendered a status:\n{dom}"
    );

    let status: Value = reqwest::get(format!("{rest}/api/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        text_of(&dom, "head-number"),
        status["head"]["number"].to_string()
    );
    assert_eq!(
        text_of(&dom, "head-hash"),
        status["head"]["hash"].as_str().unwrap()
    );
    assert_eq!(text_of(&dom, "instance"), "test-instance");
    assert_eq!(text_of(&dom, "region"), "test-region");
    assert_eq!(
        text_of(&dom, "chain"),
        format!("devnet ({})", status["chain"]["chain_id"])
    );
    assert_eq!(
        text_of(&dom, "checkpoint-end"),
        status["checkpoint"]["end"].to_string()
    );
    assert_eq!(
        text_of(&dom, "milestone-end"),
        status["milestone"]["end"].to_string()
    );
    assert_eq!(
        text_of(&dom, "verified-blocks"),
        status["coverage"]["verified_blocks"].to_string()
    );
    assert_eq!(
        text_of(&dom, "forward-text"),
        format!(
            "{} / {} · following the head",
            status["forward"]["cursor"], status["forward"]["upstream_head"]
        )
    );
    assert_eq!(
        text_of(&dom, "peer-count"),
        format!(
            "{} / {}",
            status["peers"]["connected"], status["peers"]["max"]
        )
    );
    assert!(
        status["rate_history"].as_array().unwrap().len() >= 2,
        "{status}"
    );
    assert_eq!(text_of(&dom, "health"), "healthy");

    let shot = common::target_dir().join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let (_, log) = browse(
        browser_profile.path(),
        &format!("{rest}/"),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1500".into(),
        ],
    );
    assert!(!log.contains(":CONSOLE"), "{log}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    println!("screenshot: {}", shot.display());

    shutdown.cancel();
    host.stop().await.unwrap();
    devnet.stop().await;
}
