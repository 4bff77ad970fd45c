//! Answers that mean the work is already done: accepting an accepted
//! endpoint, deleting one that is gone or going, reading one that is missing.

use vpcep_warden::vpcep::ConnectionAction;

use super::SERVICE;
use crate::scripted::{client, Reply, TestServer, PROJECT};

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
