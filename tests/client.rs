//! The VPCEP client against a local test server: request shape, paging,
//! retries, idempotency, the reference's examples, IAM tokens, secrets.

use std::time::Duration;

use serde_json::{json, Value};
use vpcep_warden::config::{Credentials, Secret};
use vpcep_warden::vpcep::{ApiErrorKind, Client, ConnectionAction};

use crate::scripted::{
    client, client_for, fast_options, settings, Reply, TestServer, AK, PROJECT, SK,
};

mod idempotency;
mod paging;
mod reference;
mod retries;

const SERVICE: &str = "4189d3c2-8882-4871-a3c2-d380272eed88";

fn connections_page(ids: std::ops::Range<u64>, total: u64) -> Value {
    let items: Vec<Value> = ids
        .map(|i| json!({"id": format!("ep-{i}"), "marker_id": i, "domain_id": "d1", "status": "pendingAcceptance"}))
        .collect();
    json!({"connections": items, "total_count": total})
}

#[tokio::test]
async fn list_connections_sends_paging_filters_and_a_valid_signature() {
    let server = TestServer::scripted(vec![Reply::ok(connections_page(0..1, 1))]).await;
    let found = client(&server)
        .list_connections(SERVICE, Some("pendingAcceptance"), Some("ep-0"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let seen = &server.requests()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.path,
        format!("/v1/{PROJECT}/vpc-endpoint-services/{SERVICE}/connections")
    );
    assert_eq!(seen.query_value("limit").as_deref(), Some("1000"));
    assert_eq!(seen.query_value("offset").as_deref(), Some("0"));
    assert_eq!(
        seen.query_value("status").as_deref(),
        Some("pendingAcceptance")
    );
    assert_eq!(seen.query_value("id").as_deref(), Some("ep-0"));
    assert_eq!(seen.header("X-Project-Id"), Some(PROJECT));
    assert_eq!(seen.header("X-Security-Token"), None);
    assert_eq!(seen.header("X-Auth-Token"), None);
    assert_eq!(seen.verify_signature(AK, SK), Ok(()));
    assert!(seen.verify_signature(AK, "another-sk").is_err());
}

#[tokio::test]
async fn temporary_credentials_send_and_sign_the_security_token() {
    let server = TestServer::scripted(vec![Reply::ok(json!({"quotas": {"resources": []}}))]).await;
    let mut s = settings(&server.url);
    s.credentials = Credentials::AkSk {
        ak: AK.into(),
        sk: Secret::new(SK),
        security_token: Some(Secret::new("sts-token-xyz")),
    };
    client_for(&s).quotas().await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.path, format!("/v1/{PROJECT}/quotas"));
    assert_eq!(seen.header("X-Security-Token"), Some("sts-token-xyz"));
    assert!(seen
        .header("Authorization")
        .unwrap_or_default()
        .contains("x-security-token"));
    assert_eq!(seen.verify_signature(AK, SK), Ok(()));
}

#[tokio::test]
async fn token_auth_sends_x_auth_token_and_no_signature() {
    let server = TestServer::scripted(vec![Reply::ok(json!({"quotas": {"resources": []}}))]).await;
    let mut s = settings(&server.url);
    s.credentials = Credentials::Token(Secret::new("iam-token-abc"));
    client_for(&s).quotas().await.unwrap();
    let seen = &server.requests()[0];
    assert_eq!(seen.header("X-Auth-Token"), Some("iam-token-abc"));
    assert_eq!(seen.header("X-Project-Id"), Some(PROJECT));
    assert_eq!(seen.header("Authorization"), None);
}

#[tokio::test]
async fn connection_action_posts_the_action_and_one_endpoint() {
    let server = TestServer::start(|_| Reply::ok(json!({"connections": []}))).await;
    let client = client(&server);
    client
        .connection_action(SERVICE, "ep-1", ConnectionAction::Receive)
        .await
        .unwrap();
    client
        .connection_action(SERVICE, "ep-2", ConnectionAction::Reject)
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].path,
        format!("/v1/{PROJECT}/vpc-endpoint-services/{SERVICE}/connections/action")
    );
    assert_eq!(
        seen[0].json(),
        json!({"action": "receive", "endpoints": ["ep-1"]})
    );
    assert_eq!(
        seen[1].json(),
        json!({"action": "reject", "endpoints": ["ep-2"]})
    );
    assert_eq!(
        seen[0].header("Content-Type"),
        Some("application/json;charset=utf-8")
    );
    assert_eq!(seen[0].verify_signature(AK, SK), Ok(()));
}

#[tokio::test]
async fn html_pages_and_error_bodies_in_200_are_clear_errors() {
    let server = TestServer::scripted(vec![
        Reply::raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        Reply::raw(200, "<html>maintenance</html>"),
        Reply::error(200, "EndPoint.0002", "Parameter error."),
    ])
    .await;
    let mut s = settings(&server.url);
    s.max_retries = 0;
    let mut options = fast_options();
    options.max_retries = 0;
    let client = Client::with_options(&s, options).unwrap();
    let bad_gateway = client.get_endpoint("e1").await.unwrap_err();
    assert!(
        bad_gateway
            .to_string()
            .contains("HTTP 502 <html><body><h1>502 Bad Gateway"),
        "{bad_gateway}"
    );
    let not_json = client.get_endpoint("e1").await.unwrap_err();
    assert!(
        matches!(*not_json.kind, ApiErrorKind::Decode { status: 200, .. }),
        "{not_json}"
    );
    assert!(not_json.to_string().contains("<html>maintenance</html>"));
    let error_body = client.get_endpoint("e1").await.unwrap_err();
    assert!(error_body.has_code("EndPoint.0002"), "{error_body}");
}

#[tokio::test]
async fn requests_in_flight_never_exceed_the_limit() {
    let server = TestServer::start(|seen| {
        Reply::ok(
            json!({"id": seen.path.rsplit('/').next().unwrap_or_default(), "status": "failed"}),
        )
        .delayed(Duration::from_millis(50))
    })
    .await;
    let mut options = fast_options();
    options.max_concurrency = 2;
    let client = Client::with_options(&settings(&server.url), options).unwrap();
    let calls = (0..8).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.get_endpoint(&format!("e{i}")).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(server.count(), 8);
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn send_json_signs_other_huawei_apis_the_same_way() {
    let server = TestServer::scripted(vec![Reply::ok(
        json!({"request_id": "r", "message_id": "m"}),
    )])
    .await;
    let url = format!(
        "{}/v2/{PROJECT}/notifications/topics/urn:smn:x/publish",
        server.url
    );
    let answer = client(&server)
        .send_json(reqwest::Method::POST, &url, Some(&json!({"message": "hi"})))
        .await
        .unwrap();
    assert_eq!(answer["message_id"], "m");
    let seen = &server.requests()[0];
    assert_eq!(seen.json(), json!({"message": "hi"}));
    assert_eq!(seen.verify_signature(AK, SK), Ok(()));
}

#[tokio::test]
async fn secrets_echoed_by_the_server_never_reach_an_error() {
    const STS: &str = "sts-token-echoed-back";
    let server = TestServer::start(|seen| {
        let echoed = format!(
            "verify aksk signature fail, canonical request: x-security-token:{} sk={SK}",
            seen.header("X-Security-Token").unwrap_or_default()
        );
        if seen.path.ends_with("/quotas") {
            Reply::error(401, "APIGW.0301", &echoed)
        } else {
            Reply::raw(200, &format!("<html>{echoed}</html>"))
        }
    })
    .await;
    let mut s = settings(&server.url);
    s.credentials = Credentials::AkSk {
        ak: AK.into(),
        sk: Secret::new(SK),
        security_token: Some(Secret::new(STS)),
    };
    let client = client_for(&s);
    let errors = [
        client.quotas().await.unwrap_err(),
        client.get_endpoint("e1").await.unwrap_err(),
    ];
    for err in &errors {
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(STS) && !text.contains(SK), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }
    for text in [format!("{client:?}"), format!("{s:?}")] {
        assert!(!text.contains(STS) && !text.contains(SK), "{text}");
    }
}

#[tokio::test]
async fn redirects_are_not_followed_with_the_credentials() {
    let server = TestServer::scripted(vec![
        Reply::raw(302, "").header("Location", "http://127.0.0.1:9/elsewhere")
    ])
    .await;
    let mut s = settings(&server.url);
    s.credentials = Credentials::Token(Secret::new("iam-token-abc"));
    let err = client_for(&s).quotas().await.unwrap_err();
    assert_eq!((err.status(), server.count()), (Some(302), 1), "{err}");
}
