//! Authentication of API requests: AK/SK signing, a fixed IAM token, or an
//! IAM token obtained by password and kept until it is about to expire.
//!
//! Requests are shaped as the official SDKs shape them (the conformance
//! test holds them to it): `Content-Type: application/json`, or
//! `application/json;charset=utf-8` with a body; `User-Agent` signed with
//! the rest. A project-scoped service (VPCEP, SMN) gets `X-Project-Id`, as
//! `BasicCredentials` sends. IAM is a global service: its calls carry
//! `X-Domain-Id` (the account id) and no `X-Project-Id`, as
//! `GlobalCredentials` sends; a password user calls IAM with a token scoped
//! to its account (domain), since IAM's agency hand-off needs the Agent
//! Operator role, which a project-scoped token does not carry.

use hwcloud_sign::SigningKey;
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

use super::error::ApiErrorKind;
use super::models::parse_time;
use crate::config::{Credentials, Secret};

/// An IAM token is renewed when less than this remains of its life.
pub(crate) const RENEW_BEFORE: Duration = Duration::hours(1);

/// Assumed life of a token whose answer gave no readable `expires_at`
/// (IAM tokens last 24 hours).
const ASSUMED_LIFE: Duration = Duration::hours(23);

/// The `Content-Type` of a call without a body (the SDK's default).
pub(crate) const PLAIN_CONTENT_TYPE: &str = "application/json";

/// The `Content-Type` of a call with a JSON body, as the VPCEP, IAM and SMN
/// SDKs send it.
pub(crate) const BODY_CONTENT_TYPE: &str = "application/json;charset=utf-8";

/// The `User-Agent` of every request, signed as the SDK signs its own.
pub(crate) const USER_AGENT: &str = concat!("vpcep-warden/", env!("CARGO_PKG_VERSION"));

/// Where a request goes: a project-scoped service, or a global one (IAM).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// VPCEP or SMN: `X-Project-Id` names this project.
    Project(&'a str),
    /// IAM: `X-Domain-Id` names this account, when known (it is not while
    /// it is being found with `GET /v3/auth/domains`).
    Global(Option<&'a str>),
}

/// How the client authenticates.
pub(crate) enum Auth {
    /// Every request is signed (SDK-HMAC-SHA256).
    AkSk {
        key: SigningKey,
        sk: Secret,
        security_token: Option<Secret>,
        /// The account the keys belong to: `HUAWEICLOUD_SDK_DOMAIN_ID`, or
        /// found once with `GET /v3/auth/domains` before the first IAM call.
        domain_id: tokio::sync::OnceCell<String>,
    },
    /// Every request carries this token.
    Token(Secret),
    /// Every request carries a token obtained from IAM by password.
    Password {
        tokens_url: String,
        user: String,
        password: Secret,
        domain: String,
        cache: Mutex<Option<IamToken>>,
        /// The token scoped to the account, for IAM calls.
        domain_cache: Mutex<Option<IamToken>>,
        /// Every token this process obtained, to be scrubbed from answers
        /// (a renewed token's predecessor may still be echoed by a slow answer).
        issued: std::sync::Mutex<Vec<Secret>>,
    },
    /// No credentials of its own: the invocation must supply them
    /// ([`super::Client::with_credentials`]); until then every request fails.
    Missing,
}

/// A token obtained from IAM.
#[derive(Clone)]
pub(crate) struct IamToken {
    pub(crate) value: Secret,
    pub(crate) expires_at: OffsetDateTime,
}

impl IamToken {
    /// Whether the token still has more than [`RENEW_BEFORE`] to live at `now`.
    pub(crate) fn is_fresh(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now > RENEW_BEFORE
    }
}

/// How one request is authenticated.
pub(crate) enum Authn<'a> {
    /// Not at all (the IAM token request itself).
    Anonymous,
    /// Signed with the AK/SK.
    Signed,
    /// `X-Auth-Token`.
    Token(&'a Secret),
}

impl Auth {
    /// The authentication the credentials describe; `domain_id` is the
    /// account of AK/SK credentials when known (else found when needed).
    pub(crate) fn new(credentials: &Credentials, domain_id: Option<&str>) -> Self {
        match credentials {
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            } => Self::AkSk {
                key: SigningKey::new(ak.clone(), sk.expose()),
                sk: sk.clone(),
                security_token: security_token.clone(),
                domain_id: tokio::sync::OnceCell::new_with(domain_id.map(str::to_owned)),
            },
            Credentials::Token(token) => Self::Token(token.clone()),
            Credentials::Password {
                endpoint,
                user,
                password,
                domain,
            } => Self::Password {
                tokens_url: format!("{}/v3/auth/tokens", endpoint.trim_end_matches('/')),
                user: user.clone(),
                password: password.clone(),
                domain: domain.clone(),
                cache: Mutex::new(None),
                domain_cache: Mutex::new(None),
                issued: std::sync::Mutex::new(Vec::new()),
            },
            Credentials::PerInvocation => Self::Missing,
        }
    }

    /// The configured secrets and every IAM token obtained, to be scrubbed
    /// from any text the server sends back.
    pub(crate) fn secrets(&self) -> Vec<String> {
        match self {
            Self::AkSk {
                sk, security_token, ..
            } => [Some(sk), security_token.as_ref()]
                .into_iter()
                .flatten()
                .map(|s| s.expose().to_owned())
                .collect(),
            Self::Token(t) => vec![t.expose().to_owned()],
            Self::Password {
                password, issued, ..
            } => {
                let issued = issued.lock().unwrap_or_else(|e| e.into_inner());
                std::iter::once(password)
                    .chain(issued.iter())
                    .map(|s| s.expose().to_owned())
                    .collect()
            }
            Self::Missing => Vec::new(),
        }
    }

    /// Remembers a token obtained from IAM as a secret to scrub.
    pub(crate) fn remember(&self, token: &Secret) {
        if let Self::Password { issued, .. } = self {
            let mut issued = issued.lock().unwrap_or_else(|e| e.into_inner());
            // Tokens are renewed daily: the last few are all that can be echoed.
            if issued.len() >= 4 {
                issued.remove(0);
            }
            issued.push(token.clone());
        }
    }

    /// The headers of a request: `Content-Type`, the project or account
    /// header of `scope`, and the authentication for `authn` (signed over
    /// the method, URL and body).
    pub(crate) fn headers(
        &self,
        authn: &Authn<'_>,
        method: &str,
        url: &str,
        body: &[u8],
        scope: Scope<'_>,
    ) -> Result<Vec<(&'static str, String)>, ApiErrorKind> {
        let content_type = if body.is_empty() {
            PLAIN_CONTENT_TYPE
        } else {
            BODY_CONTENT_TYPE
        };
        let mut headers = vec![
            ("Content-Type", content_type.to_owned()),
            ("User-Agent", USER_AGENT.to_owned()),
        ];
        let scope_header = match scope {
            Scope::Project(project_id) => Some(("X-Project-Id", project_id.to_owned())),
            Scope::Global(domain_id) => domain_id.map(|d| ("X-Domain-Id", d.to_owned())),
        };
        match authn {
            Authn::Anonymous => return Ok(headers),
            Authn::Token(token) => {
                // A token names its own scope: IAM takes no project header.
                if let Scope::Project(project_id) = scope {
                    headers.push(("X-Project-Id", project_id.to_owned()));
                }
                headers.push(("X-Auth-Token", token.expose().to_owned()));
            }
            Authn::Signed => {
                let Self::AkSk {
                    key,
                    security_token,
                    ..
                } = self
                else {
                    return Err(ApiErrorKind::Invalid {
                        detail: "signing needs AK/SK credentials".into(),
                    });
                };
                headers.extend(scope_header);
                if let Some(token) = security_token {
                    headers.push(("X-Security-Token", token.expose().to_owned()));
                }
                let request = headers
                    .iter()
                    .fold(hwcloud_sign::Request::new(method, url), |r, (k, v)| {
                        r.map(|r| r.header(*k, v.clone()))
                    })
                    .map_err(|e| ApiErrorKind::Invalid {
                        detail: format!("cannot sign the request: {e}"),
                    })?
                    .body(body);
                let signed = hwcloud_sign::sign(&request, key, OffsetDateTime::now_utc());
                headers.push((hwcloud_sign::DATE_HEADER, signed.date));
                headers.push(("Authorization", signed.authorization));
            }
        }
        Ok(headers)
    }
}

/// What an IAM token is scoped to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenScope<'a> {
    /// A project: what VPCEP accepts.
    Project(&'a str),
    /// The account, by name: what IAM's agency hand-off asks for.
    Domain(&'a str),
}

/// The body of POST `/v3/auth/tokens`: password authentication with `scope`.
pub(crate) fn password_body(
    user: &str,
    password: &Secret,
    domain: &str,
    scope: TokenScope<'_>,
) -> Value {
    let scope = match scope {
        TokenScope::Project(id) => json!({ "project": { "id": id } }),
        TokenScope::Domain(name) => json!({ "domain": { "name": name } }),
    };
    json!({
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": user,
                        "password": password.expose(),
                        "domain": { "name": domain }
                    }
                }
            },
            "scope": scope
        }
    })
}

/// The token of an IAM answer: `X-Subject-Token`, expiring at `token.expires_at`.
pub(crate) fn token_from_answer(
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<IamToken, ApiErrorKind> {
    let value = headers
        .get("X-Subject-Token")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiErrorKind::Invalid {
            detail: "the IAM answer has no X-Subject-Token header".into(),
        })?;
    let expires_at = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/token/expires_at")?
                .as_str()
                .and_then(parse_time)
        })
        .unwrap_or(now + ASSUMED_LIFE);
    Ok(IamToken {
        value: Secret::new(value),
        expires_at,
    })
}
