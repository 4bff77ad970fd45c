//! `/metrics` of the real server: the numbers of its ticks, each series
//! about an estate labelled with its target.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};

use super::server::*;
use crate::helpers::*;

/// Scrapes `/metrics` until a tick has been recorded.
async fn after_a_tick(server: &Server) -> String {
    let started = Instant::now();
    loop {
        let text = server.metrics().await;
        if sample(&text, "vpcep_warden_ticks_total") >= Some(1.0) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no tick: {}",
            server.stderr()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_show_the_numbers_of_the_scheduled_tick() {
    let emu = emulator(estate(), Options::default()).await;
    let server = Server::start(&emu, &["--every", "1h"]);
    let text = after_a_tick(&server).await;
    assert!(
        text.contains("# TYPE vpcep_warden_quota_used gauge\n"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "vpcep_warden_quota_limit{target=\"default\",type=\"endpoint\"}"
        ),
        Some(150.0),
        "{text}"
    );
    // The quota job reads while gc deletes: the failed endpoint may or may not count.
    let used = sample(
        &text,
        "vpcep_warden_quota_used{target=\"default\",type=\"endpoint\"}",
    );
    assert!(used == Some(0.0) || used == Some(1.0), "{text}");
    for (name, expected) in [
        ("vpcep_warden_approved_total", 1.0),
        ("vpcep_warden_deleted_total", 1.0),
        ("vpcep_warden_rejected_total", 0.0),
        ("vpcep_warden_errors_total", 0.0),
        ("vpcep_warden_pending_connections", 1.0),
    ] {
        let name = format!("{name}{{target=\"default\"}}");
        assert_eq!(sample(&text, &name), Some(expected), "{name}: {text}");
    }
    assert_eq!(
        sample(&text, "vpcep_warden_api_calls_total"),
        Some(emu.stats().total as f64),
        "{text}"
    );
    let last = sample(&text, "vpcep_warden_last_tick_timestamp_seconds").unwrap();
    assert!((last - now() as f64).abs() < 60.0, "{text}");
}

/// `count` endpoints of the provider in use (accepted), none of them failed.
fn in_use(count: usize, tag: &str) -> Value {
    let endpoints: Vec<Value> = (0..count)
        .map(|i| {
            let mut e = endpoint(
                &format!("e{tag}000000-0000-4000-8000-{i:012}"),
                "accepted",
                &minutes_ago(5),
                &[],
            );
            e["endpoint_service_id"] = json!(SERVICE);
            e
        })
        .collect();
    json!({
        "quotas": {"endpoint": 150, "endpoint_service": 20},
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [pending(&format!("{tag}-stranger"), STRANGER)]}],
        "endpoints": endpoints,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_target_has_its_own_quota_series() {
    let north: Emulator = emulator(in_use(149, "a"), Options::default()).await;
    let south: Emulator = emulator(in_use(1, "b"), Options::default()).await;
    let targets = json!([
        {"name": "north", "region": "cn-north-4", "project_id": PROJECT, "vpcep_endpoint": north.base_url()},
        {"name": "south", "region": "cn-south-1", "project_id": PROJECT, "vpcep_endpoint": south.base_url()},
    ])
    .to_string();
    let server = Server::start_with(&north, &["--every", "1h"], &[("WARDEN_TARGETS", &targets)]);
    let text = after_a_tick(&server).await;
    for (series, expected) in [
        (
            "vpcep_warden_quota_used{target=\"north\",type=\"endpoint\"}",
            149.0,
        ),
        (
            "vpcep_warden_quota_used{target=\"south\",type=\"endpoint\"}",
            1.0,
        ),
        (
            "vpcep_warden_quota_limit{target=\"north\",type=\"endpoint\"}",
            150.0,
        ),
        (
            "vpcep_warden_quota_limit{target=\"south\",type=\"endpoint\"}",
            150.0,
        ),
        ("vpcep_warden_pending_connections{target=\"north\"}", 1.0),
        ("vpcep_warden_pending_connections{target=\"south\"}", 1.0),
        ("vpcep_warden_errors_total{target=\"north\"}", 0.0),
        ("vpcep_warden_errors_total{target=\"south\"}", 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(expected), "{series}: {text}");
    }
}
