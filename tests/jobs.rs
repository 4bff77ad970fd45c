//! The jobs against the emulator, in-process: what users see the warden do.

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::NotAllowed;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Notice, Record, Trigger};

use crate::helpers::*;

fn tick(jobs: &[Job]) -> Trigger {
    Trigger::Tick {
        jobs: jobs.to_vec(),
        targets: Vec::new(),
    }
}

fn two_pending_one_accepted() -> serde_json::Value {
    let mut accepted = pending("e-accepted", STRANGER);
    accepted["status"] = json!("accepted");
    json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
        "connections": [pending("e-allowed", ALLOWED), pending("e-stranger", STRANGER), accepted]}]})
}

#[tokio::test]
async fn approve_accepts_allowlisted_and_leaves_unknown_domains_pending() {
    let emu = emulator(two_pending_one_accepted(), Options::default()).await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.approved.len(), 1);
    assert_eq!(report.approved[0].endpoint_id, "e-allowed");
    assert_eq!(report.approved[0].domain_id, ALLOWED);
    assert_eq!(report.left_pending.len(), 1);
    assert_eq!(report.left_pending[0].endpoint_id, "e-stranger");
    assert!(report.rejected.is_empty());
    let statuses = connection_statuses(&ctx, SERVICE).await;
    assert_eq!(statuses["e-allowed"], "accepted");
    assert_eq!(statuses["e-stranger"], "pendingAcceptance");
    assert_eq!(statuses["e-accepted"], "accepted");
}

#[tokio::test]
async fn approve_rejects_unknown_domains_when_configured() {
    let emu = emulator(two_pending_one_accepted(), Options::default()).await;
    let mut s = settings(&emu);
    s.not_allowed = NotAllowed::Reject;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].endpoint_id, "e-stranger");
    let statuses = connection_statuses(&ctx, SERVICE).await;
    assert_eq!(statuses["e-stranger"], "rejected");
    assert_eq!(
        statuses["e-accepted"], "accepted",
        "an accepted connection is never touched"
    );
}

#[tokio::test]
async fn a_connection_event_for_an_accepted_endpoint_changes_nothing() {
    let emu = emulator(two_pending_one_accepted(), Options::default()).await;
    let ctx = ctx(settings(&emu));
    let notice = Notice {
        service_id: SERVICE.into(),
        endpoint_id: Some("e-accepted".into()),
        target: None,
    };
    let out = dispatch(
        &ctx,
        Trigger::Connections(vec![Record {
            id: None,
            notice: Ok(notice),
        }]),
    )
    .await;
    assert!(out.report.errors.is_empty(), "{:?}", out.report.errors);
    assert!(out.report.approved.is_empty() && out.report.rejected.is_empty());
    assert!(
        emu.stats()
            .by_operation
            .get("connection_action")
            .copied()
            .unwrap_or(0)
            == 0
    );
}

#[tokio::test]
async fn a_connection_event_decides_only_the_named_endpoint() {
    let mut scenario = two_pending_one_accepted();
    scenario["services"][0]["connections"]
        .as_array_mut()
        .unwrap()
        .push(pending("e-allowed-2", ALLOWED));
    let emu = emulator(scenario, Options::default()).await;
    let ctx = ctx(settings(&emu));
    let notice = Notice {
        service_id: SERVICE.into(),
        endpoint_id: Some("e-allowed-2".into()),
        target: None,
    };
    let report = dispatch(
        &ctx,
        Trigger::Connections(vec![Record {
            id: None,
            notice: Ok(notice),
        }]),
    )
    .await
    .report;
    let ids: Vec<_> = report
        .approved
        .iter()
        .map(|e| e.endpoint_id.as_str())
        .collect();
    assert_eq!(ids, ["e-allowed-2"]);
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-allowed"],
        "pendingAcceptance"
    );
}

#[tokio::test]
async fn approve_pages_through_a_service_with_more_than_1000_connections() {
    let connections: Vec<_> = (0..2300)
        .map(|i| {
            pending(
                &format!("e-{i:05}"),
                if i % 2 == 0 { ALLOWED } else { STRANGER },
            )
        })
        .collect();
    let scenario = json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "big",
        "approval_enabled": true, "connections": connections}]});
    let emu = emulator(scenario, Options::default()).await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    assert_eq!(report.approved.len(), 1150);
    assert_eq!(report.left_pending.len(), 1150);
}

#[tokio::test]
async fn gc_deletes_exactly_the_eligible_failed_endpoints() {
    let old = minutes_ago(3 * 60);
    let scenario = json!({"endpoints": [
        endpoint("ep-old-1", "failed", &old, &[]),
        endpoint("ep-old-2", "failed", &minutes_ago(2 * 60), &[]),
        endpoint("ep-old-3", "failed", &minutes_ago(4 * 60), &[]),
        endpoint("ep-young", "failed", &minutes_ago(5), &[]),
        endpoint("ep-kept", "failed", &old, &["warden-keep"]),
        endpoint("ep-fine", "accepted", &old, &[]),
    ]});
    let emu = emulator(scenario, Options::default()).await;
    let mut s = settings(&emu);
    s.gc_max_deletes = 2;
    s.gc_over_limit = vpcep_warden::config::GcOverLimit::Partial;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Gc])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut deleted: Vec<_> = report
        .deleted
        .iter()
        .map(|d| d.endpoint_id.as_str())
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["ep-old-1", "ep-old-3"],
        "oldest first, at most two"
    );
    let reason = |id: &str| {
        report
            .gc_skipped
            .iter()
            .find(|s| s.endpoint_id == id)
            .map(|s| s.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("ep-young").contains("WARDEN_GC_MIN_AGE_MINUTES"));
    assert!(reason("ep-kept").contains("warden-keep"));
    assert!(reason("ep-old-2").contains("WARDEN_GC_MAX_DELETES"));
    assert_eq!(report.gc_skipped.len(), 3);
    for gone in ["ep-old-1", "ep-old-3"] {
        let e = ctx.client.get_endpoint(gone).await;
        assert!(
            e.is_err() || e.unwrap().status == "deleting",
            "{gone} is deleted"
        );
    }
    for kept in ["ep-old-2", "ep-young", "ep-kept", "ep-fine"] {
        assert!(
            ctx.client.get_endpoint(kept).await.is_ok(),
            "{kept} is still there"
        );
    }
}

#[tokio::test]
async fn dry_run_plans_but_changes_nothing() {
    let mut scenario = two_pending_one_accepted();
    scenario["endpoints"] = json!([endpoint("ep-old", "failed", &minutes_ago(600), &[])]);
    let emu = emulator(scenario, Options::default()).await;
    let mut s = settings(&emu);
    s.dry_run = true;
    s.not_allowed = NotAllowed::Reject;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[])).await.report;
    assert!(report.dry_run);
    assert_eq!(report.approved.len(), 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.deleted.len(), 1);
    let stats = emu.stats();
    assert_eq!(
        stats
            .by_operation
            .get("connection_action")
            .copied()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        stats
            .by_operation
            .get("delete_endpoint")
            .copied()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-allowed"],
        "pendingAcceptance"
    );
    assert_eq!(
        ctx.client.get_endpoint("ep-old").await.unwrap().status,
        "failed"
    );
}

#[tokio::test]
async fn quota_levels_follow_the_estate() {
    let endpoints: Vec<_> = (0..8)
        .map(|i| endpoint(&format!("ep-{i}"), "accepted", &minutes_ago(10), &[]))
        .collect();
    let scenario =
        json!({"quotas": {"endpoint": 10, "endpoint_service": 20}, "endpoints": endpoints});
    let emu = emulator(scenario, Options::default()).await;
    let ctx = ctx(settings(&emu));
    let report = dispatch(&ctx, tick(&[Job::Quota])).await.report;
    let endpoint_quota = report
        .quotas
        .iter()
        .find(|q| q.kind == "endpoint")
        .expect("endpoint quota");
    assert_eq!((endpoint_quota.used, endpoint_quota.quota), (8, 10));
    assert_eq!(endpoint_quota.level.name(), "warning");
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(
        report.alerts[0].dedup_key,
        format!("vpcep-quota/{PROJECT}/endpoint/warning")
    );
}

#[tokio::test]
async fn a_tick_with_a_failing_api_reports_errors_and_changes_nothing() {
    let mut scenario = two_pending_one_accepted();
    scenario["endpoints"] = json!([endpoint("ep-old", "failed", &minutes_ago(600), &[])]);
    let emu = emulator(
        scenario,
        Options {
            fault_rate: 1.0,
            ..Options::default()
        },
    )
    .await;
    let mut s = settings(&emu);
    s.max_retries = 1;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[])).await.report;
    assert!(!report.errors.is_empty());
    assert!(
        report.errors.iter().all(|e| e.retryable),
        "{:?}",
        report.errors
    );
    assert!(report.approved.is_empty() && report.deleted.is_empty());
}

#[tokio::test]
async fn service_whitelist_records_approve_but_a_star_record_never_does() {
    let listed = "0b000000000000000000000000000b01";
    let scenario = json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders",
        "approval_enabled": true, "permissions": [format!("iam:domain::{listed}"), "*"],
        "connections": [pending("e-listed", listed), pending("e-stranger", STRANGER)]}]});
    let emu = emulator(scenario, Options::default()).await;
    let mut s = settings(&emu);
    s.allowed_domains.clear();
    s.allow_service_whitelist = true;
    let ctx = ctx(s);
    let report = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let approved: Vec<_> = report
        .approved
        .iter()
        .map(|e| e.endpoint_id.as_str())
        .collect();
    assert_eq!(approved, ["e-listed"]);
    assert_eq!(report.left_pending[0].endpoint_id, "e-stranger");
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-stranger"],
        "pendingAcceptance"
    );
}

#[tokio::test]
async fn a_tick_reads_each_whitelist_once_for_approve_and_the_posture_review() {
    use crate::safety::model::{Estate, Model, Service};
    use crate::safety::{conn, PROJECTS, STRANGER};
    let services = (0..3)
        .map(|i| Service {
            id: format!("svc-{i}"),
            connections: vec![conn("e-1", Some(STRANGER), "pendingAcceptance", None)],
            ..Service::default()
        })
        .collect();
    let model = Model::start(std::collections::BTreeMap::from([(
        PROJECTS[0].to_owned(),
        Estate {
            services,
            ..Estate::default()
        },
    )]))
    .await;
    let s = crate::safety::settings(
        &model,
        1,
        &[("WARDEN_ALLOWED_DOMAINS", "service-whitelist")],
    );
    let report = dispatch(
        &vpcep_warden::jobs::Ctx::new(s).unwrap(),
        Trigger::Tick {
            jobs: vec![Job::Approve, Job::Quota],
            targets: Vec::new(),
        },
    )
    .await
    .report;
    assert_eq!(report.left_pending.len(), 3, "{:?}", report.errors);
    let reads = model
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/permissions"))
        .count();
    assert_eq!(
        reads, 3,
        "one whitelist read per service, shared by both jobs"
    );
}
