//! Quota alerts reach people: each webhook format, SMN publish, failing sinks.

mod chat;
mod one_request;

use std::time::Duration;

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::{AlertFormat, Credentials, Secret};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

/// An estate using 143 of 150 endpoints (95.3%: critical) and 2 of 20 services.
pub(super) fn near_the_limit() -> serde_json::Value {
    let endpoints: Vec<_> = (0..143)
        .map(|i| endpoint(&format!("ep-{i}"), "accepted", &minutes_ago(10), &[]))
        .collect();
    let services: Vec<_> = (0..2)
        .map(|i| json!({"id": format!("5e000000-0000-4000-8000-00000000000{i}"), "owner": "provider", "service_name": format!("s{i}")}))
        .collect();
    json!({"quotas": {"endpoint": 150, "endpoint_service": 20}, "endpoints": endpoints, "services": services})
}

pub(super) fn quota_tick() -> Trigger {
    Trigger::Tick {
        jobs: vec![Job::Quota],
        targets: Vec::new(),
    }
}

/// A receiver answering the first `failures` requests with 500, then 200,
/// each after `delay`.
pub(super) async fn receiver(failures: usize, delay: Duration) -> TestServer {
    TestServer::start(move |seen| {
        let status = if seen.index < failures { 500 } else { 200 };
        Reply::raw(status, "").delayed(delay)
    })
    .await
}

pub(super) async fn run_with_hook(
    format: AlertFormat,
) -> (TestServer, vpcep_warden::report::Report) {
    let hook = receiver(0, Duration::ZERO).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!(
        "{}/hooks/T000/B000/secretpath",
        hook.url
    )));
    s.alert_format = format;
    s.max_retries = 2;
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    (hook, report)
}

#[tokio::test]
async fn slack_format_posts_one_human_line_and_blocks() {
    let (hook, report) = run_with_hook(AlertFormat::Slack).await;
    let got = hook.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hooks/T000/B000/secretpath");
    let body = got[0].json();
    assert_eq!(
        body["text"],
        format!("VPCEP quota critical: endpoint 143/150 (95%) in project {PROJECT} (95% used, critical level is 95%)")
    );
    // Slack's Block Kit: every block has a type; section text is mrkdwn.
    let blocks = body["blocks"].as_array().unwrap();
    assert!(blocks.iter().all(|b| b["type"].is_string()));
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(report.alerts[0].sinks, ["log", "webhook"]);
}

#[tokio::test]
async fn alertmanager_format_posts_the_v2_alert_array() {
    let (hook, _) = run_with_hook(AlertFormat::Alertmanager).await;
    let body = hook.requests()[0].json();
    let alert = &body.as_array().expect("an array")[0];
    assert_eq!(
        alert["labels"],
        json!({"alertname": "VpcepQuotaHigh", "severity": "critical", "project_id": PROJECT, "resource_type": "endpoint"})
    );
    assert_eq!(alert["annotations"]["used"], "143");
    assert_eq!(alert["annotations"]["quota"], "150");
    assert!(alert["startsAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn alertmanager_alerts_outlive_the_schedule_every_crossed_level_fires_and_the_others_are_resolved_now(
) {
    let (hook, report) = run_with_hook(AlertFormat::Alertmanager).await;
    let body = hook.requests()[0].json();
    let at = |v: &serde_json::Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let mut firing = Vec::new();
    let mut resolved = Vec::new();
    for a in body.as_array().unwrap() {
        // Alertmanager's postableAlert: labels required; times RFC 3339.
        assert!(a["labels"]["alertname"].is_string());
        let (starts, ends) = (at(&a["startsAt"]), at(&a["endsAt"]));
        let key = a["annotations"]["dedup_key"].as_str().unwrap().to_owned();
        if ends - starts == time::Duration::minutes(180) {
            firing.push(key);
        } else {
            assert_eq!(ends, starts, "{key}: resolved now");
            resolved.push(key);
        }
    }
    // At critical the warning level is crossed too: both fire.
    assert_eq!(
        firing,
        [
            format!("vpcep-quota/{PROJECT}/endpoint/critical"),
            format!("vpcep-quota/{PROJECT}/endpoint/warning"),
        ]
    );
    resolved.sort();
    assert_eq!(
        resolved,
        [
            format!("vpcep-quota/{PROJECT}/endpoint_service/critical"),
            format!("vpcep-quota/{PROJECT}/endpoint_service/warning"),
        ]
    );
    assert_eq!(report.alerts.len(), 1, "the report lists what fires");
}

#[tokio::test]
async fn chat_and_json_receivers_never_see_resolved_levels() {
    for format in [AlertFormat::Slack, AlertFormat::Json] {
        let (hook, _) = run_with_hook(format).await;
        let body = hook.requests()[0].json().to_string();
        assert!(!body.contains("warning"), "{format:?}: {body}");
        assert!(!body.contains("resolved"), "{format:?}: {body}");
    }
}

#[tokio::test]
async fn json_format_posts_the_alert_objects() {
    let (hook, _) = run_with_hook(AlertFormat::Json).await;
    let body = hook.requests()[0].json();
    assert_eq!(body[0]["type"], "endpoint");
    assert_eq!(body[0]["level"], "critical");
    assert_eq!(body[0]["used"], 143);
    assert_eq!(body[0]["quota"], 150);
    assert_eq!(
        body[0]["dedup_key"],
        format!("vpcep-quota/{PROJECT}/endpoint/critical")
    );
}

#[tokio::test]
async fn no_alert_is_sent_when_every_quota_is_below_warning() {
    let hook = receiver(0, Duration::ZERO).await;
    let emu = emulator(
        json!({"quotas": {"endpoint": 150, "endpoint_service": 20}}),
        Options::default(),
    )
    .await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.url)));
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert!(report.alerts.is_empty());
    assert!(hook.requests().is_empty());
    assert!(report.quotas.iter().all(|q| q.level.name() == "ok"));
}

#[tokio::test]
async fn a_sink_failing_with_500_is_retried_then_reported_and_other_jobs_run() {
    let hook = receiver(4, Duration::ZERO).await;
    let mut scenario = near_the_limit();
    scenario["services"][0]["approval_enabled"] = json!(true);
    scenario["services"][0]["connections"] = json!([pending("e-1", ALLOWED)]);
    scenario["endpoints"].as_array_mut().unwrap().push(endpoint(
        "ep-failed",
        "failed",
        &minutes_ago(600),
        &[],
    ));
    let emu = emulator(scenario, Options::default()).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hooks/secretpath", hook.url)));
    s.max_retries = 2;
    let report = dispatch(
        &ctx(s),
        Trigger::Tick {
            jobs: vec![],
            targets: Vec::new(),
        },
    )
    .await
    .report;
    assert_eq!(hook.requests().len(), 3, "one try and two retries");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].job, "quota");
    assert!(report.errors[0].message.contains("500"));
    assert!(
        !report.errors[0].message.contains("secretpath"),
        "the URL's path is a secret"
    );
    assert_eq!(report.alerts[0].sinks, ["log"]);
    assert_eq!(report.approved.len(), 1, "approve still ran");
    assert_eq!(report.deleted.len(), 1, "gc still ran");
}

#[tokio::test]
async fn a_sink_that_times_out_is_reported() {
    let hook = receiver(0, Duration::from_secs(3)).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.url)));
    s.http_timeout_secs = 1;
    s.max_retries = 1;
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert_eq!(hook.requests().len(), 2);
    assert!(
        report.errors[0].message.contains("timed out"),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn smn_publish_is_signed_with_the_same_credentials() {
    let smn = receiver(0, Duration::ZERO).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    let urn = format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts");
    s.smn_topic_urn = Some(urn.clone());
    s.smn_endpoint = Some(smn.url.clone());
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert_eq!(report.alerts[0].sinks, ["log", "smn"]);
    let got = smn.requests();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        format!(
            "/v2/{PROJECT}/notifications/topics/{}/publish",
            urn.replace(':', "%3A")
        )
    );
    let body = r.json();
    assert!(body["subject"].as_str().unwrap().contains("critical"));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("endpoint 143/150"));

    r.verify_signature(AK, SK)
        .expect("the SMN request verifies with the warden's AK/SK");
}

#[tokio::test]
async fn smn_publish_uses_the_credentials_the_invocation_brought() {
    const AK2: &str = "HWTESTAKAGENCY000002";
    const SK2: &str = "agency-secret-key-of-this-invocation-00";
    let smn = receiver(0, Duration::ZERO).await;
    let mut estate = near_the_limit();
    let mut agency = provider();
    agency["name"] = json!("agency");
    agency["ak"] = json!(AK2);
    agency["sk"] = json!(SK2);
    estate["accounts"] = json!([provider(), agency]);
    let emu = emulator(estate, Options::default()).await;
    let mut s = settings(&emu);
    s.credentials = Credentials::PerInvocation;
    s.smn_topic_urn = Some(format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts"));
    s.smn_endpoint = Some(smn.url.clone());
    let invocation = ctx(s).with_credentials(&Credentials::AkSk {
        ak: AK2.into(),
        sk: Secret::new(SK2),
        security_token: Some(Secret::new("agency-security-token")),
    });
    let report = dispatch(&invocation, quota_tick()).await.report;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.alerts[0].sinks, ["log", "smn"]);
    let got = smn.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("X-Security-Token"),
        Some("agency-security-token")
    );
    got[0]
        .verify_signature(AK2, SK2)
        .expect("the SMN request is signed with the invocation's AK/SK");
}

#[tokio::test]
async fn without_credentials_of_its_own_or_the_invocations_a_run_fails_clearly() {
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    s.credentials = Credentials::PerInvocation;
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert!(!report.errors.is_empty());
    assert!(
        report.errors[0].message.contains("no credentials"),
        "{:?}",
        report.errors
    );
    assert_eq!(emu.stats().total, 0, "no request went out unsigned");
}

#[tokio::test]
async fn a_redirecting_webhook_is_a_failed_delivery_and_the_url_goes_nowhere() {
    for status in [302, 307] {
        let elsewhere = receiver(0, Duration::ZERO).await;
        let target = format!("{}/collect", elsewhere.url);
        let hook =
            TestServer::start(move |_| Reply::raw(status, "").header("Location", &target)).await;
        let emu = emulator(near_the_limit(), Options::default()).await;
        let mut s = settings(&emu);
        s.alert_webhook_url = Some(Secret::new(format!(
            "{}/hooks/T000/B000/secretpath",
            hook.url
        )));
        let report = dispatch(&ctx(s), quota_tick()).await.report;
        assert_eq!(hook.count(), 1, "one attempt: a redirect is not retried");
        assert_eq!(elsewhere.count(), 0, "nothing followed the redirect");
        assert_eq!(report.alerts[0].sinks, ["log"], "not delivered");
        let error = &report.errors[0];
        assert_eq!(error.job, "quota");
        assert!(error.message.contains("redirect"), "{}", error.message);
        assert!(error.message.contains("127.0.0.1"), "{}", error.message);
        assert!(!error.message.contains("secretpath"), "{}", error.message);
    }
}
