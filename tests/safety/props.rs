//! Property tests: random estates (one to three targets), random settings,
//! hostile-but-valid answers (accounts missing, whitelist records in every
//! form, lists and whitelists that fail), a random organization (none, one
//! the warden may not read, or accounts placed in its units under random
//! names) with `WARDEN_ALLOWED_ORG_PATHS` or not, each run twice on
//! identical copies, first as a dry run, then for real. After every run the
//! safety invariants of design.md must hold.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};
use vpcep_warden::jobs::Ctx;
use vpcep_warden::report::Report;

use super::model::{Change, Estate, Model, Org, Service};
use super::{conn, settings, GOOD, PROJECTS, STRANGER};

const OTHER: &str = "cccccccccccccccccccccccccccccccc";
/// Accounts a connection may name (`None`: the answer names none).
const ACCOUNTS: [Option<&str>; 6] = [
    Some(GOOD),
    Some(OTHER),
    Some(STRANGER),
    None,
    Some(""),
    Some("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"),
];
const DESCRIPTIONS: [Option<&str>; 4] = [
    None,
    Some("ops: do not touch"),
    Some("vpcep-warden: accepted 2026-11-30T10:00Z, x"),
    Some("vpcep-warden: found not allowed 2026-01-01T00:00Z, x"),
];
/// Whitelist records in every form (permission, permission_type).
const RECORDS: [(&str, Option<&str>); 10] = [
    ("iam:domain::cccccccccccccccccccccccccccccccc", None),
    ("IAM:DOMAIN::cccccccccccccccccccccccccccccccc", None),
    ("cccccccccccccccccccccccccccccccc", Some("domainId")),
    ("*", None),
    ("iam:domainName::shop-*", None),
    ("organizations:orgPath::o-1/r-1/ou-1", None),
    ("iam:domain::bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbX", None),
    ("o-1/r-1/ou-2/*", Some("orgPath")),
    ("iam:domainName::shop-.*", None),
    ("iam:domainName::ops", None),
];
/// Accounts that may be in the organization, with their place and name indexes.
const MEMBERS: [&str; 3] = [OTHER, STRANGER, "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"];
/// Where a member may be: outside, under the root, in `ou-1`, in `ou-2`.
const PLACES: [Option<&str>; 4] = [None, Some("r-1"), Some("ou-1"), Some("ou-2")];
const NAMES: [&str; 4] = ["shop-1", "ops", "Shop", "x"];
/// `WARDEN_ALLOWED_ORG_PATHS`, when a case sets it.
const ORG_PATHS: &str = "o-1/r-1/ou-2/*";

/// One service: its connections as (account, accepted, description)
/// indexes, its whitelist records, its fault (0 none, 1 connections list
/// fails, 2 whitelist fails, 3 whitelist answer without its list).
type ServiceCase = (Vec<(usize, bool, usize)>, Vec<usize>, u8);

#[derive(Debug, Clone)]
struct Case {
    /// Per target, its services.
    targets: Vec<Vec<ServiceCase>>,
    failed_endpoints: Vec<usize>,
    reject: bool,
    reconcile_reject: bool,
    grace: bool,
    whitelist: bool,
    reconcile_max: usize,
    gc_max: usize,
    /// 0: in no organization, 1: one the warden may not read, 2: readable.
    org: u8,
    /// Per member of [`MEMBERS`]: its place and name indexes.
    placed: Vec<(usize, usize)>,
    org_paths: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let connection = (0..ACCOUNTS.len(), any::<bool>(), 0..DESCRIPTIONS.len());
    let service = (
        prop::collection::vec(connection, 0..5),
        prop::collection::vec(0..RECORDS.len(), 0..3),
        prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)],
    );
    let target = prop::collection::vec(service, 1..3);
    (
        prop::collection::vec(target, 1..4),
        prop::collection::vec(0usize..3, 1..4),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..6,
        0usize..4,
        (
            prop_oneof![1 => Just(0u8), 1 => Just(1u8), 3 => Just(2u8)],
            prop::collection::vec((0..PLACES.len(), 0..NAMES.len()), MEMBERS.len()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                targets,
                failed_endpoints,
                reject,
                reconcile_reject,
                grace,
                whitelist,
                reconcile_max,
                gc_max,
                (org, placed, org_paths),
            )| Case {
                targets,
                failed_endpoints,
                reject,
                reconcile_reject,
                grace,
                whitelist,
                reconcile_max,
                gc_max,
                org,
                placed,
                org_paths,
            },
        )
}

fn estates(case: &Case) -> BTreeMap<String, Estate> {
    case.targets
        .iter()
        .enumerate()
        .map(|(t, services)| {
            let services = services
                .iter()
                .enumerate()
                .map(|(s, (connections, records, fault))| Service {
                    id: format!("svc-{s}"),
                    connections: connections
                        .iter()
                        .enumerate()
                        .map(|(i, &(a, accepted, d))| {
                            let status = if accepted { "accepted" } else { "pendingAcceptance" };
                            conn(&format!("e-{s}-{i}"), ACCOUNTS[a], status, DESCRIPTIONS[d])
                        })
                        .collect(),
                    permissions: records
                        .iter()
                        .map(|&r| json!({"id": format!("r{r}"), "permission": RECORDS[r].0, "permission_type": RECORDS[r].1}))
                        .collect(),
                    connections_fail: *fault == 1,
                    permissions_fail: *fault == 2,
                    permissions_missing: *fault == 3,
                })
                .collect();
            let endpoints = case.failed_endpoints[..case.failed_endpoints.len().min(t + 1)]
                .iter()
                .enumerate()
                .map(|(i, &age)| {
                    let updated = ["2026-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2026-01-01T00:00:00Z"][age];
                    let tags = if age == 2 { json!([{"key": "Warden-Keep", "value": ""}]) } else { json!([]) };
                    json!({"id": format!("f-{i}"), "status": "failed", "updated_at": updated, "tags": tags})
                })
                .collect();
            let estate = Estate {
                services,
                endpoints,
                ..Estate::default()
            };
            (PROJECTS[t].to_owned(), estate)
        })
        .collect()
}

/// The organization of a case, as the model serves it.
fn organization(case: &Case) -> Org {
    match case.org {
        0 => Org::None,
        1 => Org::Refused,
        _ => Org::Members(
            MEMBERS
                .iter()
                .zip(&case.placed)
                .filter_map(|(id, &(place, name))| {
                    PLACES[place].map(|p| (id.to_string(), NAMES[name].to_owned(), p.to_owned()))
                })
                .collect(),
        ),
    }
}

/// What the organization says of `account`: `None` when it cannot be read
/// (nothing is known), else its place and name when it is a member.
fn membership(case: &Case, account: &str) -> Option<Option<(&'static str, &'static str)>> {
    if case.org != 2 {
        return None;
    }
    Some(MEMBERS.iter().position(|m| *m == account).and_then(|i| {
        let (place, name) = case.placed[i];
        PLACES[place].map(|p| (p, NAMES[name]))
    }))
}

/// Whether some rule might allow `account` on a service with `records`:
/// written apart from the warden's own rules, as the invariant states them,
/// erring on the side of "might". A path or name rule might allow anyone
/// while the organization cannot be read; a path of `o-1` allows members of
/// its unit only; a name, whose readings (whole or part, any case, as a
/// wildcard) all hold its letters, might allow a member whose name holds them,
/// and anyone outside the organization (whose name is unknown).
fn might_allow(account: &str, records: &[usize], case: &Case) -> bool {
    let known = membership(case, account);
    let in_unit = |unit: &str| known.is_none_or(|m| m.is_some_and(|(p, _)| p == unit));
    let named = |letters: &str| {
        known.is_none_or(|m| m.is_none_or(|(_, n)| n.to_ascii_lowercase().contains(letters)))
    };
    account == GOOD
        || case.org_paths && in_unit("ou-2")
        || case.whitelist
            && records.iter().any(|&r| {
                let (p, typed) = RECORDS[r];
                let lower = p.to_ascii_lowercase();
                match lower.as_str() {
                    "organizations:orgpath::o-1/r-1/ou-1" => return in_unit("ou-1"),
                    "o-1/r-1/ou-2/*" => return in_unit("ou-2"),
                    // As a regular expression `shop-*` is "shop" and any dashes.
                    "iam:domainname::shop-*" => return named("shop"),
                    // Every reading of `shop-.*` (expression or wildcard) needs "shop-".
                    "iam:domainname::shop-.*" => return named("shop-"),
                    "iam:domainname::ops" => return named("ops"),
                    _ => {}
                }
                let id = match (lower.strip_prefix("iam:domain::"), typed) {
                    (Some(id), _) => id.to_owned(),
                    (None, Some("domainId")) => lower.clone(),
                    _ => return true,
                };
                id == "*" || id.eq_ignore_ascii_case(account)
            })
}

async fn run(model: &Model, case: &Case, dry: bool) -> Report {
    let allowed = if case.whitelist {
        format!("{GOOD},service-whitelist")
    } else {
        GOOD.to_owned()
    };
    let (reconcile_max, gc_max) = (case.reconcile_max.to_string(), case.gc_max.to_string());
    let url = model.server.url.clone();
    let org_paths = if case.org_paths { ORG_PATHS } else { "" };
    let extra = [
        ("WARDEN_IAM_ENDPOINT", url.as_str()),
        ("WARDEN_ORGANIZATIONS_ENDPOINT", url.as_str()),
        ("WARDEN_ALLOWED_ORG_PATHS", org_paths),
        ("WARDEN_ALLOWED_DOMAINS", allowed.as_str()),
        (
            "WARDEN_NOT_ALLOWED",
            if case.reject { "reject" } else { "leave" },
        ),
        (
            "WARDEN_RECONCILE",
            if case.reconcile_reject {
                "reject"
            } else {
                "report"
            },
        ),
        (
            "WARDEN_RECONCILE_GRACE_MINUTES",
            if case.grace { "60" } else { "0" },
        ),
        ("WARDEN_AUDIT_DESCRIPTION", "on"),
        ("WARDEN_RECONCILE_MAX", reconcile_max.as_str()),
        ("WARDEN_GC_MAX_DELETES", gc_max.as_str()),
        ("WARDEN_DRY_RUN", if dry { "true" } else { "false" }),
    ];
    let s = settings(model, case.targets.len(), &extra);
    let ctx = Ctx::new(s).unwrap();
    let tick = Trigger::Tick {
        jobs: vec![Job::Approve, Job::Gc],
        targets: Vec::new(),
    };
    dispatch(&ctx, tick).await.report
}

/// What a report says was done: (target, endpoint, action).
fn planned(report: &Report) -> BTreeSet<(String, String, &'static str)> {
    let target = |t: &Option<String>| t.clone().unwrap_or_default();
    let mut done = BTreeSet::new();
    done.extend(
        report
            .approved
            .iter()
            .map(|e| (target(&e.target), e.endpoint_id.clone(), "receive")),
    );
    done.extend(
        report
            .rejected
            .iter()
            .map(|e| (target(&e.target), e.endpoint_id.clone(), "reject")),
    );
    done.extend(
        report
            .revoked
            .iter()
            .filter(|e| e.rejected)
            .map(|e| (target(&e.target), e.endpoint_id.clone(), "reject")),
    );
    done.extend(
        report
            .deleted
            .iter()
            .map(|e| (target(&e.target), e.endpoint_id.clone(), "delete")),
    );
    done
}

fn check(case: &Case, model: &Model, dry: &Report, real: &Report) -> Result<(), TestCaseError> {
    let changes = model.changes();
    let name = |project: &str| -> String {
        match case.targets.len() {
            1 => String::new(),
            _ => format!(
                "t{}",
                PROJECTS.iter().position(|p| *p == project).unwrap_or(0)
            ),
        }
    };
    // A whitelist is read only with service-whitelist on, for a service
    // with a connection that the allowlist alone does not allow.
    let needs_whitelist = |connections: &[(usize, bool, usize)]| {
        case.whitelist
            && connections
                .iter()
                .any(|&(a, _, _)| ACCOUNTS[a].is_some_and(|d| !d.trim().is_empty() && d != GOOD))
    };
    let any_fault = case
        .targets
        .iter()
        .flatten()
        .any(|(c, _, fault)| *fault == 1 || *fault != 0 && needs_whitelist(c));
    let mut revoked = 0;
    let mut deleted = 0;
    let mut actions = BTreeSet::new();
    for change in &changes {
        match change {
            Change::Action(project, service, endpoint, action) => {
                let t = PROJECTS.iter().position(|p| p == project).unwrap();
                let s: usize = service.trim_start_matches("svc-").parse().unwrap();
                let i: usize = endpoint.rsplit('-').next().unwrap().parse().unwrap();
                let (connections, records, _) = &case.targets[t][s];
                let (a, accepted, _) = connections[i];
                // 2. A connection without an account is never judged.
                let account = ACCOUNTS[a].filter(|d| !d.trim().is_empty());
                prop_assert!(account.is_some(), "{change:?} acted without an account");
                if action == "reject" {
                    // 1. Nothing any rule might allow is rejected or revoked.
                    prop_assert!(
                        !might_allow(account.unwrap(), records, case),
                        "{change:?} rejected an account a rule allows"
                    );
                    if accepted {
                        revoked += 1;
                        // 3. No revocation after a failed read, nor within the grace period.
                        prop_assert!(!any_fault, "{change:?} revoked in a run with a failed read");
                        prop_assert!(case.reconcile_reject);
                        let described = connections[i].2;
                        prop_assert!(
                            !case.grace || described == 3,
                            "{change:?} revoked before its grace period"
                        );
                    }
                } else {
                    prop_assert!(!accepted, "{change:?} accepted an accepted connection");
                }
                actions.insert((
                    name(project),
                    endpoint.clone(),
                    if action == "reject" {
                        "reject"
                    } else {
                        "receive"
                    },
                ));
            }
            Change::Described(_, _, endpoint, before, _) => {
                // 6. A description the warden did not write is never overwritten.
                let ours = before
                    .as_deref()
                    .is_none_or(|d| d.trim().is_empty() || d.starts_with("vpcep-warden:"));
                prop_assert!(ours, "{endpoint}: overwrote {before:?}");
            }
            Change::Deleted(project, endpoint) => {
                deleted += 1;
                // 5. Only failed, old, untagged endpoints are deleted.
                let i: usize = endpoint.trim_start_matches("f-").parse().unwrap();
                prop_assert_eq!(
                    case.failed_endpoints[i],
                    0,
                    "{} deleted a young or kept endpoint",
                    endpoint
                );
                actions.insert((name(project), endpoint.clone(), "delete"));
            }
        }
    }
    // 4. The caps hold across every target.
    prop_assert!(revoked <= case.reconcile_max);
    prop_assert!(deleted <= case.gc_max);
    // 7. The dry run's plan is what the real run did, and what it reported.
    prop_assert_eq!(&planned(dry), &actions);
    prop_assert_eq!(&planned(real), &actions);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn destructive_actions_keep_every_safety_invariant(case in case()) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dry_model = Model::start_in(estates(&case), organization(&case)).await;
            let dry = run(&dry_model, &case, true).await;
            prop_assert_eq!(dry_model.changes(), Vec::<Change>::new(), "a dry run changes nothing");
            let model = Model::start_in(estates(&case), organization(&case)).await;
            let real = run(&model, &case, false).await;
            check(&case, &model, &dry, &real)
        })?;
    }
}
