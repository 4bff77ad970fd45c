//! Paging, filters and sort orders of the list APIs.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::support::*;

/// A service with `n` connections, created one second apart; every third pending.
fn many_connections(n: usize) -> Value {
    let connections: Vec<Value> = (0..n)
        .map(|i| {
            let status = if i % 3 == 0 {
                "pendingAcceptance"
            } else {
                "accepted"
            };
            let at = time::OffsetDateTime::UNIX_EPOCH
                + time::Duration::seconds(1_700_000_000 + i as i64);
            let at = at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            json!({"endpoint_id": format!("ep-{i:05}"), "status": status, "created_at": at})
        })
        .collect();
    json!({"services": [{"id": "s1", "connections": connections}]})
}

#[tokio::test]
async fn connections_are_walked_page_by_page_without_duplicates() {
    let emu = start(many_connections(2500)).await;
    let p = provider(&emu);
    let mut seen = HashSet::new();
    for offset in [0, 1000, 2000, 3000] {
        let page = p
            .get(&format!(
                "/vpc-endpoint-services/s1/connections?limit=1000&offset={offset}"
            ))
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.body["total_count"], 2500);
        let items = page.body["connections"].as_array().unwrap();
        assert_eq!(items.len(), [1000, 1000, 500, 0][offset / 1000]);
        for c in items {
            assert!(
                seen.insert(c["id"].as_str().unwrap().to_owned()),
                "duplicate {c}"
            );
        }
    }
    assert_eq!(seen.len(), 2500);
}

#[tokio::test]
async fn limit_defaults_to_ten_and_bad_paging_is_refused() {
    let emu = start(many_connections(25)).await;
    let p = provider(&emu);
    let page = p.get("/vpc-endpoint-services/s1/connections").await;
    assert_eq!(page.body["connections"].as_array().unwrap().len(), 10);
    for (query, code) in [
        ("limit=1001", "EndPoint.0006"),
        ("limit=ten", "EndPoint.0006"),
        ("offset=-3", "EndPoint.0010"),
        ("sort_key=name", "EndPoint.0017"),
        ("sort_dir=sideways", "EndPoint.0018"),
        ("status=bored", "EndPoint.0019"),
        ("marker_id=abc", "EndPoint.0021"),
    ] {
        let answer = p
            .get(&format!("/vpc-endpoint-services/s1/connections?{query}"))
            .await;
        assert_eq!((answer.status, answer.code()), (400, code), "{query}");
    }
}

#[tokio::test]
async fn connections_are_filtered_by_status_id_and_marker() {
    let emu = start(many_connections(30)).await;
    let p = provider(&emu);
    let pending = p
        .get("/vpc-endpoint-services/s1/connections?status=pendingAcceptance&limit=100")
        .await;
    assert_eq!(pending.body["total_count"], 10);
    assert!(pending.body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "pendingAcceptance"));
    let one = p
        .get("/vpc-endpoint-services/s1/connections?id=ep-00007")
        .await;
    assert_eq!(one.body["total_count"], 1);
    let marker = one.body["connections"][0]["marker_id"].as_u64().unwrap();
    let by_marker = p
        .get(&format!(
            "/vpc-endpoint-services/s1/connections?marker_id={marker}"
        ))
        .await;
    assert_eq!(by_marker.body["connections"][0]["id"], "ep-00007");
    assert_eq!(
        one.body["connections"][0]["domain_id"]
            .as_str()
            .unwrap()
            .len(),
        32
    );
}

#[tokio::test]
async fn lists_sort_by_creation_time_newest_first_unless_asked() {
    let emu = start(many_connections(5)).await;
    let p = provider(&emu);
    let ids = |v: &Value| -> Vec<String> {
        v["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let desc = p.get("/vpc-endpoint-services/s1/connections").await;
    assert_eq!(
        ids(&desc.body),
        ["ep-00004", "ep-00003", "ep-00002", "ep-00001", "ep-00000"]
    );
    let asc = p
        .get("/vpc-endpoint-services/s1/connections?sort_key=created_at&sort_dir=asc")
        .await;
    assert_eq!(
        ids(&asc.body),
        ["ep-00000", "ep-00001", "ep-00002", "ep-00003", "ep-00004"]
    );
    let updated = p
        .get("/vpc-endpoint-services/s1/connections?sort_key=updated_at&sort_dir=asc")
        .await;
    assert_eq!(ids(&updated.body), ids(&asc.body));
}

#[tokio::test]
async fn endpoints_are_paged_and_sorted() {
    let endpoints: Vec<Value> = (0..35)
        .map(|i| {
            json!({"id": format!("e{i:02}"), "owner": "provider",
                        "created_at": format!("2026-01-01T00:00:{i:02}Z"),
                        "updated_at": format!("2026-02-01T00:00:{:02}Z", 59 - i)})
        })
        .collect();
    let emu = start(json!({"endpoints": endpoints})).await;
    let p = provider(&emu);
    let first = p.get("/vpc-endpoints?limit=20").await;
    assert_eq!(first.body["total_count"], 35);
    assert_eq!(first.body["endpoints"][0]["id"], "e34");
    let second = p.get("/vpc-endpoints?limit=20&offset=20").await;
    assert_eq!(second.body["endpoints"].as_array().unwrap().len(), 15);
    let by_update = p
        .get("/vpc-endpoints?sort_key=updated_at&sort_dir=desc&limit=1")
        .await;
    assert_eq!(by_update.body["endpoints"][0]["id"], "e00");
    let by_id = p.get("/vpc-endpoints?id=e07").await;
    assert_eq!(
        by_id.body["endpoints"][0]["created_at"],
        "2026-01-01T00:00:07Z"
    );
}
