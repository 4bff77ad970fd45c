//! One error type for every failed API call, and the one function that turns
//! a non-2xx answer (or a 2xx answer carrying an error body) into it.

use std::fmt;

use serde_json::Value;

/// A failed API call: what was attempted, on what, and why.
///
/// `Display` reads like `list connections of service X: HTTP 400 EndPoint.0002
/// Parameter error. (request id abc)`; it never contains a secret (messages
/// from the server are scrubbed of the client's own secrets).
#[derive(Debug)]
pub struct ApiError {
    /// What was attempted, e.g. `list connections of service`.
    pub action: &'static str,
    /// On what, e.g. the service ID; empty for project-wide calls.
    pub target: String,
    /// Why it failed.
    pub kind: Box<ApiErrorKind>,
    /// HTTP requests made for this call (1 when not retried).
    pub attempts: u32,
}

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiErrorKind {
    /// The API answered with an error (any non-2xx status, or a 2xx status
    /// whose body is an error object).
    #[error(
        "HTTP {status} {}{error_msg}{}",
        code_prefix(error_code),
        request_suffix(request_id)
    )]
    Api {
        /// The HTTP status.
        status: u16,
        /// `EndPoint.XXXX`, `APIGW.XXXX` or the IAM code, when the body had one.
        error_code: Option<String>,
        /// The message from the body, or a short excerpt of a non-JSON body.
        error_msg: String,
        /// The `X-Request-Id` answer header (or `request_id` of the body).
        request_id: Option<String>,
    },
    /// No answer: connection refused, DNS failure, timeout, reset.
    #[error("{}", transport_text(source))]
    Transport {
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx answer whose body is not what the operation returns.
    #[error(
        "HTTP {status} answer could not be read ({excerpt}){}",
        request_suffix(request_id)
    )]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The `X-Request-Id` answer header.
        request_id: Option<String>,
        /// The start of the body, scrubbed of secrets.
        excerpt: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
    /// The pages of a list did not add up (the list changed while it was read,
    /// or `total_count` disagrees with the pages).
    #[error("inconsistent list: {detail}")]
    InconsistentList {
        /// What did not add up.
        detail: String,
    },
    /// Not started: the request could not end before the invocation's deadline.
    #[error("{}", DEADLINE_REASON)]
    Deadline,
    /// The request could not be made (bad endpoint URL, bad header value,
    /// an answer missing a required header).
    #[error("{detail}")]
    Invalid {
        /// What was wrong.
        detail: String,
    },
}

/// What is said of work not started because the invocation's deadline was near.
pub const DEADLINE_REASON: &str =
    "not started: too little time left before the invocation deadline; the next run picks it up";

fn code_prefix(code: &Option<String>) -> String {
    code.as_deref().map(|c| format!("{c} ")).unwrap_or_default()
}

fn request_suffix(id: &Option<String>) -> String {
    id.as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

fn transport_text(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "no answer before the timeout"
    } else if e.is_connect() {
        "could not connect (refused, unreachable or DNS failure)"
    } else if e.is_builder() {
        "the request could not be built"
    } else {
        "the connection failed"
    }
}

impl ApiErrorKind {
    /// Whether trying the same request again may succeed: network errors,
    /// timeouts, 5xx, 429, `EndPoint.0022` (rate limit, sent as 400) and
    /// `EndPoint.0001` (system error); never other 4xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api {
                status, error_code, ..
            } => {
                *status >= 500
                    || *status == 429
                    || error_code.as_deref().is_some_and(|c| {
                        c.eq_ignore_ascii_case("EndPoint.0022")
                            || c.eq_ignore_ascii_case("EndPoint.0001")
                    })
            }
            Self::Transport { source } => !source.is_builder(),
            Self::Decode { .. } | Self::Invalid { .. } => false,
            Self::InconsistentList { .. } | Self::Deadline => true,
        }
    }
}

impl ApiError {
    /// Whether the call may succeed later (see [`ApiErrorKind::is_retryable`]);
    /// an inconsistent list is retryable too: the list changed while it was read.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        match &*self.kind {
            ApiErrorKind::Api { status, .. } | ApiErrorKind::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's error code (`EndPoint.0002`, `APIGW.0301`, ...), when sent.
    pub fn error_code(&self) -> Option<&str> {
        match &*self.kind {
            ApiErrorKind::Api { error_code, .. } => error_code.as_deref(),
            _ => None,
        }
    }

    /// The API's error message, when it answered with one.
    pub fn error_msg(&self) -> Option<&str> {
        match &*self.kind {
            ApiErrorKind::Api { error_msg, .. } => Some(error_msg),
            _ => None,
        }
    }

    /// The request ID of the failed answer, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match &*self.kind {
            ApiErrorKind::Api { request_id, .. } | ApiErrorKind::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Whether the error code is `code` (compared without case: the API
    /// writes both `EndPoint.` and `Endpoint.`).
    pub fn has_code(&self, code: &str) -> bool {
        self.error_code()
            .is_some_and(|c| c.eq_ignore_ascii_case(code))
    }

    /// Whether the resource does not exist (any more): HTTP 404, or the
    /// codes the API uses for a missing or deleted endpoint (`EndPoint.2006`,
    /// `.2007`, `.2008`) or resource (`EndPoint.0005`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
            || [
                "EndPoint.0005",
                "EndPoint.2006",
                "EndPoint.2007",
                "EndPoint.2008",
            ]
            .iter()
            .any(|c| self.has_code(c))
    }

    /// Whether no answer came in time.
    pub fn is_timeout(&self) -> bool {
        matches!(&*self.kind, ApiErrorKind::Transport { source } if source.is_timeout())
    }

    /// Whether the server could not be reached at all (refused, DNS).
    pub fn is_connect(&self) -> bool {
        matches!(&*self.kind, ApiErrorKind::Transport { source } if source.is_connect())
    }

    pub(crate) fn new(action: &'static str, target: impl Into<String>, kind: ApiErrorKind) -> Self {
        Self {
            action,
            target: target.into(),
            kind: Box::new(kind),
            attempts: 1,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action)?;
        if !self.target.is_empty() {
            write!(f, " {}", self.target)?;
        }
        write!(f, ": {}", self.kind)?;
        if self.attempts > 1 {
            write!(f, ", after {} attempts", self.attempts)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.kind)
    }
}

/// The longest excerpt of a body kept in an error.
const EXCERPT_CHARS: usize = 200;

/// Maps an error answer to an [`ApiErrorKind::Api`]: the code and message from
/// the body (`{"error_code", "error_msg"}` of VPCEP and API Gateway,
/// `{"error": {"code", "message"}}` of IAM, or `{"code", "message"}`), else an
/// excerpt of the body; the request ID from the header, else from the body.
/// `secrets` are replaced in every text taken from the server.
pub(crate) fn map_error_answer(
    status: u16,
    header_request_id: Option<String>,
    body: &[u8],
    secrets: &[impl AsRef<str>],
) -> ApiErrorKind {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let fields = json.as_ref().and_then(error_fields);
    let (error_code, error_msg, body_request_id) = match fields {
        Some(f) => f,
        None => (None, excerpt(body, secrets), None),
    };
    ApiErrorKind::Api {
        status,
        error_code: error_code.map(|c| scrub(&c, secrets)),
        error_msg: scrub(&error_msg, secrets),
        request_id: header_request_id.or(body_request_id),
    }
}

/// The error fields of a JSON body, when it is an error body.
pub(crate) fn error_fields(v: &Value) -> Option<(Option<String>, String, Option<String>)> {
    let text = |v: Option<&Value>| match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    let obj = v.as_object()?;
    let request_id = text(obj.get("request_id"));
    if obj.contains_key("error_code") || obj.contains_key("error_msg") {
        return Some((
            text(obj.get("error_code")),
            text(obj.get("error_msg")).unwrap_or_default(),
            request_id,
        ));
    }
    if let Some(inner) = obj.get("error").and_then(Value::as_object) {
        if inner.contains_key("code") || inner.contains_key("message") {
            return Some((
                text(inner.get("code")),
                text(inner.get("message")).unwrap_or_default(),
                request_id,
            ));
        }
    }
    if obj.contains_key("code") && obj.contains_key("message") {
        return Some((
            text(obj.get("code")),
            text(obj.get("message")).unwrap_or_default(),
            request_id,
        ));
    }
    None
}

/// The start of a body as one line of text.
pub(crate) fn excerpt(body: &[u8], secrets: &[impl AsRef<str>]) -> String {
    // Scrubbed before it is cut: a secret straddling the cut leaves nothing.
    let text = redact(&String::from_utf8_lossy(body), secrets);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return "empty body".to_owned();
    }
    let mut short: String = line.chars().take(EXCERPT_CHARS).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// `text` with every non-empty secret replaced by `<redacted>`.
fn redact(text: &str, secrets: &[impl AsRef<str>]) -> String {
    secrets
        .iter()
        .map(AsRef::as_ref)
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |t, s| t.replace(s, "<redacted>"))
}

/// `text` with every non-empty secret replaced by `<redacted>`, on one line
/// (line breaks, e.g. of an echoed canonical request, written as `\n`).
pub(crate) fn scrub(text: &str, secrets: &[impl AsRef<str>]) -> String {
    redact(text, secrets)
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> ApiErrorKind {
        map_error_answer(status, Some("rid".into()), body.as_bytes(), &["s3cret"])
    }

    #[test]
    fn vpcep_iam_and_html_bodies_map_to_code_and_message() {
        let e = ApiError::new(
            "list connections of service",
            "svc",
            api(
                400,
                r#"{"error_code":"EndPoint.0002","error_msg":"Parameter error."}"#,
            ),
        );
        assert_eq!(
            e.to_string(),
            "list connections of service svc: HTTP 400 EndPoint.0002 Parameter error. (request id rid)"
        );
        assert!(!e.is_retryable());
        let iam = api(
            401,
            r#"{"error":{"code":"401","message":"The username or password is wrong."}}"#,
        );
        assert!(iam
            .to_string()
            .contains("401 The username or password is wrong."));
        let html = api(502, "<html>\n<body>Bad   Gateway</body></html>");
        assert_eq!(
            html.to_string(),
            "HTTP 502 <html> <body>Bad Gateway</body></html> (request id rid)"
        );
        assert!(html.is_retryable());
    }

    #[test]
    fn only_documented_failures_are_retryable() {
        let code = |status, code: &str| {
            api(
                status,
                &format!(r#"{{"error_code":"{code}","error_msg":"m"}}"#),
            )
        };
        assert!(code(400, "EndPoint.0022").is_retryable());
        assert!(code(500, "EndPoint.0001").is_retryable());
        assert!(code(400, "Endpoint.0001").is_retryable());
        assert!(code(429, "APIGW.0308").is_retryable());
        assert!(code(503, "x").is_retryable());
        assert!(code(500, "x").is_retryable());
        assert!(!code(400, "EndPoint.0002").is_retryable());
        assert!(!code(401, "APIGW.0301").is_retryable());
        assert!(!code(404, "EndPoint.2006").is_retryable());
    }

    #[test]
    fn secrets_echoed_by_the_server_are_scrubbed() {
        let e = api(
            401,
            r#"{"error_code":"APIGW.0301","error_msg":"canonical: x-security-token:s3cret"}"#,
        );
        assert!(!e.to_string().contains("s3cret"));
        assert!(e.to_string().contains("<redacted>"));
        let multi = api(
            401,
            r#"{"error_code":"APIGW.0301","error_msg":"fail, canonical request: GET\n/v1/\r\nhost:x"}"#,
        );
        assert_eq!(
            multi.to_string(),
            r"HTTP 401 APIGW.0301 fail, canonical request: GET\n/v1/\nhost:x (request id rid)"
        );
    }

    #[test]
    fn a_secret_straddling_the_cut_leaves_no_prefix() {
        let secret = "straddling-secret-value-0123456789";
        let body = format!("{}{secret} and more", "x".repeat(EXCERPT_CHARS - 10));
        let short = excerpt(body.as_bytes(), &[secret]);
        assert!(!short.contains("straddl"), "{short}");
        assert!(short.ends_with('…'));
    }
}
