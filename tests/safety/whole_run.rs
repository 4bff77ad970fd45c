//! A run acts as a whole: the revoke and delete caps count across every
//! target, and one failed list or whitelist read anywhere revokes nothing.

use serde_json::json;
use vpcep_warden::events::Job;

use super::model::{Change, Estate, Model};
use super::{
    actions, conn, one, run, service, settings, tick, GOOD, PROJECTS, REJECT_AT_ONCE, STRANGER,
};

/// `per` accepted connections of a stranger and `failed` failed endpoints
/// an hour old in each of the first `projects` projects.
async fn many_targets(projects: usize, per: usize, failed: usize) -> Model {
    let estates = PROJECTS[..projects]
        .iter()
        .map(|p| {
            let connections = (0..per)
                .map(|i| conn(&format!("e-{i}"), Some(STRANGER), "accepted", None))
                .collect();
            let endpoints = (0..failed)
                .map(|i| {
                    json!({"id": format!("f-{i}"), "status": "failed",
                    "updated_at": "2026-01-01T00:00:00Z", "created_at": "2026-01-01T00:00:00Z"})
                })
                .collect();
            let estate = Estate {
                services: vec![service("svc", connections)],
                endpoints,
                ..Estate::default()
            };
            (p.to_string(), estate)
        })
        .collect();
    Model::start(estates).await
}

#[tokio::test]
async fn the_revoke_and_delete_caps_count_across_every_target_of_a_run() {
    let model = many_targets(3, 4, 2).await;
    let mut extra = REJECT_AT_ONCE.to_vec();
    extra.extend([
        ("WARDEN_ALLOWED_DOMAINS", GOOD),
        ("WARDEN_RECONCILE_MAX", "5"),
        ("WARDEN_GC_MAX_DELETES", "2"),
    ]);
    let report = run(settings(&model, 3, &extra), tick(&[Job::Approve, Job::Gc])).await;
    assert_eq!(model.changes(), Vec::<Change>::new(), "nothing anywhere");
    for kind in ["reconcile_over_limit", "gc_over_limit"] {
        let raised = report.alerts.iter().filter(|a| a.kind == kind).count();
        assert_eq!(raised, 1, "one {kind} alert for the run");
    }
    assert!(report
        .revoked
        .iter()
        .all(|r| !r.rejected && r.reason.contains("12 connections are due across the run")));
    // Under the caps, every target acts.
    let model = many_targets(3, 1, 1).await;
    let report = run(settings(&model, 3, &extra), tick(&[Job::Approve, Job::Gc])).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(actions(&model).len(), 3);
}

#[tokio::test]
async fn a_failed_list_or_whitelist_read_anywhere_in_the_run_revokes_nothing() {
    for fault in ["connections", "permissions"] {
        let stale = |svc: &str| {
            let mut s = service(
                svc,
                (0..4)
                    .map(|i| conn(&format!("{svc}-{i}"), Some(STRANGER), "accepted", None))
                    .collect(),
            );
            s.permissions = vec![json!({"id": "r", "permission": format!("iam:domain::{GOOD}")})];
            s
        };
        let mut broken = stale("s2");
        match fault {
            "connections" => broken.connections_fail = true,
            _ => broken.permissions_fail = true,
        }
        let model = Model::start(one(vec![stale("s1"), broken])).await;
        let mut extra = REJECT_AT_ONCE.to_vec();
        extra.extend([
            ("WARDEN_ALLOWED_DOMAINS", "service-whitelist"),
            ("WARDEN_RECONCILE_MAX", "5"),
        ]);
        let report = run(settings(&model, 1, &extra), tick(&[Job::Approve])).await;
        assert_eq!(actions(&model), Vec::<(String, String)>::new(), "{fault}");
        assert_eq!(report.revoked.len(), 4, "{fault}");
        assert!(
            report
                .revoked
                .iter()
                .all(|r| r.reason.contains("a read of this run failed")),
            "{fault}: {:?}",
            report.revoked
        );
    }
}
