//! The VPCEP client against a local test server: request shape, paging,
//! retries, idempotency, the reference's examples, IAM tokens, secrets.

use std::time::Duration;

use serde_json::{json, Value};
use vpcep_warden::config::{Credentials, Secret};
use vpcep_warden::vpcep::{ApiErrorKind, Client, ConnectionAction};

use crate::scripted::{
    client, client_for, fast_options, settings, Reply, TestServer, AK, PROJECT, SK,
};

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
async fn every_list_asks_for_the_largest_page_it_takes() {
    let server = TestServer::start(|seen| {
        let key = if seen.path.ends_with("/permissions") {
            "permissions"
        } else if seen.path.ends_with("/vpc-endpoints") {
            "endpoints"
        } else {
            "endpoint_services"
        };
        Reply::ok(json!({ key: [], "total_count": 0 }))
    })
    .await;
    let client = client(&server);
    client.list_services().await.unwrap();
    client.list_permissions(SERVICE).await.unwrap();
    client.list_endpoints().await.unwrap();
    let seen = server.requests();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/v1/{PROJECT}/vpc-endpoint-services"),
            format!("/v1/{PROJECT}/vpc-endpoint-services/{SERVICE}/permissions"),
            format!("/v1/{PROJECT}/vpc-endpoints"),
        ]
    );
    let limits: Vec<_> = seen.iter().map(|s| s.query_value("limit")).collect();
    assert_eq!(
        limits,
        [Some("1000".into()), Some("500".into()), Some("1000".into())]
    );
    for s in &seen {
        assert_eq!(s.query_value("offset").as_deref(), Some("0"));
        assert_eq!(s.verify_signature(AK, SK), Ok(()));
    }
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

/// A server holding `len` connections that claims `total` of them.
async fn connection_server(len: u64, total: u64) -> TestServer {
    TestServer::start(move |seen| {
        let offset: u64 = seen
            .query_value("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let limit: u64 = seen
            .query_value("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(10);
        let end = (offset + limit).min(len);
        Reply::ok(connections_page(offset.min(end)..end, total))
    })
    .await
}

#[tokio::test]
async fn lists_walk_every_page() {
    let server = connection_server(2500, 2500).await;
    let found = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 2500);
    let ids: std::collections::HashSet<_> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), 2500);
    let offsets: Vec<_> = server
        .requests()
        .iter()
        .map(|s| s.query_value("offset"))
        .collect();
    assert_eq!(
        offsets,
        [Some("0".into()), Some("1000".into()), Some("2000".into())]
    );
}

#[tokio::test]
async fn endpoint_pages_are_handed_over_one_by_one() {
    let server = TestServer::start(|seen| {
        let offset: u64 = seen
            .query_value("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let n = if offset == 0 { 1000 } else { 5 };
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"id": format!("e{}", offset + i), "status": "failed"}))
            .collect();
        Reply::ok(json!({"endpoints": items, "total_count": 1005}))
    })
    .await;
    let mut pages = Vec::new();
    client(&server)
        .for_each_endpoint_page(|page| pages.push(page.len()))
        .await
        .unwrap();
    assert_eq!(pages, [1000, 5]);
}

#[tokio::test]
async fn a_total_count_that_lies_ends_in_an_error_not_a_loop() {
    // Claims 5000 but holds 1500: the short second page ends the walk.
    let server = connection_server(1500, 5000).await;
    let err = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(*err.kind, ApiErrorKind::InconsistentList { .. }),
        "{err}"
    );
    assert_eq!(server.count(), 2);
    // Claims 1500 but pages never end.
    let server = connection_server(u64::MAX, 1500).await;
    let err = client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("inconsistent list"), "{err}");
    assert_eq!(server.count(), 2);
    // Claims 10 and sends nothing.
    let server = connection_server(0, 10).await;
    assert!(client(&server)
        .list_connections(SERVICE, None, None)
        .await
        .is_err());
    assert_eq!(server.count(), 1);
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
async fn accepting_an_accepted_endpoint_succeeds_and_rejecting_it_does_not() {
    let server = TestServer::start(|_| {
        Reply::error(
            400,
            "EndPoint.2014",
            "The endpoint has connected to the endpoint service.",
        )
    })
    .await;
    let client = client(&server);
    client
        .connection_action(SERVICE, "ep", ConnectionAction::Receive)
        .await
        .unwrap();
    let err = client
        .connection_action(SERVICE, "ep", ConnectionAction::Reject)
        .await
        .unwrap_err();
    assert!(err.has_code("EndPoint.2014"));
    let other = TestServer::start(|_| {
        Reply::error(
            400,
            "Endpoint.2013",
            "The endpoint does not belong to the endpoint service.",
        )
    })
    .await;
    assert!(crate::scripted::client(&other)
        .connection_action(SERVICE, "ep", ConnectionAction::Receive)
        .await
        .is_err());
}

#[tokio::test]
async fn deleting_an_endpoint_that_is_gone_or_going_succeeds() {
    for reply in [
        Reply::raw(404, ""),
        Reply::error(
            404,
            "EndPoint.2006",
            "The requested endpoint does not exist.",
        ),
        Reply::error(404, "EndPoint.2008", "The endpoint has been deleted."),
        Reply::error(400, "EndPoint.2018", "The endpoint is being deleted."),
        Reply::raw(200, ""),
    ] {
        let server = TestServer::scripted(vec![reply.clone()]).await;
        let result = client(&server).delete_endpoint("e1").await;
        assert!(
            result.is_ok(),
            "{} {}: {result:?}",
            reply.status,
            reply.body
        );
        let seen = &server.requests()[0];
        assert_eq!(
            (seen.method.as_str(), seen.path.clone()),
            ("DELETE", format!("/v1/{PROJECT}/vpc-endpoints/e1"))
        );
    }
    let server = TestServer::scripted(vec![Reply::error(
        400,
        "EndPoint.2019",
        "The endpoint is being created.",
    )])
    .await;
    assert!(client(&server).delete_endpoint("e1").await.is_err());
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

#[tokio::test]
async fn a_missing_endpoint_reads_as_not_found() {
    let server = TestServer::scripted(vec![
        Reply::error(
            404,
            "EndPoint.2006",
            "The requested endpoint does not exist.",
        ),
        Reply::error(400, "EndPoint.2008", "The endpoint has been deleted."),
        Reply::error(400, "EndPoint.0002", "Parameter error."),
    ])
    .await;
    let client = client(&server);
    let found: Vec<bool> = [
        client.get_endpoint("e1").await,
        client.get_endpoint("e1").await,
        client.get_endpoint("e1").await,
    ]
    .iter()
    .map(|r| r.as_ref().is_err_and(|e| e.is_not_found()))
    .collect();
    assert_eq!(found, [true, true, false]);
}
