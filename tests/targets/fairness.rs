//! Fairness under the shared concurrency limit: small targets finish before
//! a huge one, every request going through the one limit.

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

use super::{settings, target, warden_account, CUSTOMER_PROJECT, SOUTH_PROJECT};
use crate::helpers::{ctx, emulator, pending, ALLOWED, PROJECT, SERVICE};

/// An emulator answering after `latency_ms` with one service of `connections`
/// pending allowed connections, in project `project` of the warden.
async fn slow(project: &str, connections: usize) -> Emulator {
    let conns: Vec<Value> = (0..connections)
        .map(|i| pending(&format!("ep-{i:04}"), ALLOWED))
        .collect();
    let scenario = json!({
        "accounts": [warden_account(project)],
        "services": [{"id": SERVICE, "owner": "provider", "approval_enabled": true, "connections": conns}]
    });
    emulator(
        scenario,
        Options {
            latency_ms: 10,
            ..Options::default()
        },
    )
    .await
}

#[tokio::test]
async fn small_targets_finish_before_a_huge_one_under_the_shared_limit() {
    let big = slow(PROJECT, 100).await;
    let small_a = slow(CUSTOMER_PROJECT, 2).await;
    let small_b = slow(SOUTH_PROJECT, 2).await;
    let targets = json!([
        {"name": "big", "region": "cn-north-4", "project_id": PROJECT, "vpcep_endpoint": big.base_url()},
        {"name": "small-a", "region": "cn-north-4", "project_id": CUSTOMER_PROJECT, "vpcep_endpoint": small_a.base_url()},
        {"name": "small-b", "region": "cn-south-1", "project_id": SOUTH_PROJECT, "vpcep_endpoint": small_b.base_url()}
    ]);
    let mut s = settings(&big, targets);
    s.max_concurrency = 2;
    let ctx = ctx(s);
    let report = dispatch(
        &ctx,
        Trigger::Tick {
            jobs: vec![Job::Approve],
            targets: Vec::new(),
        },
    )
    .await
    .report;

    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(target(&report, "big").approved.len(), 100);
    let finished = |name: &str| {
        report
            .targets
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.finished)
            .unwrap()
    };
    assert_eq!(
        finished("big"),
        3,
        "{:?}",
        report
            .targets
            .iter()
            .map(|t| (&t.name, t.finished))
            .collect::<Vec<_>>()
    );
    assert!(finished("small-a") <= 2 && finished("small-b") <= 2);
    // Every request went through the one limit of 2: the big target sent 50 times as many.
    let (b, a) = (
        big.stats().by_operation["connection_action"],
        small_a.stats().by_operation["connection_action"],
    );
    assert_eq!((b, a), (100, 2));
    assert!(target(&report, "big").api_calls > 25 * target(&report, "small-a").api_calls);
}
