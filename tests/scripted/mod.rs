//! A scripted API server for client tests: a local HTTP server that records every request and answers
//! from a script or a function, and clients pointed at it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::Value;
use vpcep_warden::config::Settings;
use vpcep_warden::vpcep::{Client, ClientOptions};

pub const PROJECT: &str = "0605767b5d00d3b22f5cc0137f2fa7e2";
pub const AK: &str = "TESTAKEXAMPLE0000001";
pub const SK: &str = "test-sk-must-never-leak-9f3a";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 0 for the first request the server received.
    pub index: usize,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn query_value(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Checks the SDK-HMAC-SHA256 signature as the API gateway would.
    pub fn verify_signature(&self, ak: &str, sk: &str) -> Result<(), String> {
        let authorization = self
            .header("Authorization")
            .ok_or("no Authorization header")?;
        let auth = hwcloud_sign::Authorization::parse(authorization).map_err(|e| e.to_string())?;
        if auth.access_key != ak {
            return Err(format!("signed with AK {}", auth.access_key));
        }
        let host = self.header("host").ok_or("no Host header")?;
        let url = format!("http://{host}{}?{}", self.path, self.query);
        let request = self
            .headers
            .iter()
            .fold(
                hwcloud_sign::Request::new(&self.method, &url).map_err(|e| e.to_string())?,
                |r, (k, v)| r.header(k.clone(), v.clone()),
            )
            .body(self.body.clone());
        hwcloud_sign::verify(
            &request,
            &auth,
            &hwcloud_sign::SigningKey::new(ak, sk),
            time::OffsetDateTime::now_utc(),
            time::Duration::minutes(15),
        )
        .map_err(|e| e.to_string())
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self::raw(status, &body.to_string())
    }

    pub fn ok(body: Value) -> Self {
        Self::json(200, body)
    }

    /// A VPCEP error body with a request id.
    pub fn error(status: u16, code: &str, msg: &str) -> Self {
        Self::json(
            status,
            serde_json::json!({"error_code": code, "error_msg": msg}),
        )
        .header("X-Request-Id", &format!("req-{code}"))
    }

    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Answer = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Shared {
    answer: Box<Answer>,
    seen: Mutex<Vec<Seen>>,
    count: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A server on 127.0.0.1 with a free port, stopped when dropped.
pub struct TestServer {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// A server answering each request with `answer(request)`.
    pub async fn start(answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared {
            answer: Box::new(answer),
            seen: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared, task }
    }

    /// A server answering with `replies` in order, then 418 for anything more.
    pub async fn scripted(replies: Vec<Reply>) -> Self {
        Self::start(move |seen| {
            replies.get(seen.index).cloned().unwrap_or_else(|| {
                Reply::error(418, "Test.Exhausted", "the script has no more answers")
            })
        })
        .await
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    pub fn count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// The most requests that were being answered at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let index = shared.count.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    let seen = Seen {
        index,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body,
    };
    let reply = (shared.answer)(&seen);
    if let Ok(mut all) = shared.seen.lock() {
        all.push(seen);
    }
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            response.headers_mut().insert(k, v);
        }
    }
    response
}

/// Settings with AK/SK credentials for a test server.
pub fn settings(url: &str) -> Settings {
    Settings::for_tests(url, PROJECT, AK, SK)
}

/// Transport options that keep tests fast: 1-5 ms backoff, a 2 s timeout.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(2),
        max_retries: 4,
        max_concurrency: 16,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        max_answer_bytes: 16 << 20,
    }
}

/// A client for `settings` with [`fast_options`].
pub fn client_for(settings: &Settings) -> Client {
    Client::with_options(settings, fast_options()).expect("a client for a test server")
}

/// A client with AK/SK credentials for a test server.
pub fn client(server: &TestServer) -> Client {
    client_for(&settings(&server.url))
}
