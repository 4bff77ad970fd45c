//! IAM password authentication: one token, reused, renewed before it expires.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use vpcep_warden::config::{Agency, AgencyDomain, Credentials, Secret};

use crate::scripted::{client_for, settings, Reply, TestServer, AK, PROJECT, SK};

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

/// An IAM server that lists `DOMAIN` for the keys, issues temporary
/// credentials, and answers password logins with a token named after their scope.
async fn agency_server() -> TestServer {
    TestServer::start(|seen| match seen.path.as_str() {
        "/v3/auth/domains" => Reply::ok(json!({"domains": [{"id": DOMAIN, "name": "acme"}]})),
        "/v3/auth/tokens" => {
            let scope = if seen.json()["auth"]["scope"]["domain"].is_object() {
                "account"
            } else {
                "project"
            };
            Reply::json(
                201,
                json!({"token": {"expires_at": "2099-01-01T00:00:00Z"}}),
            )
            .header("X-Subject-Token", &format!("{scope}-token"))
        }
        _ => Reply::json(
            201,
            json!({"credential": {"access": "TMPAK", "secret": "tmp-sk",
                "securitytoken": "tmp-token", "expires_at": "2099-01-01T00:00:00Z"}}),
        ),
    })
    .await
}

const DOMAIN: &str = "0a1b2c3d4e5f4a0b9c8d7e6f5a4b3c21";

fn agency() -> Agency<'static> {
    Agency {
        name: "warden-ops",
        domain: AgencyDomain::Id("9f8e7d6c5b4a49380716253443526170"),
    }
}

#[tokio::test]
async fn the_account_of_the_keys_is_found_once_and_signed_as_x_domain_id() {
    let server = agency_server().await;
    let client = client_for(&settings(&server.url));
    for _ in 0..2 {
        client
            .assume_agency(&server.url, agency(), 3600)
            .await
            .unwrap();
    }
    let seen = server.requests();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v3/auth/domains",
            "/v3.0/OS-CREDENTIAL/securitytokens",
            "/v3.0/OS-CREDENTIAL/securitytokens"
        ]
    );
    assert_eq!(seen[0].header("X-Domain-Id"), None);
    for assume in &seen[1..] {
        assert_eq!(assume.header("X-Domain-Id"), Some(DOMAIN));
        assert_eq!(assume.header("X-Project-Id"), None);
        assert_eq!(assume.verify_signature(AK, SK), Ok(()));
        let signed = assume.header("Authorization").unwrap_or_default();
        assert!(signed.contains("x-domain-id"), "{signed}");
    }
}

#[tokio::test]
async fn a_configured_account_is_used_without_asking_iam() {
    let server = agency_server().await;
    let mut s = settings(&server.url);
    s.domain_id = Some(DOMAIN.to_owned());
    client_for(&s)
        .assume_agency(&server.url, agency(), 3600)
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("X-Domain-Id"), Some(DOMAIN));
}

#[tokio::test]
async fn keys_iam_lists_no_account_for_are_a_clear_error() {
    let server = TestServer::start(|_| Reply::ok(json!({"domains": []}))).await;
    let err = client_for(&settings(&server.url))
        .assume_agency(&server.url, agency(), 3600)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("HUAWEICLOUD_SDK_DOMAIN_ID"),
        "{err}"
    );
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_password_user_assumes_an_agency_with_a_token_scoped_to_its_account() {
    let server = agency_server().await;
    let client = client_for(&password_settings(&server.url));
    client
        .assume_agency(&server.url, agency(), 3600)
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].json()["auth"]["scope"],
        json!({"domain": {"name": "acme"}})
    );
    assert_eq!(seen[1].header("X-Auth-Token"), Some("account-token"));
    assert_eq!(seen[1].header("X-Project-Id"), None);
    assert_eq!(
        seen[1].header("Content-Type"),
        Some("application/json;charset=utf-8")
    );
}

#[test]
fn the_account_id_is_read_from_the_sdk_variable_and_checked() {
    let base = [
        ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
        ("HUAWEICLOUD_SDK_SK", "sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p1"),
        ("WARDEN_REGION", "cn-north-4"),
    ];
    let load = |domain: &str| {
        let mut vars: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        vars.push(("HUAWEICLOUD_SDK_DOMAIN_ID".into(), domain.into()));
        vpcep_warden::config::Settings::from_vars(vars)
    };
    assert_eq!(load(DOMAIN).unwrap().domain_id.as_deref(), Some(DOMAIN));
    let err = load("a b/c").unwrap_err();
    assert_eq!(err.variable(), "HUAWEICLOUD_SDK_DOMAIN_ID");
}

#[tokio::test]
async fn credentials_an_invocation_brings_keep_the_configured_account() {
    let server = agency_server().await;
    let mut s = settings(&server.url);
    s.domain_id = Some(DOMAIN.to_owned());
    let invocation = Credentials::AkSk {
        ak: "INVOCATIONAK00000001".into(),
        sk: Secret::new("invocation-sk"),
        security_token: Some(Secret::new("invocation-token")),
    };
    client_for(&s)
        .with_credentials(&invocation)
        .assume_agency(&server.url, agency(), 3600)
        .await
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 1, "no account lookup");
    assert_eq!(seen[0].header("X-Domain-Id"), Some(DOMAIN));
    assert_eq!(
        seen[0].verify_signature("INVOCATIONAK00000001", "invocation-sk"),
        Ok(())
    );
}

#[tokio::test]
async fn an_expiry_that_is_not_a_time_is_refused_without_echoing_it() {
    const ODD: &str = "soon-tmp-sk-LEAKED-VALUE";
    let server = TestServer::start(|_| {
        Reply::json(
            201,
            json!({"credential": {"access": "TMPAK", "secret": "tmp-sk",
                "securitytoken": "tmp-token", "expires_at": ODD}}),
        )
    })
    .await;
    let mut s = settings(&server.url);
    s.domain_id = Some(DOMAIN.to_owned());
    let err = client_for(&s)
        .assume_agency(&server.url, agency(), 3600)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("expires_at"), "{err}");
    assert!(!err.contains(ODD), "the value is echoed: {err}");
}
