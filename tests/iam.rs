//! IAM password authentication: one token, reused, renewed before it expires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use vpcep_warden::config::{Credentials, Secret};

use crate::scripted::{client_for, settings, Reply, TestServer, PROJECT};

const PASSWORD: &str = "iam-password-never-shown";

/// An IAM + VPCEP server whose tokens live `life` each.
async fn iam_server(life: Duration) -> (TestServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |seen| {
        if seen.path == "/v3/auth/tokens" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let expires = (OffsetDateTime::now_utc() + life)
                .format(&Rfc3339)
                .unwrap_or_default();
            return Reply::json(
                201,
                json!({"token": {"expires_at": expires, "methods": ["password"]}}),
            )
            .header("X-Subject-Token", &format!("tok-{n}"));
        }
        match seen.header("X-Auth-Token") {
            Some(t) if t.starts_with("tok-") => Reply::ok(json!({"quotas": {"resources": []}})),
            _ => Reply::error(401, "APIGW.0301", "no token"),
        }
    })
    .await;
    (server, issued)
}

fn password_settings(url: &str) -> vpcep_warden::config::Settings {
    let mut s = settings(url);
    s.credentials = Credentials::Password {
        endpoint: url.to_owned(),
        user: "warden".into(),
        password: Secret::new(PASSWORD),
        domain: "acme".into(),
    };
    s
}

#[tokio::test]
async fn a_token_is_obtained_once_and_reused() {
    let (server, issued) = iam_server(Duration::hours(24)).await;
    let client = client_for(&password_settings(&server.url));
    for _ in 0..3 {
        client.quotas().await.unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    let seen = server.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/v3/auth/tokens")
    );
    let body = seen[0].json();
    assert_eq!(body["auth"]["identity"]["methods"], json!(["password"]));
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["name"],
        "warden"
    );
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["password"],
        PASSWORD
    );
    assert_eq!(
        body["auth"]["identity"]["password"]["user"]["domain"]["name"],
        "acme"
    );
    assert_eq!(body["auth"]["scope"]["project"]["id"], PROJECT);
    assert!(seen[1..]
        .iter()
        .all(|s| s.header("X-Auth-Token") == Some("tok-1")));
    assert!(!format!("{client:?}").contains(PASSWORD));
    assert!(!format!("{client:?}").contains("tok-1"));
}

#[tokio::test]
async fn clones_share_the_token() {
    let (server, issued) = iam_server(Duration::hours(24)).await;
    let client = client_for(&password_settings(&server.url));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.quotas().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    assert_eq!(server.count(), 5);
}

#[tokio::test]
async fn a_token_near_its_expiry_is_renewed() {
    let (server, issued) = iam_server(Duration::minutes(30)).await;
    let client = client_for(&password_settings(&server.url));
    client.quotas().await.unwrap();
    client.quotas().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
    let tokens: Vec<_> = server
        .requests()
        .iter()
        .filter(|s| s.path.ends_with("/quotas"))
        .map(|s| s.header("X-Auth-Token").map(str::to_owned))
        .collect();
    assert_eq!(tokens, [Some("tok-1".to_owned()), Some("tok-2".to_owned())]);
}

#[tokio::test]
async fn a_refused_password_is_a_clear_error_without_the_password() {
    let server = TestServer::start(|_| {
        Reply::json(
            401,
            json!({"error": {"code": "1101", "message": format!("wrong password {PASSWORD}")}}),
        )
    })
    .await;
    let client = client_for(&password_settings(&server.url));
    let err = client.quotas().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("get an IAM token for user warden: HTTP 401 1101"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn an_answer_without_a_token_is_an_error() {
    let server = TestServer::start(|_| Reply::json(201, json!({"token": {}}))).await;
    let err = client_for(&password_settings(&server.url))
        .quotas()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("X-Subject-Token"), "{err}");
}

#[tokio::test]
async fn a_refused_token_is_dropped_and_the_next_call_gets_a_new_one() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |seen| {
        if seen.path == "/v3/auth/tokens" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let expires = (OffsetDateTime::now_utc() + Duration::hours(24))
                .format(&Rfc3339)
                .unwrap_or_default();
            return Reply::json(201, json!({"token": {"expires_at": expires}}))
                .header("X-Subject-Token", &format!("tok-{n}"));
        }
        match seen.header("X-Auth-Token") {
            Some("tok-1") => Reply::error(401, "APIGW.0307", "The token must be updated."),
            _ => Reply::ok(json!({"quotas": {"resources": []}})),
        }
    })
    .await;
    let client = client_for(&password_settings(&server.url));
    let err = client.quotas().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    client.quotas().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_iam_token_echoed_in_any_answer_is_scrubbed() {
    // IAM issues a long token; the API answers 2xx with bodies that echo it.
    const TOKEN: &str = "MIIEhQYJKoZIhvcNAQcCoIIEdjCCBHICAQExDTALBglghkgBZQMEAgEwggLXBgkqhkiG9w0BBwGgggLIBIICxHsidG9rZW4iOnsiZXhwaXJlc19hdCI6IjIwMjYtMTEtMjVUMTA6MDA6MDAuMDAwMDAwWiJ9fQ";
    let server = TestServer::start(|seen| {
        if seen.path == "/v3/auth/tokens" {
            return Reply::json(
                201,
                json!({"token": {"expires_at": "2099-01-01T00:00:00Z"}}),
            )
            .header("X-Subject-Token", TOKEN);
        }
        let echoed = seen.header("X-Auth-Token").unwrap_or_default().to_owned();
        if seen.path.ends_with("/quotas") {
            Reply::raw(200, &format!("<html>token {echoed} refused</html>"))
        } else {
            Reply::ok(
                json!({"error_code": "APIGW.0301", "error_msg": format!("bad token {echoed}")}),
            )
        }
    })
    .await;
    let client = client_for(&password_settings(&server.url));
    let not_json = client.quotas().await.unwrap_err().to_string();
    let error_body = client.get_endpoint("ep-1").await.unwrap_err().to_string();
    for text in [not_json, error_body] {
        assert!(!text.contains(&TOKEN[..20]), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }
}
