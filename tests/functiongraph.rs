//! The real binary as a FunctionGraph custom runtime: a stand-in for the
//! runtime API hands out events with agency credentials and records the
//! answers; the emulator plays the VPCEP API.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex, Notify};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::events::sign_http_event;

use crate::helpers::*;

const S1: &str = "b1a0c3e8-0000-4000-8000-000000000001";
const S2: &str = "b1a0c3e8-0000-4000-8000-000000000002";
const SECRET: &str = "fg-test-webhook-secret";
/// The second access key of the provider's account (its "agency" is given
/// fresh credentials per invocation).
const AK2: &str = "HWTESTAKPROVIDER0002";
const SK2: &str = "provider-secret-key-second-pair-000000";
const TOKEN1: &str = "agency-security-token-one";
const TOKEN2: &str = "agency-security-token-two";

fn ep(n: u8) -> String {
    format!("e0000000-0000-4000-8000-{n:012}")
}

/// One event the stand-in hands out, with its response headers.
struct Queued {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// An answer the runtime posted: `response` or `error`, for a request id.
#[derive(Debug)]
struct Posted {
    kind: String,
    request_id: String,
    body: Value,
}

struct ApiState {
    queue: Mutex<VecDeque<Queued>>,
    queued: Notify,
    closed: std::sync::atomic::AtomicBool,
    posts: mpsc::UnboundedSender<Posted>,
}

/// A stand-in for FunctionGraph's runtime API on 127.0.0.1.
struct RuntimeApi {
    addr: String,
    state: Arc<ApiState>,
    posts: mpsc::UnboundedReceiver<Posted>,
    server: tokio::task::JoinHandle<()>,
    next_id: u32,
}

impl RuntimeApi {
    async fn start() -> Self {
        let (tx, posts) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            queue: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            closed: false.into(),
            posts: tx,
        });
        let app = Router::new()
            .route("/v1/runtime/invocation/request", get(next_event))
            .route("/v1/runtime/invocation/{kind}/{id}", post(record))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            state,
            posts,
            server,
            next_id: 0,
        }
    }

    /// Hands out `event` with the agency credentials `ak`/`sk`/`token`
    /// (none when `ak` is empty) and waits for the runtime's answer.
    async fn invoke(&mut self, event: &Value, ak: &str, sk: &str, token: &str) -> Posted {
        self.next_id += 1;
        let request_id = format!("5c1e0000-0000-4000-8000-{:012}", self.next_id);
        let mut headers = vec![
            ("X-Cff-Request-Id", request_id.clone()),
            ("X-CFF-Invoke-Type", "sync".to_owned()),
        ];
        if !ak.is_empty() {
            // Lower and mixed case on purpose: header names are case-insensitive.
            headers.push(("x-cff-access-key", ak.to_owned()));
            headers.push(("X-Cff-Secret-Key", sk.to_owned()));
            headers.push(("X-CFF-SECURITY-TOKEN", token.to_owned()));
        }
        self.state.queue.lock().await.push_back(Queued {
            headers,
            body: event.to_string().into_bytes(),
        });
        self.state.queued.notify_one();
        let posted = tokio::time::timeout(Duration::from_secs(60), self.posts.recv())
            .await
            .expect("the runtime answers within a minute")
            .expect("the stand-in is running");
        assert_eq!(posted.request_id, request_id, "{posted:?}");
        posted
    }

    /// Stops handing out events and closes the port.
    fn shut_down(&self) {
        self.state
            .closed
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.state.queued.notify_waiters();
        self.server.abort();
    }
}

async fn next_event(State(state): State<Arc<ApiState>>) -> Response {
    loop {
        let notified = state.queued.notified();
        if state.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        if let Some(event) = state.queue.lock().await.pop_front() {
            let mut headers = HeaderMap::new();
            for (name, value) in event.headers {
                headers.insert(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(&value).unwrap(),
                );
            }
            return (StatusCode::OK, headers, event.body).into_response();
        }
        notified.await;
    }
}

async fn record(
    State(state): State<Arc<ApiState>>,
    Path((kind, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let _ = state.posts.send(Posted {
        kind,
        request_id: id,
        body,
    });
    StatusCode::ACCEPTED
}

/// The binary, killed when dropped; its stderr goes to a file.
struct Warden {
    child: Child,
    log: PathBuf,
}

/// The executable FunctionGraph would run: `FUNCTIONGRAPH_BOOTSTRAP` (the
/// `bootstrap` taken out of the package `deploy/functiongraph/package.sh`
/// makes, as CI does), else this build's binary.
fn bootstrap() -> std::path::PathBuf {
    std::env::var_os("FUNCTIONGRAPH_BOOTSTRAP")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_vpcep-warden").into())
}

impl Warden {
    /// Starts the binary as FunctionGraph would, with no static credentials.
    fn start(api: &RuntimeApi, emu: &Emulator, extra: &[(&str, &str)]) -> Self {
        let log = std::env::temp_dir().join(format!(
            "vpcep-warden-fg-{}-{}.log",
            std::process::id(),
            api.addr.replace([':', '.'], "-")
        ));
        let mut command = Command::new(bootstrap());
        command
            .env_clear()
            .env("RUNTIME_API_ADDR", &api.addr)
            .env("RUNTIME_TIMEOUT", "30")
            .env("RUNTIME_PROJECT_ID", PROJECT)
            .env("RUNTIME_FUNC_NAME", "vpcep-warden")
            .env("RUNTIME_FUNC_VERSION", "latest")
            .env("RUNTIME_MEMORY", "256")
            .env("WARDEN_VPCEP_ENDPOINT", emu.base_url())
            .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
            .env("WARDEN_WEBHOOK_SECRET", SECRET)
            .env("WARDEN_MAX_RETRIES", "1")
            .env("WARDEN_HTTP_TIMEOUT_SECS", "5");
        for (k, v) in extra {
            command.env(k, v);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary starts");
        Self { child, log }
    }

    /// Waits up to `limit` for the process to end; its exit code.
    async fn exit_code(&mut self, limit: Duration) -> Option<i32> {
        let until = std::time::Instant::now() + limit;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status.code().unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Warden {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The provider with a second access key (a second account on the same
/// project and domain: the emulator keeps one key pair per account), two
/// services with pending connections and an old failed endpoint.
async fn estate() -> Emulator {
    let mut second = provider();
    second["name"] = json!("provider-second-key");
    second["ak"] = json!(AK2);
    second["sk"] = json!(SK2);
    let service = |id: &str, pending_eps: &[u8]| {
        json!({"id": id, "owner": "provider", "approval_enabled": true,
               "connections": pending_eps.iter().map(|n| pending(&ep(*n), ALLOWED)).collect::<Vec<_>>()})
    };
    let mut failed = endpoint(&ep(40), "failed", &minutes_ago(180), &[]);
    failed["endpoint_service_id"] = json!(S1);
    emulator(
        json!({
            "accounts": [provider(), second],
            "services": [service(S1, &[7, 9]), service(S2, &[5])],
            "endpoints": [failed],
        }),
        Options::default(),
    )
    .await
}

fn sample(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn ids(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {report}"))
        .iter()
        .map(|e| e["endpoint_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn functiongraph_invocations_run_with_their_own_agency_credentials() {
    let emu = estate().await;
    let mut api = RuntimeApi::start().await;
    let mut warden = Warden::start(&api, &emu, &[]);

    // SMN trigger, first key pair: approves the endpoint it names.
    let smn = api
        .invoke(&sample("functiongraph-smn.json"), AK, SK, TOKEN1)
        .await;
    assert_eq!(smn.kind, "response", "{smn:?}");
    assert_eq!(ids(&smn.body, "approved"), [ep(9)], "{}", smn.body);
    assert_eq!(smn.body["errors"], json!([]));

    // APIG trigger, signed, second key pair: 200, the endpoint approved.
    let mut apig = sample("functiongraph-apig.json");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    sign_http_event(&mut apig, SECRET, now).unwrap();
    let signed = api.invoke(&apig, AK2, SK2, TOKEN2).await;
    assert_eq!(signed.kind, "response", "{signed:?}");
    assert_eq!(signed.body["statusCode"], 200, "{}", signed.body);
    let report: Value = serde_json::from_str(signed.body["body"].as_str().unwrap()).unwrap();
    assert_eq!(ids(&report, "approved"), [ep(5)], "{report}");

    // The same event unsigned: 401, nothing done.
    let mut unsigned = sample("functiongraph-apig.json");
    let headers = unsigned["headers"].as_object_mut().unwrap();
    headers.remove("x-warden-signature");
    headers.remove("x-warden-timestamp");
    let refused = api.invoke(&unsigned, AK, SK, TOKEN1).await;
    assert_eq!(refused.kind, "response", "{refused:?}");
    assert_eq!(refused.body["statusCode"], 401, "{}", refused.body);

    // Timer trigger (approve and gc), first key pair again: approves the
    // rest and deletes the failed endpoint.
    let tick = api
        .invoke(&sample("functiongraph-timer.json"), AK, SK, TOKEN1)
        .await;
    assert_eq!(tick.kind, "response", "{tick:?}");
    assert_eq!(ids(&tick.body, "approved"), [ep(7)], "{}", tick.body);
    assert_eq!(ids(&tick.body, "deleted"), [ep(40)], "{}", tick.body);

    // A tick with credentials the API refuses: its failure is posted as an
    // error. (Had an earlier invocation's credentials been kept, it would
    // have succeeded: each invocation signs with its own.)
    let failing = api
        .invoke(
            &sample("functiongraph-timer.json"),
            AK2,
            "not-the-secret-key",
            TOKEN2,
        )
        .await;
    assert_eq!(failing.kind, "error", "{failing:?}");
    assert_eq!(failing.body["errorCode"], "WardenError");
    let message = failing.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("action(s) failed"), "{message}");

    // An event without agency credentials: a clear error, not a crash.
    let bare = api
        .invoke(&sample("functiongraph-timer.json"), "", "", "")
        .await;
    assert_eq!(bare.kind, "error", "{bare:?}");
    assert!(
        bare.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no credentials"),
        "{}",
        bare.body
    );

    // The runtime API goes away: the binary stops by itself.
    api.shut_down();
    let code = warden.exit_code(Duration::from_secs(15)).await;
    let stderr = warden.stderr();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("runtime API stopped answering"), "{stderr}");
    assert!(
        stderr.contains("agency credentials of each invocation"),
        "{stderr}"
    );
    for secret in [SK, SK2, TOKEN1, TOKEN2, "not-the-secret-key"] {
        assert!(!stderr.contains(secret), "a secret in the log: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn static_credentials_win_over_the_agency_and_sigterm_stops_the_runtime() {
    let emu = estate().await;
    let mut api = RuntimeApi::start().await;
    let mut warden = Warden::start(
        &api,
        &emu,
        &[("HUAWEICLOUD_SDK_AK", AK2), ("HUAWEICLOUD_SDK_SK", SK2)],
    );
    // The agency's credentials are wrong; the static ones are used.
    let tick = api
        .invoke(&sample("functiongraph-timer.json"), AK, "wrong", TOKEN1)
        .await;
    assert_eq!(tick.kind, "response", "{tick:?}");
    assert_eq!(ids(&tick.body, "approved").len(), 3, "{}", tick.body);

    let pid = warden.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let code = warden.exit_code(Duration::from_secs(10)).await;
    let stderr = warden.stderr();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("AK/SK"), "{stderr}");
    assert!(!stderr.contains(SK2), "{stderr}");
    api.shut_down();
}

#[tokio::test]
async fn functiongraph_mode_refuses_to_start_without_a_project() {
    let emu = estate().await;
    let api = RuntimeApi::start().await;
    let mut command = Command::new(bootstrap());
    let out = command
        .env_clear()
        .env("RUNTIME_API_ADDR", &api.addr)
        .env("RUNTIME_TIMEOUT", "30")
        .env("WARDEN_VPCEP_ENDPOINT", emu.base_url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HUAWEICLOUD_SDK_PROJECT_ID"), "{stderr}");
    api.shut_down();
}

#[tokio::test]
async fn a_huge_timeout_and_an_oversized_event_are_answered_not_fatal() {
    let emu = estate().await;
    let mut api = RuntimeApi::start().await;
    let warden = Warden::start(
        &api,
        &emu,
        &[
            ("RUNTIME_TIMEOUT", "18446744073709551615"),
            ("HUAWEICLOUD_SDK_AK", AK2),
            ("HUAWEICLOUD_SDK_SK", SK2),
        ],
    );
    // Over FunctionGraph's 6 MB limit for a synchronous invocation: refused unread.
    let big = json!({"warden": "tick", "padding": "x".repeat(7 << 20)});
    let refused = api.invoke(&big, "", "", "").await;
    assert_eq!(refused.kind, "error", "{refused:?}");
    let message = refused.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("6291456 bytes"), "{message}");
    assert_eq!(emu.stats().total, 0, "nothing ran");
    // The runtime lives on, and a tick runs with no deadline to overflow.
    let tick = api
        .invoke(&sample("functiongraph-timer.json"), "", "", "")
        .await;
    assert_eq!(tick.kind, "response", "{tick:?} {}", warden.stderr());
    assert_eq!(ids(&tick.body, "approved").len(), 3, "{}", tick.body);
    api.shut_down();
}
