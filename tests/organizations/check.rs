//! `check` with rules that need the organization: it reads the organization
//! and says what it found, or fails naming the permission or setting missing
//! and what needed it.

use vpcep_warden::organization::PathPattern;
use vpcep_warden::vpcep::check::check;

use super::approve::{estate, pending_from_all, settings, SHOPS};
use crate::helpers::SERVICE;

#[tokio::test]
async fn check_reads_the_organization_a_whitelist_record_needs() {
    let record = format!("organizations:orgPath::{SHOPS}/*");
    let emu = estate("provider", &[&record], pending_from_all()).await;
    let found = check(&settings(&emu, true)).await.unwrap();
    let org = found.organization.expect("the organization is read");
    assert_eq!(org.id, "o-test");
    assert_eq!((org.accounts, org.units), (4, 3));
    assert_eq!(
        org.needed_by,
        [format!("the whitelist of service {SERVICE}")]
    );
    // Without service-whitelist the records judge nothing: not read.
    let found = check(&settings(&emu, false)).await.unwrap();
    assert!(found.organization.is_none());
}

#[tokio::test]
async fn check_says_where_the_warden_must_run_when_it_may_not_read_the_organization() {
    let emu = estate("boss", &[], pending_from_all()).await;
    let mut s = settings(&emu, false);
    s.organizations.allowed_paths = vec![PathPattern::parse(SHOPS).unwrap()];
    let e = check(&s).await.unwrap_err().to_string();
    for needle in [
        "Organizations.1002",
        "management account",
        "delegated administrator",
        "needed by WARDEN_ALLOWED_ORG_PATHS",
    ] {
        assert!(e.contains(needle), "{needle}: {e}");
    }
    s.organizations.endpoint = "http://127.0.0.1:9".into();
    let e = check(&s).await.unwrap_err().to_string();
    assert!(e.contains("WARDEN_ORGANIZATIONS_ENDPOINT"), "{e}");
}
