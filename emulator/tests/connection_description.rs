//! The service owner's description of connections: set through
//! `PUT .../connections/description`, seeded by scenarios, and kept apart
//! from the consumer's own endpoint description.

use serde_json::{json, Value};

use crate::support::*;

const OTHER_DOMAIN: &str = "5e5e5e5e5e5e4e5e8e5e5e5e5e5e5e5e";

/// `s1` (no approval) with a seeded unknown-domain connection and the
/// consumer's endpoint; `s2` with one connection of its own.
async fn emulator() -> vpcep_emulator::Emulator {
    start(json!({
        "services": [
            {"id": "s1", "owner": "provider", "approval_enabled": false, "connections": [
                {"endpoint_id": "ep-seeded", "domain_id": OTHER_DOMAIN,
                 "description": "the consumer's text", "connection_description": "seeded note",
                 "updated_at": "2026-01-02T00:00:00Z"}
            ]},
            {"id": "s2", "owner": "provider", "connections": [{"endpoint_id": "ep-s2"}]}
        ],
        "endpoints": [
            {"id": "ep-consumer", "owner": "consumer", "endpoint_service_id": "s1",
             "description": "my own endpoint", "connection_description": "from the endpoints entry",
             "updated_at": "2026-01-03T00:00:00Z"}
        ]
    }))
    .await
}

fn body(items: &[(&str, &str)]) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(id, d)| json!({"id": id, "description": d}))
        .collect();
    json!({ "connections": items })
}

async fn put(c: &Caller, service: &str, body: Option<Value>) -> Answer {
    let path = c.path(&format!(
        "/vpc-endpoint-services/{service}/connections/description"
    ));
    c.call("PUT", &path, body).await
}

/// The connection `id` of `s1` as its owner lists it.
async fn listed(p: &Caller, id: &str) -> Value {
    let answer = p
        .get(&format!("/vpc-endpoint-services/s1/connections?id={id}"))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["total_count"], 1, "{:?}", answer.body);
    answer.body["connections"][0].clone()
}

#[tokio::test]
async fn scenario_entries_seed_connection_descriptions() {
    let emu = emulator().await;
    let p = provider(&emu);
    assert_eq!(listed(&p, "ep-seeded").await["description"], "seeded note");
    assert_eq!(
        listed(&p, "ep-consumer").await["description"],
        "from the endpoints entry"
    );
    let shown = consumer(&emu).get("/vpc-endpoints/ep-consumer").await;
    assert_eq!(shown.body["description"], "my own endpoint");
}

#[tokio::test]
async fn the_owner_sets_descriptions_that_the_connection_list_shows() {
    let emu = emulator().await;
    let (p, c) = (provider(&emu), consumer(&emu));
    let before = listed(&p, "ep-consumer").await;
    let longest = "x".repeat(512);

    let answer = put(
        &p,
        "s1",
        Some(body(&[
            ("ep-consumer", "billing team"),
            ("ep-seeded", &longest),
        ])),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let conns = answer.body["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    assert_eq!(conns[0]["id"], "ep-consumer");
    assert_eq!(conns[0]["description"], "billing team");
    assert_eq!(conns[0]["domain_id"], CONSUMER_DOMAIN);
    assert_eq!(conns[1]["description"], longest.as_str());

    let after = listed(&p, "ep-consumer").await;
    assert_eq!(after["description"], "billing team");
    assert_eq!(after["updated_at"], before["updated_at"]);
    assert_eq!(after["status"], before["status"]);
    assert_eq!(
        listed(&p, "ep-seeded").await["description"],
        longest.as_str()
    );

    // The consumer's own endpoint keeps its description and its updated_at.
    let shown = c.get("/vpc-endpoints/ep-consumer").await;
    assert_eq!(shown.status, 200, "{:?}", shown.body);
    assert_eq!(shown.body["description"], "my own endpoint");
    assert_eq!(shown.body["updated_at"], "2026-01-03T00:00:00Z");

    // An empty description clears it; an id named twice: the last one wins.
    let cleared = put(
        &p,
        "s1",
        Some(body(&[("ep-consumer", "first"), ("ep-consumer", "")])),
    )
    .await;
    assert_eq!(cleared.status, 200, "{:?}", cleared.body);
    assert_eq!(cleared.body["connections"].as_array().unwrap().len(), 1);
    assert_eq!(listed(&p, "ep-consumer").await["description"], "");

    assert_eq!(
        emu.stats().by_operation.get("update_connections_desc"),
        Some(&2)
    );
}

#[tokio::test]
async fn a_consumer_cannot_describe_the_providers_connections() {
    let emu = emulator().await;
    let c = consumer(&emu);
    let answer = put(&c, "s1", Some(body(&[("ep-consumer", "mine now")]))).await;
    assert_eq!((answer.status, answer.code()), (400, "EndPoint.2003"));
    let p = provider(&emu);
    assert_eq!(
        listed(&p, "ep-consumer").await["description"],
        "from the endpoints entry"
    );
    let missing = put(&p, "no-such-service", Some(body(&[("ep-consumer", "x")]))).await;
    assert_eq!((missing.status, missing.code()), (400, "EndPoint.2003"));
}

#[tokio::test]
async fn invalid_bodies_are_refused_and_change_nothing() {
    let emu = emulator().await;
    let p = provider(&emu);
    let too_long = "y".repeat(513);
    let cases: Vec<(Option<Value>, &str, &str)> = vec![
        (None, "EndPoint.1004", "body is empty"),
        (
            Some(json!("not an object")),
            "EndPoint.1004",
            "Invalid request",
        ),
        (
            Some(json!({"connections": "ep-seeded"})),
            "EndPoint.1004",
            "Invalid request",
        ),
        (
            Some(json!({})),
            "EndPoint.0002",
            "connections is missing or empty",
        ),
        (
            Some(json!({"connections": []})),
            "EndPoint.0002",
            "connections is missing or empty",
        ),
        (
            Some(
                json!({"connections": [{"id": "ep-seeded", "description": "ok"}, {"description": "x"}]}),
            ),
            "EndPoint.0002",
            "connections[1].id is missing",
        ),
        (
            Some(body(&[("ep-seeded", "ok"), ("ep-consumer", &too_long)])),
            "EndPoint.0002",
            "expected at most 512",
        ),
        (
            Some(body(&[("ep-seeded", "ok"), ("ep-consumer", "<b>bold</b>")])),
            "EndPoint.0002",
            "contains < or >",
        ),
        (
            Some(body(&[("ep-seeded", "ok"), ("ep-s2", "another service's")])),
            "EndPoint.2013",
            "ep-s2",
        ),
        (
            Some(body(&[("ep-seeded", "ok"), ("no-such-endpoint", "x")])),
            "EndPoint.2013",
            "no-such-endpoint",
        ),
    ];
    for (sent, code, says) in cases {
        let answer = put(&p, "s1", sent.clone()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, code),
            "{sent:?}: {:?}",
            answer.body
        );
        let msg = answer.body["error_msg"].as_str().unwrap_or_default();
        assert!(msg.contains(says), "{sent:?}: {msg}");
    }
    assert_eq!(listed(&p, "ep-seeded").await["description"], "seeded note");
    assert_eq!(
        listed(&p, "ep-consumer").await["description"],
        "from the endpoints entry"
    );
    let other = p
        .get("/vpc-endpoint-services/s2/connections?id=ep-s2")
        .await;
    assert_eq!(other.body["connections"][0]["description"], "");
}
