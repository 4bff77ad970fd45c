//! Calls to IAM and other global services (Organizations): signed with the
//! account (`X-Domain-Id`) rather than a project, the account found once
//! when not configured.
//!
//! As the official SDK's `GlobalCredentials` does: `X-Domain-Id` comes from
//! `HUAWEICLOUD_SDK_DOMAIN_ID` when set, otherwise from the first entry of
//! `GET {iam}/v3/auth/domains` (the accounts the keys may act in, signed
//! without an account header), asked once per set of keys and kept. The SDK
//! falls back on STS `GetCallerIdentity` when that list is empty; the warden
//! instead stops with an error that names `HUAWEICLOUD_SDK_DOMAIN_ID`.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::auth::{Auth, Scope};
use super::error::{ApiError, ApiErrorKind};
use super::transport::Answer;
use super::Client;
use crate::config::{Credentials, Settings};

/// The IAM endpoint used when `WARDEN_IAM_ENDPOINT` is not set.
pub const DEFAULT_IAM_ENDPOINT: &str = "https://iam.myhuaweicloud.com";

/// Where the warden calls IAM (agencies are assumed, the account of the
/// keys is found): `WARDEN_IAM_ENDPOINT` (also the password method's), else
/// the global IAM endpoint.
pub fn iam_endpoint(settings: &Settings) -> &str {
    match (&settings.iam_endpoint, &settings.credentials) {
        (Some(url), _) => url,
        (None, Credentials::Password { endpoint, .. }) => endpoint,
        (None, _) => DEFAULT_IAM_ENDPOINT,
    }
}

/// `GET /v3/auth/domains` (KeystoneListAuthDomains).
pub(crate) const DOMAINS_PATH: &str = "/v3/auth/domains";

impl Client {
    /// One call to IAM at `iam_endpoint` + `path`, its answer decoded;
    /// an empty answer reads as `null`.
    pub(super) async fn iam_json(
        &self,
        action: &'static str,
        target: &str,
        iam_endpoint: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let url = iam_url(action, target, iam_endpoint, path)?;
        let answer = self
            .global_call(action, target, method, url, body, iam_endpoint)
            .await?;
        self.decode(action, target, &answer)
    }

    /// One call to a global service at `url`: AK/SK requests sign
    /// `X-Domain-Id`, the account found at `iam_endpoint` when not known; a
    /// password user sends its token scoped to the account.
    pub(super) async fn global_call(
        &self,
        action: &'static str,
        target: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
        iam_endpoint: &str,
    ) -> Result<Answer, ApiError> {
        let domain_id = match self.auth() {
            Auth::AkSk { domain_id, .. } => Some(
                domain_id
                    .get_or_try_init(|| self.discover_domain(iam_endpoint))
                    .await?
                    .clone(),
            ),
            _ => None,
        };
        self.call_scoped(
            action,
            target,
            method,
            url,
            body,
            Scope::Global(domain_id.as_deref()),
        )
        .await
    }

    /// The account the AK/SK belong to, as `GET /v3/auth/domains` lists it.
    async fn discover_domain(&self, iam_endpoint: &str) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Domains {
            #[serde(default)]
            domains: Vec<Domain>,
        }
        #[derive(Deserialize)]
        struct Domain {
            id: String,
        }
        let (action, target) = ("find the account of the access key", "");
        let url = iam_url(action, target, iam_endpoint, DOMAINS_PATH)?;
        let answer = self
            .call_scoped(action, target, Method::GET, url, None, Scope::Global(None))
            .await?;
        let domains: Domains = self.decode(action, target, &answer)?;
        let id = domains
            .domains
            .into_iter()
            .map(|d| d.id)
            .find(|id| !id.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    action,
                    target,
                    ApiErrorKind::Invalid {
                        detail: "IAM lists no account for these keys: set HUAWEICLOUD_SDK_DOMAIN_ID to the account ID".into(),
                    },
                )
            })?;
        tracing::info!(domain_id = %id, "found the account of the access key");
        Ok(id)
    }
}

/// `{iam_endpoint}{path}`, refused unless an http(s) URL.
fn iam_url(
    action: &'static str,
    target: &str,
    iam_endpoint: &str,
    path: &str,
) -> Result<Url, ApiError> {
    let text = format!("{}{path}", iam_endpoint.trim_end_matches('/'));
    Url::parse(&text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            ApiError::new(
                action,
                target,
                ApiErrorKind::Invalid {
                    detail: format!("the IAM endpoint {iam_endpoint:?} is not an http(s) URL"),
                },
            )
        })
}
