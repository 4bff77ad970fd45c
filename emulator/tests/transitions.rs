//! Asynchronous transitions and quotas.

use std::time::Duration;

use serde_json::json;
use vpcep_emulator::Options;

use crate::support::*;

fn slow() -> Options {
    Options {
        transition_ms: 300,
        ..Options::default()
    }
}

#[tokio::test]
async fn create_accept_and_delete_pass_through_transitional_states() {
    let emu = start_with(json!({"services": [{"id": "s1"}]}), slow()).await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let created = c.post("/vpc-endpoints", endpoint_body("s1")).await;
    assert_eq!(created.body["status"], "creating");
    let ep = created.body["id"].as_str().unwrap().to_owned();
    let early = p
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            json!({"action": "receive", "endpoints": [ep]}),
        )
        .await;
    assert_eq!((early.status, early.code()), (400, "EndPoint.2019"));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "pendingAcceptance"
    );

    let accepted = p
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            json!({"action": "receive", "endpoints": [ep]}),
        )
        .await;
    assert_eq!(accepted.body["connections"][0]["status"], "creating");
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "creating"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "accepted"
    );

    assert_eq!(c.delete(&format!("/vpc-endpoints/{ep}")).await.status, 204);
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "deleting"
    );
    let twice = c.delete(&format!("/vpc-endpoints/{ep}")).await;
    assert_eq!((twice.status, twice.code()), (400, "EndPoint.2018"));
    let conn = p
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            json!({"action": "receive", "endpoints": [ep]}),
        )
        .await;
    assert_eq!(conn.code(), "EndPoint.2018");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let gone = c.get(&format!("/vpc-endpoints/{ep}")).await;
    assert_eq!((gone.status, gone.code()), (404, "EndPoint.2006"));
    let conns = p.get("/vpc-endpoint-services/s1/connections").await;
    assert_eq!(conns.body["total_count"], 0);
}

#[tokio::test]
async fn a_new_service_is_creating_then_available() {
    let emu = start_with(json!({}), slow()).await;
    let p = provider(&emu);
    let created = p
        .post("/vpc-endpoint-services", service_body("slow", false))
        .await;
    assert_eq!(created.body["status"], "creating");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let early = consumer(&emu)
        .post("/vpc-endpoints", endpoint_body(&id))
        .await;
    assert_eq!(early.code(), "EndPoint.2004");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        p.get(&format!("/vpc-endpoint-services/{id}")).await.body["status"],
        "available"
    );
}

#[tokio::test]
async fn creation_beyond_the_quota_is_refused() {
    let emu = start(json!({"quotas": {"endpoint": 1, "endpoint_service": 1},
                           "services": [{"id": "s1", "approval_enabled": false}]}))
    .await;
    let (p, c) = (provider(&emu), consumer(&emu));
    assert_eq!(
        c.post("/vpc-endpoints", endpoint_body("s1")).await.status,
        200
    );
    let second = c.post("/vpc-endpoints", endpoint_body("s1")).await;
    assert_eq!((second.status, second.code()), (400, "Endpoint.1018"));
    let svc = p
        .post("/vpc-endpoint-services", service_body("more", true))
        .await;
    assert_eq!((svc.status, svc.code()), (400, "Endpoint.1018"));
    let quotas = c.get("/quotas?type=endpoint").await;
    assert_eq!(quotas.body["quotas"]["resources"][0]["used"], 1);
}
