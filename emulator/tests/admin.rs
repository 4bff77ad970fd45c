//! Admin routes, the library's admin equivalents, and scenario loading.

use serde_json::{json, Value};
use vpcep_emulator::{Options, Scenario};

use crate::support::*;

async fn admin(emu: &vpcep_emulator::Emulator, method: &str, path: &str, body: &str) -> Answer {
    plain(method, &format!("{}{path}", emu.base_url()), &[], body).await
}

#[tokio::test]
async fn state_shows_accounts_without_secrets_and_the_estate() {
    let emu = start(json!({"services": [{"id": "s1", "permissions": ["*"],
        "connections": [{"endpoint_id": "c1", "domain_id": CONSUMER_DOMAIN}]}]}))
    .await;
    let state = admin(&emu, "GET", "/__admin/state", "").await.body;
    assert_eq!(state, emu.state());
    let text = state.to_string();
    assert!(!text.contains("SK-provider") && !text.contains("token-provider"));
    assert_eq!(state["accounts"][1]["domain_id"], CONSUMER_DOMAIN);
    assert_eq!(
        state["services"][0]["connections"][0]["status"],
        "pendingAcceptance"
    );
    assert_eq!(state["services"][0]["permissions"], json!(["*"]));
    // The connection's domain is the consumer's, so the endpoint is the consumer's.
    assert_eq!(state["endpoints"][0]["owner"], "consumer");
    assert_eq!(consumer(&emu).get("/vpc-endpoints/c1").await.status, 200);
}

#[tokio::test]
async fn stats_count_requests_per_operation_and_reset() {
    let emu = start(json!({"services": [{"id": "s1"}]})).await;
    let p = provider(&emu);
    p.get("/vpc-endpoint-services/s1/connections").await;
    p.get("/vpc-endpoint-services/s1/connections").await;
    p.post(
        "/vpc-endpoint-services/s1/connections/action",
        json!({"action": "receive", "endpoints": ["x"]}),
    )
    .await;
    p.delete("/vpc-endpoints/x").await;
    let stats = admin(&emu, "GET", "/__admin/stats", "").await.body;
    assert_eq!(stats["total"], 4);
    assert_eq!(
        stats["by_operation"],
        json!({"list_connections": 2, "connection_action": 1, "delete_endpoint": 1})
    );
    assert_eq!(serde_json::to_value(emu.stats()).unwrap(), stats);
    admin(&emu, "POST", "/__admin/stats/reset", "").await;
    assert_eq!(emu.stats().total, 0);
    p.get("/quotas").await;
    emu.reset_stats();
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test]
async fn a_posted_scenario_replaces_the_state() {
    let emu = start(json!({"services": [{"id": "old"}]})).await;
    let new = scenario(json!({"services": [{"id": "new"}]}));
    let answer = admin(
        &emu,
        "POST",
        "/__admin/scenario",
        &serde_json::to_string(&new).unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let listed = provider(&emu).get("/vpc-endpoint-services").await;
    assert_eq!(listed.body["endpoint_services"][0]["id"], "new");
    assert_eq!(listed.body["total_count"], 1);
    for bad in [
        "{",
        "{\"services\": []}",
        "{\"accounts\": [{\"name\": \"x\"}]}",
    ] {
        let refused = admin(&emu, "POST", "/__admin/scenario", bad).await;
        assert_eq!(refused.status, 400, "{bad}");
    }
    emu.load_scenario(&scenario(json!({}))).unwrap();
    assert_eq!(
        provider(&emu).get("/vpc-endpoint-services").await.body["total_count"],
        0
    );
}

#[tokio::test]
async fn faults_are_set_partially_over_http() {
    let emu = start(json!({})).await;
    let set = admin(
        &emu,
        "POST",
        "/__admin/faults",
        r#"{"fault_rate": 1.0, "quirks": true}"#,
    )
    .await;
    assert_eq!(set.status, 200);
    assert_eq!(
        emu.options(),
        Options {
            fault_rate: 1.0,
            quirks: true,
            ..Options::default()
        }
    );
    assert_eq!(provider(&emu).get("/quotas").await.status, 500);
    admin(&emu, "POST", "/__admin/faults", r#"{"fault_rate": 0}"#).await;
    assert_eq!(provider(&emu).get("/quotas").await.status, 200);
    for bad in [r#"{"fault_rate": 2}"#, r#"{"latency": 1}"#, "nope"] {
        assert_eq!(
            admin(&emu, "POST", "/__admin/faults", bad).await.status,
            400,
            "{bad}"
        );
    }
    assert!(emu
        .set_faults(Options {
            rate_limit: Some(0.0),
            ..Options::default()
        })
        .is_err());
}

fn generated(seed: u64) -> Scenario {
    scenario(
        json!({"generate": {"seed": seed, "services": 3, "connections_per_service": 40,
        "pending_ratio": 0.25, "allowed_domains": ["allowed-a", "allowed-b"],
        "endpoints": 50, "failed_ratio": 0.4}}),
    )
}

fn connection_summary(state: &Value) -> Vec<(String, String, String)> {
    state["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["endpoint_id"].as_str().unwrap().to_owned(),
                        c["domain_id"].as_str().unwrap().to_owned(),
                        c["status"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn a_generated_estate_follows_the_rule_and_is_reproducible() {
    let a = vpcep_emulator::start(generated(7), Options::default())
        .await
        .unwrap();
    let b = vpcep_emulator::start(generated(7), Options::default())
        .await
        .unwrap();
    let c = vpcep_emulator::start(generated(8), Options::default())
        .await
        .unwrap();
    let (sa, sb, sc) = (a.state(), b.state(), c.state());
    assert_eq!(connection_summary(&sa), connection_summary(&sb));
    assert_ne!(connection_summary(&sa), connection_summary(&sc));

    let p = provider(&a);
    let services = p.get("/vpc-endpoint-services?limit=1000").await;
    assert_eq!(services.body["total_count"], 3);
    let mut allowed = 0;
    for svc in services.body["endpoint_services"].as_array().unwrap() {
        let id = svc["id"].as_str().unwrap();
        let all = p
            .get(&format!(
                "/vpc-endpoint-services/{id}/connections?limit=1000"
            ))
            .await;
        assert_eq!(all.body["total_count"], 40);
        let pending = p
            .get(&format!(
                "/vpc-endpoint-services/{id}/connections?status=pendingAcceptance&limit=1000"
            ))
            .await;
        assert_eq!(pending.body["total_count"], 10);
        allowed += pending.body["connections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["domain_id"] == "allowed-a" || c["domain_id"] == "allowed-b")
            .count();
    }
    assert_eq!(allowed, 15);

    let endpoints = p.get("/vpc-endpoints?limit=1000").await;
    assert_eq!(endpoints.body["total_count"], 50);
    let list = endpoints.body["endpoints"].as_array().unwrap();
    let failed: Vec<&Value> = list.iter().filter(|e| e["status"] == "failed").collect();
    assert_eq!(failed.len(), 20);
    let kept = failed
        .iter()
        .filter(|e| {
            e["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == "warden-keep")
        })
        .count();
    assert_eq!(kept, 2);
    let now = time::OffsetDateTime::now_utc();
    let old = failed
        .iter()
        .filter(|e| {
            let at = time::OffsetDateTime::parse(
                e["updated_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            now - at > time::Duration::days(1)
        })
        .count();
    assert_eq!(old, 16);
}
