//! Settings from environment variables: defaults, every invalid value named,
//! secrets never shown.

mod credentials;
mod host;
mod targets;

use vpcep_warden::config::{
    AlertFormat, ConfigError, Credentials, NotAllowed, Settings, WebhookAuth,
};

const SK: &str = "sk-secret-value-123";
const TOKEN: &str = "auth-token-value-456";
const PASSWORD: &str = "password-value-789";
const STS: &str = "security-token-value-000";
const HOOK: &str = "webhook-secret-value-111";

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The smallest valid environment, plus `extra` (which may override).
pub(crate) fn load(extra: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let mut all = vars(&[
        ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p1"),
        ("WARDEN_REGION", "cn-north-4"),
        ("PATH", "/usr/bin"),
    ]);
    all.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    all.extend(vars(extra));
    Settings::from_vars(all)
}

fn assert_no_secret(text: &str) {
    for secret in [SK, TOKEN, PASSWORD, STS, HOOK] {
        assert!(!text.contains(secret), "a secret shows in: {text}");
    }
}

pub(crate) fn error(extra: &[(&str, &str)]) -> ConfigError {
    let err = load(extra).expect_err("these settings must be refused");
    assert_no_secret(&err.to_string());
    err
}

#[test]
fn defaults_match_the_design() {
    let s = load(&[]).unwrap();
    let want = Settings::for_tests(
        "https://vpcep.cn-north-4.myhuaweicloud.com",
        "p1",
        "AKEXAMPLE",
        SK,
    );
    assert_eq!(s.vpcep_endpoint, want.vpcep_endpoint);
    assert_eq!(s.credentials, want.credentials);
    assert_eq!(
        s.smn_endpoint.as_deref(),
        Some("https://smn.cn-north-4.myhuaweicloud.com")
    );
    assert_eq!(s.region.as_deref(), Some("cn-north-4"));
    assert!(s.allowed_domains.is_empty() && !s.allow_service_whitelist && s.service_ids.is_empty());
    assert_eq!(s.not_allowed, NotAllowed::Leave);
    assert_eq!(
        (
            s.quota_warn_percent,
            s.quota_critical_percent,
            s.quota_min_free
        ),
        (80.0, 95.0, None)
    );
    assert_eq!(s.alert_format, AlertFormat::Slack);
    assert!(
        s.alert_webhook_url.is_none() && s.smn_topic_urn.is_none() && s.webhook_secret.is_none()
    );
    assert_eq!(
        (
            s.gc_enabled,
            s.gc_min_age_minutes,
            s.gc_max_deletes,
            s.gc_keep_tag.as_str()
        ),
        (true, 60, 20, "warden-keep")
    );
    assert_eq!(s.webhook_auth, WebhookAuth::Hmac);
    assert_eq!(
        (
            s.max_concurrency,
            s.http_timeout_secs,
            s.max_retries,
            s.dry_run
        ),
        (16, 10, 4, false)
    );
}

#[test]
fn every_variable_is_read() {
    let s = load(&[
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", STS),
        ("WARDEN_VPCEP_ENDPOINT", "http://127.0.0.1:8080/"),
        ("WARDEN_ALLOWED_DOMAINS", " d1, service-whitelist ,d2,, "),
        ("WARDEN_SERVICE_IDS", "s1,s2"),
        ("WARDEN_NOT_ALLOWED", "reject"),
        ("WARDEN_QUOTA_WARN_PERCENT", "70.5"),
        ("WARDEN_QUOTA_CRITICAL_PERCENT", "90"),
        ("WARDEN_QUOTA_MIN_FREE", "5"),
        (
            "WARDEN_ALERT_WEBHOOK_URL",
            "https://hooks.example.com/services/T000/B000/XXXX",
        ),
        ("WARDEN_ALERT_FORMAT", "alertmanager"),
        ("WARDEN_SMN_TOPIC_URN", "urn:smn:cn-north-4:p1:alerts"),
        ("WARDEN_SMN_ENDPOINT", "http://127.0.0.1:9000"),
        ("WARDEN_GC", "off"),
        ("WARDEN_GC_MIN_AGE_MINUTES", "5"),
        ("WARDEN_GC_MAX_DELETES", "0"),
        ("WARDEN_GC_KEEP_TAG", "keep-me"),
        ("WARDEN_WEBHOOK_SECRET", HOOK),
        ("WARDEN_WEBHOOK_AUTH", "none"),
        ("WARDEN_MAX_CONCURRENCY", "4"),
        ("WARDEN_HTTP_TIMEOUT_SECS", "3"),
        ("WARDEN_MAX_RETRIES", "0"),
        ("WARDEN_DRY_RUN", "1"),
    ])
    .unwrap();
    assert!(
        matches!(&s.credentials, Credentials::AkSk { security_token: Some(t), .. } if t.expose() == STS)
    );
    assert_eq!(s.vpcep_endpoint, "http://127.0.0.1:8080");
    assert_eq!(
        (s.allowed_domains.clone(), s.allow_service_whitelist),
        (vec!["d1".to_owned(), "d2".to_owned()], true)
    );
    assert_eq!(s.service_ids, ["s1", "s2"]);
    assert_eq!(s.not_allowed, NotAllowed::Reject);
    assert_eq!(
        (
            s.quota_warn_percent,
            s.quota_critical_percent,
            s.quota_min_free
        ),
        (70.5, 90.0, Some(5))
    );
    assert_eq!(s.alert_format, AlertFormat::Alertmanager);
    assert_eq!(s.smn_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(
        (
            s.gc_enabled,
            s.gc_min_age_minutes,
            s.gc_max_deletes,
            s.gc_keep_tag.as_str()
        ),
        (false, 5, 0, "keep-me")
    );
    assert_eq!(s.webhook_auth, WebhookAuth::None);
    assert_eq!(
        (
            s.max_concurrency,
            s.http_timeout_secs,
            s.max_retries,
            s.dry_run
        ),
        (4, 3, 0, true)
    );
    assert_no_secret(&format!("{s:?}"));
    let summary = s.summary();
    assert_no_secret(&summary);
    assert!(
        !summary.contains("XXXX"),
        "the webhook path may be secret: {summary}"
    );
    assert!(
        summary.contains("http://127.0.0.1:8080") && summary.contains("p1"),
        "{summary}"
    );
}

#[test]
fn each_invalid_value_names_its_variable() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "WARDEN_QUOTA_WARN_PERCENT",
            "abc",
            "must be a number from 0 to 100, got \"abc\"",
        ),
        ("WARDEN_QUOTA_CRITICAL_PERCENT", "101", "from 0 to 100"),
        ("WARDEN_QUOTA_MIN_FREE", "-1", "whole number"),
        ("WARDEN_VPCEP_ENDPOINT", "ftp://x", "http:// or https://"),
        (
            "WARDEN_VPCEP_ENDPOINT",
            "vpcep.example.com",
            "http:// or https://",
        ),
        ("WARDEN_SMN_ENDPOINT", "nope", "http:// or https://"),
        ("WARDEN_NOT_ALLOWED", "approve", "leave, reject"),
        (
            "WARDEN_ALERT_FORMAT",
            "msteams",
            "slack, alertmanager, json, feishu, dingtalk, wecom, teams",
        ),
        (
            "WARDEN_ALERT_WEBHOOK_URL",
            "hooks.example.com/secret",
            "http:// or https://",
        ),
        ("WARDEN_GC", "maybe", "on, off"),
        ("WARDEN_GC_MIN_AGE_MINUTES", "1h", "whole number"),
        ("WARDEN_GC_MAX_DELETES", "many", "whole number"),
        ("WARDEN_WEBHOOK_AUTH", "basic", "hmac, none"),
        ("WARDEN_MAX_CONCURRENCY", "0", "from 1 to 256"),
        ("WARDEN_HTTP_TIMEOUT_SECS", "0", "from 1 to 300"),
        ("WARDEN_MAX_RETRIES", "x", "whole number"),
        ("WARDEN_DRY_RUN", "yes", "true, false"),
        ("WARDEN_REGION", "cn north", "region name"),
        ("WARDEN_ALLOWED_DOMAINS", "*", "wildcards"),
        ("WARDEN_SERVICE_IDS", "a b", "not one"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p/1", "project ID"),
    ];
    for (variable, value, says) in cases {
        let err = error(&[(variable, value)]);
        assert_eq!(err.variable(), *variable);
        let text = err.to_string();
        assert!(
            text.starts_with(variable) && text.contains(says),
            "{variable}={value}: {text}"
        );
    }
    assert!(
        !error(&[("WARDEN_ALERT_WEBHOOK_URL", "hooks.example.com/secret")])
            .to_string()
            .contains("secret\"")
    );
}

#[test]
fn levels_must_be_in_order() {
    let err = error(&[("WARDEN_QUOTA_WARN_PERCENT", "96")]);
    assert_eq!(err.variable(), "WARDEN_QUOTA_WARN_PERCENT");
    assert!(
        err.to_string()
            .contains("WARDEN_QUOTA_CRITICAL_PERCENT (95)"),
        "{err}"
    );
}

#[test]
fn missing_project_endpoint_or_credentials_say_how_to_fix_them() {
    let no_project = Settings::from_vars(vars(&[
        ("HUAWEICLOUD_SDK_AK", "a"),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("WARDEN_REGION", "r"),
    ]));
    assert_eq!(
        no_project.unwrap_err().to_string(),
        "HUAWEICLOUD_SDK_PROJECT_ID is required: set it to the project whose endpoint services are managed (or list targets in WARDEN_TARGETS)"
    );
    let no_endpoint = Settings::from_vars(vars(&[
        ("HUAWEICLOUD_SDK_AK", "a"),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
    ]));
    let text = no_endpoint.unwrap_err().to_string();
    assert!(
        text.contains("WARDEN_VPCEP_ENDPOINT") && text.contains("WARDEN_REGION"),
        "{text}"
    );
    let none = Settings::from_vars(vars(&[
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
        ("WARDEN_REGION", "r"),
        ("HUAWEICLOUD_SDK_AK", ""),
    ]));
    let text = none.unwrap_err().to_string();
    for way in [
        "HUAWEICLOUD_SDK_AK",
        "WARDEN_AUTH_TOKEN",
        "WARDEN_IAM_PASSWORD",
    ] {
        assert!(text.contains(way), "{text}");
    }
}

fn functiongraph() -> vpcep_warden::config::HostDefaults {
    vpcep_warden::config::HostDefaults {
        project_id: Some("function-project".into()),
        per_invocation_credentials: true,
        secrets: Vec::new(),
        default_state: None,
    }
}
