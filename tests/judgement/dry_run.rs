//! A dry run predicts the real run: on an estate exercising every approve
//! and gc rule, the plan is what the real run then does.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::{GcOverLimit, NotAllowed, Reconcile};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::report::Report;

use super::{conn, ids, op, tick, OTHER};
use crate::helpers::*;

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
