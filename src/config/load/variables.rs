//! The variables the settings read: each as envy reads it, and the list of
//! names that refuses a misspelt `WARDEN_` variable with the nearest one.

use crate::config::ConfigError;

/// The raw variables, as envy reads them (names lower-cased).
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct Raw {
    pub(super) huaweicloud_sdk_ak: Option<String>,
    pub(super) huaweicloud_sdk_sk: Option<String>,
    pub(super) huaweicloud_sdk_security_token: Option<String>,
    pub(super) huaweicloud_sdk_project_id: Option<String>,
    pub(super) huaweicloud_sdk_domain_id: Option<String>,
    pub(super) warden_auth_token: Option<String>,
    pub(super) warden_iam_endpoint: Option<String>,
    pub(super) warden_iam_user: Option<String>,
    pub(super) warden_iam_password: Option<String>,
    pub(super) warden_iam_domain: Option<String>,
    pub(super) warden_region: Option<String>,
    pub(super) warden_vpcep_endpoint: Option<String>,
    pub(super) warden_allowed_domains: Option<String>,
    pub(super) warden_service_ids: Option<String>,
    pub(super) warden_not_allowed: Option<String>,
    pub(super) warden_quota_warn_percent: Option<String>,
    pub(super) warden_quota_critical_percent: Option<String>,
    pub(super) warden_quota_min_free: Option<String>,
    pub(super) warden_alert_webhook_url: Option<String>,
    pub(super) warden_alert_format: Option<String>,
    pub(super) warden_smn_topic_urn: Option<String>,
    pub(super) warden_smn_endpoint: Option<String>,
    pub(super) warden_gc: Option<String>,
    pub(super) warden_gc_min_age_minutes: Option<String>,
    pub(super) warden_gc_max_deletes: Option<String>,
    pub(super) warden_gc_keep_tag: Option<String>,
    pub(super) warden_webhook_secret: Option<String>,
    pub(super) warden_webhook_auth: Option<String>,
    pub(super) warden_max_concurrency: Option<String>,
    pub(super) warden_http_timeout_secs: Option<String>,
    pub(super) warden_max_retries: Option<String>,
    pub(super) warden_dry_run: Option<String>,
    pub(super) warden_max_response_mb: Option<String>,
    pub(super) warden_reconcile: Option<String>,
    pub(super) warden_reconcile_max: Option<String>,
    pub(super) warden_reconcile_grace_minutes: Option<String>,
    pub(super) warden_max_connections_per_account: Option<String>,
    pub(super) warden_pending_notices: Option<String>,
    pub(super) warden_audit_description: Option<String>,
    pub(super) warden_schedule_minutes: Option<String>,
    pub(super) warden_gc_over_limit: Option<String>,
    pub(super) warden_alert_ttl_minutes: Option<String>,
    pub(super) warden_log_format: Option<String>,
    pub(super) warden_alert_repeat_hours: Option<String>,
    pub(super) warden_quota_schedule_minutes: Option<String>,
    pub(super) warden_secrets_arn: Option<String>,
    pub(super) warden_function_urn: Option<String>,
    pub(super) warden_functiongraph_endpoint: Option<String>,
    pub(super) warden_targets: Option<String>,
    pub(super) warden_organizations_endpoint: Option<String>,
    pub(super) warden_allowed_org_paths: Option<String>,
    pub(super) warden_state: Option<String>,
    pub(super) aws_access_key_id: Option<String>,
    pub(super) aws_secret_access_key: Option<String>,
    pub(super) aws_session_token: Option<String>,
    pub(super) aws_region: Option<String>,
    pub(super) aws_endpoint_url_s3: Option<String>,
    pub(super) aws_endpoint_url: Option<String>,
}

/// Whether `name` is one of [`KNOWN`] (in any case, as envy reads them).
pub(super) fn is_known(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    KNOWN.contains(&upper.as_str())
}

/// A `WARDEN_` variable the settings do not read: refused,
/// since a misspelt `WARDEN_DRY_RUN` silently ignored means real deletions.
pub(super) fn unknown_variable(name: &str) -> ConfigError {
    let upper = name.to_ascii_uppercase();
    let nearest = KNOWN
        .iter()
        .map(|k| (edit_distance(&upper, k), *k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| format!(": did you mean {k}?"))
        .unwrap_or_else(|| ": README.md lists the settings; unset it".to_owned());
    ConfigError::new("environment", format!("{name} is not a setting{nearest}"))
}

/// Levenshtein distance between two short ASCII names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Whether a variable is one the settings may read: every `WARDEN_` and
/// `HUAWEICLOUD_SDK_` one, and the `AWS_` ones of an S3 API store (other
/// `AWS_` variables belong to the platform and the AWS SDKs).
pub(super) fn is_ours(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name.starts_with("WARDEN_")
        || name.starts_with("HUAWEICLOUD_SDK_")
        || AWS.contains(&name.as_str())
}

/// The `AWS_` variables the settings read (for a `WARDEN_STATE` bucket).
const AWS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
];

/// Every variable the settings read.
pub(super) const KNOWN: &[&str] = &[
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "HUAWEICLOUD_SDK_PROJECT_ID",
    "HUAWEICLOUD_SDK_DOMAIN_ID",
    "WARDEN_AUTH_TOKEN",
    "WARDEN_IAM_ENDPOINT",
    "WARDEN_IAM_USER",
    "WARDEN_IAM_PASSWORD",
    "WARDEN_IAM_DOMAIN",
    "WARDEN_REGION",
    "WARDEN_VPCEP_ENDPOINT",
    "WARDEN_ALLOWED_DOMAINS",
    "WARDEN_SERVICE_IDS",
    "WARDEN_NOT_ALLOWED",
    "WARDEN_QUOTA_WARN_PERCENT",
    "WARDEN_QUOTA_CRITICAL_PERCENT",
    "WARDEN_QUOTA_MIN_FREE",
    "WARDEN_ALERT_WEBHOOK_URL",
    "WARDEN_ALERT_FORMAT",
    "WARDEN_SMN_TOPIC_URN",
    "WARDEN_SMN_ENDPOINT",
    "WARDEN_GC",
    "WARDEN_GC_MIN_AGE_MINUTES",
    "WARDEN_GC_MAX_DELETES",
    "WARDEN_GC_KEEP_TAG",
    "WARDEN_WEBHOOK_SECRET",
    "WARDEN_WEBHOOK_AUTH",
    "WARDEN_MAX_CONCURRENCY",
    "WARDEN_HTTP_TIMEOUT_SECS",
    "WARDEN_MAX_RETRIES",
    "WARDEN_DRY_RUN",
    "WARDEN_MAX_RESPONSE_MB",
    "WARDEN_RECONCILE",
    "WARDEN_RECONCILE_MAX",
    "WARDEN_RECONCILE_GRACE_MINUTES",
    "WARDEN_FUNCTION_URN",
    "WARDEN_FUNCTIONGRAPH_ENDPOINT",
    "WARDEN_MAX_CONNECTIONS_PER_ACCOUNT",
    "WARDEN_PENDING_NOTICES",
    "WARDEN_AUDIT_DESCRIPTION",
    "WARDEN_SCHEDULE_MINUTES",
    "WARDEN_GC_OVER_LIMIT",
    "WARDEN_ALERT_TTL_MINUTES",
    "WARDEN_LOG_FORMAT",
    "WARDEN_ALERT_REPEAT_HOURS",
    "WARDEN_QUOTA_SCHEDULE_MINUTES",
    "WARDEN_SECRETS_ARN",
    "WARDEN_TARGETS",
    "WARDEN_ORGANIZATIONS_ENDPOINT",
    "WARDEN_ALLOWED_ORG_PATHS",
    "WARDEN_STATE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
];
