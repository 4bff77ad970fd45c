//! A cleared alert: one "resolved" message to chat (and SMN) where the
//! firing one went, and Alertmanager's `endsAt` = now for posture findings
//! and waiting connections.

use serde_json::{json, Value};
use vpcep_emulator::{Options, Scenario};
use vpcep_warden::config::{AlertFormat, Secret};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

fn tick() -> Trigger {
    Trigger::Tick {
        jobs: vec![Job::Approve, Job::Quota],
        targets: Vec::new(),
    }
}

/// A service with approval off (a posture finding) and a stranger's
/// connection waiting; or, `fixed`, approval on and nothing waiting.
fn scenario(fixed: bool) -> Value {
    let connections = if fixed {
        vec![]
    } else {
        vec![
            json!({"endpoint_id": "e-stranger", "domain_id": STRANGER, "status": "pendingAcceptance", "created_at": minutes_ago(1)}),
        ]
    };
    json!({"accounts": [provider()], "quotas": {"endpoint": 150, "endpoint_service": 20},
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders",
            "approval_enabled": fixed, "connections": connections}]})
}

/// Every alert the receiver got, in order.
fn alerts(hook: &TestServer) -> Vec<Value> {
    hook.requests()
        .iter()
        .flat_map(|r| r.json().as_array().cloned().unwrap_or_default())
        .collect()
}

async fn setup(
    format: AlertFormat,
) -> (
    vpcep_emulator::Emulator,
    TestServer,
    vpcep_warden::jobs::Ctx,
) {
    let emu = emulator(scenario(false), Options::default()).await;
    let hook = TestServer::start(|_| Reply::raw(200, "")).await;
    let mut s = settings(&emu);
    s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.url)));
    s.alert_format = format;
    s.max_retries = 0;
    (emu, hook, ctx(s))
}

fn fix(emu: &vpcep_emulator::Emulator) {
    emu.load_scenario(&Scenario::from_json(&scenario(true).to_string()).unwrap())
        .unwrap();
}

#[tokio::test]
async fn chat_is_told_once_that_a_finding_cleared() {
    let (emu, hook, ctx) = setup(AlertFormat::Json).await;
    dispatch(&ctx, tick()).await;
    dispatch(&ctx, tick()).await;
    let finding = format!("vpcep-posture/{PROJECT}/{SERVICE}/approval_disabled");
    let firing: Vec<_> = alerts(&hook)
        .into_iter()
        .filter(|a| a["dedup_key"] == finding)
        .collect();
    assert_eq!(firing.len(), 1, "once while it stays: {firing:?}");
    assert!(firing[0].get("resolved").is_none());
    fix(&emu);
    dispatch(&ctx, tick()).await;
    dispatch(&ctx, tick()).await;
    let all = alerts(&hook);
    let resolved: Vec<_> = all
        .iter()
        .filter(|a| a["dedup_key"] == finding && a["resolved"] == true)
        .collect();
    assert_eq!(resolved.len(), 1, "told once: {all:?}");
    assert!(
        resolved[0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Resolved: "),
        "{}",
        resolved[0]
    );
    let pending = format!("vpcep-pending/{PROJECT}/{SERVICE}/e-stranger");
    let gone: Vec<_> = all.iter().filter(|a| a["dedup_key"] == pending).collect();
    assert_eq!(gone.len(), 2, "announced, then no longer waiting: {gone:?}");
    assert_eq!(gone[1]["resolved"], true);
}

#[tokio::test]
async fn alertmanager_ends_a_cleared_finding_and_a_connection_no_longer_waiting_now() {
    let (emu, hook, ctx) = setup(AlertFormat::Alertmanager).await;
    dispatch(&ctx, tick()).await;
    fix(&emu);
    dispatch(&ctx, tick()).await;
    let ended: Vec<(String, String)> = alerts(&hook)
        .into_iter()
        .filter(|a| a["startsAt"] == a["endsAt"])
        .map(|a| {
            (
                a["labels"]["alertname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                a["labels"]["service_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .filter(|(name, _)| name != "VpcepQuotaHigh")
        .collect();
    assert!(
        ended.contains(&("VpcepServicePosture".into(), SERVICE.into())),
        "{ended:?}"
    );
    assert!(
        ended.contains(&("VpcepConnectionPending".into(), SERVICE.into())),
        "{ended:?}"
    );
}
