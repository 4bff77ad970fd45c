//! `vpcep-warden demo`: the embedded emulator with a sample estate, every
//! sample event in `events/` run against it, and a short human summary.
//!
//! The estate (`demo-estate.json`) has a provider with three endpoint
//! services (`orders-api`, whose whitelist names the allowlisted accounts;
//! `billing-api`, whose whitelist has a `*` record; `catalog-api`, whose
//! whitelist allows an organizational unit and below by org path and
//! `partner-…` accounts by name), an organization the provider manages (units
//! Shops, Shops EU below it, and Labs), pending connections from allowlisted,
//! member and unknown accounts, an accepted one from an account no longer
//! allowed, failed endpoints old and young, one tagged to keep and one to keep
//! until 2999, and quotas near their limits. The demo allows each service's
//! whitelist (`service-whitelist`), reconciles in `report` mode, limits each
//! account to two connections per service and writes audit marks. Connection
//! events run first, ticks last, so each shows its own work.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;

use crate::config::Settings;
use crate::events::{self, Trigger};
use crate::jobs::Ctx;
use crate::report::Report;

const ESTATE: &str = include_str!("demo-estate.json");
/// The webhook secret the HTTP samples are signed with.
pub const WEBHOOK_SECRET: &str = "demo-webhook-secret";
/// Accounts the demo allowlists.
pub const ALLOWED_DOMAINS: [&str; 2] = [
    "0a11owed0000000000000000000000a1",
    "0a11owed0000000000000000000000a2",
];

/// Runs the demo.
pub async fn run() -> ExitCode {
    match demo().await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: the demo could not run: {e}");
            ExitCode::from(1)
        }
    }
}

async fn demo() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let estate = estate_with_times(ESTATE)?;
    let scenario = vpcep_emulator::Scenario::from_json(&estate.to_string())?;
    let emu = vpcep_emulator::start(scenario, vpcep_emulator::Options::default()).await?;
    let provider = &estate["accounts"][0];
    let field = |k: &str| provider[k].as_str().unwrap_or_default().to_owned();
    let mut settings = Settings::for_tests(
        &emu.base_url(),
        &field("project_id"),
        &field("ak"),
        &field("sk"),
    );
    settings.allowed_domains = ALLOWED_DOMAINS.iter().map(|d| d.to_string()).collect();
    // The judgement settings, so each shows: a removed account's accepted
    // connection is reported (not rejected), an account holds at most two
    // connections per service, decisions and notices are marked.
    // The provider's own endpoints connect to its services too: its account
    // is allowed, or reconciling would name them.
    settings.allowed_domains.push(field("domain_id"));
    // Each service's whitelist counts; org-path and name records are judged
    // against the organization, read from the emulator as the provider.
    settings.allow_service_whitelist = true;
    settings.domain_id = Some(field("domain_id"));
    settings.organizations.endpoint = emu.base_url();
    settings.iam_endpoint = Some(emu.base_url());
    settings.reconcile = crate::config::Reconcile::Report;
    settings.max_connections_per_account = Some(2);
    settings.audit_description = true;
    settings.webhook_secret = Some(crate::config::Secret::new(WEBHOOK_SECRET));
    let ctx = Ctx::new(settings)?;
    println!("VPCEP emulator with the demo estate at {}", emu.base_url());

    let out_dir = std::env::temp_dir().join("vpcep-warden-demo");
    std::fs::create_dir_all(&out_dir)?;
    let mut total = Report::new("tick", false);
    let mut failures = 0;
    for (name, payload) in ordered_samples(&ctx)? {
        let payload = resign(payload);
        let bytes = serde_json::to_vec(&payload)?;
        match super::run_event(&ctx, &bytes).await {
            Ok((_, outcome)) => {
                let r = &outcome.report;
                println!("{name:<34} {}", one_line(r));
                std::fs::write(out_dir.join(&name), serde_json::to_string_pretty(r)?)?;
                failures += usize::from(!r.is_clean());
                total.merge(outcome.report);
            }
            Err(e) => {
                println!("{name:<34} refused: {e}");
                failures += 1;
            }
        }
    }
    println!();
    print_summary(&total);
    println!("reports in   {}", out_dir.display());
    emu.stop().await;
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the demo did, each endpoint once, in its final state.
fn print_summary(total: &Report) {
    let approved: HashSet<&str> = total
        .approved
        .iter()
        .map(|e| e.endpoint_id.as_str())
        .collect();
    println!(
        "approved     {}",
        list(
            total
                .approved
                .iter()
                .map(|e| format!("{} ({})", e.endpoint_id, e.domain_id))
        )
    );
    println!(
        "left pending {}",
        list(
            total
                .left_pending
                .iter()
                .filter(|e| !approved.contains(e.endpoint_id.as_str()))
                .map(|e| format!("{} ({})", e.endpoint_id, e.domain_id))
        )
    );
    println!(
        "revoked      {}",
        list(total.revoked.iter().map(|e| format!(
            "{} ({}, {})",
            e.endpoint_id,
            e.domain_id,
            if e.rejected {
                "rejected"
            } else {
                "reported only"
            }
        )))
    );
    println!(
        "deleted      {}",
        list(
            total
                .deleted
                .iter()
                .map(|e| format!("{} ({})", e.endpoint_id, e.error_code))
        )
    );
    let deleted: HashSet<&str> = total
        .deleted
        .iter()
        .map(|e| e.endpoint_id.as_str())
        .collect();
    println!(
        "gc skipped   {}",
        list(
            total
                .gc_skipped
                .iter()
                .filter(|e| !deleted.contains(e.endpoint_id.as_str()))
                .map(|e| format!("{} ({})", e.endpoint_id, e.reason))
        )
    );
    println!(
        "alerts       {}",
        list(
            total
                .alerts
                .iter()
                .map(|a| format!("{} [{}]", a.dedup_key, a.sinks.join(",")))
        )
    );
}

fn one_line(r: &Report) -> String {
    format!(
        "approved {}, rejected {}, left {}, revoked {}, deleted {}, gc skipped {}, alerts {}, errors {}",
        r.approved.len(),
        r.rejected.len(),
        r.left_pending.len(),
        r.revoked.len(),
        r.deleted.len(),
        r.gc_skipped.len(),
        r.alerts.len(),
        r.errors.len()
    )
}

/// The items, each once, in first-seen order.
fn list(items: impl Iterator<Item = String>) -> String {
    let mut seen = HashSet::new();
    let v: Vec<String> = items.filter(|i| seen.insert(i.clone())).collect();
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(", ")
    }
}

/// The estate with `updated_at` values of `"-10m"` form turned into times that
/// many minutes ago, so young and old stay young and old whenever the demo runs.
fn estate_with_times(text: &str) -> Result<Value, serde_json::Error> {
    let mut estate: Value = serde_json::from_str(text)?;
    if let Some(endpoints) = estate["endpoints"].as_array_mut() {
        for e in endpoints {
            if let Some(minutes) = e["updated_at"]
                .as_str()
                .and_then(|s| s.strip_prefix('-'))
                .and_then(|s| s.strip_suffix('m'))
                .and_then(|m| m.parse::<i64>().ok())
            {
                let t = time::OffsetDateTime::now_utc() - time::Duration::minutes(minutes);
                e["updated_at"] = Value::String(format_time(t));
            }
        }
    }
    Ok(estate)
}

fn format_time(t: time::OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// The folder of sample events: `events/` of the source tree, else of the working directory.
fn events_dir() -> PathBuf {
    let in_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    if in_tree.is_dir() {
        in_tree
    } else {
        PathBuf::from("events")
    }
}

/// Every sample, connection events first and ticks last, each group by name.
fn ordered_samples(ctx: &Ctx) -> Result<Vec<(String, Value)>, Box<dyn std::error::Error>> {
    let dir = events_dir();
    let mut samples = Vec::new();
    for entry in
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "json") {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let value: Value = serde_json::from_slice(&std::fs::read(&path)?)?;
            let bytes = serde_json::to_vec(&resign(value.clone()))?;
            let is_tick = matches!(
                events::decode(&bytes, &ctx.settings, time::OffsetDateTime::now_utc())
                    .map(|d| d.trigger),
                Ok(Trigger::Tick { .. })
            );
            samples.push((is_tick, name, value));
        }
    }
    samples.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    Ok(samples.into_iter().map(|(_, n, v)| (n, v)).collect())
}

/// Signs an HTTP sample's body again with the demo secret and the current time
/// (a fixed signature would be stale after 300 s). Other samples are unchanged.
fn resign(mut event: Value) -> Value {
    let is_http = event.get("body").is_some() && event.get("requestContext").is_some();
    if is_http {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // A sample that cannot be re-signed runs as it is and is refused visibly.
        let _ = events::sign_http_event(&mut event, WEBHOOK_SECRET, now);
    }
    event
}
