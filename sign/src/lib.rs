//! Huawei Cloud `SDK-HMAC-SHA256` request signing and verification.
//!
//! The official SDKs (huaweicloudsdkcore and its siblings) sign every API
//! request the same way: a canonical request built from the method, the
//! path (each segment percent-encoded, a trailing `/` added), the sorted
//! query, the signed headers and the SHA-256 of the body; a string to sign
//! that hashes it; and an HMAC-SHA256 of that string keyed by the secret
//! key. This crate is that computation as pure functions of
//! (request, credentials, time), pinned to vectors computed by the
//! official SDK, so a client and a server that both use it agree byte for
//! byte.
//!
//! ```
//! use hwcloud_sign::{sign, Request, SigningKey};
//!
//! let key = SigningKey::new("AK", "SK");
//! let request = Request::new("GET", "http://127.0.0.1:8080/v1/p/quotas?type=endpoint")
//!     .unwrap()
//!     .header("Content-Type", "application/json")
//!     .header("X-Project-Id", "p");
//! let date = time::macros::datetime!(2024-01-02 03:04:05 UTC);
//! let signed = sign(&request, &key, date);
//! assert!(signed.authorization.starts_with("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;"));
//! ```

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::{format_description::BorrowedFormatItem, macros::format_description, OffsetDateTime};

mod verify;

pub use verify::{verify, Authorization, VerifyError};

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The header carrying the signing time, `YYYYMMDDTHHMMSSZ` in UTC.
pub const DATE_HEADER: &str = "X-Sdk-Date";

const DATE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Everything but RFC 3986's unreserved characters is escaped, as the SDK's
/// `quote(s, safe='~')` does.
const ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An access key and its secret. `Debug` never shows the secret.
#[derive(Clone)]
pub struct SigningKey {
    access_key: String,
    secret_key: String,
}

impl SigningKey {
    /// A key pair from its access key (AK) and secret key (SK).
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        }
    }

    /// The access key, which is public and appears in the `Authorization` header.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

/// The parts of an HTTP request that the signature covers.
///
/// `path` and `query` are kept as they appear on the wire (percent-encoded);
/// the canonical forms are computed from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The HTTP method, upper case.
    pub method: String,
    /// `host[:port]`, as sent in the `Host` header.
    pub host: String,
    /// The request path as sent, e.g. `/v1/{project_id}/quotas`.
    pub path: String,
    /// The raw query string without `?` (empty when there is none).
    pub query: String,
    /// Headers as (name, value) pairs; names are compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The request body (empty for GET and DELETE).
    pub body: Vec<u8>,
}

/// What [`Request::new`] refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The URL is not `scheme://host[:port]/path[?query]`.
    #[error("expected an absolute URL like https://host/path?query, got {0:?}")]
    BadUrl(String),
    /// The `Authorization` header is not `SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...`.
    #[error("expected an Authorization header of the form '{ALGORITHM} Access=AK, SignedHeaders=a;b, Signature=HEX'")]
    BadAuthorization,
    /// The signing time header is missing or not `YYYYMMDDTHHMMSSZ`.
    #[error("expected an {DATE_HEADER} header of the form YYYYMMDDTHHMMSSZ")]
    BadDate,
    /// A header named in `SignedHeaders` is not in the request.
    #[error("signed header {0:?} is missing from the request")]
    MissingSignedHeader(String),
}

impl Request {
    /// A request for `method` on an absolute `url`, with no headers and an empty body.
    pub fn new(method: &str, url: &str) -> Result<Self, Error> {
        let bad = || Error::BadUrl(url.to_owned());
        let (_scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let (authority, path_and_query) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(bad());
        }
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let path = if path.is_empty() { "/" } else { path };
        Ok(Self {
            method: method.to_ascii_uppercase(),
            host: authority.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn header_value(&self, lower_name: &str) -> Option<&str> {
        if lower_name == "host" {
            if let Some(v) = self.find_header("host") {
                return Some(v);
            }
            return Some(&self.host);
        }
        self.find_header(lower_name)
    }

    fn find_header(&self, lower_name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(lower_name))
            .map(|(_, v)| v.as_str())
    }
}

/// The result of [`sign`]: the headers to add to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The `X-Sdk-Date` value.
    pub date: String,
    /// The `Authorization` header value.
    pub authorization: String,
    /// The canonical request that was signed (useful in error messages; it holds no secret
    /// other than signed header values such as a security token).
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
}

/// Formats a time as the `X-Sdk-Date` header value.
pub fn format_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(DATE_FORMAT)
        .expect("the date format has only numeric fields")
}

/// Parses an `X-Sdk-Date` header value.
pub fn parse_date(value: &str) -> Result<OffsetDateTime, Error> {
    time::PrimitiveDateTime::parse(value, DATE_FORMAT)
        .map(|t| t.assume_utc())
        .map_err(|_| Error::BadDate)
}

/// Signs `request` with `key` at time `at`.
///
/// The signed headers are every header of the request plus `Host`, lower-cased
/// and sorted, as the official SDK does; `X-Sdk-Date` is taken from the request
/// when present, otherwise it is `at` (add [`Signed::date`] to the request then).
pub fn sign(request: &Request, key: &SigningKey, at: OffsetDateTime) -> Signed {
    let date = request
        .find_header(&DATE_HEADER.to_ascii_lowercase())
        .map(str::to_owned)
        .unwrap_or_else(|| format_date(at));
    let mut signed_headers: Vec<String> = request
        .headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .chain(["host".to_owned(), DATE_HEADER.to_ascii_lowercase()])
        .collect();
    signed_headers.sort();
    signed_headers.dedup();
    let values = |name: &str| -> String {
        if name == "x-sdk-date" {
            date.clone()
        } else {
            request.header_value(name).unwrap_or_default().to_owned()
        }
    };
    let canonical = canonical_request_with(request, &signed_headers, values);
    let to_sign = string_to_sign(&canonical, &date);
    let signature = signature(key, &to_sign);
    Signed {
        authorization: format!(
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={signature}",
            key.access_key,
            signed_headers.join(";")
        ),
        date,
        canonical_request: canonical,
        string_to_sign: to_sign,
    }
}

/// The canonical request of `request` over `signed_headers` (lower-case names).
pub fn canonical_request(request: &Request, signed_headers: &[String]) -> Result<String, Error> {
    for name in signed_headers {
        if request.header_value(name).is_none() {
            return Err(Error::MissingSignedHeader(name.clone()));
        }
    }
    Ok(canonical_request_with(request, signed_headers, |name| {
        request.header_value(name).unwrap_or_default().to_owned()
    }))
}

fn canonical_request_with(
    request: &Request,
    signed_headers: &[String],
    value_of: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(&request.method);
    out.push('\n');
    out.push_str(&canonical_uri(&request.path));
    out.push('\n');
    out.push_str(&canonical_query(&request.query));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(value_of(name).trim());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(&request.body)));
    out
}

/// The canonical URI: each path segment decoded and re-encoded, with a trailing `/`.
pub fn canonical_uri(path: &str) -> String {
    let mut out: String = path
        .split('/')
        .map(|segment| escape(&percent_decode_str(segment).decode_utf8_lossy()))
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query: pairs decoded, re-encoded, sorted by key then value.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (escape(&decode_query(k)), escape(&decode_query(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn decode_query(s: &str) -> String {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn escape(s: &str) -> String {
    utf8_percent_encode(s, ESCAPE).to_string()
}

/// The string to sign for a canonical request signed at `date` (`YYYYMMDDTHHMMSSZ`).
pub fn string_to_sign(canonical_request: &str, date: &str) -> String {
    format!(
        "{ALGORITHM}\n{date}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.secret_key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_is_split_into_host_path_and_query() {
        let r = Request::new("get", "http://127.0.0.1:8080/v1/p/x?b=2&a=1").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.host, "127.0.0.1:8080");
        assert_eq!(r.path, "/v1/p/x");
        assert_eq!(r.query, "b=2&a=1");
        assert!(Request::new("GET", "no-scheme/path").is_err());
    }

    #[test]
    fn canonical_uri_escapes_segments_and_adds_a_slash() {
        assert_eq!(canonical_uri("/v1/a b/c%2Fd"), "/v1/a%20b/c%2Fd/");
        assert_eq!(canonical_uri("/"), "/");
    }

    #[test]
    fn debug_of_a_key_hides_the_secret() {
        let key = SigningKey::new("AK123", "very-secret");
        let shown = format!("{key:?}");
        assert!(shown.contains("AK123"));
        assert!(!shown.contains("very-secret"));
    }

    #[test]
    fn authorization_header_round_trips_and_rejects_garbage() {
        let a = Authorization::parse(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=ab",
        )
        .unwrap();
        assert_eq!(a.access_key, "AK");
        assert_eq!(a.signed_headers, ["host", "x-sdk-date"]);
        assert!(Authorization::parse("Bearer x").is_err());
        assert!(Authorization::parse("SDK-HMAC-SHA256 Access=AK").is_err());
    }
}
