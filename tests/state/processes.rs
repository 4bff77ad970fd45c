//! Separate processes of the binary sharing one store (a directory or an
//! S3 API bucket), as cron runs, replicas and cold starts do: an unchanged
//! alert once per repeat window, a waiting connection announced once, two
//! runs at once, a store that cannot be reached, a corrupt document.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::config::{Settings, StateSettings};
use vpcep_warden::state::{Expected, Put, Store};

use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

/// A store both processes are pointed at: its variables, and its settings
/// for the test's own reads and writes.
pub struct Shared {
    pub env: Vec<(String, String)>,
    pub state: StateSettings,
}

impl Shared {
    /// The store, as the warden opens it.
    pub fn store(&self) -> Store {
        let mut s = Settings::for_tests("http://127.0.0.1:9", PROJECT, AK, SK);
        s.state = self.state.clone();
        s.max_retries = 0;
        Store::from_settings(&s)
    }
}

/// 143 of 150 endpoints used (critical), a stranger's connection waiting
/// and an allowed one to approve.
fn estate() -> Value {
    let endpoints: Vec<_> = (0..143)
        .map(|i| endpoint(&format!("ep-{i}"), "accepted", &minutes_ago(10), &[]))
        .collect();
    json!({"quotas": {"endpoint": 150, "endpoint_service": 20}, "endpoints": endpoints,
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [pending("e-allowed", ALLOWED), pending("e-stranger", STRANGER)]}]})
}

/// The emulator and a `json` alert receiver.
pub struct World {
    pub emu: Emulator,
    pub hook: TestServer,
}

impl World {
    pub async fn start() -> Self {
        Self {
            emu: emulator(estate(), Options::default()).await,
            hook: TestServer::start(|_| Reply::raw(200, "")).await,
        }
    }

    /// One `tick` of the binary with `shared`'s store; its exit code and report.
    pub async fn tick(&self, shared: &Shared) -> (i32, Value) {
        let output = self.spawn(shared).await;
        let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        (output.status.code().unwrap_or(-1), report)
    }

    /// A `tick` process, waited for off the async threads.
    pub async fn spawn(&self, shared: &Shared) -> Output {
        self.run(shared, "tick").await
    }

    /// The binary's `command` with `shared`'s store, waited for off the async threads.
    pub async fn run(&self, shared: &Shared, command: &str) -> Output {
        let name = command;
        let mut command = Command::new(env!("CARGO_BIN_EXE_vpcep-warden"));
        command
            .arg(name)
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            .env("WARDEN_VPCEP_ENDPOINT", self.emu.base_url())
            .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
            .env(
                "WARDEN_ALERT_WEBHOOK_URL",
                format!("{}/hook", self.hook.url),
            )
            .env("WARDEN_ALERT_FORMAT", "json")
            .env("WARDEN_MAX_RETRIES", "0")
            .env("WARDEN_HTTP_TIMEOUT_SECS", "5")
            .envs(shared.env.iter().map(|(k, v)| (k, v)));
        tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
            .await
            .unwrap()
    }

    /// How often the receiver was sent each alert, by `dedup_key`.
    pub fn received(&self) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        for request in self.hook.requests() {
            for alert in request.json().as_array().cloned().unwrap_or_default() {
                let key = alert["dedup_key"].as_str().unwrap_or_default().to_owned();
                *seen.entry(key).or_default() += 1;
            }
        }
        seen
    }
}

const QUOTA: &str = "vpcep-quota/0123456789abcdef0123456789abcdef/endpoint/critical";

fn pending_key() -> String {
    format!("vpcep-pending/{PROJECT}/{SERVICE}/e-stranger")
}

fn state_errors(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["job"] == "state")
        .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Two processes one after the other: each alert and the announcement once.
pub async fn an_unchanged_alert_goes_once_per_window_and_a_waiting_connection_is_announced_once(
    shared: &Shared,
) {
    let world = World::start().await;
    let (code, first) = world.tick(shared).await;
    assert_eq!(code, 0, "{first}");
    let (code, second) = world.tick(shared).await;
    assert_eq!(code, 0, "{second}");
    let received = world.received();
    assert_eq!(received.get(QUOTA), Some(&1), "{received:?}");
    assert_eq!(received.get(&pending_key()), Some(&1), "{received:?}");
    let quota_sinks = |report: &Value| {
        report["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["dedup_key"] == QUOTA)
            .map(|a| a["sinks"].clone())
    };
    assert_eq!(quota_sinks(&first), Some(json!(["log", "webhook"])));
    assert_eq!(
        quota_sinks(&second),
        Some(json!(["log"])),
        "remembered by the store, not the process"
    );
    assert_eq!(first["approved"][0]["endpoint_id"], "e-allowed");
}

/// Two processes at once: whichever claims an alert first sends it, the
/// other finds it claimed.
pub async fn two_processes_at_once_send_each_alert_once(shared: &Shared) {
    let world = World::start().await;
    let (a, b) = tokio::join!(world.spawn(shared), world.spawn(shared));
    for output in [&a, &b] {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let received = world.received();
    assert_eq!(received.get(QUOTA), Some(&1), "{received:?}");
    assert_eq!(received.get(&pending_key()), Some(&1), "{received:?}");
}

/// A store that cannot be reached: approval goes on, alerts are sent, the
/// report says the store failed.
pub async fn an_unreachable_store_stops_nothing_but_is_reported(unreachable: &Shared) {
    let world = World::start().await;
    let (code, report) = world.tick(unreachable).await;
    assert_eq!(code, 1, "a failed store is a failure of the run: {report}");
    assert_eq!(report["approved"][0]["endpoint_id"], "e-allowed");
    let errors = state_errors(&report);
    assert_eq!(errors.len(), 1, "{report}");
    assert!(errors[0].starts_with("state store "), "{errors:?}");
    assert_eq!(world.received().get(QUOTA), Some(&1), "sent anyway");
    let (_, again) = world.tick(unreachable).await;
    assert_eq!(
        world.received().get(QUOTA),
        Some(&2),
        "with nothing remembered it goes again: a duplicate beats a missed alert; {again}"
    );
}

/// A document spoilt in part: refused with the reason, rebuilt from what
/// still reads, and nothing sent twice.
pub async fn a_corrupt_document_is_refused_rebuilt_and_nothing_goes_twice(shared: &Shared) {
    let world = World::start().await;
    assert_eq!(world.tick(shared).await.0, 0);
    let store = shared.store();
    let key = Store::project_key(PROJECT);
    let stored = store
        .backend()
        .get(&key)
        .await
        .unwrap()
        .expect("a document");
    let mut doc: Value = serde_json::from_slice(&stored.bytes).unwrap();
    doc["announced"] = json!("spoilt");
    let written = store
        .backend()
        .put(
            &key,
            doc.to_string().into_bytes(),
            &Expected::Version(stored.version),
        )
        .await
        .unwrap();
    assert!(matches!(written, Put::Written(_)));
    let (code, report) = world.tick(shared).await;
    assert_eq!(code, 1, "{report}");
    let errors = state_errors(&report);
    assert!(
        errors.len() == 1 && errors[0].contains("not a state document") && errors[0].contains(&key),
        "{errors:?}"
    );
    let (code, report) = world.tick(shared).await;
    assert_eq!(code, 0, "rebuilt: {report}");
    let received = world.received();
    assert_eq!(received.get(QUOTA), Some(&1), "{received:?}");
    assert_eq!(received.get(&pending_key()), Some(&1), "{received:?}");
}

/// `check` says the store is readable and writable, and how the document reads.
pub async fn check_reads_and_writes_the_store(shared: &Shared) {
    let world = World::start().await;
    let output = world.run(shared, "check").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found["state"]["writable"], true, "{found}");
    assert_eq!(found["state"]["documents"][0]["status"], "absent");
    assert!(stderr.contains("is readable and writable"), "{stderr}");
    world.tick(shared).await;
    let output = world.run(shared, "check").await;
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found["state"]["documents"][0]["status"], "ok", "{found}");
    assert!(found["state"]["documents"][0]["last_run_at"].is_string());
}

/// `check` fails, saying why, when the store cannot be written.
pub async fn check_fails_on_a_store_it_cannot_write(unreachable: &Shared) {
    let world = World::start().await;
    let output = world.run(unreachable, "check").await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: state: state store "), "{stderr}");
    let found: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(found["state"]["writable"], false, "{found}");
    assert!(
        found["quotas"].is_array(),
        "the VPCEP check still ran: {found}"
    );
}
