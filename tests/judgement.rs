//! Judgement against the emulator: revoking, per-account limits, notices of
//! waiting connections, audit marks, posture findings, gc refusing to act on
//! a portion, keep-until tags, and a dry run that predicts the real run.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::{GcOverLimit, NotAllowed, Reconcile, Secret, Settings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};
use vpcep_warden::report::Report;

use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

const OTHER: &str = "cccccccccccccccccccccccccccccccc";

fn tick(jobs: &[Job]) -> Trigger {
    Trigger::Tick {
        jobs: jobs.to_vec(),
        targets: Vec::new(),
    }
}

/// A connection of `domain` in `status`, created `minutes` ago.
fn conn(id: &str, domain: &str, status: &str, minutes: i64) -> Value {
    json!({"endpoint_id": id, "domain_id": domain, "status": status, "created_at": minutes_ago(minutes)})
}

/// One service (approval on) with `connections`.
fn estate(connections: Vec<Value>) -> Value {
    json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders",
        "approval_enabled": true, "connections": connections}]})
}

/// An emulator with that one service.
async fn on(connections: Vec<Value>) -> vpcep_emulator::Emulator {
    emulator(estate(connections), Options::default()).await
}

/// A webhook receiver taking alerts in the `json` format.
async fn hook(s: &mut Settings) -> TestServer {
    let server = TestServer::start(|_| Reply::raw(200, "")).await;
    s.alert_webhook_url = Some(Secret::new(format!("{}/alerts", server.url)));
    s.alert_format = vpcep_warden::config::AlertFormat::Json;
    s.max_retries = 0;
    server
}

/// Every alert the receiver got, as (type, dedup_key).
fn received(server: &TestServer) -> Vec<(String, String)> {
    server
        .requests()
        .iter()
        .flat_map(|r| r.json().as_array().cloned().unwrap_or_default())
        .map(|a| {
            (
                a["type"].as_str().unwrap_or_default().to_owned(),
                a["dedup_key"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The connections' descriptions, by endpoint id.
async fn descriptions(ctx: &vpcep_warden::jobs::Ctx) -> BTreeMap<String, String> {
    ctx.client
        .list_connections(SERVICE, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.description.unwrap_or_default()))
        .collect()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|i| id(i).to_owned()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn reconcile_off_report_and_reject() {
    let connections = || {
        estate(vec![
            conn("e-kept", ALLOWED, "accepted", 60),
            conn("e-gone", STRANGER, "accepted", 60),
        ])
    };
    for (mode, rejected) in [
        (Reconcile::Off, None),
        (Reconcile::Report, Some(false)),
        (Reconcile::Reject, Some(true)),
    ] {
        let emu = emulator(connections(), Options::default()).await;
        let mut s = settings(&emu);
        s.reconcile = mode;
        s.reconcile_grace_minutes = 0;
        let ctx = ctx(s);
        let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let statuses = connection_statuses(&ctx, SERVICE).await;
        assert_eq!(statuses["e-kept"], "accepted", "{mode:?}");
        match rejected {
            None => assert!(report.revoked.is_empty(), "{mode:?}"),
            Some(done) => {
                assert_eq!(report.revoked.len(), 1, "{mode:?}");
                let r = &report.revoked[0];
                assert_eq!((r.endpoint_id.as_str(), r.rejected), ("e-gone", done));
                assert!(r.reason.contains("no longer allowed"), "{}", r.reason);
            }
        }
        let expected = if rejected == Some(true) {
            "rejected"
        } else {
            "accepted"
        };
        assert_eq!(statuses["e-gone"], expected, "{mode:?}");
    }
}

#[tokio::test]
async fn reconcile_never_revokes_on_an_empty_allowlist() {
    let emu = on(vec![conn("e-1", STRANGER, "accepted", 60)]).await;
    let mut s = settings(&emu);
    s.allowed_domains.clear();
    s.reconcile = Reconcile::Reject;
    s.reconcile_grace_minutes = 0;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(connection_statuses(&ctx, SERVICE).await["e-1"], "accepted");
    assert_eq!(report.revoked.len(), 1);
    assert!(!report.revoked[0].rejected);
    assert!(report.revoked[0].reason.contains("allowlist"));
}

#[tokio::test]
async fn reconcile_over_its_cap_rejects_none_and_raises_a_critical_alert() {
    let connections: Vec<Value> = (0..3)
        .map(|i| conn(&format!("e-{i}"), STRANGER, "accepted", 60))
        .collect();
    let emu = emulator(estate(connections), Options::default()).await;
    let mut s = settings(&emu);
    s.reconcile = Reconcile::Reject;
    s.reconcile_grace_minutes = 0;
    s.reconcile_max = 2;
    let receiver = hook(&mut s).await;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    let statuses = connection_statuses(&ctx, SERVICE).await;
    assert!(statuses.values().all(|s| s == "accepted"), "{statuses:?}");
    assert_eq!(report.revoked.len(), 3);
    assert!(report.revoked.iter().all(|r| !r.rejected
        && r.reason
            .contains("3 connections are due across the run, more than WARDEN_RECONCILE_MAX=2")));
    let alert = report
        .alerts
        .iter()
        .find(|a| a.kind == "reconcile_over_limit")
        .expect("a critical alert");
    assert_eq!(alert.level.name(), "critical");
    assert!(received(&receiver)
        .iter()
        .any(|(kind, _)| kind == "reconcile_over_limit"));
}

#[tokio::test]
async fn the_per_account_limit_at_limit_minus_one_limit_and_plus_one() {
    // With a limit of 2: one held + one asking fits; two held + one asking does not.
    for (held, accepted) in [(1usize, true), (2, false), (3, false)] {
        let mut connections: Vec<Value> = (0..held)
            .map(|i| conn(&format!("e-held-{i}"), ALLOWED, "accepted", 60))
            .collect();
        connections.push(conn("e-asking", ALLOWED, "pendingAcceptance", 5));
        connections.push(conn("e-other", OTHER, "pendingAcceptance", 5));
        let emu = emulator(estate(connections), Options::default()).await;
        let mut s = settings(&emu);
        s.allowed_domains.push(OTHER.into());
        s.max_connections_per_account = Some(2);
        let ctx = ctx(s);
        let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let approved = ids(&report.approved, |a| &a.endpoint_id);
        if accepted {
            assert_eq!(approved, ["e-asking", "e-other"], "{held} held");
        } else {
            assert_eq!(approved, ["e-other"], "{held} held");
            assert_eq!(report.left_pending.len(), 1);
            assert!(report.left_pending[0]
                .reason
                .contains("WARDEN_MAX_CONNECTIONS_PER_ACCOUNT=2"));
        }
    }
}

#[tokio::test]
async fn a_request_over_the_per_account_limit_is_rejected_when_configured() {
    let emu = on(vec![
        conn("e-held", ALLOWED, "accepted", 60),
        conn("e-asking", ALLOWED, "pendingAcceptance", 5),
    ])
    .await;
    let mut s = settings(&emu);
    s.max_connections_per_account = Some(1);
    s.not_allowed = NotAllowed::Reject;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(ids(&report.rejected, |r| &r.endpoint_id), ["e-asking"]);
    assert!(report.rejected[0].reason.contains("already has 1"));
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-asking"],
        "rejected"
    );
}

#[tokio::test]
async fn a_waiting_connection_is_announced_once_and_again_only_when_its_mark_is_cleared() {
    let emu = on(vec![conn("e-waiting", STRANGER, "pendingAcceptance", 600)]).await;
    let mut s = settings(&emu);
    s.audit_description = true;
    let receiver = hook(&mut s).await;
    let ctx = ctx(s);
    for _ in 0..3 {
        let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }
    let key = format!("vpcep-pending/{PROJECT}/{SERVICE}/e-waiting");
    assert_eq!(
        received(&receiver),
        [("pending_connection".to_owned(), key.clone())],
        "once across three ticks"
    );
    let marked = descriptions(&ctx).await["e-waiting"].clone();
    assert!(marked.starts_with("vpcep-warden: announced "), "{marked:?}");
    ctx.client
        .describe_own_connections(SERVICE, &[("e-waiting".into(), String::new())])
        .await
        .unwrap();
    dispatch(&ctx, tick(&[Job::Approve])).await;
    dispatch(&ctx, tick(&[Job::Approve])).await;
    assert_eq!(received(&receiver).len(), 2, "once more after clearing");
}

#[tokio::test]
async fn without_marks_a_tick_announces_the_connections_created_since_the_previous_one() {
    let emu = on(vec![
        conn("e-new", STRANGER, "pendingAcceptance", 2),
        conn("e-old", STRANGER, "pendingAcceptance", 60),
    ])
    .await;
    let mut s = settings(&emu);
    s.schedule_minutes = 5;
    let receiver = hook(&mut s).await;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    let key = format!("vpcep-pending/{PROJECT}/{SERVICE}/e-new");
    assert_eq!(
        received(&receiver),
        [("pending_connection".to_owned(), key)]
    );
    assert_eq!(report.alerts.len(), 1);
    assert!(descriptions(&ctx).await.values().all(String::is_empty));
}

#[tokio::test]
async fn a_notice_that_no_sink_took_is_announced_again() {
    let emu = on(vec![conn("e-waiting", STRANGER, "pendingAcceptance", 600)]).await;
    let mut s = settings(&emu);
    s.audit_description = true;
    let down = TestServer::start(|_| Reply::raw(503, "")).await;
    s.alert_webhook_url = Some(Secret::new(format!("{}/alerts", down.url)));
    s.max_retries = 0;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(descriptions(&ctx).await["e-waiting"], "", "not marked");
}

#[tokio::test]
async fn audit_marks_are_written_and_a_foreign_description_is_left_alone() {
    let mut foreign = conn("e-foreign", ALLOWED, "pendingAcceptance", 60);
    foreign["connection_description"] = json!("contract 42, ask ops before changing");
    let emu = on(vec![
        conn("e-ok", ALLOWED, "pendingAcceptance", 60),
        conn("e-no", STRANGER, "pendingAcceptance", 60),
        foreign,
    ])
    .await;
    let mut s = settings(&emu);
    s.audit_description = true;
    s.not_allowed = NotAllowed::Reject;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let d = descriptions(&ctx).await;
    assert!(
        d["e-ok"].starts_with("vpcep-warden: accepted ")
            && d["e-ok"].ends_with(", account in WARDEN_ALLOWED_DOMAINS"),
        "{:?}",
        d["e-ok"]
    );
    assert!(
        d["e-no"].starts_with("vpcep-warden: rejected "),
        "{:?}",
        d["e-no"]
    );
    assert_eq!(d["e-foreign"], "contract 42, ask ops before changing");
    assert_eq!(
        report.approved.len(),
        2,
        "the foreign one is still accepted"
    );
}

#[tokio::test]
async fn posture_findings_are_warnings_with_stable_keys() {
    let scenario = json!({"services": [
        {"id": "5e000000-0000-4000-8000-0000000000a1", "owner": "provider", "approval_enabled": false},
        {"id": "5e000000-0000-4000-8000-0000000000a2", "owner": "provider", "permissions": ["*"]},
        {"id": "5e000000-0000-4000-8000-0000000000a3", "owner": "provider", "permissions": [format!("iam:domain::{ALLOWED}")]}
    ]});
    let emu = emulator(scenario, Options::default()).await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[Job::Quota])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let keys: Vec<(&str, &str)> = report
        .alerts
        .iter()
        .map(|a| (a.level.name(), a.dedup_key.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            (
                "warning",
                &*format!("vpcep-posture/{PROJECT}/5e000000-0000-4000-8000-0000000000a1/approval_disabled")
            ),
            (
                "warning",
                &*format!("vpcep-posture/{PROJECT}/5e000000-0000-4000-8000-0000000000a2/whitelist_open")
            ),
        ]
    );
}

#[tokio::test]
async fn gc_over_its_cap_deletes_nothing_and_alerts() {
    let endpoints: Vec<Value> = (0..3)
        .map(|i| endpoint(&format!("ep-{i}"), "failed", &minutes_ago(600), &[]))
        .collect();
    let emu = emulator(json!({"endpoints": endpoints}), Options::default()).await;
    let mut s = settings(&emu);
    s.gc_max_deletes = 2;
    let receiver = hook(&mut s).await;
    let report = dispatch(&ctx(s), tick(&[Job::Gc])).await.report;
    assert!(report.deleted.is_empty());
    assert_eq!(report.gc_skipped.len(), 3);
    assert!(report.gc_skipped[0].reason.contains("3 endpoints qualify"));
    assert_eq!(report.alerts[0].kind, "gc_over_limit");
    assert_eq!(report.alerts[0].level.name(), "critical");
    assert_eq!(received(&receiver).len(), 1);
    assert_eq!(op(&emu, "delete_endpoint"), 0);
    // partial: today's behaviour, oldest first up to the cap.
    let mut s = settings(&emu);
    s.gc_max_deletes = 2;
    s.gc_over_limit = GcOverLimit::Partial;
    let report = dispatch(&ctx(s), tick(&[Job::Gc])).await.report;
    assert_eq!(report.deleted.len(), 2);
}

/// Requests of one operation the emulator served.
fn op(emu: &vpcep_emulator::Emulator, operation: &str) -> u64 {
    emu.stats()
        .by_operation
        .get(operation)
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_keep_until_tag_protects_until_its_time() {
    let tagged = |id: &str, until: &str| {
        let mut e = endpoint(id, "failed", &minutes_ago(600), &[]);
        e["tags"] = json!([{"key": "warden-keep-until", "value": until}]);
        e
    };
    let emu = emulator(
        json!({"endpoints": [
            tagged("ep-future", "2999-01-01T00:00:00Z"),
            tagged("ep-past", "2020-01-01T00:00:00Z"),
        ]}),
        Options::default(),
    )
    .await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[Job::Gc])).await.report;
    assert_eq!(ids(&report.deleted, |d| &d.endpoint_id), ["ep-past"]);
    assert_eq!(report.gc_skipped[0].endpoint_id, "ep-future");
    assert!(report.gc_skipped[0]
        .reason
        .contains("kept until 2999-01-01"));
}

/// An estate exercising every approve and gc rule at once.
fn every_rule() -> Value {
    let mut connections = vec![
        conn("c-allowed", ALLOWED, "pendingAcceptance", 30),
        conn("c-stranger", STRANGER, "pendingAcceptance", 30),
        conn("c-held", OTHER, "accepted", 300),
        conn("c-over", OTHER, "pendingAcceptance", 20),
        conn(
            "c-revoked",
            "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "accepted",
            300,
        ),
    ];
    connections.push(conn("c-new-stranger", STRANGER, "pendingAcceptance", 1));
    let mut endpoints = vec![
        endpoint("ep-old", "failed", &minutes_ago(600), &[]),
        endpoint("ep-older", "failed", &minutes_ago(900), &[]),
        endpoint("ep-young", "failed", &minutes_ago(5), &[]),
        endpoint("ep-kept", "failed", &minutes_ago(600), &["warden-keep"]),
        endpoint("ep-fine", "accepted", &minutes_ago(600), &[]),
    ];
    let mut until = endpoint("ep-until", "failed", &minutes_ago(600), &[]);
    until["tags"] = json!([{"key": "warden-keep-until", "value": "2999-12-31"}]);
    endpoints.push(until);
    json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders",
        "approval_enabled": true, "connections": connections}], "endpoints": endpoints})
}

/// What a report says was done, comparable across runs.
fn actions(r: &Report) -> Value {
    json!({
        "approved": ids(&r.approved, |e| &e.endpoint_id),
        "rejected": ids(&r.rejected, |e| &e.endpoint_id),
        "left_pending": ids(&r.left_pending, |e| &e.endpoint_id),
        "revoked": r.revoked.iter().map(|e| (e.endpoint_id.clone(), e.rejected)).collect::<BTreeMap<_, _>>(),
        "deleted": ids(&r.deleted, |e| &e.endpoint_id),
        "gc_skipped": r.gc_skipped.iter().map(|e| (e.endpoint_id.clone(), e.reason.clone())).collect::<BTreeMap<_, _>>(),
        "alerts": ids(&r.alerts, |a| &a.dedup_key),
    })
}

#[tokio::test]
async fn the_dry_run_plan_is_what_the_real_run_then_does() {
    for (over_limit, not_allowed, reconcile) in [
        (GcOverLimit::Partial, NotAllowed::Leave, Reconcile::Reject),
        (GcOverLimit::Refuse, NotAllowed::Reject, Reconcile::Report),
        (GcOverLimit::Partial, NotAllowed::Reject, Reconcile::Reject),
    ] {
        let emu = emulator(every_rule(), Options::default()).await;
        let mut s = settings(&emu);
        s.allowed_domains.push(OTHER.into());
        s.max_connections_per_account = Some(1);
        s.reconcile = reconcile;
        s.not_allowed = not_allowed;
        s.gc_max_deletes = 1;
        s.gc_over_limit = over_limit;
        s.schedule_minutes = 5;
        let mut dry = s.clone();
        dry.dry_run = true;
        let planned = dispatch(&ctx(dry), tick(&[])).await.report;
        assert_eq!(
            op(&emu, "connection_action"),
            0,
            "a dry run changes nothing"
        );
        assert_eq!(op(&emu, "delete_endpoint"), 0, "a dry run changes nothing");
        let done = dispatch(&ctx(s), tick(&[])).await.report;
        assert!(done.errors.is_empty(), "{:?}", done.errors);
        assert_eq!(
            actions(&planned),
            actions(&done),
            "{over_limit:?} {not_allowed:?} {reconcile:?}"
        );
        assert!(
            !done.approved.is_empty() && !done.left_pending.is_empty() || !done.rejected.is_empty(),
            "the estate exercises the rules"
        );
    }
}

#[tokio::test]
async fn a_tick_lists_the_services_once_for_approve_and_the_posture_review() {
    let emu = on(vec![conn("e-1", ALLOWED, "pendingAcceptance", 60)]).await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.approved.len(), 1);
    assert_eq!(op(&emu, "list_services"), 1);
    dispatch(&ctx, tick(&[])).await;
    assert_eq!(op(&emu, "list_services"), 2, "each run reads them afresh");
}
