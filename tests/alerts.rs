//! Quota alerts reach people: each webhook format, SMN publish, failing sinks.

use std::time::Duration;

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::{AlertFormat, Secret};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

use crate::helpers::receiver::Receiver;
use crate::helpers::*;

/// An estate using 143 of 150 endpoints (95.3%: critical) and 2 of 20 services.
fn near_the_limit() -> serde_json::Value {
    let endpoints: Vec<_> = (0..143)
        .map(|i| endpoint(&format!("ep-{i}"), "accepted", &minutes_ago(10), &[]))
        .collect();
    let services: Vec<_> = (0..2)
        .map(|i| json!({"id": format!("5e000000-0000-4000-8000-00000000000{i}"), "owner": "provider", "service_name": format!("s{i}")}))
        .collect();
    json!({"quotas": {"endpoint": 150, "endpoint_service": 20}, "endpoints": endpoints, "services": services})
}

fn quota_tick() -> Trigger {
    Trigger::Tick {
        jobs: vec![Job::Quota],
    }
}

async fn run_with_hook(
    format: AlertFormat,
    statuses: &[u16],
) -> (Receiver, vpcep_warden::report::Report) {
    let hook = Receiver::start(statuses, None).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!(
        "{}/hooks/T000/B000/secretpath",
        hook.base
    )));
    s.alert_format = format;
    s.max_retries = 2;
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    (hook, report)
}

#[tokio::test]
async fn slack_format_posts_one_human_line() {
    let (hook, report) = run_with_hook(AlertFormat::Slack, &[]).await;
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/hooks/T000/B000/secretpath");
    assert_eq!(
        got[0].json(),
        json!({"text": format!("VPCEP quota critical: endpoint 143/150 (95%) in project {PROJECT}")})
    );
    assert_eq!(report.alerts.len(), 1);
    assert_eq!(report.alerts[0].sinks, ["log", "webhook"]);
}

#[tokio::test]
async fn alertmanager_format_posts_the_v2_alert_array() {
    let (hook, _) = run_with_hook(AlertFormat::Alertmanager, &[]).await;
    let body = hook.received()[0].json();
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
async fn json_format_posts_the_alert_objects() {
    let (hook, _) = run_with_hook(AlertFormat::Json, &[]).await;
    let body = hook.received()[0].json();
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
    let hook = Receiver::start(&[], None).await;
    let emu = emulator(
        json!({"quotas": {"endpoint": 150, "endpoint_service": 20}}),
        Options::default(),
    )
    .await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.base)));
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert!(report.alerts.is_empty());
    assert!(hook.received().is_empty());
    assert!(report.quotas.iter().all(|q| q.level.name() == "ok"));
}

#[tokio::test]
async fn a_sink_failing_with_500_is_retried_then_reported_and_other_jobs_run() {
    let hook = Receiver::start(&[500, 500, 500, 500], None).await;
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
    s.alert_webhook_url = Some(Secret::new(format!("{}/hooks/secretpath", hook.base)));
    s.max_retries = 2;
    let report = dispatch(&ctx(s), Trigger::Tick { jobs: vec![] })
        .await
        .report;
    assert_eq!(hook.received().len(), 3, "one try and two retries");
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
    let hook = Receiver::start(&[], Some(Duration::from_secs(3))).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.base)));
    s.http_timeout_secs = 1;
    s.max_retries = 1;
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert_eq!(hook.received().len(), 2);
    assert!(
        report.errors[0].message.contains("timed out"),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn smn_publish_is_signed_with_the_same_credentials() {
    let smn = Receiver::start(&[], None).await;
    let emu = emulator(near_the_limit(), Options::default()).await;
    let mut s = settings(&emu);
    let urn = format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts");
    s.smn_topic_urn = Some(urn.clone());
    s.smn_endpoint = Some(smn.base.clone());
    let report = dispatch(&ctx(s), quota_tick()).await.report;
    assert_eq!(report.alerts[0].sinks, ["log", "smn"]);
    let got = smn.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.path,
        format!("/v2/{PROJECT}/notifications/topics/{urn}/publish")
    );
    let body = r.json();
    assert!(body["subject"].as_str().unwrap().contains("critical"));
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("endpoint 143/150"));

    let header = |name: &str| {
        r.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let mut request = hwcloud_sign::Request::new("POST", &format!("{}{}", smn.base, r.path))
        .unwrap()
        .body(r.body.clone());
    for (k, v) in &r.headers {
        request = request.header(k, v);
    }
    let auth = hwcloud_sign::Authorization::parse(&header("authorization")).unwrap();
    assert_eq!(auth.access_key, AK);
    hwcloud_sign::verify(
        &request,
        &auth,
        &hwcloud_sign::SigningKey::new(AK, SK),
        time::OffsetDateTime::now_utc(),
        time::Duration::minutes(15),
    )
    .expect("the SMN request verifies");
}
