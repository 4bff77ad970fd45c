//! Benchmark: loads a generated estate (100 services x 1,000 connections and
//! 10,000 endpoints), then times 1,000-item pages over signed requests.
//!
//! `cargo run --release -p vpcep-emulator --example bench`
//!
//! Prints the load time, the peak resident memory (`VmHWM`) and the
//! median / p95 / max round-trip time of a 1,000-item page, measured on the
//! client over loopback (an upper bound of the server's time).

use std::time::{Duration, Instant};

use hwcloud_sign::{sign, Request, SigningKey};
use serde_json::{json, Value};
use vpcep_emulator::{Options, Scenario};

const PROJECT: &str = "bench-project";
const ROUNDS: usize = 200;

fn scenario() -> Result<Scenario, vpcep_emulator::Error> {
    Scenario::from_json(
        &json!({
            "accounts": [{"name": "owner", "domain_id": "benchdomain", "project_id": PROJECT,
                          "ak": "BENCHAK", "sk": "bench-secret"}],
            "quotas": {"endpoint": 20000, "endpoint_service": 200},
            "generate": {"seed": 1, "services": 100, "connections_per_service": 1000,
                         "pending_ratio": 0.05, "allowed_domains": ["allowed1", "allowed2"],
                         "endpoints": 10000, "failed_ratio": 0.02}
        })
        .to_string(),
    )
}

/// Peak resident memory of this process, from `/proc/self/status`.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// One signed GET: the body size and the server's own time (`Server-Timing`).
async fn get(
    client: &reqwest::Client,
    base: &str,
    path: &str,
) -> Result<(Vec<u8>, Duration), String> {
    let url = format!("{base}{path}");
    let request = Request::new("GET", &url)
        .map_err(|e| e.to_string())?
        .header("Content-Type", "application/json");
    let signed = sign(
        &request,
        &SigningKey::new("BENCHAK", "bench-secret"),
        time::OffsetDateTime::now_utc(),
    );
    let response = client
        .get(&url)
        .header("Content-Type", "application/json")
        .header("X-Sdk-Date", signed.date)
        .header("Authorization", signed.authorization)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let server = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("app;dur="))
        .and_then(|ms| ms.parse::<f64>().ok())
        .map(|ms| Duration::from_secs_f64(ms / 1e3))
        .ok_or("no Server-Timing header")?;
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
    }
    Ok((body.to_vec(), server))
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    format!(
        "median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    )
}

/// Round-trip and server times of `ROUNDS` requests, and the last body's size.
async fn time_pages(
    client: &reqwest::Client,
    base: &str,
    paths: &[String],
) -> Result<(Vec<Duration>, Vec<Duration>, usize), String> {
    let (mut round_trips, mut server) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
    let mut size = 0;
    for i in 0..ROUNDS {
        let started = Instant::now();
        let (body, spent) = get(client, base, &paths[i % paths.len()]).await?;
        round_trips.push(started.elapsed());
        server.push(spent);
        size = body.len();
    }
    Ok((round_trips, server, size))
}

async fn report(
    client: &reqwest::Client,
    base: &str,
    what: &str,
    paths: &[String],
) -> Result<(), String> {
    let (round_trips, server, size) = time_pages(client, base, paths).await?;
    println!("{what}, {size} bytes, x {ROUNDS}:");
    println!("  server time: {}", summary(server));
    println!("  round trip:  {}", summary(round_trips));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let scenario = scenario().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let emulator = vpcep_emulator::start(scenario, Options::default())
        .await
        .map_err(|e| e.to_string())?;
    let load = started.elapsed();
    println!(
        "load: 100 services x 1,000 connections + 10,000 endpoints in {:.0} ms",
        load.as_secs_f64() * 1e3
    );
    println!("peak RSS after load: {}", peak_rss());

    let base = emulator.base_url();
    // reqwest is built without a crypto provider of its own: ring, as the warden.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let (listing, _) = get(
        &client,
        &base,
        &format!("/v1/{PROJECT}/vpc-endpoint-services?limit=1000"),
    )
    .await?;
    let listing: Value = serde_json::from_slice(&listing).map_err(|e| e.to_string())?;
    let ids: Vec<String> = listing["endpoint_services"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    let pages = |query: &str| -> Vec<String> {
        ids.iter()
            .map(|id| format!("/v1/{PROJECT}/vpc-endpoint-services/{id}/connections?{query}"))
            .collect()
    };
    report(
        &client,
        &base,
        "connections page (1,000 of a service's 1,000)",
        &pages("limit=1000"),
    )
    .await?;
    let endpoint_pages: Vec<String> = (0..10)
        .map(|i| format!("/v1/{PROJECT}/vpc-endpoints?limit=1000&offset={}", i * 1000))
        .collect();
    report(
        &client,
        &base,
        "endpoints page (1,000 of 10,000)",
        &endpoint_pages,
    )
    .await?;
    report(
        &client,
        &base,
        "pending connections of a service (50)",
        &pages("status=pendingAcceptance&limit=1000"),
    )
    .await?;
    let services = vec![format!("/v1/{PROJECT}/vpc-endpoint-services?limit=1000")];
    report(
        &client,
        &base,
        "services page (100, with connection counts)",
        &services,
    )
    .await?;
    println!("peak RSS at the end: {}", peak_rss());
    emulator.stop().await;
    Ok(())
}
