//! The SMN sink: the topic's own region and project, SMN's size limits, and
//! never a configured topic dropped without a word.

use std::process::Command;

use serde_json::Value;
use vpcep_warden::alerts::{Alert, Sinks};
use vpcep_warden::config::Settings;

use crate::scripted::{client_for, settings, Reply, TestServer, AK, PROJECT, SK};

/// Another project, in another region, than the VPCEP one.
const TOPIC_PROJECT: &str = "7a6b5c4d3e2f41009988776655443322";

fn topic() -> String {
    format!("urn:smn:ap-southeast-1:{TOPIC_PROJECT}:vpcep-alerts")
}

fn from_vars(extra: &[(&str, &str)]) -> Settings {
    let mut vars = vec![
        ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
        ("HUAWEICLOUD_SDK_SK", "sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT),
        ("WARDEN_VPCEP_ENDPOINT", "http://127.0.0.1:9"),
    ];
    vars.extend_from_slice(extra);
    Settings::from_vars(vars.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())))
        .expect("valid settings")
}

#[test]
fn the_smn_endpoint_is_the_topics_region_unless_set() {
    let urn = topic();
    let alone = from_vars(&[("WARDEN_SMN_TOPIC_URN", &urn)]);
    assert_eq!(
        alone.smn_endpoint.as_deref(),
        Some("https://smn.ap-southeast-1.myhuaweicloud.com")
    );
    let other_region = from_vars(&[
        ("WARDEN_SMN_TOPIC_URN", &urn),
        ("WARDEN_REGION", "cn-north-4"),
    ]);
    assert_eq!(other_region.smn_endpoint, alone.smn_endpoint);
    let set = from_vars(&[
        ("WARDEN_SMN_TOPIC_URN", &urn),
        ("WARDEN_SMN_ENDPOINT", "http://127.0.0.1:8"),
    ]);
    assert_eq!(set.smn_endpoint.as_deref(), Some("http://127.0.0.1:8"));
}

#[tokio::test]
async fn a_topic_of_another_project_is_published_to_in_that_project() {
    let smn = TestServer::start(|_| Reply::ok(serde_json::json!({"message_id": "m1"}))).await;
    let mut s = settings(&smn.url);
    s.smn_topic_urn = Some(topic());
    s.smn_endpoint = Some(smn.url.clone());
    let sinks = Sinks::from_settings(&s, &client_for(&s));
    let delivered = sinks
        .deliver("quota", vec![Alert::test(PROJECT)], false)
        .await;
    assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);
    let seen = smn.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].path,
        format!(
            "/v2/{TOPIC_PROJECT}/notifications/topics/{}/publish",
            topic().replace(':', "%3A")
        )
    );
    assert_eq!(seen[0].header("X-Project-Id"), Some(TOPIC_PROJECT));
    assert_eq!(seen[0].verify_signature(AK, SK), Ok(()));
}

#[tokio::test]
async fn fifteen_hundred_alerts_reach_smn_whole_in_messages_it_accepts() {
    const LIMIT: usize = 256 * 1024;
    // Refuses what SMN refuses: a message over 256 KB, a subject over 512 bytes.
    let smn = TestServer::start(|seen| {
        let body = seen.json();
        let size = |k: &str| body[k].as_str().map_or(usize::MAX, str::len);
        if size("message") > LIMIT || size("subject") > 512 {
            Reply::error(400, "SMN.00010006", "message too long")
        } else {
            Reply::ok(serde_json::json!({"message_id": "m"}))
        }
    })
    .await;
    let mut s = settings(&smn.url);
    s.smn_topic_urn = Some(format!("urn:smn:cn-north-4:{PROJECT}:vpcep-alerts"));
    s.smn_endpoint = Some(smn.url.clone());
    let alerts: Vec<Alert> = (0..1500)
        .map(|i| {
            Alert::pending(
                PROJECT,
                "5133655d-0e28-4090-b669-13f87b355c78",
                &format!("{i:08}-95d5-4555-86c4-e767a371ff99"),
                "9f8e7d6c5b4a49380716253443526170",
                "the account is not on WARDEN_ALLOWED_DOMAINS, and WARDEN_NOT_ALLOWED is leave",
            )
        })
        .collect();
    let delivered = Sinks::from_settings(&s, &client_for(&s))
        .deliver("approve", alerts, false)
        .await;
    assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);
    assert!(delivered
        .alerts
        .iter()
        .all(|a| a.sinks.contains(&"smn".to_owned())));
    let seen = smn.requests();
    assert!(seen.len() >= 2, "{}", seen.len());
    let lines: usize = seen
        .iter()
        .map(|r| {
            r.json()["message"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .count()
        })
        .sum();
    assert_eq!(lines, 1500);
}

#[test]
fn alert_test_lists_the_smn_sink_of_a_topic_without_a_region() {
    // No WARDEN_REGION and no WARDEN_SMN_ENDPOINT: the URN still says where.
    let output = Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
        .args(["alert-test", "--dry-run"])
        .env_clear()
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
        .env("WARDEN_VPCEP_ENDPOINT", "http://127.0.0.1:9")
        .env("WARDEN_SMN_TOPIC_URN", topic())
        .output()
        .expect("the binary runs");
    let out: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(
        out["configured"],
        serde_json::json!(["log", "smn"]),
        "{out}"
    );
}
