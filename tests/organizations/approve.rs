//! Approval by organization against the emulator: an account in an allowed
//! unit, or with an allowed name, is approved through a whitelist record or
//! `WARDEN_ALLOWED_ORG_PATHS`; one outside is not; an organization the
//! warden cannot read leaves such accounts pending with the reason, and
//! nothing is rejected or revoked on their account.

use serde_json::{json, Value};
use vpcep_emulator::{Emulator, Options};
use vpcep_warden::config::{NotAllowed, Reconcile, Settings};
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};
use vpcep_warden::organization::PathPattern;
use vpcep_warden::report::Report;

use crate::helpers::{self, connection_statuses, ctx, minutes_ago, SERVICE};

const PROVIDER: &str = "dddddddddddddddddddddddddddddddd";
/// In `ou-shops`, named `shop-01`.
const INSIDE: &str = "11111111111111111111111111111111";
/// In `ou-eu`, below `ou-shops`, named `shop-eu`.
const NESTED: &str = "22222222222222222222222222222222";
/// In `ou-ops`, named `ops`.
const OUTSIDE: &str = "33333333333333333333333333333333";
/// In no organization.
const STRANGER: &str = "44444444444444444444444444444444";

pub(super) const SHOPS: &str = "o-test/r-test/ou-shops";

/// The organization `o-test`, managed by `manager`; the provider is a member.
fn organization(manager: &str) -> Value {
    let root_accounts = match manager {
        "provider" => json!([]),
        _ => json!([{"domain_id": PROVIDER}]),
    };
    json!({"id": "o-test", "management_account": manager, "roots": [{"id": "r-test", "accounts": root_accounts, "units": [
        {"id": "ou-shops", "accounts": [{"domain_id": INSIDE, "name": "shop-01"}],
         "units": [{"id": "ou-eu", "accounts": [{"domain_id": NESTED, "name": "shop-eu"}]}]},
        {"id": "ou-ops", "accounts": [{"domain_id": OUTSIDE, "name": "ops"}]}
    ]}]})
}

fn conn(id: &str, domain: &str, status: &str) -> Value {
    json!({"endpoint_id": id, "domain_id": domain, "status": status, "created_at": minutes_ago(30)})
}

/// One pending connection from each account.
pub(super) fn pending_from_all() -> Vec<Value> {
    [
        ("e-inside", INSIDE),
        ("e-nested", NESTED),
        ("e-outside", OUTSIDE),
        ("e-stranger", STRANGER),
    ]
    .iter()
    .map(|(id, d)| conn(id, d, "pendingAcceptance"))
    .collect()
}

/// The emulator: the provider (and, when `manager` is `boss`, the account
/// that manages the organization instead), one service with `permissions`
/// and `connections`.
pub(super) async fn estate(
    manager: &str,
    permissions: &[&str],
    connections: Vec<Value>,
) -> Emulator {
    helpers::emulator(
        json!({
            "accounts": [helpers::provider(),
                {"name": "boss", "domain_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "project_id": "p-boss", "ak": "AK-BOSS", "sk": "SK-boss"}],
            "organization": organization(manager),
            "services": [{"id": SERVICE, "owner": "provider", "approval_enabled": true,
                "permissions": permissions, "connections": connections}]
        }),
        Options::default(),
    )
    .await
}

/// The provider's settings: the Organizations API and IAM at the emulator,
/// pending connections not allowed rejected.
pub(super) fn settings(emu: &Emulator, whitelist: bool) -> Settings {
    let mut s = helpers::settings(emu);
    s.allowed_domains = Vec::new();
    s.allow_service_whitelist = whitelist;
    s.domain_id = Some(PROVIDER.into());
    s.organizations.endpoint = emu.base_url();
    s.iam_endpoint = Some(emu.base_url());
    s.not_allowed = NotAllowed::Reject;
    s
}

async fn tick(s: Settings) -> (vpcep_warden::jobs::Ctx, Report) {
    let ctx = ctx(s);
    let trigger = Trigger::Tick {
        jobs: vec![Job::Approve],
        targets: Vec::new(),
    };
    let report = dispatch(&ctx, trigger).await.report;
    (ctx, report)
}

fn endpoints<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    let mut out: Vec<String> = items.iter().map(|i| id(i).to_owned()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn an_account_in_a_whitelisted_unit_is_approved_and_one_outside_is_not() {
    let record = format!("organizations:orgPath::{SHOPS}/*");
    let emu = estate("provider", &[&record], pending_from_all()).await;
    let (ctx, report) = tick(settings(&emu, true)).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        endpoints(&report.approved, |e| &e.endpoint_id),
        ["e-inside", "e-nested"]
    );
    assert_eq!(
        report.approved[0].reason,
        "account in an organizational unit of the service's whitelist"
    );
    // Outside the unit, and outside the organization the record names: rejected.
    assert_eq!(
        endpoints(&report.rejected, |e| &e.endpoint_id),
        ["e-outside", "e-stranger"]
    );
    let statuses = connection_statuses(&ctx, SERVICE).await;
    assert_eq!(statuses["e-inside"], "accepted");
    assert_eq!(statuses["e-outside"], "rejected");
}

#[tokio::test]
async fn an_account_with_an_allowed_name_is_approved_and_a_stranger_s_name_is_not_guessed() {
    let emu = estate("provider", &["iam:domainName::shop-.*"], pending_from_all()).await;
    let (_, report) = tick(settings(&emu, true)).await;
    assert_eq!(
        endpoints(&report.approved, |e| &e.endpoint_id),
        ["e-inside", "e-nested"]
    );
    assert_eq!(
        endpoints(&report.rejected, |e| &e.endpoint_id),
        ["e-outside"]
    );
    // An account outside the organization: its name cannot be read, so it waits.
    let waiting: Vec<_> = report
        .left_pending
        .iter()
        .map(|e| (e.endpoint_id.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].0, "e-stranger");
    assert!(
        waiting[0].1.contains("its name cannot be read"),
        "{}",
        waiting[0].1
    );
}

#[tokio::test]
async fn warden_allowed_org_paths_approve_the_units_it_names_without_a_whitelist() {
    let emu = estate("provider", &[], pending_from_all()).await;
    let mut s = settings(&emu, false);
    s.organizations.allowed_paths = vec![PathPattern::parse(SHOPS).unwrap()];
    let (_, report) = tick(s).await;
    assert_eq!(
        endpoints(&report.approved, |e| &e.endpoint_id),
        ["e-inside"]
    );
    assert_eq!(
        report.approved[0].reason,
        "account in an organizational unit of WARDEN_ALLOWED_ORG_PATHS"
    );
    // Without a wildcard the unit's own accounts only: the one below it is not allowed.
    assert_eq!(
        endpoints(&report.rejected, |e| &e.endpoint_id),
        ["e-nested", "e-outside", "e-stranger"]
    );
}

#[tokio::test]
async fn an_unreadable_organization_leaves_accounts_pending_with_the_reason_and_revokes_nothing() {
    let mut connections = pending_from_all();
    connections.push(conn("e-accepted-outside", OUTSIDE, "accepted"));
    connections.push(conn(
        "e-listed",
        "cccccccccccccccccccccccccccccccc",
        "pendingAcceptance",
    ));
    // The provider is a plain member: the Organizations API refuses it the tree.
    let record = format!("organizations:orgPath::{SHOPS}/*");
    let emu = estate(
        "boss",
        &[
            &record,
            "iam:domainName::shop-.*",
            "iam:domain::cccccccccccccccccccccccccccccccc",
        ],
        connections,
    )
    .await;
    let mut s = settings(&emu, true);
    s.reconcile = Reconcile::Reject;
    s.reconcile_grace_minutes = 0;
    let (ctx, report) = tick(s).await;
    assert_eq!(
        endpoints(&report.approved, |e| &e.endpoint_id),
        ["e-listed"]
    );
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert!(
        report.revoked.iter().all(|r| !r.rejected),
        "{:?}",
        report.revoked
    );
    let outside = report
        .revoked
        .iter()
        .find(|r| r.endpoint_id == "e-accepted-outside")
        .expect("the accepted connection is named, not revoked");
    assert!(
        outside.reason.contains("cannot be read"),
        "{}",
        outside.reason
    );
    assert_eq!(report.left_pending.len(), 4, "{:?}", report.left_pending);
    for entry in &report.left_pending {
        assert!(
            entry.reason.contains("cannot be read") && entry.reason.contains("management account"),
            "{}: {}",
            entry.endpoint_id,
            entry.reason
        );
    }
    let statuses = connection_statuses(&ctx, SERVICE).await;
    assert_eq!(statuses["e-accepted-outside"], "accepted");
    assert_eq!(statuses["e-outside"], "pendingAcceptance");
}

#[tokio::test]
async fn the_organization_is_read_once_a_run_and_kept_for_the_next() {
    let record = format!("organizations:orgPath::{SHOPS}/*");
    let emu = helpers::emulator(
        json!({
            "organization": organization("provider"),
            "services": [
                {"id": SERVICE, "owner": "provider", "permissions": [record], "connections": [conn("e-1", INSIDE, "pendingAcceptance")]},
                {"id": "5e000000-0000-4000-8000-000000000002", "owner": "provider", "permissions": [record], "connections": [conn("e-2", OUTSIDE, "pendingAcceptance")]},
                {"id": "5e000000-0000-4000-8000-000000000003", "owner": "provider", "permissions": ["iam:domain::cccccccccccccccccccccccccccccccc"], "connections": [conn("e-3", "cccccccccccccccccccccccccccccccc", "pendingAcceptance")]}
            ]
        }),
        Options::default(),
    )
    .await;
    let ctx = ctx(settings(&emu, true));
    let trigger = || Trigger::Tick {
        jobs: vec![Job::Approve],
        targets: Vec::new(),
    };
    let report = dispatch(&ctx, trigger()).await.report;
    assert_eq!(
        endpoints(&report.approved, |e| &e.endpoint_id),
        ["e-1", "e-3"]
    );
    let reads = |emu: &Emulator| emu.stats().by_operation.get("show_organization").copied();
    assert_eq!(reads(&emu), Some(1), "two services, one read");
    dispatch(&ctx, trigger()).await;
    assert_eq!(
        reads(&emu),
        Some(1),
        "the next run within five minutes reuses it"
    );
}
