//! Many targets (`WARDEN_TARGETS`) against emulators: two "regions" (two
//! emulator instances), two accounts (one reached through an agency), the
//! agency hand-off and its renewal, fairness under the shared concurrency
//! limit, and ticks that name their targets.

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::config::{AlertFormat, Secret, Settings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{decode_value, Job, Trigger};
use vpcep_warden::report::Report;

use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

mod binary;
mod fairness;
mod sam;

const WARDEN_DOMAIN: &str = "dddddddddddddddddddddddddddddddd";
const CUSTOMER_DOMAIN: &str = "cccccccccccccccccccccccccccccccc";
const CUSTOMER_PROJECT: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const SOUTH_PROJECT: &str = "50505050505050505050505050505050";
const CUSTOMER_SERVICE: &str = "5e000000-0000-4000-8000-0000000000c1";

fn tick() -> Trigger {
    Trigger::Tick {
        jobs: Job::ALL.to_vec(),
        targets: Vec::new(),
    }
}

/// An account of the warden's identity (same AK/SK in every region) in `project`.
fn warden_account(project: &str) -> Value {
    json!({"name": "provider", "domain_id": WARDEN_DOMAIN, "project_id": project, "ak": AK, "sk": SK})
}

/// A service of `owner` with two pending connections (one allowed, one not),
/// and for `owner` a failed old endpoint, a fresh one and a quota of 2, so
/// each target approves one, leaves one, deletes one and raises a critical alert.
fn estate(owner: &str, service: &str, tag: &str) -> Value {
    let endpoint = |id: String, status: &str, age: i64| {
        json!({"id": id, "owner": owner, "status": status, "endpoint_service_id": service,
               "created_at": "2026-01-01T00:00:00Z", "updated_at": minutes_ago(age)})
    };
    json!({
        "quotas": {"endpoint": 2},
        "services": [{"id": service, "owner": owner, "service_name": format!("svc-{tag}"),
            "approval_enabled": true,
            "connections": [pending(&format!("{tag}-ok"), ALLOWED), pending(&format!("{tag}-no"), STRANGER)]}],
        "endpoints": [
            endpoint(format!("e0000000-0000-4000-8000-{tag:0>12}"), "failed", 600),
            endpoint(format!("e1000000-0000-4000-8000-{tag:0>12}"), "accepted", 5),
        ]
    })
}

/// The north region: the warden's own project and a customer's account
/// whose agency `warden-ops` trusts the warden (its credentials lasting
/// `duration` seconds when given), and whose agency `closed` does not.
async fn north(duration: Option<u64>) -> Emulator {
    let mut scenario = estate("provider", SERVICE, "a1");
    let customer = estate("customer", CUSTOMER_SERVICE, "c1");
    scenario["services"]
        .as_array_mut()
        .unwrap()
        .extend(customer["services"].as_array().unwrap().clone());
    scenario["endpoints"]
        .as_array_mut()
        .unwrap()
        .extend(customer["endpoints"].as_array().unwrap().clone());
    scenario["accounts"] = json!([
        warden_account(PROJECT),
        {"name": "customer", "domain_id": CUSTOMER_DOMAIN, "project_id": CUSTOMER_PROJECT,
         "ak": "HWTESTAKCUSTOMER0001", "sk": "customer-secret-key-00000000000000000",
         "agencies": [
            {"name": "warden-ops", "trusted_domain_id": WARDEN_DOMAIN, "duration_seconds": duration},
            {"name": "closed", "trusted_domain_id": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}
         ]}
    ]);
    emulator(scenario, Options::default()).await
}

/// The south region: another project of the warden.
async fn south() -> Emulator {
    let mut scenario = estate("provider", "5e000000-0000-4000-8000-0000000000b1", "b1");
    scenario["accounts"] = json!([warden_account(SOUTH_PROJECT)]);
    emulator(scenario, Options::default()).await
}

/// Settings read as a deployment would: the warden's own project in the
/// north, `WARDEN_TARGETS` naming `targets`, IAM at the north emulator.
fn settings(north: &Emulator, targets: Value) -> Settings {
    let mut s = Settings::from_vars(
        [
            ("HUAWEICLOUD_SDK_AK", AK.to_owned()),
            ("HUAWEICLOUD_SDK_SK", SK.to_owned()),
            ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT.to_owned()),
            ("WARDEN_VPCEP_ENDPOINT", north.base_url()),
            ("WARDEN_IAM_ENDPOINT", north.base_url()),
            ("WARDEN_ALLOWED_DOMAINS", ALLOWED.to_owned()),
            ("WARDEN_TARGETS", targets.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .expect("the settings load");
    s.http_timeout_secs = 5;
    s.max_retries = 0;
    s
}

/// The three targets: own project north, the customer's through its agency, own project south.
fn three(north: &Emulator, south: &Emulator, agency: &str) -> Value {
    json!([
        {"name": "north-own", "region": "cn-north-4", "project_id": PROJECT, "vpcep_endpoint": north.base_url()},
        {"name": "north-customer", "region": "cn-north-4", "project_id": CUSTOMER_PROJECT,
         "vpcep_endpoint": north.base_url(), "domain_id": CUSTOMER_DOMAIN, "agency": agency},
        {"name": "south-own", "region": "cn-south-1", "project_id": SOUTH_PROJECT, "vpcep_endpoint": south.base_url()}
    ])
}

fn target<'a>(report: &'a Report, name: &str) -> &'a Report {
    &report
        .targets
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no report of target {name}"))
        .report
}

fn security_tokens(emu: &Emulator) -> u64 {
    emu.stats()
        .by_operation
        .get("create_security_token")
        .copied()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_tick_looks_after_three_targets_in_two_regions_and_two_accounts() {
    let (north, south) = (north(None).await, south().await);
    let mut s = settings(&north, three(&north, &south, "warden-ops"));
    let hook = TestServer::start(|_| Reply::raw(200, "")).await;
    s.alert_webhook_url = Some(Secret::new(format!("{}/alerts", hook.url)));
    s.alert_format = AlertFormat::Alertmanager;
    let report = dispatch(&ctx(s), tick()).await.report;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let names: Vec<&str> = report.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["north-own", "north-customer", "south-own"]);
    for (name, tag) in [
        ("north-own", "a1"),
        ("north-customer", "c1"),
        ("south-own", "b1"),
    ] {
        let part = target(&report, name);
        let approved: Vec<&str> = part
            .approved
            .iter()
            .map(|e| e.endpoint_id.as_str())
            .collect();
        assert_eq!(approved, [format!("{tag}-ok")], "{name}");
        assert_eq!(part.deleted.len(), 1, "{name}: {:?}", part.gc_skipped);
        assert!(part.deleted[0].endpoint_id.ends_with(tag), "{name}");
        let quota = part
            .alerts
            .iter()
            .find(|a| a.kind == "endpoint")
            .expect("a quota alert");
        assert!(
            quota.dedup_key.starts_with(&format!("vpcep-quota/{name}/")),
            "{}",
            quota.dedup_key
        );
        assert!(part.api_calls > 0, "{name}");
    }
    // The merged lists: every entry names its target.
    assert_eq!(report.approved.len(), 3);
    assert_eq!(report.deleted.len(), 3);
    let value = serde_json::to_value(&report).unwrap();
    for list in ["approved", "left_pending", "deleted", "quotas", "alerts"] {
        let entries = value[list].as_array().unwrap();
        assert!(!entries.is_empty(), "{list}");
        for entry in entries {
            assert!(entry["target"].is_string(), "{list}: {entry}");
        }
    }
    // The customer's connection was accepted in the customer's account, through the agency,
    // and the temporary credentials appear nowhere in the report.
    assert_eq!(security_tokens(&north), 1);
    assert!(
        !value.to_string().contains("sts-"),
        "a security token shows"
    );
    assert!(
        !value.to_string().contains("TMP"),
        "a temporary access key shows"
    );
    let customer = north.state();
    assert!(
        customer.to_string().contains("c1-ok"),
        "the customer's estate is in the state"
    );
    // Alertmanager gets a `target` label on every alert.
    let alerts: Vec<Value> = hook
        .requests()
        .iter()
        .flat_map(|r| r.json().as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!alerts.is_empty());
    for name in ["north-own", "north-customer", "south-own"] {
        assert!(
            alerts.iter().any(|a| a["labels"]["target"] == name),
            "no alert labelled {name}"
        );
    }
}

#[tokio::test]
async fn a_target_whose_agency_does_not_trust_the_warden_fails_alone() {
    let (north, south) = (north(None).await, south().await);
    let s = settings(&north, three(&north, &south, "closed"));
    let report = dispatch(&ctx(s), tick()).await.report;

    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let error = &report.errors[0];
    assert_eq!(error.target_name.as_deref(), Some("north-customer"));
    assert_eq!(error.job, "auth");
    assert!(error.target.contains("closed"), "{}", error.target);
    assert!(error.message.contains("IAM.0002"), "{}", error.message);
    assert!(target(&report, "north-customer").approved.is_empty());
    for name in ["north-own", "south-own"] {
        let part = target(&report, name);
        assert!(part.errors.is_empty(), "{name}: {:?}", part.errors);
        assert_eq!(part.approved.len(), 1, "{name}");
    }
}

#[tokio::test]
async fn agency_credentials_are_kept_while_fresh_and_renewed_after_they_end() {
    // Credentials of a second: never fresh, renewed for each tick, and the
    // second tick works although the first credentials have ended.
    let (north, south) = (north(Some(1)).await, south().await);
    let ctx = ctx(settings(&north, three(&north, &south, "warden-ops")));
    let first = dispatch(&ctx, tick()).await.report;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let second = dispatch(&ctx, tick()).await.report;
    assert!(second.errors.is_empty(), "{:?}", second.errors);
    assert_eq!(security_tokens(&north), 2);
    assert!(target(&second, "north-customer").api_calls > 0);

    // Credentials of an hour: the second tick reuses them.
    let (north, south) = (self::north(None).await, self::south().await);
    let ctx = self::ctx(settings(&north, three(&north, &south, "warden-ops")));
    for _ in 0..2 {
        let report = dispatch(&ctx, tick()).await.report;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }
    assert_eq!(security_tokens(&north), 1);
}

#[tokio::test]
async fn a_direct_tick_runs_only_the_targets_it_names() {
    let (north, south) = (north(None).await, south().await);
    let s = settings(&north, three(&north, &south, "warden-ops"));
    let now = time::OffsetDateTime::now_utc();
    let event = json!({"warden": "tick", "targets": ["south-own"]});
    let decoded = decode_value(&event, &s, now).expect("a known target");
    let report = dispatch(&ctx(s.clone()), decoded.trigger).await.report;
    let names: Vec<&str> = report.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["south-own"]);
    assert_eq!(report.approved.len(), 1);
    assert_eq!(north.stats().total, 0, "the north was not touched");
    assert_eq!(security_tokens(&north), 0);

    let unknown = json!({"warden": "tick", "targets": ["south-own", "west"]});
    let error = decode_value(&unknown, &s, now).unwrap_err();
    assert_eq!(error.http_status(), 400);
    assert!(error.to_string().contains("\"west\""), "{error}");
    assert!(error.to_string().contains("north-own"), "{error}");
}

#[tokio::test]
async fn without_targets_the_report_keeps_its_keys() {
    let emu = emulator(estate("provider", SERVICE, "a1"), Options::default()).await;
    let report = dispatch(&ctx(crate::helpers::settings(&emu)), tick())
        .await
        .report;
    let value = serde_json::to_value(&report).unwrap();
    assert!(value.get("targets").is_none());
    let text = value.to_string();
    assert!(!text.contains("\"target_name\""));
    assert!(value["approved"][0].get("target").is_none());
    assert!(value["alerts"][0]["dedup_key"]
        .as_str()
        .unwrap()
        .starts_with(&format!("vpcep-quota/{PROJECT}/")));
    let unnamed = decode_value(
        &json!({"warden": "tick", "targets": ["a"]}),
        &crate::helpers::settings(&emu),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap_err();
    assert!(
        unnamed.to_string().contains("WARDEN_TARGETS is not set"),
        "{unnamed}"
    );
}
