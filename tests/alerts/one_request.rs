//! A tick's jobs deliver together: one request per sink per run, whatever
//! the number of jobs that raise alerts.

use std::time::Duration;

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::{AlertFormat, Secret, Settings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::Trigger;
use vpcep_warden::report::Report;

use super::{near_the_limit, receiver};
use crate::helpers::*;
use crate::scripted::TestServer;

/// An estate where every job has something to say: the endpoint quota is
/// critical, a stranger's connection waits on a service with approval on,
/// and three failed endpoints qualify for gc under a cap of two.
fn every_job_alerts() -> Value {
    let mut estate = near_the_limit();
    estate["services"][0]["approval_enabled"] = json!(true);
    estate["services"][0]["connections"] = json!([{
        "endpoint_id": "e-waiting", "domain_id": STRANGER,
        "status": "pendingAcceptance", "created_at": minutes_ago(600)
    }]);
    for i in 0..3 {
        estate["endpoints"].as_array_mut().unwrap().push(endpoint(
            &format!("ep-failed-{i}"),
            "failed",
            &minutes_ago(600),
            &[],
        ));
    }
    estate
}

fn full_tick() -> Trigger {
    Trigger::Tick {
        jobs: Vec::new(),
        targets: Vec::new(),
    }
}

fn with_sinks(s: &mut Settings, hook: &TestServer, smn: &TestServer, format: AlertFormat) {
    s.alert_webhook_url = Some(Secret::new(format!("{}/hooks/secretpath", hook.url)));
    s.alert_format = format;
    s.smn_topic_urn = Some(format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts"));
    s.smn_endpoint = Some(smn.url.clone());
    s.audit_description = true;
    s.gc_max_deletes = 2;
    s.max_retries = 0;
}

/// The kinds of alerts in a report, sorted.
fn kinds(report: &Report) -> Vec<String> {
    let mut kinds: Vec<String> = report.alerts.iter().map(|a| a.kind.clone()).collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn a_tick_whose_three_jobs_alert_posts_once_to_the_webhook_and_publishes_once_to_smn() {
    let (hook, smn) = (
        receiver(0, Duration::ZERO).await,
        receiver(0, Duration::ZERO).await,
    );
    let emu = emulator(every_job_alerts(), Options::default()).await;
    let mut s = settings(&emu);
    with_sinks(&mut s, &hook, &smn, AlertFormat::Json);
    let report = dispatch(&ctx(s), full_tick()).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        kinds(&report),
        ["endpoint", "gc_over_limit", "pending_connection"]
    );
    let posts = hook.requests();
    assert_eq!(posts.len(), 1, "one POST for the whole run");
    let mut posted: Vec<String> = posts[0]
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap().to_owned())
        .collect();
    posted.sort();
    assert_eq!(posted, kinds(&report));
    assert_eq!(smn.requests().len(), 1, "one publish for the whole run");
    let message = smn.requests()[0].json()["message"].to_string();
    assert!(message.contains("e-waiting"), "{message}");
    for alert in &report.alerts {
        assert_eq!(alert.sinks, ["log", "webhook", "smn"], "{}", alert.kind);
    }
}

#[tokio::test]
async fn alertmanager_gets_the_whole_run_in_one_array() {
    let (hook, smn) = (
        receiver(0, Duration::ZERO).await,
        receiver(0, Duration::ZERO).await,
    );
    let emu = emulator(every_job_alerts(), Options::default()).await;
    let mut s = settings(&emu);
    with_sinks(&mut s, &hook, &smn, AlertFormat::Alertmanager);
    dispatch(&ctx(s), full_tick()).await;
    let posts = hook.requests();
    assert_eq!(posts.len(), 1);
    let names: Vec<String> = posts[0]
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), 3, "quota, pending, gc: {names:?}");
}

#[tokio::test]
async fn a_failed_shared_post_is_one_error_and_the_waiting_connection_is_announced_again() {
    let down = receiver(usize::MAX, Duration::ZERO).await;
    let smn = receiver(usize::MAX, Duration::ZERO).await;
    let emu = emulator(every_job_alerts(), Options::default()).await;
    let mut s = settings(&emu);
    with_sinks(&mut s, &down, &smn, AlertFormat::Json);
    let ctx = ctx(s);
    let report = dispatch(&ctx, full_tick()).await.report;
    let webhook: Vec<_> = report
        .errors
        .iter()
        .filter(|e| e.target == "alert webhook")
        .collect();
    assert_eq!(webhook.len(), 1, "{:?}", report.errors);
    for job in ["approve", "quota", "gc"] {
        assert!(webhook[0].job.contains(job), "{:?}", webhook[0]);
    }
    assert!(!webhook[0].message.contains("secretpath"));
    assert_eq!(
        report
            .errors
            .iter()
            .filter(|e| e.target == "SMN topic")
            .count(),
        1
    );
    assert_eq!(down.requests().len(), 1);
    // Nothing took the notice: the connection is not marked announced, and
    // the next tick announces it again.
    let again = dispatch(&ctx, full_tick()).await.report;
    assert!(
        again.alerts.iter().any(|a| a.kind == "pending_connection"),
        "{:?}",
        again.alerts
    );
    assert_eq!(down.requests().len(), 2);
}
