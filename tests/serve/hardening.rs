//! `serve` against hostile and careless clients: slow or idle connections
//! are cut off, a POST is refused on its headers before its body is read,
//! the connection cap holds, shutdown does not wait on strangers, and a
//! captured tick replayed at once runs once.
//!
//! The bounds below (20 s, 60 s) only stop a test that would otherwise hang
//! on the old behaviour; what is asserted is what happens, not how fast.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vpcep_emulator::Options;
use vpcep_warden::events::sign_webhook;

use super::server::*;
use crate::helpers::*;

/// How long a test waits for something that must happen at all.
const AT_ALL: Duration = Duration::from_secs(20);

async fn connect(server: &Server) -> TcpStream {
    let address = server.url.trim_start_matches("http://").to_owned();
    TcpStream::connect(address)
        .await
        .expect("the server accepts")
}

/// Reads until the server closes the connection; `None` when it does not
/// within [`AT_ALL`].
async fn until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(AT_ALL, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&seen).into_owned())
}

/// The status code of the first answer in `text`.
fn status(text: &str) -> Option<u16> {
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn signed_head(path: &str, body: &str, length: usize) -> String {
    let ts = now();
    format!(
        "POST {path} HTTP/1.1\r\nHost: warden\r\nContent-Length: {length}\r\n\
         X-Warden-Timestamp: {ts}\r\nX-Warden-Signature: {}\r\n\r\n",
        sign_webhook(SECRET, ts, body.as_bytes())
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--read-timeout", "1s"]);
    let mut slow = connect(&server).await;
    slow.write_all(b"POST /webhook HTTP/1.1\r\nHost: warden\r\n")
        .await
        .unwrap();
    assert!(
        until_closed(&mut slow).await.is_some(),
        "a half-sent request head holds its connection forever"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_kept_alive_connection_is_closed() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--read-timeout", "1s"]);
    let mut idle = connect(&server).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: warden\r\n\r\n")
        .await
        .unwrap();
    let seen = until_closed(&mut idle)
        .await
        .expect("an idle kept-alive connection is held forever");
    assert_eq!(status(&seen), Some(200), "{seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stalls_is_answered_408() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--read-timeout", "1s"]);
    let body = json!({"service_id": SERVICE}).to_string();
    let mut stream = connect(&server).await;
    stream
        .write_all(signed_head("/webhook", &body, body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();
    let seen = until_closed(&mut stream)
        .await
        .expect("a stalled body holds its connection forever");
    assert_eq!(status(&seen), Some(408), "{seen}");
    assert_eq!(emu.stats().total, 0, "nothing ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_is_refused_on_its_headers_before_its_body_is_read() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &[]);
    // Unsigned, announcing a body it never sends: refused without waiting for it.
    let mut unsigned = connect(&server).await;
    unsigned
        .write_all(b"POST /webhook HTTP/1.1\r\nHost: warden\r\nContent-Length: 1000000\r\n\r\n")
        .await
        .unwrap();
    let seen = until_closed(&mut unsigned)
        .await
        .expect("an unsigned request waits for its body");
    assert_eq!(status(&seen), Some(401), "{seen}");
    assert!(seen.contains("X-Warden-Timestamp"), "{seen}");
    // Stale: the timestamp alone refuses it.
    let mut stale = connect(&server).await;
    let ts = now() - 3600;
    stale
        .write_all(
            format!(
                "POST / HTTP/1.1\r\nHost: warden\r\nContent-Length: 500\r\n\
                 X-Warden-Timestamp: {ts}\r\nX-Warden-Signature: sha256=00\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let seen = until_closed(&mut stale)
        .await
        .expect("a stale request waits for its body");
    assert_eq!(status(&seen), Some(401), "{seen}");
    // Too large by its Content-Length, even when signed.
    let mut large = connect(&server).await;
    large
        .write_all(signed_head("/webhook", "", 2 * 1024 * 1024).as_bytes())
        .await
        .unwrap();
    let seen = until_closed(&mut large)
        .await
        .expect("an oversized request waits for its body");
    assert_eq!(status(&seen), Some(413), "{seen}");
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn over_the_connection_cap_a_client_waits_until_one_closes() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--max-connections", "1", "--read-timeout", "2s"]);
    let mut holder = connect(&server).await;
    holder.write_all(b"GET /heal").await.unwrap();
    // The connection is accepted once the holder's slot is freed, then answered.
    let health = crate::helpers::http()
        .get(server.url("/healthz"))
        .timeout(AT_ALL)
        .send()
        .await
        .expect("the health check is answered once a slot is free");
    assert_eq!(health.status().as_u16(), 200);
    // By then the holder was closed (its end already in its socket): the
    // one connection allowed was its.
    let mut rest = [0u8; 4096];
    let closed = loop {
        match tokio::time::timeout(Duration::from_millis(100), holder.read(&mut rest)).await {
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(_)) => continue,
            Err(_) => break false,
        }
    };
    assert!(
        closed,
        "a second connection was served while the first was open"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_does_not_wait_on_a_slow_client_past_the_grace() {
    let emu = emulator(estate(), Options::default()).await;
    let mut server = Server::start(&emu, &["--read-timeout", "5m", "--shutdown-grace", "1s"]);
    let mut slow = connect(&server).await;
    slow.write_all(b"POST / HTTP/1.1\r\nHost: warden\r\nX-Slow: ")
        .await
        .unwrap();
    // The request head is in progress (so not idle) when the signal comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.terminate();
    let status = server.exit(Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        server.stderr().contains("shutdown grace"),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_tick_replayed_ten_times_at_once_runs_once() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 300,
            ..Options::default()
        },
    )
    .await;
    let server = Server::start(&emu, &[]);
    let tick = json!({"warden": "tick"}).to_string();
    let ts = now();
    let signature = sign_webhook(SECRET, ts, tick.as_bytes());
    let client = crate::helpers::http();
    let replays = (0..10).map(|_| {
        let request = client
            .post(server.url("/"))
            .header("X-Warden-Timestamp", ts.to_string())
            .header("X-Warden-Signature", &signature)
            .body(tick.clone());
        async move {
            let answer = request.send().await.expect("the server answers");
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap();
            (status, body)
        }
    });
    let answers = futures_util::future::join_all(replays).await;
    let ran: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    let joined: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(ran.len(), 1, "{answers:?}");
    assert_eq!(joined.len(), 9, "{answers:?}");
    assert_eq!(ran[0]["trigger"], "tick");
    assert_eq!(joined[0]["status"], "joined");
    assert_eq!(
        joined[0]["running"]["jobs"],
        json!(["approve", "quota", "gc"])
    );
    let stats = emu.stats();
    assert_eq!(stats.by_operation.get("list_quotas"), Some(&1), "{stats:?}");
    let metrics = server.metrics().await;
    assert_eq!(sample(&metrics, "vpcep_warden_ticks_total"), Some(1.0));
    assert_eq!(
        sample(&metrics, "vpcep_warden_ticks_joined_total"),
        Some(9.0)
    );
}
