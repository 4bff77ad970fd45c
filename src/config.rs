//! Settings: read once from the environment, validated, secrets redacted.
//!
//! Every variable of design.md section 3 maps to one field of [`Settings`].
//! Tests build `Settings` directly (see [`Settings::for_tests`]) instead of
//! touching the process environment.

use std::fmt;

mod error;
mod load;
mod organizations;
mod state;
mod targets;
mod values;

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

/// A secret value (SK, token, password, webhook secret). `Debug` and `Display`
/// print `<redacted>`; the value is reached only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for signing or sending; never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How requests to the VPCEP (and SMN) API are authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// AK/SK, signed as SDK-HMAC-SHA256; `security_token` for temporary credentials.
    AkSk {
        /// `HUAWEICLOUD_SDK_AK`.
        ak: String,
        /// `HUAWEICLOUD_SDK_SK`.
        sk: Secret,
        /// `HUAWEICLOUD_SDK_SECURITY_TOKEN`.
        security_token: Option<Secret>,
    },
    /// A fixed IAM token sent as `X-Auth-Token` (`WARDEN_AUTH_TOKEN`).
    Token(Secret),
    /// An IAM token obtained by password from `endpoint` and renewed before expiry.
    Password {
        /// `WARDEN_IAM_ENDPOINT`, no trailing slash.
        endpoint: String,
        /// `WARDEN_IAM_USER`.
        user: String,
        /// `WARDEN_IAM_PASSWORD`.
        password: Secret,
        /// `WARDEN_IAM_DOMAIN` (the account name).
        domain: String,
    },
    /// None configured: each invocation brings its own (FunctionGraph passes
    /// the temporary credentials of the function's agency with every event).
    /// A request made without them fails with a clear error.
    PerInvocation,
}

/// What the approve job does with a pending connection from an account not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// Leave it pending (the default).
    Leave,
    /// Reject it.
    Reject,
}

/// What the approve job does with accepted connections whose account is no
/// longer allowed (`WARDEN_RECONCILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Nothing (the default).
    Off,
    /// List them in the report's `revoked`, marked not rejected.
    Report,
    /// Reject them, at most `WARDEN_RECONCILE_MAX` per run.
    Reject,
}

/// What gc does when more endpoints qualify than `WARDEN_GC_MAX_DELETES` (`WARDEN_GC_OVER_LIMIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcOverLimit {
    /// Delete none, skip all, raise a critical alert (the default).
    Refuse,
    /// Delete up to the cap, oldest first; skip the rest.
    Partial,
}

/// The body format of alert webhooks (`WARDEN_ALERT_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFormat {
    /// `{"text": ..., "blocks": [...]}`: Slack (Mattermost and Rocket.Chat read `text`).
    Slack,
    /// Prometheus Alertmanager v2 `POST /api/v2/alerts` array.
    Alertmanager,
    /// The alert objects as they are.
    Json,
    /// Feishu (Lark) custom bot: `{"msg_type": "text", ...}`.
    Feishu,
    /// DingTalk custom robot: `{"msgtype": "text", ...}`.
    Dingtalk,
    /// WeCom (WeChat Work) group robot: `{"msgtype": "markdown", ...}`.
    Wecom,
    /// Microsoft Teams Workflows webhook: an Adaptive Card attachment.
    Teams,
}

/// How HTTP events are authenticated (`WARDEN_WEBHOOK_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookAuth {
    /// HMAC-SHA256 signature headers, checked against `WARDEN_WEBHOOK_SECRET`.
    Hmac,
    /// None: the platform authenticates (e.g. a Function URL with AWS_IAM).
    None,
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

impl Credentials {
    /// A short name of the method (`AK/SK`, `IAM token`, ...), never a secret.
    pub fn method(&self) -> &'static str {
        match self {
            Self::AkSk {
                security_token: None,
                ..
            } => "AK/SK",
            Self::AkSk { .. } => "AK/SK with security token",
            Self::Token(_) => "IAM token",
            Self::Password { .. } => "IAM password",
            Self::PerInvocation => "agency credentials of each invocation",
        }
    }
}

impl Settings {
    /// A human summary of the settings, secrets redacted (for `check`).
    pub fn summary(&self) -> String {
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let who = match &self.credentials {
            Credentials::AkSk { ak, .. } => {
                format!("{} (AK {})", self.credentials.method(), mask(ak))
            }
            Credentials::Token(_) | Credentials::PerInvocation => {
                self.credentials.method().to_owned()
            }
            Credentials::Password {
                endpoint,
                user,
                domain,
                ..
            } => {
                format!("IAM password (user {user}, domain {domain}, IAM {endpoint})")
            }
        };
        let mut allowed = list(&self.allowed_domains);
        if self.allow_service_whitelist {
            allowed.push_str(" + each service's whitelist");
        }
        for path in &self.organizations.allowed_paths {
            allowed.push_str(&format!(" + accounts in {}", path.as_str()));
        }
        let webhook = match &self.alert_webhook_url {
            Some(url) => {
                format!("{} ({:?})", redacted_url(url.expose()), self.alert_format).to_lowercase()
            }
            None => "none".into(),
        };
        let lines = [
            format!("endpoint:           {}", self.vpcep_endpoint),
            format!("project:            {}", self.project_id),
            format!(
                "region:             {}",
                self.region.as_deref().unwrap_or("not set")
            ),
            format!("credentials:        {who}"),
            format!("allowed domains:    {allowed}"),
            format!(
                "services:           {}",
                if self.service_ids.is_empty() {
                    "all of the project's".into()
                } else {
                    list(&self.service_ids)
                }
            ),
            format!("not allowed:        {:?}", self.not_allowed).to_lowercase(),
            format!(
                "judgement:          reconcile {} (at most {} per run, after {} min), {} per account, pending notices {}, audit marks {}, schedule every {} min",
                format!("{:?}", self.reconcile).to_lowercase(),
                self.reconcile_max,
                self.reconcile_grace_minutes,
                self.max_connections_per_account
                    .map_or("no limit".to_owned(), |n| format!("at most {n} connections")),
                if self.pending_notices { "on" } else { "off" },
                if self.audit_description { "on" } else { "off" },
                self.schedule_minutes
            ),
            format!(
                "quota levels:       warning {}%, critical {}%{}",
                self.quota_warn_percent,
                self.quota_critical_percent,
                self.quota_min_free
                    .map(|n| format!(", min free {n}"))
                    .unwrap_or_default()
            ),
            format!("alert webhook:      {webhook}"),
            format!(
                "smn topic:          {}",
                self.smn_topic_urn.as_deref().unwrap_or("none")
            ),
            format!(
                "gc:                 {}",
                if self.gc_enabled {
                    format!(
                        "on (older than {} min, at most {} per run ({} above it), keep tag {})",
                        self.gc_min_age_minutes,
                        self.gc_max_deletes,
                        match self.gc_over_limit {
                            GcOverLimit::Refuse => "none",
                            GcOverLimit::Partial => "partial",
                        },
                        self.gc_keep_tag
                    )
                } else {
                    "off".into()
                }
            ),
            format!(
                "webhook auth:       {}",
                match (self.webhook_auth, &self.webhook_secret) {
                    (WebhookAuth::None, _) => "none (the platform authenticates)",
                    (WebhookAuth::Hmac, Some(_)) => "hmac (secret set)",
                    (WebhookAuth::Hmac, None) => "hmac, but no secret: HTTP events are refused",
                }
            ),
            format!(
                "limits:             {} requests in flight, {} s timeout, {} retries, answers up to {} MiB",
                self.max_concurrency, self.http_timeout_secs, self.max_retries, self.max_response_mb
            ),
            format!("dry run:            {}", self.dry_run),
            format!("state:              {}", self.state.location.describe()),
            format!(
                "targets:            {}",
                if self.targets.is_empty() {
                    "one (the settings above)".to_owned()
                } else {
                    self.targets
                        .iter()
                        .map(|t| match t.agency() {
                            Some(a) => format!("{} ({}, project {}, agency {} of {})", t.name, t.region, t.project_id, a.name, a.domain),
                            None => format!("{} ({}, project {})", t.name, t.region, t.project_id),
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                }
            ),
        ];
        lines.join("\n")
    }
}

/// The first four characters of an access key, the rest hidden.
fn mask(ak: &str) -> String {
    let shown: String = ak.chars().take(4).collect();
    format!("{shown}…")
}

/// Scheme and host of a URL whose path or query may hold a secret.
fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "<redacted>".into(),
    }
}
