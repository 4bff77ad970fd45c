//! Faults on demand: latency, random 500s, the rate limit and the quirks.

use std::time::{Duration, Instant};

use serde_json::json;
use vpcep_emulator::Options;

use crate::support::*;

#[tokio::test]
async fn latency_is_added_to_every_api_request() {
    let emu = start_with(
        json!({}),
        Options {
            latency_ms: 250,
            ..Options::default()
        },
    )
    .await;
    let p = provider(&emu);
    let started = Instant::now();
    assert_eq!(p.get("/quotas").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(250));
    let admin_started = Instant::now();
    plain("GET", &format!("{}/__admin/stats", emu.base_url()), &[], "").await;
    assert!(admin_started.elapsed() < Duration::from_millis(250));
}

#[tokio::test]
async fn a_fault_rate_of_one_fails_every_api_request_but_not_admin() {
    let emu = start_with(
        json!({}),
        Options {
            fault_rate: 1.0,
            ..Options::default()
        },
    )
    .await;
    let p = provider(&emu);
    for path in ["/quotas", "/vpc-endpoints", "/vpc-endpoint-services"] {
        let answer = p.get(path).await;
        assert_eq!((answer.status, answer.code()), (500, "EndPoint.0001"));
    }
    let typo = plain("GET", &format!("{}/__admin/stat", emu.base_url()), &[], "").await;
    assert_eq!((typo.status, typo.code()), (404, "EndPoint.0005"));
    let admin = plain("GET", &format!("{}/__admin/stats", emu.base_url()), &[], "").await;
    assert_eq!(admin.status, 200);
    assert_eq!(admin.body["faulted"], 3);
    assert_eq!(admin.body["total"], 3);
    assert_eq!(admin.body["by_operation"]["list_quotas"], 1);
}

#[tokio::test]
async fn requests_above_the_rate_limit_get_endpoint_0022() {
    let emu = start_with(
        json!({}),
        Options {
            rate_limit: Some(5.0),
            ..Options::default()
        },
    )
    .await;
    let p = provider(&emu);
    let mut codes = Vec::new();
    for _ in 0..15 {
        let answer = p.get("/quotas").await;
        codes.push((answer.status, answer.code().to_owned()));
    }
    let limited = codes
        .iter()
        .filter(|(s, c)| *s == 400 && c == "EndPoint.0022")
        .count();
    let served = codes.iter().filter(|(s, _)| *s == 200).count();
    assert!(limited >= 5, "{codes:?}");
    assert!(served >= 5, "{codes:?}");
    assert_eq!(emu.stats().rate_limited, limited as u64);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(p.get("/quotas").await.status, 200);
}

#[tokio::test]
async fn quirks_send_strings_where_numbers_and_booleans_were() {
    let scenario = json!({"services": [
        {"id": "s1", "public": true, "connections": [{"endpoint_id": "e1", "status": "accepted"}]}
    ], "endpoints": [{"id": "mine", "owner": "provider", "endpoint_service_id": "s1", "enable_dns": true}]});
    let emu = start_with(
        scenario,
        Options {
            quirks: true,
            ..Options::default()
        },
    )
    .await;
    let p = provider(&emu);
    let conns = p.get("/vpc-endpoint-services/s1/connections?id=e1").await;
    assert!(
        conns.body["connections"][0]["marker_id"].is_string(),
        "{}",
        conns.body
    );
    assert!(conns.body["total_count"].is_u64());
    let svc = p.get("/vpc-endpoint-services/s1").await;
    assert!(svc.body["ports"][0]["client_port"].is_string());
    assert!(svc.body["ports"][0]["server_port"].is_string());
    let ep = p.get("/vpc-endpoints/mine").await;
    assert_eq!(ep.body["enable_dns"], "true");
    let public = p.get("/vpc-endpoint-services/public").await;
    assert_eq!(public.body["endpoint_services"][0]["is_charge"], "false");

    emu.set_faults(Options::default()).unwrap();
    let plain_ep = p.get("/vpc-endpoints/mine").await;
    assert_eq!(plain_ep.body["enable_dns"], true);
    assert!(plain_ep.body["marker_id"].is_u64());
}
