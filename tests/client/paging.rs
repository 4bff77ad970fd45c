//! Paging: every list asks for the largest page it takes and walks every
//! page; endpoint pages are handed over one by one; a total count that lies
//! ends in an error, never a loop.

use serde_json::{json, Value};
use vpcep_warden::vpcep::ApiErrorKind;

use super::{connections_page, SERVICE};
use crate::scripted::{client, Reply, TestServer, AK, PROJECT, SK};

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
