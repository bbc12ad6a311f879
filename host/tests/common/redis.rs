//! A real `redis-server` for the cluster tests: started on a free port in
//! a temporary directory, with a password, no persistence, and killed when
//! dropped. `.ci/run` installs Debian's redis-server when it is missing.

#![allow(dead_code)]

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The password the test servers require.
pub const PASSWORD: &str = "cluster-test-password";

/// A running redis-server.
pub struct RedisServer {
    child: Option<Child>,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|error| panic!("no free port: {error}"))
}

impl RedisServer {
    /// Starts a server on a free port.
    pub fn start() -> RedisServer {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir,
        };
        server.restart();
        server
    }

    /// (Re)starts the server on the same port, with no data.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--requirepass",
                PASSWORD,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("redis-server cannot be started ({error}): install Debian's redis-server (.ci/run does)")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command(&["PING"]).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer within 10 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The URL without the password (the tests pass it apart, as
    /// `cluster.redis_password`).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Runs one command through `redis-cli`; its output.
    pub fn command(&self, args: &[&str]) -> Result<String, String> {
        let output = Command::new("redis-cli")
            .args([
                "-p",
                &self.port.to_string(),
                "--no-auth-warning",
                "-a",
                PASSWORD,
            ])
            .args(args)
            .output()
            .map_err(|error| error.to_string())?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        if !output.status.success()
            || text.starts_with("ERR")
            || text.contains("Connection refused")
        {
            return Err(format!(
                "{text} {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(text)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
