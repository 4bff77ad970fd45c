//! Secrets and the credentials they make up: how requests to the VPCEP (and
//! SMN) API are authenticated, with every secret redacted when printed.

use std::fmt;

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
