//! Per target: each reads its own organization with its own credentials (a
//! target with an agency through the agency), with its own org paths.

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::Settings;
use vpcep_warden::dispatch::dispatch;
use vpcep_warden::events::{Job, Trigger};

use crate::helpers::{self, ctx, minutes_ago};

const WARDEN: &str = "dddddddddddddddddddddddddddddddd";
const CUSTOMER: &str = "cccccccccccccccccccccccccccccccc";
const MEMBER: &str = "11111111111111111111111111111111";

#[tokio::test]
async fn a_target_reads_its_organization_through_its_agency_and_another_is_left_undecided() {
    let pending = |id: &str| json!([{"endpoint_id": id, "domain_id": MEMBER, "status": "pendingAcceptance", "created_at": minutes_ago(5)}]);
    // The customer manages o-c, holding MEMBER in ou-1; the warden is in no organization.
    let emu = helpers::emulator(
        json!({
            "accounts": [helpers::provider(),
                {"name": "customer", "domain_id": CUSTOMER, "project_id": "p-customer", "ak": "AK-C", "sk": "SK-c",
                 "agencies": [{"name": "warden-ops", "trusted_domain_id": WARDEN}]}],
            "organization": {"id": "o-c", "management_account": "customer", "roots": [{"id": "r-c", "units": [
                {"id": "ou-1", "accounts": [{"domain_id": MEMBER, "name": "shop"}]}]}]},
            "services": [
                {"id": "s-customer", "owner": "customer", "permissions": ["organizations:orgPath::o-c/r-c/ou-1"],
                 "connections": pending("e-customer")},
                {"id": "s-own", "owner": "provider", "connections": pending("e-own")}
            ]
        }),
        Options::default(),
    )
    .await;
    let url = emu.base_url();
    let targets = json!([
        {"name": "customer", "region": "cn-north-4", "project_id": "p-customer", "vpcep_endpoint": url,
         "domain_id": CUSTOMER, "agency": "warden-ops", "allowed_domains": ["service-whitelist"]},
        {"name": "own", "region": "cn-north-4", "project_id": helpers::PROJECT, "vpcep_endpoint": url,
         "allowed_org_paths": ["o-c/r-c/ou-1"]}
    ]);
    let s = Settings::from_vars(
        [
            ("HUAWEICLOUD_SDK_AK", helpers::AK.to_owned()),
            ("HUAWEICLOUD_SDK_SK", helpers::SK.to_owned()),
            ("WARDEN_IAM_ENDPOINT", url.clone()),
            ("WARDEN_ORGANIZATIONS_ENDPOINT", url.clone()),
            ("WARDEN_NOT_ALLOWED", "reject".to_owned()),
            ("WARDEN_TARGETS", targets.to_string()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    )
    .unwrap();
    let trigger = Trigger::Tick {
        jobs: vec![Job::Approve],
        targets: Vec::new(),
    };
    let report = dispatch(&ctx(s), trigger).await.report;
    let approved: Vec<_> = report
        .approved
        .iter()
        .map(|e| (e.target.as_deref(), e.endpoint_id.as_str()))
        .collect();
    assert_eq!(approved, [(Some("customer"), "e-customer")]);
    // The warden's own project: its organization cannot be read, so the
    // account its org path might allow waits, never rejected.
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let waiting = &report.left_pending[0];
    assert_eq!(
        (waiting.target.as_deref(), waiting.endpoint_id.as_str()),
        (Some("own"), "e-own")
    );
    assert!(
        waiting.reason.contains("WARDEN_ALLOWED_ORG_PATHS"),
        "{}",
        waiting.reason
    );
    assert!(
        waiting.reason.contains("cannot be read"),
        "{}",
        waiting.reason
    );
}
