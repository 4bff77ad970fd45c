//! `check`: what it reports, and the hint it gives for each kind of failure.

use serde_json::json;
use vpcep_warden::vpcep::check::check;

use crate::scripted::{settings, Reply, TestServer, PROJECT};

#[tokio::test]
async fn check_reports_quotas_services_and_pending_counts() {
    let server = TestServer::start(|seen| {
        if seen.path.ends_with("/quotas") {
            Reply::ok(json!({"quotas": {"resources": [{"type": "endpoint", "used": "3", "quota": 150}]}}))
        } else if seen.path.ends_with("/connections") {
            let n = if seen.path.contains("/s1/") { 2 } else { 0 };
            let items: Vec<_> = (0..n).map(|i| json!({"id": format!("e{i}"), "domain_id": "d", "status": "pendingAcceptance"})).collect();
            Reply::ok(json!({"connections": items, "total_count": n}))
        } else if seen.path.ends_with("/permissions") {
            let star = seen.path.contains("/s2/");
            let records = if star { vec![json!({"id": "r1", "permission": "*"})] } else { vec![] };
            Reply::ok(json!({"permissions": records, "total_count": records.len()}))
        } else {
            Reply::ok(json!({"endpoint_services": [
                {"id": "s1", "service_name": "one", "status": "available", "approval_enabled": true},
                {"id": "s2", "service_name": "two", "status": "available", "approval_enabled": "false"}
            ], "total_count": 2}))
        }
    })
    .await;
    let mut s = settings(&server.url);
    s.http_timeout_secs = 2;
    let report = check(&s).await.unwrap();
    assert_eq!(report.project_id, PROJECT);
    assert_eq!(report.auth_method, "AK/SK");
    assert_eq!(
        (report.quotas[0].kind.as_str(), report.quotas[0].used),
        ("endpoint", 3)
    );
    let pending: Vec<_> = report
        .services
        .iter()
        .map(|s| (s.id.as_str(), s.pending_connections))
        .collect();
    assert_eq!(pending, [("s1", 2), ("s2", 0)]);
    assert!(report.services[0].findings.is_empty());
    let found: Vec<_> = report.services[1].findings.iter().map(|f| f.kind).collect();
    assert_eq!(found, ["approval_disabled", "whitelist_open"]);
    assert_eq!(report.api_calls, 6);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["quotas"][0]["type"], "endpoint");
    assert!(seen_status_filter(&server));
}

fn seen_status_filter(server: &TestServer) -> bool {
    server
        .requests()
        .iter()
        .filter(|s| s.path.ends_with("/connections"))
        .all(|s| s.query_value("status").as_deref() == Some("pendingAcceptance"))
}

async fn hint_for(reply: Reply) -> String {
    let server = TestServer::scripted(vec![reply]).await;
    let mut s = settings(&server.url);
    s.max_retries = 0;
    let err = check(&s).await.unwrap_err();
    err.to_string()
}

#[tokio::test]
async fn check_failures_carry_the_api_error_and_a_fitting_hint() {
    let forbidden = hint_for(Reply::error(
        403,
        "EndPoint.0004",
        "You have no permissions.",
    ))
    .await;
    assert!(
        forbidden.contains("EndPoint.0004 You have no permissions."),
        "{forbidden}"
    );
    assert!(
        forbidden.contains("vpcep:quotas:get") && forbidden.contains("vpcep:epservices:list"),
        "{forbidden}"
    );
    let skew = hint_for(Reply::error(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: request time is outside the allowed clock skew",
    ))
    .await;
    assert!(skew.contains("clock"), "{skew}");
    let bad_key = hint_for(Reply::error(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: verify aksk signature fail",
    ))
    .await;
    assert!(
        bad_key.contains("HUAWEICLOUD_SDK_AK") && !bad_key.contains("clock"),
        "{bad_key}"
    );
    let not_found = hint_for(Reply::error(
        404,
        "EndPoint.0005",
        "The requested resource is unavailable.",
    ))
    .await;
    assert!(
        not_found.contains("HUAWEICLOUD_SDK_PROJECT_ID"),
        "{not_found}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_named_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut s = settings(&url);
    s.max_retries = 0;
    let err = check(&s).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("WARDEN_VPCEP_ENDPOINT") && text.contains("could not connect"),
        "{text}"
    );
}
