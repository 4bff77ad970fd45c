//! What a host supplies: credentials with each invocation and its own
//! project, used only where the environment leaves them out.

use vpcep_warden::config::{Credentials, Settings};

use super::{functiongraph, vars, SK};

#[test]
fn a_host_that_brings_credentials_lets_settings_load_without_any() {
    let region = vars(&[("WARDEN_REGION", "cn-north-4")]);
    let s = Settings::from_vars_with(region.clone(), &functiongraph()).unwrap();
    assert_eq!(s.credentials, Credentials::PerInvocation);
    assert_eq!(s.project_id, "function-project");
    assert!(s
        .summary()
        .contains("agency credentials of each invocation"));
    // Elsewhere, no credentials is still an error.
    let e = Settings::from_vars(
        region
            .into_iter()
            .chain(vars(&[("HUAWEICLOUD_SDK_PROJECT_ID", "p1")])),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no credentials"), "{e}");
}

#[test]
fn static_credentials_and_project_win_over_what_the_host_supplies() {
    let s = Settings::from_vars_with(
        vars(&[
            ("WARDEN_REGION", "cn-north-4"),
            ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
            ("HUAWEICLOUD_SDK_SK", SK),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p1"),
        ]),
        &functiongraph(),
    )
    .unwrap();
    assert!(matches!(s.credentials, Credentials::AkSk { .. }));
    assert_eq!(s.project_id, "p1");
    // Half a pair is still an error, even where the host brings credentials.
    let e = Settings::from_vars_with(
        vars(&[
            ("WARDEN_REGION", "cn-north-4"),
            ("HUAWEICLOUD_SDK_AK", "AK"),
        ]),
        &functiongraph(),
    )
    .unwrap_err();
    assert_eq!(e.variable(), "HUAWEICLOUD_SDK_SK");
}
