//! How a POST becomes an event: the signature over the raw body, then the
//! body's marker fields, else a webhook notice; and the context its run uses.

use axum::http::HeaderMap;
use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::config::{Credentials, Settings};
use crate::events::{decode_value, verify_webhook, Decoded, EventError};
use crate::jobs::Ctx;

/// The context a request's run uses: the one place where request headers
/// reach a run. When no credentials are configured (a FunctionGraph HTTP
/// function with an agency and "include keys"), the request's
/// `X-CFF-Access-Key` / `X-CFF-Secret-Key` / `X-CFF-Security-Token` (or
/// `X-CFF-Auth-Token`) sign that request's run; configured credentials win.
pub(super) fn run_context(base: &Ctx, headers: &HeaderMap) -> Ctx {
    if base.settings.credentials != Credentials::PerInvocation {
        return base.clone();
    }
    match crate::runtime::agency_credentials(headers) {
        Some(credentials) => base.with_credentials(&credentials),
        None => base.clone(),
    }
}

/// Reads a POST: the signature first, then the body.
///
/// The rule, so that an unsigned request never runs work under
/// `WARDEN_WEBHOOK_AUTH=hmac`:
/// 1. every request must carry a valid `X-Warden-Timestamp` /
///    `X-Warden-Signature` over its raw body, whatever the body holds (401
///    otherwise; with `WARDEN_WEBHOOK_AUTH=none` every request passes);
/// 2. a body that is a JSON object with the marker fields of an event the
///    decoder knows (`{"warden": "tick"}`, an SQS or SMN event, ...) is that
///    event;
/// 3. anything else is a webhook: the request becomes the API Gateway HTTP
///    API (payload 2.0) event a platform would have sent, and the decoder
///    reads its body as a notice (checking the signature again, as it does
///    for every HTTP event).
pub(super) fn decode_request(
    settings: &Settings,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Decoded, EventError> {
    verify_webhook(settings, &|name| header_value(headers, name), body, now).map_err(|reason| {
        EventError::Unauthorized {
            origin: "serve",
            reply: crate::events::Reply::HttpV2,
            reason,
        }
    })?;
    let direct = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .map(|event| decode_value(&event, settings, now));
    match direct {
        Some(Err(EventError::Unknown { .. })) | None => {
            decode_value(&http_event(headers, path, body), settings, now)
        }
        Some(decoded) => decoded,
    }
}

/// A header's value (several values joined by commas, as API Gateway does).
pub(super) fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The request as an API Gateway HTTP API (payload 2.0) event.
fn http_event(headers: &HeaderMap, path: &str, body: &[u8]) -> Value {
    // `keys()` yields each name once, however many values it has.
    let headers: Map<String, Value> = headers
        .keys()
        .map(|name| name.as_str())
        .filter_map(|name| Some((name.to_owned(), Value::String(header_value(headers, name)?))))
        .collect();
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": path}},
        "body": body,
        "isBase64Encoded": encoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Job, Trigger};

    const SECRET: &str = "unit-secret";

    fn signed(body: &[u8], now: OffsetDateTime) -> HeaderMap {
        let ts = now.unix_timestamp();
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-timestamp", ts.to_string().parse().unwrap());
        let signature = crate::events::sign_webhook(SECRET, ts, body);
        headers.insert("x-warden-signature", signature.parse().unwrap());
        headers
    }

    fn settings(auth: crate::config::WebhookAuth) -> Settings {
        let mut settings = Settings::for_tests("http://127.0.0.1:9", "p", "ak", "sk");
        settings.webhook_secret = Some(crate::config::Secret::new(SECRET.to_owned()));
        settings.webhook_auth = auth;
        settings
    }

    #[test]
    fn every_post_needs_the_signature_whatever_its_body() {
        let settings = settings(crate::config::WebhookAuth::Hmac);
        let now = OffsetDateTime::now_utc();
        for body in [
            &b"{\"warden\": \"tick\"}"[..],
            b"{\"service_id\": \"s\"}",
            b"{\"Records\": [{\"eventSource\": \"aws:sqs\", \"body\": \"{}\"}]}",
            b"not json",
        ] {
            let err = decode_request(&settings, &HeaderMap::new(), "/", body, now).unwrap_err();
            assert_eq!(err.http_status(), 401, "{err}");
            let wrong = signed(b"another body", now);
            let err = decode_request(&settings, &wrong, "/", body, now).unwrap_err();
            assert_eq!(err.http_status(), 401, "{err}");
        }
    }

    #[test]
    fn a_signed_body_with_markers_is_that_event_and_anything_else_a_notice() {
        let settings = settings(crate::config::WebhookAuth::Hmac);
        let now = OffsetDateTime::now_utc();
        let tick = b"{\"warden\": \"tick\", \"jobs\": [\"gc\"]}";
        let decoded = decode_request(&settings, &signed(tick, now), "/", tick, now).unwrap();
        assert_eq!(
            decoded.trigger,
            Trigger::Tick {
                jobs: vec![Job::Gc],
                targets: Vec::new(),
            }
        );
        let notice = b"{\"service_id\": \"s\", \"endpoint_id\": \"e\"}";
        let decoded =
            decode_request(&settings, &signed(notice, now), "/webhook", notice, now).unwrap();
        let Trigger::Connections(records) = decoded.trigger else {
            panic!("a notice runs the approve job");
        };
        assert_eq!(
            records[0].notice.as_ref().unwrap().endpoint_id.as_deref(),
            Some("e")
        );
        let junk = b"{\"hello\": 1}";
        let err = decode_request(&settings, &signed(junk, now), "/", junk, now).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(err.to_string().contains("service_id"), "{err}");
    }

    #[test]
    fn without_hmac_the_platform_is_trusted() {
        let settings = settings(crate::config::WebhookAuth::None);
        let now = OffsetDateTime::now_utc();
        let tick = b"{\"warden\": \"tick\"}";
        let decoded = decode_request(&settings, &HeaderMap::new(), "/", tick, now).unwrap();
        assert!(matches!(decoded.trigger, Trigger::Tick { .. }));
    }

    #[test]
    fn a_request_becomes_an_http_api_event_with_its_headers_and_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-timestamp", "1".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        let event = http_event(&headers, "/webhook", b"{\"service_id\":\"s\"}");
        assert_eq!(event["headers"]["x-warden-timestamp"], "1");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["body"], "{\"service_id\":\"s\"}");
        assert_eq!(event["isBase64Encoded"], false);
        assert!(event.pointer("/requestContext/http").is_some());
        let binary = http_event(&HeaderMap::new(), "/", &[0xff, 0xfe]);
        assert_eq!(binary["isBase64Encoded"], true);
    }
}
