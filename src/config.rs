//! Settings: read once from the environment, validated, secrets redacted.
//!
//! Every variable of design.md section 3 maps to one field of [`Settings`].
//! Tests build `Settings` directly (see [`Settings::for_tests`]) instead of
//! touching the process environment.

mod choices;
mod credentials;
mod error;
mod load;
mod organizations;
mod state;
mod summary;
mod targets;
mod values;

pub use choices::{AlertFormat, GcOverLimit, NotAllowed, Reconcile, WebhookAuth};
pub use credentials::{Credentials, Secret};
pub use error::ConfigError;
pub use load::HostDefaults;
pub use organizations::{Organizations, DEFAULT_ORGANIZATIONS_ENDPOINT};
pub use state::{S3Access, S3Credentials, StateLocation, StateSettings};

/// The entry of `WARDEN_ALLOWED_DOMAINS` that also allows each service's whitelist.
pub const SERVICE_WHITELIST: &str = "service-whitelist";
pub use targets::{Agency, AgencyDomain, Target, TOP_LEVEL};

/// The FunctionGraph function a fan-out tick invokes asynchronously, once
/// per target (`WARDEN_FUNCTION_URN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanOut {
    /// `urn:fss:REGION:PROJECT:function:APP:NAME:VERSION`.
    pub function_urn: String,
    /// The project in the URN (the API's path names it).
    pub project_id: String,
    /// The FunctionGraph API's base URL.
    pub endpoint: String,
}

/// All settings of the warden. See README.md for each variable.
#[derive(Debug, Clone)]
pub struct Settings {
    /// One of the three ways to authenticate.
    pub credentials: Credentials,
    /// `HUAWEICLOUD_SDK_DOMAIN_ID`: the account (domain) id of the AK/SK,
    /// sent as `X-Domain-Id` on IAM calls; found with `GET /v3/auth/domains`
    /// when unset, as the official SDKs do.
    pub domain_id: Option<String>,
    /// `HUAWEICLOUD_SDK_PROJECT_ID`.
    pub project_id: String,
    /// `WARDEN_REGION`.
    pub region: Option<String>,
    /// `WARDEN_VPCEP_ENDPOINT`, or derived from the region; no trailing slash.
    pub vpcep_endpoint: String,
    /// `WARDEN_ALLOWED_DOMAINS` without the `service-whitelist` entry.
    pub allowed_domains: Vec<String>,
    /// `service-whitelist` was among `WARDEN_ALLOWED_DOMAINS`.
    pub allow_service_whitelist: bool,
    /// `WARDEN_SERVICE_IDS`; empty means all of the project's services.
    pub service_ids: Vec<String>,
    /// `WARDEN_NOT_ALLOWED`.
    pub not_allowed: NotAllowed,
    /// `WARDEN_QUOTA_WARN_PERCENT`.
    pub quota_warn_percent: f64,
    /// `WARDEN_QUOTA_CRITICAL_PERCENT`.
    pub quota_critical_percent: f64,
    /// `WARDEN_QUOTA_MIN_FREE`.
    pub quota_min_free: Option<u64>,
    /// `WARDEN_ALERT_WEBHOOK_URL` (may hold a secret path: never logged whole).
    pub alert_webhook_url: Option<Secret>,
    /// `WARDEN_ALERT_FORMAT`.
    pub alert_format: AlertFormat,
    /// `WARDEN_SMN_TOPIC_URN`.
    pub smn_topic_urn: Option<String>,
    /// `WARDEN_SMN_ENDPOINT`, or derived from the topic URN's region (else
    /// `WARDEN_REGION`).
    pub smn_endpoint: Option<String>,
    /// `WARDEN_GC` is `on`.
    pub gc_enabled: bool,
    /// `WARDEN_GC_MIN_AGE_MINUTES`.
    pub gc_min_age_minutes: u64,
    /// `WARDEN_GC_MAX_DELETES`.
    pub gc_max_deletes: usize,
    /// `WARDEN_GC_KEEP_TAG`.
    pub gc_keep_tag: String,
    /// `WARDEN_WEBHOOK_SECRET`.
    pub webhook_secret: Option<Secret>,
    /// `WARDEN_WEBHOOK_AUTH`.
    pub webhook_auth: WebhookAuth,
    /// `WARDEN_MAX_CONCURRENCY`.
    pub max_concurrency: usize,
    /// `WARDEN_HTTP_TIMEOUT_SECS`.
    pub http_timeout_secs: u64,
    /// `WARDEN_MAX_RETRIES`.
    pub max_retries: u32,
    /// `WARDEN_DRY_RUN`.
    pub dry_run: bool,
    /// `WARDEN_MAX_RESPONSE_MB`: the largest API answer read, in MiB.
    pub max_response_mb: u64,
    /// `WARDEN_RECONCILE`: what to do with accepted connections whose account is no longer allowed.
    pub reconcile: Reconcile,
    /// `WARDEN_RECONCILE_MAX`: the most revocations one run may make; above it, none.
    pub reconcile_max: usize,
    /// `WARDEN_RECONCILE_GRACE_MINUTES`: how long an accepted connection must
    /// have been found not allowed before it is revoked (0: at once).
    pub reconcile_grace_minutes: u64,
    /// `WARDEN_MAX_CONNECTIONS_PER_ACCOUNT`: per service, accepted or creating.
    pub max_connections_per_account: Option<usize>,
    /// `WARDEN_PENDING_NOTICES`: announce connections left pending, once each.
    pub pending_notices: bool,
    /// `WARDEN_AUDIT_DESCRIPTION`: mark decided connections in their description.
    pub audit_description: bool,
    /// `WARDEN_SCHEDULE_MINUTES`: how often the scheduled approve tick runs.
    pub schedule_minutes: u64,
    /// `WARDEN_GC_OVER_LIMIT`: what gc does when more endpoints qualify than `WARDEN_GC_MAX_DELETES`.
    pub gc_over_limit: GcOverLimit,
    /// `WARDEN_ALERT_TTL_MINUTES`: how long Alertmanager keeps an alert
    /// active without hearing of it again (its `endsAt`).
    pub alert_ttl_minutes: u64,
    /// `WARDEN_LOG_FORMAT`: `text` or `json` log lines (read before the
    /// settings, when logging starts; kept here so a bad value is refused).
    pub log_json: bool,
    /// `WARDEN_ALERT_REPEAT_HOURS`: how often chat and SMN get an unchanged alert again.
    pub alert_repeat_hours: u32,
    /// `WARDEN_QUOTA_SCHEDULE_MINUTES`: how often the scheduled quota tick runs.
    pub quota_schedule_minutes: u64,
    /// `WARDEN_SECRETS_ARN`: on Lambda, the Secrets Manager secret the
    /// credentials were read from at start (through the Parameters and
    /// Secrets Lambda Extension).
    pub secrets_arn: Option<String>,
    /// `WARDEN_FUNCTION_URN`: where a fan-out tick hands each target its own invocation.
    pub fan_out: Option<FanOut>,
    /// `WARDEN_IAM_ENDPOINT` when the credentials are AK/SK or a token: where
    /// agencies of [`Target`]s are assumed (else `https://iam.myhuaweicloud.com`).
    pub iam_endpoint: Option<String>,
    /// `WARDEN_TARGETS`: the estates looked after; empty means one, these settings' own.
    pub targets: Vec<Target>,
    /// `WARDEN_ORGANIZATIONS_ENDPOINT` and `WARDEN_ALLOWED_ORG_PATHS`.
    pub organizations: Organizations,
    /// `WARDEN_STATE` (and the `AWS_*` variables of an S3 API bucket): where
    /// what was sent, announced and first seen is kept.
    pub state: StateSettings,
}

impl Settings {
    /// Settings with every default of design.md section 3, AK/SK credentials
    /// and the given endpoint and project: the starting point for tests and the demo.
    pub fn for_tests(vpcep_endpoint: &str, project_id: &str, ak: &str, sk: &str) -> Self {
        Self {
            credentials: Credentials::AkSk {
                ak: ak.to_owned(),
                sk: Secret::new(sk),
                security_token: None,
            },
            domain_id: None,
            project_id: project_id.to_owned(),
            region: None,
            vpcep_endpoint: vpcep_endpoint.trim_end_matches('/').to_owned(),
            allowed_domains: Vec::new(),
            allow_service_whitelist: false,
            service_ids: Vec::new(),
            not_allowed: NotAllowed::Leave,
            quota_warn_percent: 80.0,
            quota_critical_percent: 95.0,
            quota_min_free: None,
            alert_webhook_url: None,
            alert_format: AlertFormat::Slack,
            smn_topic_urn: None,
            smn_endpoint: None,
            gc_enabled: true,
            gc_min_age_minutes: 60,
            gc_max_deletes: 20,
            gc_keep_tag: "warden-keep".to_owned(),
            webhook_secret: None,
            webhook_auth: WebhookAuth::Hmac,
            max_concurrency: 16,
            http_timeout_secs: 10,
            max_retries: 4,
            dry_run: false,
            max_response_mb: 16,
            reconcile: Reconcile::Off,
            reconcile_max: 5,
            reconcile_grace_minutes: 60,
            max_connections_per_account: None,
            pending_notices: true,
            audit_description: false,
            schedule_minutes: 5,
            gc_over_limit: GcOverLimit::Refuse,
            alert_ttl_minutes: 180,
            log_json: false,
            alert_repeat_hours: 24,
            quota_schedule_minutes: 60,
            secrets_arn: None,
            fan_out: None,
            iam_endpoint: None,
            targets: Vec::new(),
            organizations: Organizations::default(),
            state: StateSettings::memory(),
        }
    }
}
