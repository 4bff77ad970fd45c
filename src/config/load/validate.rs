//! The raw variables checked one by one into [`Settings`]: the estate and
//! its endpoints, the judgement, alerts, gc, limits and state, each error
//! naming its variable.

use super::credentials::credential;
use super::state;
use super::urns::{fan_out, smn_topic_urn};
use super::variables::Raw;
use super::HostDefaults;
use crate::config::values::{
    choice, http_url, is_near_service_whitelist, is_plain_id, list, number, percent, text,
};
use crate::config::{
    AlertFormat, ConfigError, Credentials, GcOverLimit, NotAllowed, Organizations, Reconcile,
    Secret, Settings, WebhookAuth, SERVICE_WHITELIST,
};

/// The longest `WARDEN_GC_MIN_AGE_MINUTES`: a year.
const MAX_GC_MIN_AGE_MINUTES: u64 = 525_600;

/// Revoking after a grace period needs the first sighting of each
/// connection to outlive the process: in a state store (`WARDEN_STATE`
/// `file://` or `s3://`) or in the connection's description
/// (`WARDEN_AUDIT_DESCRIPTION=on`). Without either, `WARDEN_RECONCILE=reject`
/// is refused unless the grace period is 0.
fn first_sightings_kept(s: &Settings) -> Result<(), ConfigError> {
    if s.reconcile == Reconcile::Reject
        && s.reconcile_grace_minutes > 0
        && !s.audit_description
        && !s.state.location.is_durable()
    {
        return Err(ConfigError::new(
            "WARDEN_RECONCILE",
            format!("WARDEN_RECONCILE=reject revokes a connection only once it has been found not allowed for WARDEN_RECONCILE_GRACE_MINUTES={}, which needs somewhere to remember the first sighting: set WARDEN_STATE to a file:// directory or an s3:// bucket, or WARDEN_AUDIT_DESCRIPTION=on (the warden marks the connection's description), or WARDEN_RECONCILE_GRACE_MINUTES=0 to revoke at the first sighting", s.reconcile_grace_minutes),
        ));
    }
    Ok(())
}

impl Raw {
    pub(super) fn validate(mut self, host: &HostDefaults) -> Result<Settings, ConfigError> {
        for (variable, value) in [
            ("HUAWEICLOUD_SDK_AK", &mut self.huaweicloud_sdk_ak),
            ("HUAWEICLOUD_SDK_SK", &mut self.huaweicloud_sdk_sk),
            (
                "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                &mut self.huaweicloud_sdk_security_token,
            ),
            ("WARDEN_AUTH_TOKEN", &mut self.warden_auth_token),
            ("WARDEN_IAM_USER", &mut self.warden_iam_user),
            ("WARDEN_IAM_PASSWORD", &mut self.warden_iam_password),
            ("WARDEN_IAM_DOMAIN", &mut self.warden_iam_domain),
            ("WARDEN_WEBHOOK_SECRET", &mut self.warden_webhook_secret),
        ] {
            *value = credential(variable, value.take())?;
        }
        let credentials = self.credentials(host.per_invocation_credentials)?;
        let iam_endpoint = match (&credentials, text(self.warden_iam_endpoint.clone())) {
            (Credentials::Password { .. }, _) | (_, None) => None,
            (_, Some(url)) => Some(http_url("WARDEN_IAM_ENDPOINT", &url)?),
        };
        let warden_region = text(self.warden_region.clone());
        let state = state::state(
            &mut self,
            &credentials,
            warden_region.as_deref(),
            host.default_state.as_deref(),
        )?;
        let targets = match text(self.warden_targets.take()) {
            Some(value) => crate::config::targets::parse(&value)?,
            None => Vec::new(),
        };
        // With targets, only a project set on purpose becomes one more target
        // (not the host's own, such as FunctionGraph's RUNTIME_PROJECT_ID).
        let host_project = match targets.is_empty() {
            true => text(host.project_id.clone()),
            false => None,
        };
        let project_id = text(self.huaweicloud_sdk_project_id)
            .or(host_project)
            .or_else(|| targets.first().map(|_| String::new()))
            .ok_or_else(|| {
                ConfigError::new(
                    "HUAWEICLOUD_SDK_PROJECT_ID",
                    "HUAWEICLOUD_SDK_PROJECT_ID is required: set it to the project whose endpoint services are managed (or list targets in WARDEN_TARGETS)",
                )
            })?;
        if !project_id.is_empty() && !is_plain_id(&project_id) {
            return Err(ConfigError::new(
                "HUAWEICLOUD_SDK_PROJECT_ID",
                format!("HUAWEICLOUD_SDK_PROJECT_ID must be a project ID (letters, digits, - and _), got {project_id:?}"),
            ));
        }
        let region = text(self.warden_region);
        if let Some(r) = &region {
            if !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(ConfigError::new(
                    "WARDEN_REGION",
                    format!("WARDEN_REGION must be a region name like cn-north-4, got {r:?}"),
                ));
            }
        }
        let vpcep_endpoint = match text(self.warden_vpcep_endpoint) {
            Some(url) => http_url("WARDEN_VPCEP_ENDPOINT", &url)?,
            None => match &region {
                Some(r) => format!("https://vpcep.{r}.myhuaweicloud.com"),
                // With targets alone, the first one stands for the warden's own identity.
                None if project_id.is_empty() => targets[0].vpcep_endpoint.clone(),
                None => {
                    return Err(ConfigError::new(
                        "WARDEN_VPCEP_ENDPOINT",
                        "WARDEN_VPCEP_ENDPOINT or WARDEN_REGION is required: set the region (e.g. WARDEN_REGION=cn-north-4) or the API's base URL",
                    ))
                }
            },
        };
        // The topic's own region first: a topic lives in one region, which
        // need not be the VPCEP one.
        let urn_region = self
            .warden_smn_topic_urn
            .as_deref()
            .and_then(|urn| urn.trim().split(':').nth(2))
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let smn_endpoint = match text(self.warden_smn_endpoint) {
            Some(url) => Some(http_url("WARDEN_SMN_ENDPOINT", &url)?),
            None => urn_region
                .or_else(|| region.clone())
                .map(|r| format!("https://smn.{r}.myhuaweicloud.com")),
        };
        let mut allowed_domains = list(self.warden_allowed_domains);
        if let Some(near) = allowed_domains
            .iter()
            .find(|d| is_near_service_whitelist(d))
        {
            return Err(ConfigError::new(
                "WARDEN_ALLOWED_DOMAINS",
                format!("WARDEN_ALLOWED_DOMAINS holds {near:?}: write it exactly {SERVICE_WHITELIST} to allow each service's whitelist (it is not an account ID)"),
            ));
        }
        let allow_service_whitelist = allowed_domains.iter().any(|d| d == SERVICE_WHITELIST);
        allowed_domains.retain(|d| d != SERVICE_WHITELIST);
        if let Some(bad) = allowed_domains.iter().find(|d| !is_plain_id(d)) {
            return Err(ConfigError::new(
                "WARDEN_ALLOWED_DOMAINS",
                format!("WARDEN_ALLOWED_DOMAINS must list account (domain) IDs separated by commas, or service-whitelist; {bad:?} is neither (wildcards are not supported)"),
            ));
        }
        let service_ids = list(self.warden_service_ids);
        if let Some(bad) = service_ids.iter().find(|d| !is_plain_id(d)) {
            return Err(ConfigError::new(
                "WARDEN_SERVICE_IDS",
                format!("WARDEN_SERVICE_IDS must list endpoint service IDs separated by commas; {bad:?} is not one"),
            ));
        }
        let quota_warn_percent = percent(
            "WARDEN_QUOTA_WARN_PERCENT",
            self.warden_quota_warn_percent,
            80.0,
        )?;
        let quota_critical_percent = percent(
            "WARDEN_QUOTA_CRITICAL_PERCENT",
            self.warden_quota_critical_percent,
            95.0,
        )?;
        if quota_warn_percent > quota_critical_percent {
            return Err(ConfigError::new(
                "WARDEN_QUOTA_WARN_PERCENT",
                format!("WARDEN_QUOTA_WARN_PERCENT ({quota_warn_percent}) must not be above WARDEN_QUOTA_CRITICAL_PERCENT ({quota_critical_percent})"),
            ));
        }
        let alert_webhook_url = match self.warden_alert_webhook_url {
            Some(url) => {
                let ok = url::Url::parse(url.trim())
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                if !ok {
                    return Err(ConfigError::new(
                        "WARDEN_ALERT_WEBHOOK_URL",
                        "WARDEN_ALERT_WEBHOOK_URL must be an http:// or https:// URL (its value is not shown: it may hold a secret)",
                    ));
                }
                Some(Secret::new(url.trim()))
            }
            None => None,
        };
        let gc_keep_tag = text(self.warden_gc_keep_tag).unwrap_or_else(|| "warden-keep".into());
        let quota_schedule_minutes = number(
            "WARDEN_QUOTA_SCHEDULE_MINUTES",
            self.warden_quota_schedule_minutes.take(),
            1..=10_080,
        )?
        .unwrap_or(60);
        let (project_id, targets) = crate::config::targets::with_top_level(
            targets,
            project_id,
            region.as_deref(),
            &vpcep_endpoint,
        )?;
        let domain_id = text(self.huaweicloud_sdk_domain_id.take())
            .map(|id| {
                if is_plain_id(&id) {
                    Ok(id)
                } else {
                    Err(ConfigError::new(
                        "HUAWEICLOUD_SDK_DOMAIN_ID",
                        format!("HUAWEICLOUD_SDK_DOMAIN_ID must be an account (domain) ID (letters, digits, - and _), got {id:?}"),
                    ))
                }
            })
            .transpose()?;
        let settings = Settings {
            credentials,
            domain_id,
            project_id,
            region,
            vpcep_endpoint,
            allowed_domains,
            allow_service_whitelist,
            service_ids,
            not_allowed: choice(
                "WARDEN_NOT_ALLOWED",
                self.warden_not_allowed,
                &[("leave", NotAllowed::Leave), ("reject", NotAllowed::Reject)],
                NotAllowed::Leave,
            )?,
            quota_warn_percent,
            quota_critical_percent,
            quota_min_free: number(
                "WARDEN_QUOTA_MIN_FREE",
                self.warden_quota_min_free,
                0..=1_000_000,
            )?,
            alert_webhook_url,
            alert_format: choice(
                "WARDEN_ALERT_FORMAT",
                self.warden_alert_format,
                &[
                    ("slack", AlertFormat::Slack),
                    ("alertmanager", AlertFormat::Alertmanager),
                    ("json", AlertFormat::Json),
                    ("feishu", AlertFormat::Feishu),
                    ("dingtalk", AlertFormat::Dingtalk),
                    ("wecom", AlertFormat::Wecom),
                    ("teams", AlertFormat::Teams),
                ],
                AlertFormat::Slack,
            )?,
            smn_topic_urn: text(self.warden_smn_topic_urn)
                .map(|urn| smn_topic_urn(&urn).map(|()| urn))
                .transpose()?,
            smn_endpoint,
            gc_enabled: choice(
                "WARDEN_GC",
                self.warden_gc,
                &[("on", true), ("off", false)],
                true,
            )?,
            gc_min_age_minutes: number(
                "WARDEN_GC_MIN_AGE_MINUTES",
                self.warden_gc_min_age_minutes,
                0..=MAX_GC_MIN_AGE_MINUTES,
            )?
            .unwrap_or(60),
            gc_max_deletes: number(
                "WARDEN_GC_MAX_DELETES",
                self.warden_gc_max_deletes,
                0..=10_000,
            )?
            .unwrap_or(20),
            gc_keep_tag,
            webhook_secret: self.warden_webhook_secret.map(Secret::new),
            webhook_auth: choice(
                "WARDEN_WEBHOOK_AUTH",
                self.warden_webhook_auth,
                &[("hmac", WebhookAuth::Hmac), ("none", WebhookAuth::None)],
                WebhookAuth::Hmac,
            )?,
            max_concurrency: number(
                "WARDEN_MAX_CONCURRENCY",
                self.warden_max_concurrency,
                1..=256,
            )?
            .unwrap_or(16),
            http_timeout_secs: number(
                "WARDEN_HTTP_TIMEOUT_SECS",
                self.warden_http_timeout_secs,
                1..=300,
            )?
            .unwrap_or(10),
            max_retries: number("WARDEN_MAX_RETRIES", self.warden_max_retries, 0..=10)?
                .unwrap_or(4),
            dry_run: choice(
                "WARDEN_DRY_RUN",
                self.warden_dry_run,
                &[("true", true), ("false", false), ("1", true), ("0", false)],
                false,
            )?,
            max_response_mb: number(
                "WARDEN_MAX_RESPONSE_MB",
                self.warden_max_response_mb,
                1..=128,
            )?
            .unwrap_or(16),
            reconcile: choice(
                "WARDEN_RECONCILE",
                self.warden_reconcile,
                &[
                    ("off", Reconcile::Off),
                    ("report", Reconcile::Report),
                    ("reject", Reconcile::Reject),
                ],
                Reconcile::Off,
            )?,
            reconcile_max: number(
                "WARDEN_RECONCILE_MAX",
                self.warden_reconcile_max,
                0..=10_000,
            )?
            .unwrap_or(5),
            reconcile_grace_minutes: number(
                "WARDEN_RECONCILE_GRACE_MINUTES",
                self.warden_reconcile_grace_minutes,
                0..=525_600,
            )?
            .unwrap_or(60),
            max_connections_per_account: number(
                "WARDEN_MAX_CONNECTIONS_PER_ACCOUNT",
                self.warden_max_connections_per_account,
                1..=100_000,
            )?,
            pending_notices: choice(
                "WARDEN_PENDING_NOTICES",
                self.warden_pending_notices,
                &[("on", true), ("off", false)],
                true,
            )?,
            audit_description: choice(
                "WARDEN_AUDIT_DESCRIPTION",
                self.warden_audit_description,
                &[("on", true), ("off", false)],
                false,
            )?,
            schedule_minutes: number(
                "WARDEN_SCHEDULE_MINUTES",
                self.warden_schedule_minutes,
                1..=10_080,
            )?
            .unwrap_or(5),
            gc_over_limit: choice(
                "WARDEN_GC_OVER_LIMIT",
                self.warden_gc_over_limit,
                &[
                    ("refuse", GcOverLimit::Refuse),
                    ("partial", GcOverLimit::Partial),
                ],
                GcOverLimit::Refuse,
            )?,
            alert_ttl_minutes: number(
                "WARDEN_ALERT_TTL_MINUTES",
                self.warden_alert_ttl_minutes,
                1..=43_200,
            )?
            .unwrap_or(3 * quota_schedule_minutes),
            log_json: choice(
                "WARDEN_LOG_FORMAT",
                self.warden_log_format,
                &[("text", false), ("json", true)],
                false,
            )?,
            alert_repeat_hours: number(
                "WARDEN_ALERT_REPEAT_HOURS",
                self.warden_alert_repeat_hours,
                1..=720,
            )?
            .unwrap_or(24),
            quota_schedule_minutes,
            secrets_arn: text(self.warden_secrets_arn),
            fan_out: fan_out(self.warden_function_urn, self.warden_functiongraph_endpoint)?,
            iam_endpoint,
            targets,
            organizations: Organizations::from_vars(
                self.warden_organizations_endpoint.take(),
                self.warden_allowed_org_paths.take(),
            )?,
            state,
        };
        first_sightings_kept(&settings)?;
        Ok(settings)
    }
}
