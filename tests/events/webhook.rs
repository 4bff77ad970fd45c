//! Webhook authentication on every HTTP sample: signatures, clock skew,
//! missing secret, `none` auth, header case, body size.

use serde_json::{json, Value};
use vpcep_warden::config::{Settings, WebhookAuth};
use vpcep_warden::events::{
    decode_value, sign_http_event, sign_webhook, AuthError, EventError, Reply, MAX_BODY_BYTES,
};

use super::{at, demo, ep, one, sample, settings, DEMO_SECRET, S1, S2, SIGNED_AT};

const HTTP_SAMPLES: [&str; 4] = [
    "apigw-http-v2.json",
    "function-url.json",
    "apigw-rest-v1.json",
    "functiongraph-apig.json",
];

fn unauthorized(event: &Value, settings: &Settings, now: i64) -> (AuthError, Reply) {
    match decode_value(event, settings, at(now)) {
        Err(err @ EventError::Unauthorized { .. }) => {
            assert_eq!(err.http_status(), 401);
            let reply = err.reply().unwrap();
            let EventError::Unauthorized { reason, .. } = err else {
                unreachable!()
            };
            (reason, reply)
        }
        other => panic!("expected unauthorized, got {other:?}"),
    }
}

fn remove_header(event: &mut Value, name: &str) {
    for field in ["headers", "multiValueHeaders"] {
        if let Some(headers) = event[field].as_object_mut() {
            headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
        }
    }
}

#[test]
fn webhook_signed_with_the_secret_is_accepted_within_300_seconds() {
    for name in HTTP_SAMPLES {
        let event = sample(name);
        for now in [SIGNED_AT - 300, SIGNED_AT, SIGNED_AT + 300] {
            assert!(
                decode_value(&event, &demo(), at(now)).is_ok(),
                "{name} at {now}"
            );
        }
    }
}

#[test]
fn webhook_with_a_stale_timestamp_is_refused() {
    for name in HTTP_SAMPLES {
        let event = sample(name);
        for now in [SIGNED_AT - 301, SIGNED_AT + 301, 0] {
            let (reason, _) = unauthorized(&event, &demo(), now);
            assert!(
                matches!(reason, AuthError::Stale { max_secs: 300, .. }),
                "{name}: {reason}"
            );
        }
    }
}

#[test]
fn webhook_signed_with_another_secret_or_over_another_body_is_refused() {
    for name in HTTP_SAMPLES {
        let event = sample(name);
        let other = settings(Some("another-secret"), WebhookAuth::Hmac);
        let (reason, reply) = unauthorized(&event, &other, SIGNED_AT);
        assert_eq!(reason, AuthError::Mismatch, "{name}");
        assert_eq!(
            reply,
            decode_value(&event, &demo(), at(SIGNED_AT)).unwrap().reply
        );

        let mut tampered = event.clone();
        let body = json!({"service_id": S2, "endpoint_id": ep(1)}).to_string();
        tampered["body"] = if event["isBase64Encoded"] == json!(true) {
            use base64::Engine;
            json!(base64::engine::general_purpose::STANDARD.encode(&body))
        } else {
            json!(body)
        };
        assert_eq!(
            unauthorized(&tampered, &demo(), SIGNED_AT).0,
            AuthError::Mismatch,
            "{name}"
        );
    }
}

#[test]
fn webhook_without_signature_headers_is_refused() {
    for name in HTTP_SAMPLES {
        for header in ["X-Warden-Timestamp", "X-Warden-Signature"] {
            let mut event = sample(name);
            remove_header(&mut event, header);
            let (reason, _) = unauthorized(&event, &demo(), SIGNED_AT);
            assert!(
                matches!(reason, AuthError::MissingHeader(h) if h == header),
                "{name}: {reason}"
            );
        }
        let mut event = sample(name);
        sign_http_event(&mut event, DEMO_SECRET, SIGNED_AT).unwrap();
        remove_header(&mut event, "x-warden-signature");
        let headers = event["headers"].as_object_mut().unwrap();
        headers.insert("x-warden-signature".into(), json!("md5=abc"));
        let (reason, _) = unauthorized(&event, &demo(), SIGNED_AT);
        assert_eq!(reason, AuthError::BadSignatureFormat, "{name}");
    }
}

#[test]
fn webhook_is_refused_when_no_secret_is_configured() {
    for secret in [None, Some("")] {
        let settings = settings(secret, WebhookAuth::Hmac);
        let (reason, _) = unauthorized(&sample("apigw-http-v2.json"), &settings, SIGNED_AT);
        assert_eq!(reason, AuthError::NoSecret);
        assert!(reason.to_string().contains("WARDEN_WEBHOOK_SECRET"));
    }
}

#[test]
fn webhook_auth_none_accepts_unsigned_requests() {
    let mut event = sample("function-url.json");
    remove_header(&mut event, "x-warden-signature");
    remove_header(&mut event, "x-warden-timestamp");
    let settings = settings(None, WebhookAuth::None);
    assert_eq!(
        decode_value(&event, &settings, at(0)).unwrap().trigger,
        one(S2, 3)
    );
}

#[test]
fn webhook_header_names_are_case_insensitive() {
    let mut event = sample("apigw-http-v2.json");
    let headers = event["headers"].as_object_mut().unwrap();
    let ts = headers.remove("x-warden-timestamp").unwrap();
    let sig = headers.remove("x-warden-signature").unwrap();
    headers.insert("X-WARDEN-TIMESTAMP".into(), ts);
    headers.insert("X-Warden-Signature".into(), sig);
    assert!(decode_value(&event, &demo(), at(SIGNED_AT)).is_ok());
}

#[test]
fn re_signed_samples_verify_at_the_new_time() {
    for name in HTTP_SAMPLES {
        let mut event = sample(name);
        sign_http_event(&mut event, DEMO_SECRET, 2_000_000_000).unwrap();
        assert!(
            decode_value(&event, &demo(), at(2_000_000_100)).is_ok(),
            "{name}"
        );
        assert!(
            decode_value(&event, &demo(), at(SIGNED_AT)).is_err(),
            "{name}"
        );
    }
}

#[test]
fn sign_webhook_matches_what_the_samples_carry() {
    let event = sample("apigw-http-v2.json");
    let body = event["body"].as_str().unwrap();
    assert_eq!(
        event["headers"]["x-warden-signature"].as_str().unwrap(),
        sign_webhook(DEMO_SECRET, SIGNED_AT, body.as_bytes())
    );
}

#[test]
fn body_over_one_mebibyte_is_refused_with_413() {
    let big = format!(
        r#"{{"service_id": "{S1}", "pad": "{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    for name in HTTP_SAMPLES {
        let mut event = sample(name);
        event["isBase64Encoded"] = json!(false);
        event["body"] = json!(big);
        sign_http_event(&mut event, DEMO_SECRET, SIGNED_AT).unwrap_err();
        let err = decode_value(&event, &demo(), at(SIGNED_AT)).unwrap_err();
        assert_eq!(err.http_status(), 413, "{name}: {err}");
        assert!(matches!(err.reply(), Some(Reply::HttpV1 | Reply::HttpV2)));

        use base64::Engine;
        event["isBase64Encoded"] = json!(true);
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(&big));
        assert_eq!(
            decode_value(&event, &demo(), at(SIGNED_AT))
                .unwrap_err()
                .http_status(),
            413
        );
    }
    // Exactly the limit is still read (and then judged on its content).
    let mut event = sample("apigw-http-v2.json");
    let body = format!(
        r#"{{"service_id": "{S1}", "pad": "{}"}}"#,
        "x".repeat(MAX_BODY_BYTES - 100)
    );
    let body = format!("{body}{}", " ".repeat(MAX_BODY_BYTES - body.len()));
    event["body"] = json!(body);
    sign_http_event(&mut event, DEMO_SECRET, SIGNED_AT).unwrap();
    assert!(decode_value(&event, &demo(), at(SIGNED_AT)).is_ok());
}
