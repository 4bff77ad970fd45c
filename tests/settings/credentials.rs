//! Credentials are set exactly one way, and token and password credentials
//! load and stay hidden.

use vpcep_warden::config::{Credentials, Settings};

use super::{assert_no_secret, error, vars, HOOK, PASSWORD, STS, TOKEN};

#[test]
fn credentials_are_set_exactly_one_way() {
    let both = error(&[("WARDEN_AUTH_TOKEN", TOKEN)]);
    assert!(both.to_string().contains("set only one"), "{both}");
    assert_eq!(
        error(&[("HUAWEICLOUD_SDK_SK", "")]).variable(),
        "HUAWEICLOUD_SDK_SK"
    );
    let half_iam = Settings::from_vars(vars(&[
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
        ("WARDEN_REGION", "r"),
        ("WARDEN_IAM_ENDPOINT", "https://iam.example.com"),
        ("WARDEN_IAM_USER", "u"),
        ("WARDEN_IAM_PASSWORD", PASSWORD),
    ]))
    .unwrap_err();
    assert_eq!(half_iam.variable(), "WARDEN_IAM_DOMAIN");
    assert_no_secret(&half_iam.to_string());
    let sts_alone = Settings::from_vars(vars(&[
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
        ("WARDEN_REGION", "r"),
        ("WARDEN_AUTH_TOKEN", TOKEN),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", STS),
    ]))
    .unwrap_err();
    assert_eq!(sts_alone.variable(), "HUAWEICLOUD_SDK_SECURITY_TOKEN");
    assert_no_secret(&sts_alone.to_string());
}

#[test]
fn token_and_password_credentials_load_and_stay_hidden() {
    let base = [("HUAWEICLOUD_SDK_PROJECT_ID", "p"), ("WARDEN_REGION", "r")];
    let token =
        Settings::from_vars(vars(&[base[0], base[1], ("WARDEN_AUTH_TOKEN", TOKEN)])).unwrap();
    assert_eq!(
        token.credentials,
        Credentials::Token(vpcep_warden::config::Secret::new(TOKEN))
    );
    let iam = Settings::from_vars(vars(&[
        base[0],
        base[1],
        ("WARDEN_IAM_ENDPOINT", "https://iam.example.com/"),
        ("WARDEN_IAM_USER", "u"),
        ("WARDEN_IAM_PASSWORD", PASSWORD),
        ("WARDEN_IAM_DOMAIN", "acme"),
        ("WARDEN_WEBHOOK_SECRET", HOOK),
    ]))
    .unwrap();
    assert!(
        matches!(&iam.credentials, Credentials::Password { endpoint, .. } if endpoint == "https://iam.example.com")
    );
    for s in [&token, &iam] {
        assert_no_secret(&format!("{s:?}"));
        assert_no_secret(&s.summary());
        let client = vpcep_warden::vpcep::Client::from_settings(s).unwrap();
        assert_no_secret(&format!("{client:?}"));
    }
}
