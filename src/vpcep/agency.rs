//! The agency hand-off: temporary credentials of another account, obtained
//! by assuming one of its agencies with the warden's own identity.
//!
//! What this relies on (Huawei Cloud IAM API reference, "Obtaining a
//! Temporary Access Key and Security Token Through an Agency",
//! CreateTemporaryAccessKeyByAgency, iam_04_0101):
//! - `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`, callable on the global
//!   endpoint (`https://iam.myhuaweicloud.com`) and on regional ones;
//! - authenticated either by an AK/SK signature (`Authorization`, the
//!   recommended way) or by `X-Auth-Token`; IAM being global, a signature
//!   carries `X-Domain-Id` and no `X-Project-Id`, and a token must be scoped
//!   to the account (it needs the Agent Operator role, which a project-scoped
//!   token does not carry): see [`super::iam`];
//! - body `{"auth": {"identity": {"methods": ["assume_role"], "assume_role":
//!   {"domain_id" or "domain_name", "agency_name", "duration_seconds"}}}}`,
//!   the life from 900 s (15 minutes) to 86,400 s (24 hours);
//! - answer 201 `{"credential": {"access", "secret", "securitytoken",
//!   "expires_at"}}`; the temporary AK/SK must be used with the security
//!   token, sent (and signed) as `X-Security-Token`.
//!
//! IAM's guide now recommends STS `AssumeAgency` (`POST /v5/agencies/assume`
//! on a regional `sts.{region}` endpoint) for new work: its security tokens
//! carry more context. The warden keeps the v3.0 call, by decision: the same
//! guide says some cloud services do not yet accept STS security tokens and
//! to use CreateTemporaryAccessKeyByAgency for them, and nothing published
//! says VPCEP and SMN do; v3.0 works on the global endpoint with the same
//! agencies; and its request is checked against the official IAM SDK in the
//! conformance test. Moving to STS means a new call, not a changed one.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::error::{ApiError, ApiErrorKind};
use super::models::parse_time;
use super::Client;
use crate::config::{Agency, AgencyDomain, Credentials, Secret};

/// `POST /v3.0/OS-CREDENTIAL/securitytokens` (CreateTemporaryAccessKeyByAgency).
pub(crate) const SECURITY_TOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";

/// The life asked for: an hour (renewed 5 minutes before its end).
pub const AGENCY_DURATION_SECS: u64 = 3600;

/// Temporary credentials are renewed when less than this remains of their life.
pub const AGENCY_RENEW_BEFORE: Duration = Duration::minutes(5);

/// Temporary credentials of an agency, and when they end. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct TemporaryCredentials {
    credentials: Credentials,
    /// When they stop working.
    pub expires_at: OffsetDateTime,
}

impl TemporaryCredentials {
    /// The credentials to sign with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Whether they still have more than [`AGENCY_RENEW_BEFORE`] to live at `now`.
    pub fn is_fresh(&self, now: OffsetDateTime) -> bool {
        self.expires_at - now > AGENCY_RENEW_BEFORE
    }
}

impl Client {
    /// Assumes `agency` with this client's own credentials through the IAM
    /// API at `iam_endpoint`, for `duration_secs` (900 to 86,400).
    pub async fn assume_agency(
        &self,
        iam_endpoint: &str,
        agency: Agency<'_>,
        duration_secs: u64,
    ) -> Result<TemporaryCredentials, ApiError> {
        #[derive(Deserialize)]
        struct Answer {
            credential: Credential,
        }
        #[derive(Deserialize)]
        struct Credential {
            access: String,
            secret: String,
            securitytoken: String,
            expires_at: String,
        }
        let mut assume_role = json!({
            "agency_name": agency.name,
            "duration_seconds": duration_secs.clamp(900, 86_400),
        });
        match agency.domain {
            AgencyDomain::Id(id) => assume_role["domain_id"] = json!(id),
            AgencyDomain::Name(name) => assume_role["domain_name"] = json!(name),
        }
        let body = json!({"auth": {"identity": {
            "methods": ["assume_role"],
            "assume_role": assume_role,
        }}});
        let action = "assume agency";
        let target = format!("{} of account {}", agency.name, agency.domain);
        let answer = self
            .iam_json(
                action,
                &target,
                iam_endpoint,
                Method::POST,
                SECURITY_TOKENS_PATH,
                Some(&body),
            )
            .await?;
        let invalid = |detail: String| {
            ApiError::new(action, target.clone(), ApiErrorKind::Invalid { detail })
        };
        // The answer holds secrets: never shown, even when it does not decode.
        let answer: Answer = serde_json::from_value(answer).map_err(|_| {
            invalid(
                "the IAM answer has no credential {access, secret, securitytoken, expires_at}"
                    .into(),
            )
        })?;
        let c = answer.credential;
        // The value is not shown: a misbehaving gateway could put anything there.
        let expires_at = parse_time(&c.expires_at).ok_or_else(|| {
            invalid(format!(
                "the IAM answer's expires_at is not an RFC 3339 time ({} characters; the value is not shown)",
                c.expires_at.chars().count()
            ))
        })?;
        Ok(TemporaryCredentials {
            credentials: Credentials::AkSk {
                ak: c.access,
                sk: Secret::new(c.secret),
                security_token: Some(Secret::new(c.securitytoken)),
            },
            expires_at,
        })
    }
}
