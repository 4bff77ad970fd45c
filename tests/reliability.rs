//! Faults survived, overlapping runs, deadlines, partial batches: the warden
//! ends in the right state or says what it did not do.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Notice, Record, Trigger};
use vpcep_warden::jobs::Ctx;

use crate::helpers::*;

const SERVICES: usize = 6;

/// An estate with pending connections from allowed and unknown accounts in
/// several services, and failed endpoints old, young and kept.
fn estate() -> serde_json::Value {
    let services: Vec<_> = (0..SERVICES)
        .map(|s| {
            let connections: Vec<_> = (0..60)
                .map(|i| {
                    let mut c = pending(&format!("e-{s}-{i:03}"), if i % 3 == 0 { ALLOWED } else { STRANGER });
                    if i % 5 == 0 {
                        c["status"] = json!("accepted");
                    }
                    c
                })
                .collect();
            json!({"id": format!("5e000000-0000-4000-8000-00000000000{s}"), "owner": "provider",
                   "service_name": format!("svc-{s}"), "approval_enabled": true, "connections": connections})
        })
        .collect();
    let old = minutes_ago(600);
    let young = minutes_ago(5);
    let endpoints: Vec<_> = (0..80)
        .map(|i| match i % 8 {
            0..=2 => endpoint(&format!("ep-{i:03}"), "failed", &old, &[]),
            3 => endpoint(&format!("ep-{i:03}"), "failed", &young, &[]),
            4 => endpoint(&format!("ep-{i:03}"), "failed", &old, &["warden-keep"]),
            _ => endpoint(&format!("ep-{i:03}"), "accepted", &old, &[]),
        })
        .collect();
    json!({"services": services, "endpoints": endpoints})
}

/// What users care about: every connection's status and every endpoint's status.
async fn final_state(ctx: &Ctx) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut connections = BTreeMap::new();
    for s in 0..SERVICES {
        connections.extend(
            connection_statuses(ctx, &format!("5e000000-0000-4000-8000-00000000000{s}")).await,
        );
    }
    let endpoints = ctx
        .client
        .list_endpoints()
        .await
        .expect("endpoints are listed")
        .into_iter()
        .map(|e| (e.id, e.status))
        .collect();
    (connections, endpoints)
}

fn tick() -> Trigger {
    Trigger::Tick {
        jobs: vec![],
        targets: Vec::new(),
    }
}

fn patient(emu: &vpcep_emulator::Emulator) -> Ctx {
    let mut s = settings(emu);
    s.max_retries = 12;
    s.gc_max_deletes = 1000;
    ctx(s)
}

#[tokio::test]
async fn a_tick_under_faults_and_rate_limits_ends_as_a_fault_free_one() {
    let clean = emulator(estate(), Options::default()).await;
    let clean_ctx = patient(&clean);
    let clean_report = dispatch(&clean_ctx, tick()).await.report;
    assert!(clean_report.errors.is_empty(), "{:?}", clean_report.errors);

    let faulty = emulator(
        estate(),
        Options {
            fault_rate: 0.2,
            rate_limit: Some(40.0),
            ..Options::default()
        },
    )
    .await;
    let faulty_ctx = patient(&faulty);
    let report = dispatch(&faulty_ctx, tick()).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let stats = faulty.stats();
    eprintln!(
        "faults injected: {} x 500 EndPoint.0001, {} x 400 EndPoint.0022 over {} requests",
        stats.faulted, stats.rate_limited, stats.total
    );
    assert!(
        stats.faulted > 0 && stats.rate_limited > 0,
        "faults were injected: {stats:?}"
    );

    assert_eq!(
        final_state(&faulty_ctx).await,
        final_state(&clean_ctx).await
    );
    assert_eq!(report.approved.len(), clean_report.approved.len());
    assert_eq!(report.deleted.len(), clean_report.deleted.len());
    assert_eq!(
        report.approved.len(),
        SERVICES * 16,
        "every allowlisted pending connection"
    );
    assert_eq!(
        report.deleted.len(),
        30,
        "exactly the old, unkept failed endpoints"
    );
}

#[tokio::test]
async fn two_ticks_at_once_end_in_the_right_state_without_errors() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 2,
            ..Options::default()
        },
    )
    .await;
    let (a, b) = (patient(&emu), patient(&emu));
    let (ra, rb) = tokio::join!(dispatch(&a, tick()), dispatch(&b, tick()));
    assert!(
        ra.report.errors.is_empty(),
        "{:?}",
        ra.report.errors.first()
    );
    assert!(
        rb.report.errors.is_empty(),
        "{:?}",
        rb.report.errors.first()
    );

    let reference = emulator(estate(), Options::default()).await;
    let reference_ctx = patient(&reference);
    dispatch(&reference_ctx, tick()).await;
    assert_eq!(final_state(&a).await, final_state(&reference_ctx).await);
}

#[tokio::test]
async fn a_short_deadline_returns_in_time_and_the_next_tick_finishes() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 150,
            ..Options::default()
        },
    )
    .await;
    let mut s = settings(&emu);
    s.http_timeout_secs = 1;
    s.max_concurrency = 2;
    s.gc_max_deletes = 1000;
    let ctx = ctx(s);
    let deadline = Instant::now() + Duration::from_millis(2500);
    let report = dispatch(&ctx.with_deadline(Some(deadline)), tick())
        .await
        .report;
    assert!(
        Instant::now() < deadline,
        "the invocation returned before its deadline"
    );
    let not_started = report
        .errors
        .iter()
        .filter(|e| e.message.contains("deadline"))
        .count()
        + report
            .gc_skipped
            .iter()
            .filter(|s| s.reason.contains("deadline"))
            .count();
    assert!(not_started > 0, "what was not done is reported");
    assert!(
        report
            .errors
            .iter()
            .all(|e| e.retryable && e.message.contains("deadline")),
        "{:?}",
        report.errors
    );

    let mut patient_settings = settings(&emu);
    patient_settings.gc_max_deletes = 1000;
    let next = dispatch(&self::ctx(patient_settings), tick()).await.report;
    assert!(next.errors.is_empty(), "{:?}", next.errors.first());
    assert_eq!(report.approved.len() + next.approved.len(), SERVICES * 16);
    assert_eq!(report.deleted.len() + next.deleted.len(), 30);
}

#[tokio::test]
async fn an_sqs_batch_reports_exactly_the_failed_records() {
    let emu = emulator(estate(), Options::default()).await;
    let ctx = ctx(settings(&emu));
    let mut records: Vec<Record> = (0..8)
        .map(|i| Record {
            id: Some(format!("ok-{i}")),
            notice: Ok(Notice {
                service_id: format!("5e000000-0000-4000-8000-00000000000{}", i % SERVICES),
                endpoint_id: Some(format!("e-{}-{:03}", i % SERVICES, 3 * (i + 1))),
                target: None,
            }),
        })
        .collect();
    records.insert(
        3,
        Record {
            id: Some("malformed".into()),
            notice: Err("expected a notice".into()),
        },
    );
    records.push(Record {
        id: Some("no-such-service".into()),
        notice: Ok(Notice {
            service_id: "5e000000-0000-4000-8000-0000000000ff".into(),
            endpoint_id: None,
            target: None,
        }),
    });
    let out = dispatch(&ctx, Trigger::Connections(records)).await;
    let mut failed = out.failed_records.clone();
    failed.sort();
    assert_eq!(failed, ["malformed", "no-such-service"]);
    // The eight named connections from the allowed account; one of them (e-4-015)
    // was accepted already, so seven are approved, each exactly once.
    assert_eq!(out.report.approved.len(), 7, "{:?}", out.report.errors);
    assert!(out.report.left_pending.is_empty());
    assert_eq!(
        emu.stats()
            .by_operation
            .get("connection_action")
            .copied()
            .unwrap_or(0),
        7
    );
}

/// An endpoint list whose second page never comes: the first page names a
/// failed endpoint old enough to delete, but nothing may be deleted on a
/// half-read list.
#[tokio::test]
async fn gc_deletes_nothing_when_the_list_cannot_be_read_whole() {
    use crate::scripted::{Reply, TestServer};
    let old_failed = endpoint("ep-old", "failed", &minutes_ago(600), &[]);
    let server = TestServer::start(move |seen| {
        let offset = seen.query_value("offset").unwrap_or_default();
        match (seen.method.as_str(), offset.as_str()) {
            ("GET", "0") => {
                let mut page = vec![old_failed.clone()];
                page.extend((1..1000).map(|i| {
                    endpoint(&format!("ep-{i}"), "accepted", "2026-01-01T00:00:00Z", &[])
                }));
                Reply::ok(json!({"endpoints": page, "total_count": 1500}))
            }
            ("GET", _) => Reply::raw(502, "<html><body>Bad Gateway</body></html>"),
            _ => Reply::error(400, "Test.Unexpected", "only list requests are expected"),
        }
    })
    .await;
    let mut s = vpcep_warden::config::Settings::for_tests(&server.url, PROJECT, AK, SK);
    s.max_retries = 1;
    let report = dispatch(
        &ctx(s),
        Trigger::Tick {
            jobs: vec![vpcep_warden::events::Job::Gc],
            targets: Vec::new(),
        },
    )
    .await
    .report;
    assert!(report.deleted.is_empty());
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0].message.contains("502"),
        "{}",
        report.errors[0].message
    );
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "no DELETE was sent"
    );
}

#[tokio::test]
async fn runs_at_the_same_time_count_only_their_own_api_calls() {
    let emu = emulator(
        estate(),
        Options {
            latency_ms: 20,
            ..Options::default()
        },
    )
    .await;
    let mut s = settings(&emu);
    s.dry_run = true;
    let ctx = ctx(s);
    let quota = Trigger::Tick {
        jobs: vec![vpcep_warden::events::Job::Quota],
        targets: Vec::new(),
    };
    let gc = Trigger::Tick {
        jobs: vec![vpcep_warden::events::Job::Gc],
        targets: Vec::new(),
    };
    // Alone, each run's count is what the emulator saw.
    let before = emu.stats().total;
    let alone_quota = dispatch(&ctx, quota.clone()).await.report.api_calls;
    assert_eq!(alone_quota, emu.stats().total - before);
    let before = emu.stats().total;
    let alone_gc = dispatch(&ctx, gc.clone()).await.report.api_calls;
    assert_eq!(alone_gc, emu.stats().total - before);
    // Side by side (a dry run reads the same each time), each still counts its own.
    let (q, g) = tokio::join!(dispatch(&ctx, quota), dispatch(&ctx, gc));
    assert_eq!(q.report.api_calls, alone_quota);
    assert_eq!(g.report.api_calls, alone_gc);
}
