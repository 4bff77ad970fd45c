//! Why an event could not be decoded, and how the edge answers it.
//!
//! One enum per boundary (style.md habit 8): [`EventError`] maps to an HTTP
//! status with [`EventError::http_status`] and carries the [`Reply`] shape of
//! the envelope it came in, so an HTTP event that fails to decode is still
//! answered as an HTTP response (400 / 401 / 413), not as a Lambda error.
//!
//! Messages are complete on their own (`to_string()` is what a user sees in an
//! HTTP body or on stderr) and the underlying error stays reachable through
//! [`std::error::Error::source`].

use super::Reply;

/// The sources the warden accepts and the marker fields that pick each one:
/// the tail of every "not a known event" message.
pub const EXPECTED_SOURCES: &str =
    "an EventBridge scheduled event (detail-type = \"Scheduled Event\"), \
a FunctionGraph timer (trigger_type = \"TIMER\"), \
a direct invocation (warden = \"tick\" or \"connection\"), \
an API Gateway HTTP API or Lambda Function URL request (requestContext.http), \
an API Gateway REST or FunctionGraph APIG request (httpMethod + requestContext), \
an SQS batch (Records[0].eventSource = \"aws:sqs\"), \
an SNS notification (Records[0].EventSource = \"aws:sns\"), \
a FunctionGraph SMN event (record[0].event_source = \"smn\"), \
a CloudEvents 1.0 event (specversion) \
or a CTS trace (cts)";

/// The largest HTTP body accepted, after base64 decoding: 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An event that cannot be acted on.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// No marker field of a known source was found (HTTP 400).
    #[error("not a known event ({found}); expected {EXPECTED_SOURCES}")]
    Unknown {
        /// A short description of what was received (its top-level keys).
        found: String,
    },
    /// The source was recognised but its content is not what it should be (HTTP 400).
    #[error("malformed {origin} event: expected {expected}{}", suffix(.cause))]
    Malformed {
        /// The recognised source, e.g. `sqs` or `apigw-http`.
        origin: &'static str,
        /// How the runtime must answer.
        reply: Reply,
        /// What was expected, e.g. `a notice {...} in the HTTP body`.
        expected: String,
        /// The underlying parse or validation failure.
        #[source]
        cause: Option<Cause>,
    },
    /// An HTTP event whose signature is missing, wrong or stale, or no secret is configured (HTTP 401).
    #[error("unauthorized {origin} request: {reason}")]
    Unauthorized {
        /// The recognised source.
        origin: &'static str,
        /// How the runtime must answer.
        reply: Reply,
        /// Why the request was refused.
        #[source]
        reason: AuthError,
    },
    /// An HTTP body over [`MAX_BODY_BYTES`] (HTTP 413).
    #[error("{origin} request body too large: {size} bytes or more, the limit is {limit} bytes")]
    TooLarge {
        /// The recognised source.
        origin: &'static str,
        /// How the runtime must answer.
        reply: Reply,
        /// The body size seen (a lower bound when the body was not decoded).
        size: usize,
        /// The limit, [`MAX_BODY_BYTES`].
        limit: usize,
    },
}

impl EventError {
    /// The HTTP status this error is answered with: 400, 401 or 413.
    pub fn http_status(&self) -> u16 {
        match self {
            EventError::Unknown { .. } | EventError::Malformed { .. } => 400,
            EventError::Unauthorized { .. } => 401,
            EventError::TooLarge { .. } => 413,
        }
    }

    /// The reply shape of the source the event was recognised as, `None`
    /// when it was not recognised. With [`Reply::HttpV1`] / [`Reply::HttpV2`]
    /// the runtime answers an HTTP response with [`Self::http_status`] and the
    /// message; otherwise it fails the invocation (nothing was done).
    /// Unauthorized and too-large errors always carry an HTTP reply.
    pub fn reply(&self) -> Option<Reply> {
        match self {
            EventError::Unknown { .. } => None,
            EventError::Malformed { reply, .. }
            | EventError::Unauthorized { reply, .. }
            | EventError::TooLarge { reply, .. } => Some(*reply),
        }
    }

    /// The recognised source, `None` for an unknown event.
    pub fn origin(&self) -> Option<&'static str> {
        match self {
            EventError::Unknown { .. } => None,
            EventError::Malformed { origin, .. }
            | EventError::Unauthorized { origin, .. }
            | EventError::TooLarge { origin, .. } => Some(origin),
        }
    }

    pub(crate) fn malformed(
        origin: &'static str,
        reply: Reply,
        expected: impl Into<String>,
        cause: impl Into<Option<Cause>>,
    ) -> Self {
        EventError::Malformed {
            origin,
            reply,
            expected: expected.into(),
            cause: cause.into(),
        }
    }
}

fn suffix(cause: &Option<Cause>) -> String {
    match cause {
        Some(cause) => format!(": {cause}"),
        None => String::new(),
    }
}

/// The failure underneath a [`EventError::Malformed`].
#[derive(Debug, thiserror::Error)]
pub enum Cause {
    /// Not JSON, or JSON of the wrong shape.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A body flagged `isBase64Encoded` (or a `data_base64`) that is not base64.
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// A value that parsed but breaks a rule (an empty id, an unknown job name).
    #[error("{0}")]
    Invalid(String),
}

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// `WARDEN_WEBHOOK_AUTH=hmac` but `WARDEN_WEBHOOK_SECRET` is not set: every request is refused.
    #[error("no webhook secret is configured (set WARDEN_WEBHOOK_SECRET, or WARDEN_WEBHOOK_AUTH=none when the platform authenticates)")]
    NoSecret,
    /// A signature header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// `X-Warden-Timestamp` is not unix seconds.
    #[error("X-Warden-Timestamp is not a unix time in seconds")]
    BadTimestamp,
    /// The timestamp is more than the allowed skew away from now.
    #[error(
        "X-Warden-Timestamp is {skew_secs} s away from now, more than the {max_secs} s allowed"
    )]
    Stale {
        /// Seconds between the timestamp and now (absolute, saturated).
        skew_secs: u64,
        /// The allowed skew.
        max_secs: u64,
    },
    /// `X-Warden-Signature` is not `sha256=<hex>`.
    #[error("X-Warden-Signature is not of the form sha256=<hex>")]
    BadSignatureFormat,
    /// The signature does not match the timestamp and body.
    #[error("X-Warden-Signature does not match the body and timestamp")]
    Mismatch,
}
