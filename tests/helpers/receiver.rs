//! A local HTTP receiver for alert webhooks and SMN publishes: records every
//! request and answers with the statuses it was given (then 200).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::any;
use axum::Router;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Script {
    received: Vec<Received>,
    statuses: VecDeque<u16>,
    delay: Option<Duration>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1 answering `statuses` in turn, then 200.
    pub async fn start(statuses: &[u16], delay: Option<Duration>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            statuses: statuses.iter().copied().collect(),
            delay,
            ..Script::default()
        }));
        let app = Router::new()
            .fallback(any(record))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { base, script }
    }

    /// What it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

async fn record(
    State(script): State<Arc<Mutex<Script>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let (status, delay) = {
        let mut s = script.lock().unwrap();
        s.received.push(Received {
            method: method.to_string(),
            path: uri.path().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: body.to_vec(),
        });
        (s.statuses.pop_front().unwrap_or(200), s.delay)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}
