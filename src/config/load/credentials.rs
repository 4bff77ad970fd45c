//! Credentials: each one trimmed and checked without showing it, and exactly
//! one of the ways to authenticate chosen.

use super::variables::Raw;
use crate::config::values::{http_url, text};
use crate::config::{ConfigError, Credentials, Secret};

/// A credential with surrounding white space trimmed (a secret file's
/// trailing newline); one with a control character left inside is refused
/// without showing it.
pub(super) fn credential(
    variable: &'static str,
    value: Option<String>,
) -> Result<Option<String>, ConfigError> {
    let Some(value) = text(value) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(ConfigError::new(
            variable,
            format!("{variable} holds a control character (a line break, tab or NUL) inside it: set it again without one (the value is not shown)"),
        ));
    }
    Ok(Some(value))
}

impl Raw {
    /// Exactly one of the three ways to authenticate.
    pub(super) fn credentials(&self, per_invocation: bool) -> Result<Credentials, ConfigError> {
        let ak = text(self.huaweicloud_sdk_ak.clone());
        let sk = self.huaweicloud_sdk_sk.clone();
        let security_token = self.huaweicloud_sdk_security_token.clone();
        let token = self.warden_auth_token.clone();
        let iam = [
            ("WARDEN_IAM_ENDPOINT", &self.warden_iam_endpoint),
            ("WARDEN_IAM_USER", &self.warden_iam_user),
            ("WARDEN_IAM_PASSWORD", &self.warden_iam_password),
            ("WARDEN_IAM_DOMAIN", &self.warden_iam_domain),
        ];
        let ways = [
            (
                ak.is_some() || sk.is_some(),
                "HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK",
            ),
            (token.is_some(), "WARDEN_AUTH_TOKEN"),
            // WARDEN_IAM_ENDPOINT alone names where agencies are assumed.
            (iam[1..].iter().any(|(_, v)| v.is_some()), "WARDEN_IAM_*"),
        ];
        let chosen: Vec<&str> = ways
            .iter()
            .filter(|(set, _)| *set)
            .map(|(_, n)| *n)
            .collect();
        if chosen.len() > 1 {
            return Err(ConfigError::new(
                "WARDEN_AUTH_TOKEN",
                format!(
                    "credentials are set more than one way ({}): set only one of them",
                    chosen.join(", ")
                ),
            ));
        }
        if security_token.is_some() && ak.is_none() {
            return Err(ConfigError::new(
                "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                "HUAWEICLOUD_SDK_SECURITY_TOKEN is set without HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK: temporary credentials need all three",
            ));
        }
        match (ak, sk, token) {
            (Some(ak), Some(sk), None) => Ok(Credentials::AkSk {
                ak,
                sk: Secret::new(sk),
                security_token: security_token.map(Secret::new),
            }),
            (Some(_), None, _) => Err(ConfigError::new(
                "HUAWEICLOUD_SDK_SK",
                "HUAWEICLOUD_SDK_SK is required when HUAWEICLOUD_SDK_AK is set: set the secret key of that access key",
            )),
            (None, Some(_), _) => Err(ConfigError::new(
                "HUAWEICLOUD_SDK_AK",
                "HUAWEICLOUD_SDK_AK is required when HUAWEICLOUD_SDK_SK is set: set the access key the secret key belongs to",
            )),
            (None, None, Some(token)) => Ok(Credentials::Token(Secret::new(token))),
            _ if chosen.is_empty() && per_invocation => Ok(Credentials::PerInvocation),
            _ if chosen.is_empty() => Err(ConfigError::new(
                "HUAWEICLOUD_SDK_AK",
                "no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (plus HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary credentials), or WARDEN_AUTH_TOKEN, or WARDEN_IAM_ENDPOINT, WARDEN_IAM_USER, WARDEN_IAM_PASSWORD and WARDEN_IAM_DOMAIN",
            )),
            _ => {
                if let Some((name, _)) = iam.iter().find(|(_, v)| v.is_none()) {
                    return Err(ConfigError::new(
                        name,
                        format!("{name} is required when any WARDEN_IAM_* variable is set: password authentication needs WARDEN_IAM_ENDPOINT, WARDEN_IAM_USER, WARDEN_IAM_PASSWORD and WARDEN_IAM_DOMAIN"),
                    ));
                }
                let [endpoint, user, password, domain] = iam.map(|(_, v)| v.clone().unwrap_or_default());
                Ok(Credentials::Password {
                    endpoint: http_url("WARDEN_IAM_ENDPOINT", &endpoint)?,
                    user: user.trim().to_owned(),
                    password: Secret::new(password),
                    domain: domain.trim().to_owned(),
                })
            }
        }
    }
}
