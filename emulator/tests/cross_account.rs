//! A consumer's endpoint for a provider's service, seen from both sides.

use serde_json::{json, Value};

use crate::support::*;

async fn consumer_endpoint(c: &Caller, service: &str) -> String {
    let created = c.post("/vpc-endpoints", endpoint_body(service)).await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

fn action(kind: &str, id: &str) -> Value {
    json!({"action": kind, "endpoints": [id]})
}

#[tokio::test]
async fn the_provider_accepts_a_pending_connection_and_both_sides_see_it() {
    let emu = start(json!({})).await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let svc = p
        .post("/vpc-endpoint-services", service_body("api", true))
        .await;
    let service_id = svc.body["id"].as_str().unwrap().to_owned();
    let ep = consumer_endpoint(&c, &service_id).await;
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "pendingAcceptance"
    );

    let conns = p
        .get(&format!(
            "/vpc-endpoint-services/{service_id}/connections?status=pendingAcceptance"
        ))
        .await;
    assert_eq!(conns.body["total_count"], 1);
    assert_eq!(conns.body["connections"][0]["id"], ep.as_str());
    assert_eq!(conns.body["connections"][0]["domain_id"], CONSUMER_DOMAIN);

    let path = format!("/vpc-endpoint-services/{service_id}/connections/action");
    let accepted = p.post(&path, action("receive", &ep)).await;
    assert_eq!(accepted.status, 200, "{:?}", accepted.body);
    assert_eq!(accepted.body["connections"][0]["status"], "accepted");
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "accepted"
    );
    let listed = p
        .get(&format!(
            "/vpc-endpoint-services/{service_id}/connections?id={ep}"
        ))
        .await;
    assert_eq!(listed.body["connections"][0]["status"], "accepted");
    let shown = p.get(&format!("/vpc-endpoint-services/{service_id}")).await;
    assert_eq!(shown.body["connection_count"], 1);

    let again = p.post(&path, action("receive", &ep)).await;
    assert_eq!((again.status, again.code()), (400, "EndPoint.2014"));
}

#[tokio::test]
async fn the_provider_rejects_a_connection_and_both_sides_see_it() {
    let emu = start(json!({"services": [{"id": "s1", "owner": "provider"}]})).await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let ep = consumer_endpoint(&c, "s1").await;
    let rejected = p
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            action("reject", &ep),
        )
        .await;
    assert_eq!(rejected.body["connections"][0]["status"], "rejected");
    assert_eq!(
        c.get(&format!("/vpc-endpoints/{ep}")).await.body["status"],
        "rejected"
    );
    let conns = p
        .get("/vpc-endpoint-services/s1/connections?status=rejected")
        .await;
    assert_eq!(conns.body["connections"][0]["domain_id"], CONSUMER_DOMAIN);
}

#[tokio::test]
async fn a_service_without_approval_accepts_at_once() {
    let emu = start(json!({"services": [{"id": "s1", "approval_enabled": false}]})).await;
    let ep = consumer_endpoint(&consumer(&emu), "s1").await;
    let conns = provider(&emu)
        .get("/vpc-endpoint-services/s1/connections")
        .await;
    assert_eq!(conns.body["connections"][0]["id"], ep.as_str());
    assert_eq!(conns.body["connections"][0]["status"], "accepted");
}

#[tokio::test]
async fn only_the_owner_sees_and_acts_on_connections() {
    let emu = start(json!({"services": [{"id": "s1"}, {"id": "s2"}]})).await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let ep = consumer_endpoint(&c, "s1").await;
    let peek = c.get("/vpc-endpoint-services/s1/connections").await;
    assert_eq!((peek.status, peek.code()), (400, "EndPoint.2003"));
    let act = c
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            action("receive", &ep),
        )
        .await;
    assert_eq!(act.code(), "EndPoint.2003");
    let elsewhere = p
        .post(
            "/vpc-endpoint-services/s2/connections/action",
            action("receive", &ep),
        )
        .await;
    assert_eq!(elsewhere.code(), "EndPoint.2013");
    let two = json!({"action": "receive", "endpoints": [ep, "other"]});
    let refused = p
        .post("/vpc-endpoint-services/s1/connections/action", two)
        .await;
    assert_eq!(refused.code(), "EndPoint.2031");
    let bad = p
        .post(
            "/vpc-endpoint-services/s1/connections/action",
            action("approve", &ep),
        )
        .await;
    assert_eq!(bad.code(), "EndPoint.2027");
}

#[tokio::test]
async fn a_whitelist_admits_only_listed_domains() {
    let emu =
        start(json!({"services": [{"id": "s1", "permissions": ["iam:domain::someone-else"]}]}))
            .await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let refused = c.post("/vpc-endpoints", endpoint_body("s1")).await;
    assert_eq!((refused.status, refused.code()), (400, "EndPoint.2012"));
    let add = json!({"action": "add", "permissions": [format!("iam:domain::{CONSUMER_DOMAIN}")]});
    assert_eq!(
        p.post("/vpc-endpoint-services/s1/permissions/action", add)
            .await
            .status,
        200
    );
    consumer_endpoint(&c, "s1").await;
    // The owner is always admitted.
    assert_eq!(
        p.post("/vpc-endpoints", endpoint_body("s1")).await.status,
        200
    );
}
