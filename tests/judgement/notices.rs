//! Notices and marks: a waiting connection announced once (again only when
//! its mark is cleared, or when no sink took it), and the audit marks written
//! in connection descriptions, a foreign description left alone.

use std::collections::BTreeMap;

use serde_json::json;
use vpcep_warden::config::{NotAllowed, Secret};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::Job;

use super::{conn, hook, on, received, tick};
use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

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
