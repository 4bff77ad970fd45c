//! Every example answer of the API reference for the operations the warden
//! calls decodes, string-or-number variants included.

use serde_json::json;
use vpcep_warden::vpcep::{Client, ConnectionAction};

use super::SERVICE;
use crate::scripted::{client, Reply, TestServer};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/reference/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn serving(name: &str) -> (TestServer, Client) {
    let server = TestServer::scripted(vec![Reply::raw(200, &fixture(name))]).await;
    let client = client(&server);
    (server, client)
}

#[tokio::test]
async fn the_references_examples_decode() {
    let (_s, c) = serving("list_services.json").await;
    let services = c.list_services().await.unwrap();
    assert_eq!(
        (
            services.len(),
            services[0].service_name.as_str(),
            services[0].ports[0].client_port
        ),
        (1, "test123", Some(8080))
    );
    for name in [
        "get_service.json",
        "get_service_string_ports.json",
        "get_service_pool.json",
    ] {
        let (_s, c) = serving(name).await;
        let service = c
            .get_service(SERVICE)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(service.ports[1].client_port, Some(8081), "{name}");
        assert!(!service.approval_enabled);
        assert!(
            vpcep_warden::vpcep::parse_time(&service.created_at).is_some(),
            "{name}"
        );
    }
    let (_s, c) = serving("list_connections.json").await;
    let connections = c.list_connections(SERVICE, None, None).await.unwrap();
    assert_eq!(connections[0].marker_id.as_deref(), Some("16777510"));
    assert_eq!(connections[1].domain_id, "5fc973eea581490997e82ea11a1df31f");
    let (_s, c) = serving("connection_action.json").await;
    c.connection_action(SERVICE, "ep", ConnectionAction::Receive)
        .await
        .unwrap();
    let (_s, c) = serving("connection_action_error.json").await;
    let err = c
        .connection_action(SERVICE, "ep", ConnectionAction::Receive)
        .await
        .unwrap_err();
    assert!(err.has_code("EndPoint.2013"), "{err}");
    let (_s, c) = serving("list_permissions.json").await;
    let permissions = c.list_permissions(SERVICE).await.unwrap();
    assert_eq!(
        (
            permissions[0].permission.as_str(),
            permissions[0].domain_id()
        ),
        ("*", None)
    );
    let (_s, c) = serving("get_endpoint.json").await;
    let endpoint = c.get_endpoint("e").await.unwrap();
    assert_eq!(
        (
            endpoint.marker_id.as_deref(),
            endpoint.enable_dns,
            endpoint.tags[0].key.as_str()
        ),
        (Some("322312312312"), false, "test1")
    );
    let (_s, c) = serving("list_endpoints.json").await;
    let endpoints = c.list_endpoints().await.unwrap();
    assert_eq!(
        (
            endpoints.len(),
            endpoints[0].marker_id.as_deref(),
            endpoints[0].enable_dns
        ),
        (2, Some("16777337"), true)
    );
    let (_s, c) = serving("quotas.json").await;
    let quotas = c.quotas().await.unwrap();
    assert_eq!(
        (quotas[0].kind.as_str(), quotas[0].used, quotas[0].quota),
        ("endpoint", 4, Some(150))
    );
    assert_eq!(
        (quotas[1].kind.as_str(), quotas[1].used, quotas[1].quota),
        ("endpoint_service", 10, Some(100))
    );
    let server = TestServer::scripted(vec![Reply::raw(400, &fixture("error.json"))]).await;
    let err = client(&server).quotas().await.unwrap_err();
    assert_eq!(
        (err.error_code(), err.error_msg()),
        (Some("EndPoint.0002"), Some("Parameter error."))
    );
}

#[tokio::test]
async fn string_numbers_and_error_objects_decode() {
    let body = json!({
        "endpoints": [{
            "id": "e1", "status": "failed", "marker_id": "42", "enable_dns": "false",
            "error": {"error_code": "EndPoint.2022", "error_message": "Failed to create an endpoint."},
            "tags": null, "some_new_field": {"nested": true}
        }, {
            "id": "e2", "status": "failed", "marker_id": 43, "enable_dns": 1,
            "error": [{"code": "VPCEP.1", "message": "m"}]
        }],
        "total_count": "2"
    });
    let server = TestServer::scripted(vec![Reply::ok(body)]).await;
    let endpoints = client(&server).list_endpoints().await.unwrap();
    assert_eq!(endpoints[0].error[0].error_code, "EndPoint.2022");
    assert_eq!(
        (endpoints[0].marker_id.as_deref(), endpoints[0].enable_dns),
        (Some("42"), false)
    );
    assert_eq!(
        (endpoints[1].marker_id.as_deref(), endpoints[1].enable_dns),
        (Some("43"), true)
    );
    assert_eq!(endpoints[1].error[0].error_message, "m");
    assert!(endpoints[0].tags.is_empty());
}
