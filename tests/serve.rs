//! `vpcep-warden serve` as users meet it: the real binary on a free port
//! against the emulator, answering webhooks, health checks and metrics,
//! ticking on its schedule and shutting down without cutting work short.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::events::sign_webhook;

use crate::helpers::*;

const SECRET: &str = "serve-test-webhook-secret";
const FAILED: &str = "0f000000-0000-4000-8000-0000000000f1";

/// A running `vpcep-warden serve`, killed when dropped.
struct Server {
    child: Child,
    /// Its base URL, as it printed on stderr.
    url: String,
    /// Everything it wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the binary with the provider's settings against `emu`, and `args` after `serve`.
    fn start(emu: &Emulator, args: &[&str]) -> Server {
        Self::spawn(emu, args, true)
    }

    /// As a FunctionGraph HTTP function with an agency: no credentials
    /// configured, the project from `RUNTIME_PROJECT_ID`.
    fn start_without_credentials(emu: &Emulator) -> Server {
        Self::spawn(emu, &[], false)
    }

    fn spawn(emu: &Emulator, args: &[&str], static_credentials: bool) -> Server {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for the process to end, at most `limit`.
    async fn exit(&mut self, limit: Duration) -> ExitStatus {
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
fn estate() -> Value {
    json!({
        "quotas": {"endpoint": 150, "endpoint_service": 20},
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [pending("e-allowed", ALLOWED), pending("e-stranger", STRANGER)]}],
        "endpoints": [endpoint(FAILED, "failed", &minutes_ago(600), &[])],
    })
}

/// POSTs `body` with the signature headers `signature` gives for it (none when `None`).
async fn post(url: &str, body: &str, signature: Option<(&str, i64)>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).body(body.to_owned());
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

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The value of the sample `name` (with its labels, exactly as written) in a
/// metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_webhook_runs_and_unsigned_or_badly_signed_ones_are_refused_401() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &[]);
    let notice = json!({"service_id": SERVICE, "endpoint_id": "e-allowed"}).to_string();
    let tick = json!({"warden": "tick"}).to_string();

    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let (status, body) = post(&server.url("/webhook"), &notice, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("X-Warden"),
        "{body}"
    );
    let (status, _) = post(
        &server.url("/webhook"),
        &notice,
        Some(("not-the-secret", now())),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post(
        &server.url("/webhook"),
        &notice,
        Some((SECRET, now() - 3600)),
    )
    .await;
    assert_eq!(status, 401, "a stale signature");
    let (status, _) = post(&server.url("/"), &tick, None).await;
    assert_eq!(status, 401, "a raw event needs the signature too");
    let big = format!("{{\"service_id\": \"{}\"}}", "x".repeat(1024 * 1024));
    let (status, _) = post(&server.url("/webhook"), &big, Some((SECRET, now()))).await;
    assert_eq!(status, 413);
    let (status, body) = post(
        &server.url("/webhook"),
        "{\"hello\": 1}",
        Some((SECRET, now())),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(emu.stats().total, 0, "nothing refused reached the API");

    let (status, report) = post(&server.url("/webhook"), &notice, Some((SECRET, now()))).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["trigger"], "connection");
    assert_eq!(report["approved"][0]["endpoint_id"], "e-allowed");
    let statuses = connection_statuses(&ctx(settings(&emu)), SERVICE).await;
    assert_eq!(statuses["e-allowed"], "accepted");
    assert_eq!(statuses["e-stranger"], "pendingAcceptance");

    let (status, report) = post(&server.url("/"), &tick, Some((SECRET, now()))).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["trigger"], "tick");
    assert_eq!(report["deleted"][0]["endpoint_id"], FAILED);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_naming_an_endpoint_with_no_connection_is_422() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &[]);
    let notice = json!({"service_id": SERVICE, "endpoint_id": "no-such-endpoint"}).to_string();
    let (status, report) = post(&server.url("/webhook"), &notice, Some((SECRET, now()))).await;
    assert_eq!(status, 422, "{report}");
    assert!(!report["errors"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_show_the_numbers_of_the_scheduled_tick() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--every", "1h"]);
    let started = Instant::now();
    let text = loop {
        let text = reqwest::get(server.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sample(&text, "vpcep_warden_ticks_total") >= Some(1.0) {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no tick: {}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        text.contains("# TYPE vpcep_warden_quota_used gauge\n"),
        "{text}"
    );
    assert_eq!(
        sample(&text, "vpcep_warden_quota_limit{type=\"endpoint\"}"),
        Some(150.0),
        "{text}"
    );
    // The quota job reads while gc deletes: the failed endpoint may or may not count.
    let used = sample(&text, "vpcep_warden_quota_used{type=\"endpoint\"}");
    assert!(used == Some(0.0) || used == Some(1.0), "{text}");
    for (name, expected) in [
        ("vpcep_warden_approved_total", 1.0),
        ("vpcep_warden_deleted_total", 1.0),
        ("vpcep_warden_rejected_total", 0.0),
        ("vpcep_warden_errors_total", 0.0),
        ("vpcep_warden_pending_connections", 1.0),
    ] {
        assert_eq!(sample(&text, name), Some(expected), "{name}: {text}");
    }
    assert_eq!(
        sample(&text, "vpcep_warden_api_calls_total"),
        Some(emu.stats().total as f64),
        "{text}"
    );
    let last = sample(&text, "vpcep_warden_last_tick_timestamp_seconds").unwrap();
    assert!((last - now() as f64).abs() < 60.0, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_tick_lets_it_finish_and_exits_0() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 300,
            ..Options::default()
        },
    )
    .await;
    let mut server = Server::start(&emu, &["--every", "1h"]);
    let started = Instant::now();
    while emu.stats().total == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no tick started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.terminate();
    let status = server.exit(Duration::from_secs(60)).await;
    let stderr = server.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("waiting for the running tick"), "{stderr}");
    let stats = emu.stats();
    assert_eq!(
        stats.by_operation.get("connection_action"),
        Some(&1),
        "{stats:?}"
    );
    assert_eq!(
        stats.by_operation.get("delete_endpoint"),
        Some(&1),
        "{stats:?}"
    );
    let statuses = connection_statuses(&ctx(settings(&emu)), SERVICE).await;
    assert_eq!(statuses["e-allowed"], "accepted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tick_due_while_one_runs_is_skipped() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 800,
            ..Options::default()
        },
    )
    .await;
    let server = Server::start(&emu, &["--every", "1s"]);
    let started = Instant::now();
    loop {
        let text = reqwest::get(server.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if sample(&text, "vpcep_warden_ticks_skipped_total") >= Some(1.0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no tick skipped: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.stderr().contains("skipped"), "{}", server.stderr());
    assert!(
        emu.stats().by_operation.get("connection_action") <= Some(&1),
        "the connection was accepted once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_a_request_in_flight_finish() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 300,
            ..Options::default()
        },
    )
    .await;
    let mut server = Server::start(&emu, &[]);
    let tick = json!({"warden": "tick"}).to_string();
    let url = server.url("/");
    let request = tokio::spawn(async move { post(&url, &tick, Some((SECRET, now()))).await });
    let started = Instant::now();
    while emu.stats().total == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.terminate();
    let (status, report) = request.await.unwrap();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["deleted"][0]["endpoint_id"], FAILED);
    let code = server.exit(Duration::from_secs(30)).await.code();
    assert_eq!(code, Some(0), "{}", server.stderr());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_configured_credentials_each_request_signs_with_its_x_cff_keys() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start_without_credentials(&emu);
    let notice = json!({"service_id": SERVICE, "endpoint_id": "e-allowed"}).to_string();
    let send = |keys: Option<(&'static str, &'static str)>| {
        let (url, notice) = (server.url("/webhook"), notice.clone());
        async move {
            let ts = now();
            let mut request = reqwest::Client::new()
                .post(url)
                .header("X-Warden-Timestamp", ts.to_string())
                .header(
                    "X-Warden-Signature",
                    sign_webhook(SECRET, ts, notice.as_bytes()),
                )
                .body(notice);
            if let Some((ak, sk)) = keys {
                request = request
                    .header("X-CFF-Access-Key", ak)
                    .header("X-CFF-Secret-Key", sk);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = send(None).await;
    assert_ne!(status, 200, "no keys, no run: {body}");
    assert!(body.contains("no credentials"), "{body}");
    let (status, body) = send(Some((AK, "not-the-secret-key"))).await;
    assert_ne!(status, 200, "wrong keys are refused by the API: {body}");
    let (status, body) = send(Some((AK, SK))).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["approved"][0]["endpoint_id"], "e-allowed");
    assert!(!server.stderr().contains(SK), "keys are never logged");
}
