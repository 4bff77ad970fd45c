//! A human summary of the settings, secrets redacted, for `check`.

use super::{Credentials, GcOverLimit, Settings, WebhookAuth};

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
