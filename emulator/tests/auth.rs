//! Signature verification: tampered requests are refused with 401 `APIGW.0301`.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::support::*;

async fn refused(p: Prepared) -> String {
    let answer = send(p).await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, "APIGW.0301"),
        "{:?}",
        answer.body
    );
    let msg = answer.body["error_msg"].as_str().unwrap().to_owned();
    assert!(
        msg.starts_with("Incorrect IAM authentication information"),
        "{msg}"
    );
    msg
}

#[tokio::test]
async fn an_untouched_signed_request_is_accepted() {
    let emu = start(json!({})).await;
    let p = provider(&emu);
    let answer = send(p.prepare("GET", &p.path("/quotas?type=endpoint"), None)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn a_changed_body_path_query_or_header_is_refused() {
    let emu = start(json!({"services": [{"id": "s1"}]})).await;
    let p = provider(&emu);
    let body = json!({"action": "add", "permissions": ["*"]});
    let path = p.path("/vpc-endpoint-services/s1/permissions/action");

    let mut changed_body = p.prepare("POST", &path, Some(&body));
    changed_body.body = br#"{"action": "remove", "permissions": ["*"]}"#.to_vec();
    let msg = refused(changed_body).await;
    assert!(msg.contains("canonical request: POST\n"), "{msg}");

    let mut changed_path = p.prepare("GET", &p.path("/vpc-endpoint-services/s1"), None);
    changed_path.url = changed_path.url.replace("/s1", "/s2");
    let msg = refused(changed_path).await;
    assert!(
        msg.contains("/vpc-endpoint-services/s2/"),
        "the server's canonical request: {msg}"
    );

    let mut changed_query = p.prepare("GET", &p.path("/vpc-endpoint-services?limit=10"), None);
    changed_query.url = changed_query.url.replace("limit=10", "limit=11");
    refused(changed_query).await;

    let mut changed_header = p.prepare("GET", &p.path("/quotas"), None);
    for (k, v) in &mut changed_header.headers {
        if k == "Content-Type" {
            *v = "text/plain".into();
        }
    }
    refused(changed_header).await;
}

#[tokio::test]
async fn a_date_outside_the_skew_is_refused_and_inside_accepted() {
    let emu = start(json!({})).await;
    let p = provider(&emu);
    let path = p.path("/quotas");
    let old = p.prepare_at(
        "GET",
        &path,
        None,
        OffsetDateTime::now_utc() - Duration::minutes(16),
    );
    assert!(refused(old).await.contains("15 minutes"));
    let ahead = p.prepare_at(
        "GET",
        &path,
        None,
        OffsetDateTime::now_utc() + Duration::minutes(16),
    );
    refused(ahead).await;
    let near = p.prepare_at(
        "GET",
        &path,
        None,
        OffsetDateTime::now_utc() - Duration::minutes(14),
    );
    assert_eq!(send(near).await.status, 200);
}

#[tokio::test]
async fn an_unknown_access_key_or_a_wrong_secret_is_refused() {
    let emu = start(json!({})).await;
    let mut stranger = provider(&emu);
    stranger.ak = "AK-NOBODY".into();
    let msg = refused(stranger.prepare("GET", &stranger.path("/quotas"), None)).await;
    assert!(msg.contains("AK-NOBODY"));
    let mut wrong = provider(&emu);
    wrong.sk = "not-the-secret".into();
    let msg = refused(wrong.prepare("GET", &wrong.path("/quotas"), None)).await;
    assert!(msg.contains("verify aksk signature fail"));
    assert!(!msg.contains("SK-provider"));
}

#[tokio::test]
async fn a_signed_security_token_is_accepted_and_masked_in_refusals() {
    let emu = start(json!({})).await;
    let mut temp = provider(&emu);
    temp.security_token = Some("very-secret-session-token".into());
    let ok = send(temp.prepare("GET", &temp.path("/quotas"), None)).await;
    assert_eq!(ok.status, 200);

    let mut tampered = temp.prepare("GET", &temp.path("/quotas"), None);
    tampered.url.push_str("?type=endpoint");
    let msg = refused(tampered).await;
    assert!(msg.contains("x-security-token:******"), "{msg}");
    assert!(!msg.contains("very-secret-session-token"), "{msg}");

    let p = provider(&emu);
    let mut unsigned = p.prepare("GET", &p.path("/quotas"), None);
    unsigned
        .headers
        .push(("X-Security-Token".into(), "added-later".into()));
    let msg = refused(unsigned).await;
    assert!(!msg.contains("added-later"));
}

#[tokio::test]
async fn missing_or_garbled_credentials_are_refused() {
    let emu = start(json!({})).await;
    let url = format!("{}/v1/{PROVIDER_PROJECT}/quotas", emu.base_url());
    let none = plain("GET", &url, &[], "").await;
    assert_eq!((none.status, none.code()), (401, "APIGW.0301"));
    let garbled = plain("GET", &url, &[("Authorization", "Basic abc")], "").await;
    assert_eq!((garbled.status, garbled.code()), (401, "APIGW.0301"));
    assert_eq!(emu.stats().unauthorized, 2);
}

#[tokio::test]
async fn another_accounts_project_is_refused() {
    let emu = start(json!({})).await;
    let c = consumer(&emu);
    let answer = c
        .call("GET", &format!("/v1/{PROVIDER_PROJECT}/quotas"), None)
        .await;
    assert_eq!((answer.status, answer.code()), (400, "EndPoint.0014"));
    let mut header_mismatch = consumer(&emu);
    header_mismatch.project = PROVIDER_PROJECT.into();
    let answer = header_mismatch
        .call("GET", &format!("/v1/{CONSUMER_PROJECT}/quotas"), None)
        .await;
    assert_eq!((answer.status, answer.code()), (400, "EndPoint.0014"));
}
