//! The signer against the vectors computed by Huawei's official SDK signer
//! (`signing.json`, a copy of shared/vectors/signing.json).

use hwcloud_sign::{sign, verify, Authorization, Request, SigningKey};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    credentials: Credentials,
    request: Req,
    expected: Expected,
}

#[derive(Deserialize)]
struct Credentials {
    ak: String,
    sk: String,
    project_id: Option<String>,
    security_token: Option<String>,
}

#[derive(Deserialize)]
struct Req {
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

#[derive(Deserialize)]
struct Expected {
    canonical_request: String,
    string_to_sign: String,
    headers: BTreeMap<String, String>,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("signing.json");
    serde_json::from_str::<File>(text).unwrap().vectors
}

/// Builds the request as a client does: the vector's headers plus the
/// credential headers the SDK adds (`X-Project-Id`, `X-Security-Token`).
fn request_of(v: &Vector) -> Request {
    let mut r = Request::new(&v.request.method, &v.request.url)
        .unwrap()
        .body(v.request.body.clone());
    for (k, val) in &v.request.headers {
        r = r.header(k, val);
    }
    if let Some(p) = &v.credentials.project_id {
        r = r.header("X-Project-Id", p);
    }
    if let Some(t) = &v.credentials.security_token {
        r = r.header("X-Security-Token", t);
    }
    r
}

#[test]
fn every_vector_is_reproduced_byte_for_byte() {
    let all = vectors();
    assert_eq!(all.len(), 46, "the vector file holds 46 cases");
    let now = time::OffsetDateTime::now_utc();
    for v in &all {
        let key = SigningKey::new(&v.credentials.ak, &v.credentials.sk);
        let signed = sign(&request_of(v), &key, now);
        assert_eq!(
            signed.canonical_request, v.expected.canonical_request,
            "canonical request of {:?}",
            v.name
        );
        assert_eq!(
            signed.string_to_sign, v.expected.string_to_sign,
            "string to sign of {:?}",
            v.name
        );
        assert_eq!(
            signed.authorization, v.expected.headers["Authorization"],
            "authorization of {:?}",
            v.name
        );
        assert_eq!(
            signed.date, v.expected.headers["X-Sdk-Date"],
            "date of {:?}",
            v.name
        );
    }
}

#[test]
fn every_vector_verifies_and_a_changed_one_does_not() {
    for v in vectors() {
        let key = SigningKey::new(&v.credentials.ak, &v.credentials.sk);
        let mut request = request_of(&v);
        request = request.header("Host", &v.expected.headers["Host"]);
        let auth = Authorization::parse(&v.expected.headers["Authorization"]).unwrap();
        let at = hwcloud_sign::parse_date(&v.expected.headers["X-Sdk-Date"]).unwrap();
        let skew = time::Duration::minutes(15);
        verify(
            &request,
            &auth,
            &key,
            at + time::Duration::minutes(14),
            skew,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert!(verify(
            &request,
            &auth,
            &key,
            at + time::Duration::minutes(16),
            skew
        )
        .is_err());

        let mut tampered = request.clone();
        tampered.body.push(b' ');
        assert!(
            verify(&tampered, &auth, &key, at, skew).is_err(),
            "{}: body",
            v.name
        );
        let mut tampered = request.clone();
        tampered.path.push('x');
        assert!(
            verify(&tampered, &auth, &key, at, skew).is_err(),
            "{}: path",
            v.name
        );
        let mut tampered = request.clone();
        tampered.query.push_str("&z=1");
        assert!(
            verify(&tampered, &auth, &key, at, skew).is_err(),
            "{}: query",
            v.name
        );
        let wrong = SigningKey::new(&v.credentials.ak, "another-secret");
        assert!(
            verify(&request, &auth, &wrong, at, skew).is_err(),
            "{}: key",
            v.name
        );
    }
}
