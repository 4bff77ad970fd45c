//! Shared test helpers: an emulator with a small estate, and settings for its provider.

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options, Scenario};
use vpcep_warden::config::Settings;
use vpcep_warden::jobs::Ctx;

pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";
pub const AK: &str = "HWTESTAKPROVIDER0001";
pub const SK: &str = "provider-secret-key-0000000000000000000";
pub const ALLOWED: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const STRANGER: &str = "ffffffffffffffffffffffffffffffff";
pub const SERVICE: &str = "5e000000-0000-4000-8000-000000000001";

/// The provider account every test estate starts with.
pub fn provider() -> Value {
    json!({"name": "provider", "domain_id": "dddddddddddddddddddddddddddddddd", "project_id": PROJECT, "ak": AK, "sk": SK})
}

/// Starts an emulator on `scenario` (a JSON value with `accounts` filled in when absent).
pub async fn emulator(mut scenario: Value, options: Options) -> Emulator {
    if scenario.get("accounts").is_none() {
        scenario["accounts"] = json!([provider()]);
    }
    let scenario = Scenario::from_json(&scenario.to_string()).expect("a valid scenario");
    vpcep_emulator::start(scenario, options)
        .await
        .expect("the emulator starts")
}

/// Settings for the provider against `emu`, with fast retries.
pub fn settings(emu: &Emulator) -> Settings {
    let mut s = Settings::for_tests(&emu.base_url(), PROJECT, AK, SK);
    s.allowed_domains = vec![ALLOWED.to_owned()];
    s.http_timeout_secs = 5;
    s
}

/// A client for the tests' own requests, with the warden's TLS setup
/// (reqwest's default client needs a crypto provider installed first).
pub fn http() -> reqwest::Client {
    vpcep_warden::tls::client_builder()
        .build()
        .expect("an HTTP client")
}

/// A context for `settings`.
pub fn ctx(settings: Settings) -> Ctx {
    Ctx::new(settings).expect("a client for the test settings")
}

/// A pending connection from `domain`.
pub fn pending(endpoint_id: &str, domain: &str) -> Value {
    json!({"endpoint_id": endpoint_id, "domain_id": domain, "status": "pendingAcceptance", "created_at": "2026-01-01T00:00:00Z"})
}

/// An endpoint of the provider.
pub fn endpoint(id: &str, status: &str, updated_at: &str, tags: &[&str]) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|k| json!({"key": k, "value": ""}))
        .collect();
    json!({"id": id, "owner": "provider", "status": status, "endpoint_service_id": SERVICE,
           "created_at": "2026-01-01T00:00:00Z", "updated_at": updated_at, "tags": tags})
}

/// `minutes` ago, as the API writes times.
pub fn minutes_ago(minutes: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

/// The statuses of a service's connections, by endpoint id.
pub async fn connection_statuses(
    ctx: &Ctx,
    service: &str,
) -> std::collections::BTreeMap<String, String> {
    ctx.client
        .list_connections(service, None, None)
        .await
        .expect("connections are listed")
        .into_iter()
        .map(|c| (c.id, c.status))
        .collect()
}
