//! Revocation keeps its first sightings in the state store (no audit marks
//! needed), and does not proceed when the store cannot be read.

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::{Reconcile, StateSettings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};
use vpcep_warden::state::{Expected, Store};

use crate::helpers::*;

fn approve() -> Trigger {
    Trigger::Tick {
        jobs: vec![Job::Approve],
        targets: Vec::new(),
    }
}

fn directory(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "vpcep-warden-revoke-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn estate() -> vpcep_emulator::Emulator {
    emulator(
        json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [{"endpoint_id": "e-gone", "domain_id": STRANGER, "status": "accepted", "created_at": minutes_ago(600)}]}]}),
        Options::default(),
    )
    .await
}

#[tokio::test]
async fn a_first_sighting_kept_in_the_store_starts_the_grace_period_across_processes() {
    let dir = directory("grace");
    let emu = estate().await;
    let mut s = settings(&emu);
    s.reconcile = Reconcile::Reject;
    s.reconcile_grace_minutes = 60;
    s.state = StateSettings::file(&dir);
    // Each run its own context, as separate processes are.
    let first = dispatch(&ctx(s.clone()), approve()).await.report;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert!(!first.revoked[0].rejected);
    assert!(
        first.revoked[0].reason.contains("revoke scheduled at"),
        "{}",
        first.revoked[0].reason
    );
    let store = Store::from_settings(&s);
    let key = Store::project_key(PROJECT);
    let stored = store.backend().get(&key).await.unwrap().unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&stored.bytes).unwrap();
    let seen = format!("{SERVICE}/e-gone");
    assert!(doc["first_seen"][&seen].is_string(), "{doc}");
    let second = dispatch(&ctx(s.clone()), approve()).await.report;
    assert!(!second.revoked[0].rejected, "still within the grace period");
    // Two hours on: the grace period has passed since the kept sighting.
    let stored = store.backend().get(&key).await.unwrap().unwrap();
    doc = serde_json::from_slice(&stored.bytes).unwrap();
    let earlier = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    doc["first_seen"][&seen] = json!(earlier
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap());
    store
        .backend()
        .put(
            &key,
            doc.to_string().into_bytes(),
            &Expected::Version(stored.version),
        )
        .await
        .unwrap();
    let third = dispatch(&ctx(s.clone()), approve()).await.report;
    assert!(third.revoked[0].rejected, "{:?}", third.revoked);
    assert_eq!(
        connection_statuses(&ctx(s), SERVICE).await["e-gone"],
        "rejected"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn nothing_is_revoked_when_the_store_cannot_be_read_but_approval_goes_on() {
    let dir = directory("down");
    std::fs::write(dir.join("blocked"), b"x").unwrap();
    let emu = estate().await;
    let mut s = settings(&emu);
    s.reconcile = Reconcile::Reject;
    s.reconcile_grace_minutes = 0;
    s.state = StateSettings::file(dir.join("blocked"));
    let report = dispatch(&ctx(s.clone()), approve()).await.report;
    assert!(!report.revoked[0].rejected);
    assert!(
        report.revoked[0].reason.contains("state store"),
        "{}",
        report.revoked[0].reason
    );
    assert!(
        report.errors.iter().any(|e| e.job == "state"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        connection_statuses(&ctx(s), SERVICE).await["e-gone"],
        "accepted"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
