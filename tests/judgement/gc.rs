//! gc's judgement: over its cap it deletes nothing and alerts (or, when so
//! configured, the oldest up to the cap); a keep-until tag protects until its time.

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::GcOverLimit;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::Job;

use super::{hook, ids, op, received, tick};
use crate::helpers::*;

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
