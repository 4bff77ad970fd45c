//! Retries: which failures are retried, how often, and what is left when
//! they run out.

use std::time::Duration;

use serde_json::json;
use vpcep_warden::vpcep::{ApiError, Client, Quota};

use super::SERVICE;
use crate::scripted::{client, fast_options, settings, Reply, TestServer};

async fn retried_then_ok(first: Reply) -> (TestServer, Result<Vec<Quota>, ApiError>) {
    let ok =
        Reply::ok(json!({"quotas": {"resources": [{"type": "endpoint", "used": 1, "quota": 2}]}}));
    let server = TestServer::scripted(vec![first.clone(), first, ok]).await;
    let result = client(&server).quotas().await;
    (server, result)
}

#[tokio::test]
async fn server_errors_rate_limits_and_timeouts_are_retried() {
    for first in [
        Reply::error(500, "EndPoint.0001", "System error. Please retry."),
        Reply::error(503, "APIGW.0201", "Service unavailable"),
        Reply::error(429, "APIGW.0308", "Throttled"),
        Reply::error(
            400,
            "EndPoint.0022",
            "The number of requests exceeded the limit. Please try later.",
        ),
        Reply::ok(json!({})).delayed(Duration::from_millis(800)),
    ] {
        let status = first.status;
        let (server, result) = if first.delay.is_zero() {
            retried_then_ok(first).await
        } else {
            let ok = Reply::ok(
                json!({"quotas": {"resources": [{"type": "endpoint", "used": 1, "quota": 2}]}}),
            );
            let server = TestServer::scripted(vec![first.clone(), first, ok]).await;
            let mut options = fast_options();
            options.timeout = Duration::from_millis(300);
            let client = Client::with_options(&settings(&server.url), options).unwrap();
            let result = client.quotas().await;
            assert_eq!(client.api_calls(), 3);
            (server, result)
        };
        let quotas = result.unwrap_or_else(|e| panic!("status {status}: {e}"));
        assert_eq!(quotas[0].quota, Some(2));
        assert_eq!(server.count(), 3, "status {status}");
    }
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    for (status, code) in [
        (400, "EndPoint.0002"),
        (401, "APIGW.0301"),
        (403, "EndPoint.0004"),
        (404, "EndPoint.0005"),
    ] {
        let (server, result) = retried_then_ok(Reply::error(status, code, "no")).await;
        let err = result.unwrap_err();
        assert_eq!((err.status(), err.error_code()), (Some(status), Some(code)));
        assert!(!err.is_retryable());
        assert_eq!(server.count(), 1);
    }
}

#[tokio::test]
async fn exhausted_retries_report_code_message_and_request_id() {
    let server =
        TestServer::start(|_| Reply::error(500, "EndPoint.0001", "System error. Please retry."))
            .await;
    let client = client(&server);
    let err = client
        .list_connections(SERVICE, None, None)
        .await
        .unwrap_err();
    assert_eq!(server.count(), 5);
    assert_eq!(client.api_calls(), 5);
    assert_eq!(err.request_id(), Some("req-EndPoint.0001"));
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        format!("list connections of service {SERVICE}: HTTP 500 EndPoint.0001 System error. Please retry. (request id req-EndPoint.0001), after 5 attempts")
    );
}

#[tokio::test]
async fn a_server_that_never_answers_in_time_is_a_timeout_error() {
    let server =
        TestServer::start(|_| Reply::ok(json!({})).delayed(Duration::from_millis(600))).await;
    let mut options = fast_options();
    options.timeout = Duration::from_millis(150);
    options.max_retries = 2;
    let client = Client::with_options(&settings(&server.url), options).unwrap();
    let err = client.get_endpoint("e1").await.unwrap_err();
    assert!(err.is_timeout() && err.is_retryable(), "{err}");
    assert_eq!(err.attempts, 3);
    assert_eq!(
        err.to_string(),
        "get endpoint e1: no answer before the timeout, after 3 attempts"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the transport error is kept as the source"
    );
}
