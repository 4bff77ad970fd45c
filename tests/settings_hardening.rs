//! Settings a careless operator might give: values that would overflow,
//! credentials pasted with a line break, misspelt variables and entries, a
//! malformed SMN topic. Each is refused at start, naming the variable.

use std::process::Command;

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::Credentials;

use crate::helpers::{emulator, AK, PROJECT, SK};
use crate::settings::{error as refused, load};

/// The SK that `load` sets.
const SECRET_SK: &str = "sk-secret-value-123";

#[test]
fn numbers_out_of_range_are_refused_with_the_range() {
    for (variable, value, range) in [
        (
            "WARDEN_GC_MIN_AGE_MINUTES",
            "153722867280912931",
            "from 0 to 525600",
        ),
        (
            "WARDEN_MAX_CONCURRENCY",
            "1152921504606846976",
            "from 1 to 256",
        ),
        ("WARDEN_HTTP_TIMEOUT_SECS", "100000", "from 1 to 300"),
        ("WARDEN_MAX_RETRIES", "4000000000", "from 0 to 10"),
        ("WARDEN_GC_MAX_DELETES", "99999999999", "from 0 to 10000"),
        (
            "WARDEN_QUOTA_MIN_FREE",
            "18446744073709551615",
            "from 0 to 1000000",
        ),
    ] {
        let err = refused(&[(variable, value)]);
        assert_eq!(err.variable(), variable);
        assert!(err.to_string().contains(range), "{err}");
    }
    let edge = load(&[
        ("WARDEN_GC_MIN_AGE_MINUTES", "525600"),
        ("WARDEN_MAX_CONCURRENCY", "256"),
    ])
    .expect("the ends of the ranges are accepted");
    assert_eq!(edge.gc_min_age_minutes, 525_600);
    assert_eq!(edge.max_concurrency, 256);
}

#[tokio::test]
async fn values_that_used_to_panic_exit_2_and_nothing_is_done() {
    let emu = emulator(json!({}), Options::default()).await;
    for (variable, value) in [
        ("WARDEN_GC_MIN_AGE_MINUTES", "153722867280912931"),
        ("WARDEN_MAX_CONCURRENCY", "1152921504606846976"),
        ("WARDEN_DRYRUN", "true"),
    ] {
        let base = emu.base_url();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
                .args(["tick"])
                .env_clear()
                .env("HUAWEICLOUD_SDK_AK", AK)
                .env("HUAWEICLOUD_SDK_SK", SK)
                .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
                .env("WARDEN_VPCEP_ENDPOINT", base)
                .env(variable, value)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{variable}: {stderr}");
        assert!(stderr.contains(variable), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(emu.stats().total, 0, "nothing reached the API");
}

#[test]
fn credentials_are_trimmed_and_control_characters_refused() {
    let s = load(&[
        ("HUAWEICLOUD_SDK_AK", "  AKEXAMPLE\n"),
        ("HUAWEICLOUD_SDK_SK", "sk-secret-value-123\n"),
    ])
    .expect("a trailing newline from a secret file is trimmed");
    match s.credentials {
        Credentials::AkSk { ak, sk, .. } => {
            assert_eq!(ak, "AKEXAMPLE");
            assert_eq!(sk.expose(), SECRET_SK);
        }
        other => panic!("{other:?}"),
    }
    for variable in [
        "HUAWEICLOUD_SDK_SK",
        "HUAWEICLOUD_SDK_AK",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN",
        "WARDEN_WEBHOOK_SECRET",
    ] {
        let err = refused(&[(variable, "sk-secret-value-123\nsecond-line")]);
        assert_eq!(err.variable(), variable);
        assert!(err.to_string().contains("control character"), "{err}");
    }
    let err = refused(&[
        ("HUAWEICLOUD_SDK_AK", ""),
        ("HUAWEICLOUD_SDK_SK", ""),
        ("WARDEN_AUTH_TOKEN", "tok\0en"),
    ]);
    assert_eq!(err.variable(), "WARDEN_AUTH_TOKEN");
}

#[test]
fn unknown_warden_variables_are_refused_with_the_nearest_name() {
    let err = refused(&[("WARDEN_DRYRUN", "true")]);
    assert!(
        err.to_string().contains("did you mean WARDEN_DRY_RUN?"),
        "{err}"
    );
    let err = refused(&[("WARDEN_GC_MAX_DELETE", "3")]);
    assert!(err.to_string().contains("WARDEN_GC_MAX_DELETES"), "{err}");
    let err = refused(&[("WARDEN_SOMETHING_ELSE_ENTIRELY", "1")]);
    assert!(err.to_string().contains("is not a setting"), "{err}");
    // The official SDKs' own variables are theirs, not ours.
    load(&[("HUAWEICLOUD_SDK_REGION", "cn-north-4")]).expect("left alone");
}

#[test]
fn near_miss_spellings_of_service_whitelist_are_refused() {
    for spelling in [
        "SERVICE-WHITELIST",
        "service_whitelist",
        "Service-Whitelist",
    ] {
        let err = refused(&[("WARDEN_ALLOWED_DOMAINS", spelling)]);
        assert_eq!(err.variable(), "WARDEN_ALLOWED_DOMAINS");
        assert!(
            err.to_string().contains("exactly service-whitelist"),
            "{err}"
        );
    }
    let s = load(&[("WARDEN_ALLOWED_DOMAINS", "service-whitelist")]).unwrap();
    assert!(s.allow_service_whitelist && s.allowed_domains.is_empty());
}

#[test]
fn the_smn_topic_urn_must_be_a_topic_urn() {
    for bad in [
        "vpcep-alerts",
        "urn:smn:cn-north-4:vpcep-alerts",
        "urn:smn:cn-north-4:p1:alerts/../../x",
        "urn:sns:cn-north-4:p1:alerts",
    ] {
        let err = refused(&[("WARDEN_SMN_TOPIC_URN", bad)]);
        assert_eq!(err.variable(), "WARDEN_SMN_TOPIC_URN", "{bad}");
    }
    let s = load(&[("WARDEN_SMN_TOPIC_URN", "urn:smn:cn-north-4:p1:vpcep-alerts")]).unwrap();
    assert_eq!(
        s.smn_topic_urn.as_deref(),
        Some("urn:smn:cn-north-4:p1:vpcep-alerts")
    );
}

#[test]
fn endpoints_with_a_password_in_them_are_refused_without_showing_it() {
    for variable in ["WARDEN_VPCEP_ENDPOINT", "WARDEN_SMN_ENDPOINT"] {
        let err = refused(&[(variable, "http://admin:hunter2-pw@127.0.0.1:8080")]);
        assert_eq!(err.variable(), variable);
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("user name or password"), "{text}");
    }
}

#[test]
fn the_answer_cap_is_a_setting_within_its_range() {
    assert_eq!(load(&[]).unwrap().max_response_mb, 16);
    assert_eq!(
        load(&[("WARDEN_MAX_RESPONSE_MB", "64")])
            .unwrap()
            .max_response_mb,
        64
    );
    let err = refused(&[("WARDEN_MAX_RESPONSE_MB", "4096")]);
    assert!(err.to_string().contains("from 1 to 128"), "{err}");
}

#[test]
fn a_target_endpoint_with_a_password_is_refused_without_showing_it() {
    for endpoint in [
        "http://admin:hunter2-pw@127.0.0.1:8080",
        "http://admin:hunter2-pw@bad host",
    ] {
        let targets = json!([{"name": "t1", "region": "cn-north-4", "project_id": "p1",
                              "vpcep_endpoint": endpoint}])
        .to_string();
        let err = refused(&[("WARDEN_TARGETS", &targets)]);
        assert_eq!(err.variable(), "WARDEN_TARGETS");
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("user name or password"), "{text}");
    }
}

#[test]
fn target_names_are_bounded_and_a_long_one_is_not_echoed() {
    let named = |name: &str| {
        json!([{"name": name, "region": "cn-north-4", "project_id": "p1"}]).to_string()
    };
    let long = "n".repeat(300);
    let err = refused(&[("WARDEN_TARGETS", &named(&long))]);
    let text = err.to_string();
    assert!(text.contains("at most 64 characters, got 300"), "{text}");
    assert!(
        !text.contains(&"n".repeat(65)),
        "the name is echoed: {text}"
    );
    assert!(load(&[("WARDEN_TARGETS", &named(&"n".repeat(64)))]).is_ok());
}
