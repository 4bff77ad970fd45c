//! `vpcep-warden serve` as users meet it: the real binary on a free port
//! against the emulator, answering webhooks, health checks and metrics,
//! ticking on its schedule and shutting down without cutting work short.

mod hardening;
mod metrics;
mod server;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::events::sign_webhook;

use crate::helpers::*;
use server::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_webhook_runs_and_unsigned_or_badly_signed_ones_are_refused_401() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &[]);
    let notice = json!({"service_id": SERVICE, "endpoint_id": "e-allowed"}).to_string();
    let tick = json!({"warden": "tick"}).to_string();

    let health = crate::helpers::http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
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
        let text = server.metrics().await;
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
            let mut request = crate::helpers::http()
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
