//! What stands between an accepted connection and its revocation: whitelist
//! records in every documented form, and the grace period from the first
//! sighting (refused where the first sighting cannot be kept).

use serde_json::json;
use vpcep_warden::config::Settings;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::Job;
use vpcep_warden::jobs::Ctx;
use vpcep_warden::report::Report;

use super::model::Model;
use super::{
    actions, conn, one, run, service, settings, tick, GOOD, PROJECTS, REJECT_AT_ONCE, STRANGER,
};

/// Rejecting and revoking at once, allowing the services' whitelists and one
/// account that no connection has.
fn whitelist_settings(model: &Model) -> Settings {
    let mut extra = REJECT_AT_ONCE.to_vec();
    extra.push((
        "WARDEN_ALLOWED_DOMAINS",
        "service-whitelist,dddddddddddddddddddddddddddddddd",
    ));
    settings(model, 1, &extra)
}

#[tokio::test]
async fn whitelist_records_in_every_documented_form_protect_their_accounts() {
    const W: &str = "cccccccccccccccccccccccccccccccc";
    let record = |permission: &str, typed: Option<&str>| json!({"id": "r", "permission": permission, "permission_type": typed});
    let cases = [
        ("upper", vec![record(&format!("IAM:DOMAIN::{W}"), None)]),
        ("bare", vec![record(W, Some("domainId"))]),
        ("empty", vec![]),
        (
            "org",
            vec![record("organizations:orgPath::o-1/r-1/ou-1", None)],
        ),
        ("name", vec![record("iam:domainName::shop-*", None)]),
    ];
    for (case, permissions) in cases {
        let mut s = service(
            "svc",
            vec![
                conn("e-accepted", Some(W), "accepted", None),
                conn("e-pending", Some(W), "pendingAcceptance", None),
            ],
        );
        s.permissions = permissions;
        let model = Model::start(one(vec![s])).await;
        let report = run(whitelist_settings(&model), tick(&[Job::Approve])).await;
        let rejected: Vec<_> = actions(&model)
            .into_iter()
            .filter(|(_, a)| a == "reject")
            .collect();
        assert!(rejected.is_empty(), "{case}: {rejected:?} {report:?}");
    }
    // A whitelist answer without its list is a failed read, not an empty whitelist.
    let mut s = service("svc", vec![conn("e-accepted", Some(W), "accepted", None)]);
    s.permissions_missing = true;
    let model = Model::start(one(vec![s])).await;
    let report = run(whitelist_settings(&model), tick(&[Job::Approve])).await;
    assert!(actions(&model).is_empty());
    assert!(
        report.errors[0].message.contains("permissions"),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn revocation_waits_for_the_grace_period_from_the_first_sighting() {
    let long_ago = "vpcep-warden: found not allowed 2026-01-01T00:00Z, account no longer allowed";
    let model = Model::start(one(vec![service(
        "svc",
        vec![
            conn("e-new", Some(STRANGER), "accepted", None),
            conn("e-old", Some(STRANGER), "accepted", Some(long_ago)),
        ],
    )]))
    .await;
    let extra = [
        ("WARDEN_ALLOWED_DOMAINS", GOOD),
        ("WARDEN_RECONCILE", "reject"),
        ("WARDEN_AUDIT_DESCRIPTION", "on"),
    ];
    let s = settings(&model, 1, &extra);
    assert_eq!(s.reconcile_grace_minutes, 60);
    let ctx = Ctx::new(s).unwrap();
    let first = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(actions(&model), [("e-old".to_owned(), "reject".to_owned())]);
    let new = first
        .revoked
        .iter()
        .find(|r| r.endpoint_id == "e-new")
        .unwrap();
    assert!(
        !new.rejected && new.reason.contains("revoke scheduled at"),
        "{new:?}"
    );
    let noticed = |r: &Report| {
        r.alerts
            .iter()
            .filter(|a| a.kind == "revoke_scheduled")
            .count()
    };
    assert_eq!(noticed(&first), 1);
    let marked = model.connection(PROJECTS[0], "svc", "e-new").unwrap();
    assert!(marked["description"]
        .as_str()
        .unwrap()
        .starts_with("vpcep-warden: found not allowed"));
    let second = dispatch(&ctx, tick(&[Job::Approve])).await.report;
    assert_eq!(actions(&model).len(), 1, "still waiting");
    assert_eq!(noticed(&second), 0, "the notice goes out once");
}

#[test]
fn reject_with_a_grace_period_and_nowhere_to_keep_the_first_sighting_is_refused() {
    let vars = [
        ("HUAWEICLOUD_SDK_AK", "TESTAKEXAMPLE0000001"),
        ("HUAWEICLOUD_SDK_SK", "test-sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECTS[0]),
        ("WARDEN_REGION", "cn-north-4"),
        ("WARDEN_RECONCILE", "reject"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    let e = Settings::from_vars(vars.clone()).unwrap_err().to_string();
    assert!(e.contains("WARDEN_AUDIT_DESCRIPTION=on"), "{e}");
    let mut at_once = vars.to_vec();
    at_once.push(("WARDEN_RECONCILE_GRACE_MINUTES".into(), "0".into()));
    assert!(Settings::from_vars(at_once).is_ok());
}
