//! The harness of the `serve` tests: the real binary on a free port against
//! an emulator, its stderr kept, and small helpers to post and read metrics.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcep_emulator::Emulator;
use vpcep_warden::events::sign_webhook;

use crate::helpers::*;

pub const SECRET: &str = "serve-test-webhook-secret";
pub const FAILED: &str = "0f000000-0000-4000-8000-0000000000f1";

/// A running `vpcep-warden serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    /// Its base URL, as it printed on stderr.
    pub url: String,
    /// Everything it wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the binary with the provider's settings against `emu`, and `args` after `serve`.
    pub fn start(emu: &Emulator, args: &[&str]) -> Server {
        Self::spawn(emu, args, true)
    }

    /// As a FunctionGraph HTTP function with an agency: no credentials
    /// configured, the project from `RUNTIME_PROJECT_ID`.
    pub fn start_without_credentials(emu: &Emulator) -> Server {
        Self::spawn(emu, &[], false)
    }

    /// Starts the binary with the provider's settings against `emu`, `args`
    /// after `serve`, and the variables `env` besides.
    pub fn start_with(emu: &Emulator, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_with(emu, args, true, env)
    }

    fn spawn(emu: &Emulator, args: &[&str], static_credentials: bool) -> Server {
        Self::spawn_with(emu, args, static_credentials, &[])
    }

    fn spawn_with(
        emu: &Emulator,
        args: &[&str],
        static_credentials: bool,
        env: &[(&str, &str)],
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vpcep-warden"));
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_clear();
        if static_credentials {
            command
                .env("HUAWEICLOUD_SDK_AK", AK)
                .env("HUAWEICLOUD_SDK_SK", SK)
                .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT);
        } else {
            command.env("RUNTIME_PROJECT_ID", PROJECT);
        }
        let mut child = command
            .env("WARDEN_VPCEP_ENDPOINT", emu.base_url())
            .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
            .env("WARDEN_WEBHOOK_SECRET", SECRET)
            .env("WARDEN_MAX_RETRIES", "1")
            .env("RUST_LOG", "vpcep_warden=info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let seen = stderr.clone();
        // Drains stderr for the life of the process, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
                seen.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "the server did not say where it listens: {}",
                    stderr.lock().unwrap()
                )
            });
        Server { child, url, stderr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The `/metrics` page as it stands.
    pub async fn metrics(&self) -> String {
        crate::helpers::http()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("the server answers")
            .text()
            .await
            .expect("a text page")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to end, at most `limit`.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the server did not stop: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One pending connection from an allowed account, one from a stranger, and
/// an old failed endpoint.
pub fn estate() -> Value {
    json!({
        "quotas": {"endpoint": 150, "endpoint_service": 20},
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [pending("e-allowed", ALLOWED), pending("e-stranger", STRANGER)]}],
        "endpoints": [endpoint(FAILED, "failed", &minutes_ago(600), &[])],
    })
}

/// POSTs `body` with the signature headers `signature` gives for it (none when `None`).
pub async fn post(url: &str, body: &str, signature: Option<(&str, i64)>) -> (u16, Value) {
    let mut request = crate::helpers::http().post(url).body(body.to_owned());
    if let Some((secret, timestamp)) = signature {
        request = request
            .header("X-Warden-Timestamp", timestamp.to_string())
            .header(
                "X-Warden-Signature",
                sign_webhook(secret, timestamp, body.as_bytes()),
            );
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The value of the sample `name` (with its labels, exactly as written) in a
/// metrics text.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}
