//! Judgement against the emulator: revoking, per-account limits, notices of
//! waiting connections, audit marks, posture findings, gc refusing to act on
//! a portion, keep-until tags, and a dry run that predicts the real run.

mod dry_run;
mod gc;
mod notices;

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::{NotAllowed, Reconcile, Secret, Settings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

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

/// Requests of one operation the emulator served.
fn op(emu: &vpcep_emulator::Emulator, operation: &str) -> u64 {
    emu.stats()
        .by_operation
        .get(operation)
        .copied()
        .unwrap_or(0)
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
