//! Webhook authentication: HMAC-SHA256 over `"{timestamp}.{raw body}"`.
//!
//! A sender puts `X-Warden-Timestamp: <unix seconds>` and
//! `X-Warden-Signature: sha256=<hex>` on its request; the signature is keyed
//! with `WARDEN_WEBHOOK_SECRET` and taken over the timestamp exactly as sent in
//! the header, a `.`, and the body bytes (after base64 decoding when the
//! platform base64-encoded it). The comparison is constant-time
//! (`Mac::verify_slice`), a timestamp more than [`MAX_SKEW_SECS`] from now is
//! refused, and without a configured secret every request is refused.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use time::OffsetDateTime;

use super::error::{AuthError, EventError};
use super::Reply;
use crate::config::{Settings, WebhookAuth};

/// Header carrying the unix time (seconds) the request was signed at.
pub const TIMESTAMP_HEADER: &str = "X-Warden-Timestamp";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Warden-Signature";
/// How far (seconds) a signed timestamp may be from now.
pub const MAX_SKEW_SECS: u64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// The `X-Warden-Signature` value for `body` signed at `timestamp` with
/// `secret`: `sha256=` and the lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn sign_webhook(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = keyed(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn keyed(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// Checks a request's signature headers against the settings.
///
/// `headers` finds a header by name, case-insensitively. With
/// [`WebhookAuth::None`] every request passes.
pub fn verify(
    settings: &Settings,
    headers: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    let Some(signed) = signed_headers(settings, headers, now)? else {
        return Ok(());
    };
    let mut mac = keyed(signed.secret);
    mac.update(signed.timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&signed.expected)
        .map_err(|_| AuthError::Mismatch)
}

/// What can be checked before the body is read: a secret is configured, both
/// headers are there and well formed, and the timestamp is within
/// [`MAX_SKEW_SECS`] of now. `serve` refuses on this before it reads a byte
/// of the body; [`verify`] then checks the signature over the body.
pub fn verify_headers(
    settings: &Settings,
    headers: &dyn Fn(&str) -> Option<String>,
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    signed_headers(settings, headers, now).map(|_| ())
}

/// The signature headers, checked; `None` with [`WebhookAuth::None`].
struct Signed<'a> {
    secret: &'a str,
    timestamp: String,
    expected: Vec<u8>,
}

fn signed_headers<'a>(
    settings: &'a Settings,
    headers: &dyn Fn(&str) -> Option<String>,
    now: OffsetDateTime,
) -> Result<Option<Signed<'a>>, AuthError> {
    if settings.webhook_auth == WebhookAuth::None {
        return Ok(None);
    }
    let secret = settings
        .webhook_secret
        .as_ref()
        .map(|secret| secret.expose())
        .filter(|secret| !secret.is_empty())
        .ok_or(AuthError::NoSecret)?;
    let timestamp = headers(TIMESTAMP_HEADER).ok_or(AuthError::MissingHeader(TIMESTAMP_HEADER))?;
    let signature = headers(SIGNATURE_HEADER).ok_or(AuthError::MissingHeader(SIGNATURE_HEADER))?;
    let timestamp = timestamp.trim().to_owned();
    let seconds: i64 = timestamp.parse().map_err(|_| AuthError::BadTimestamp)?;
    let skew = (i128::from(now.unix_timestamp()) - i128::from(seconds)).unsigned_abs();
    if skew > u128::from(MAX_SKEW_SECS) {
        return Err(AuthError::Stale {
            skew_secs: u64::try_from(skew).unwrap_or(u64::MAX),
            max_secs: MAX_SKEW_SECS,
        });
    }
    let hex_part = signature
        .trim()
        .strip_prefix("sha256=")
        .ok_or(AuthError::BadSignatureFormat)?;
    let expected = hex::decode(hex_part).map_err(|_| AuthError::BadSignatureFormat)?;
    Ok(Some(Signed {
        secret,
        timestamp,
        expected,
    }))
}

/// The parts of an HTTP event envelope (payload 1.0 or 2.0) the warden reads.
pub(crate) struct HttpEnvelope<'a> {
    pub origin: &'static str,
    pub reply: Reply,
    pub event: &'a Map<String, Value>,
}

impl HttpEnvelope<'_> {
    /// A header's value by case-insensitive name: `headers` first, then the
    /// first value in `multiValueHeaders` (payload 1.0).
    pub fn header(&self, name: &str) -> Option<String> {
        let single = self.event.get("headers").and_then(Value::as_object);
        if let Some(value) = single.and_then(|h| find(h, name)).and_then(Value::as_str) {
            return Some(value.to_owned());
        }
        let multi = self
            .event
            .get("multiValueHeaders")
            .and_then(Value::as_object);
        let values = multi.and_then(|h| find(h, name))?.as_array()?;
        values.first()?.as_str().map(str::to_owned)
    }

    /// The raw body: base64-decoded when `isBase64Encoded` is true, empty when
    /// absent. Refuses bodies over [`super::MAX_BODY_BYTES`] before decoding them.
    pub fn body(&self) -> Result<Vec<u8>, EventError> {
        let limit = super::MAX_BODY_BYTES;
        let too_large = |size| EventError::TooLarge {
            origin: self.origin,
            reply: self.reply,
            size,
            limit,
        };
        let text = match self.event.get("body") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::String(text)) => text,
            Some(_) => {
                return Err(EventError::malformed(
                    self.origin,
                    self.reply,
                    "the body as a string or null",
                    None,
                ))
            }
        };
        let encoded = match self.event.get("isBase64Encoded") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => {
                return Err(EventError::malformed(
                    self.origin,
                    self.reply,
                    "isBase64Encoded as true or false",
                    None,
                ))
            }
        };
        if !encoded {
            return match text.len() {
                size if size > limit => Err(too_large(size)),
                _ => Ok(text.as_bytes().to_vec()),
            };
        }
        // Four base64 characters carry three bytes: a longer text decodes to more than the limit.
        if text.len() > limit.div_ceil(3) * 4 + 4 {
            return Err(too_large(text.len() / 4 * 3));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|err| {
                EventError::malformed(
                    self.origin,
                    self.reply,
                    "a base64 body, as isBase64Encoded is true",
                    Some(err.into()),
                )
            })?;
        match bytes.len() {
            size if size > limit => Err(too_large(size)),
            _ => Ok(bytes),
        }
    }
}

fn find<'m>(headers: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Re-signs an HTTP sample event (payload 1.0 or 2.0) in place: sets
/// `X-Warden-Timestamp` and `X-Warden-Signature` for its body, `secret` and
/// `timestamp`, replacing existing values whatever their case (in `headers`
/// and, when present, `multiValueHeaders`). Used by the demo, whose sample
/// files carry signatures that went stale long ago.
pub fn sign_http_event(event: &mut Value, secret: &str, timestamp: i64) -> Result<(), EventError> {
    let reply = if event.pointer("/requestContext/http").is_some() {
        Reply::HttpV2
    } else {
        Reply::HttpV1
    };
    let Some(map) = event.as_object_mut() else {
        return Err(EventError::malformed(
            "http",
            reply,
            "an HTTP event object",
            None,
        ));
    };
    let envelope = HttpEnvelope {
        origin: "http",
        reply,
        event: map,
    };
    let body = envelope.body()?;
    let signature = sign_webhook(secret, timestamp, &body);
    let values = [
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (SIGNATURE_HEADER, signature),
    ];
    for (name, value) in values {
        set_header(map, "headers", name, Value::String(value.clone()));
        if map.get("multiValueHeaders").is_some_and(Value::is_object) {
            set_header(
                map,
                "multiValueHeaders",
                name,
                Value::Array(vec![value.into()]),
            );
        }
    }
    Ok(())
}

fn set_header(event: &mut Map<String, Value>, field: &str, name: &str, value: Value) {
    let headers = event
        .entry(field)
        .or_insert_with(|| Value::Object(Map::new()));
    if !headers.is_object() {
        *headers = Value::Object(Map::new());
    }
    if let Value::Object(headers) = headers {
        let key = headers
            .keys()
            .find(|key| key.eq_ignore_ascii_case(name))
            .cloned()
            .unwrap_or_else(|| name.to_owned());
        headers.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac s
        assert_eq!(
            sign_webhook("s", 1_700_000_000, b"{}"),
            "sha256=e9232c9945da8456c2dea6b39da7786c07b00bca7a64d5dd1283674713a7b72a"
        );
        assert_ne!(sign_webhook("s", 1, b"a"), sign_webhook("s", 2, b"a"));
        assert_ne!(sign_webhook("s", 1, b"a"), sign_webhook("t", 1, b"a"));
        assert_eq!(sign_webhook("s", 1, b"a").len(), "sha256=".len() + 64);
    }

    #[test]
    fn re_signing_replaces_headers_whatever_their_case() {
        let mut event = serde_json::json!({
            "httpMethod": "POST",
            "requestContext": {},
            "headers": {"x-warden-timestamp": "1", "X-WARDEN-SIGNATURE": "sha256=00"},
            "multiValueHeaders": {"X-Warden-Timestamp": ["1"]},
            "body": "{}"
        });
        sign_http_event(&mut event, "k", 42).unwrap();
        assert_eq!(event["headers"]["x-warden-timestamp"], "42");
        assert_eq!(
            event["headers"]["X-WARDEN-SIGNATURE"],
            sign_webhook("k", 42, b"{}")
        );
        assert_eq!(event["multiValueHeaders"]["X-Warden-Timestamp"][0], "42");
        assert_eq!(event["headers"].as_object().unwrap().len(), 2);
    }
}
