//! `WARDEN_STATE` and the `AWS_*` variables of an S3 API store: read,
//! checked, every error naming its variable, secrets never shown.

use vpcep_warden::config::{S3Credentials, StateLocation};

use crate::settings::load;

const AWS_SECRET: &str = "aws-secret-value-222";

#[test]
fn state_is_memory_unless_set_and_aws_variables_are_then_left_alone() {
    // Lambda sets AWS_* for its own role: without an s3:// store they are not read.
    let s = load(&[
        ("AWS_REGION", "not a region!"),
        ("AWS_ACCESS_KEY_ID", "AKIA"),
    ])
    .unwrap();
    assert_eq!(s.state.location, StateLocation::Memory);
    assert!(s.state.s3.is_none());
    let s = load(&[("WARDEN_STATE", "file:///var/lib/vpcep-warden")]).unwrap();
    assert_eq!(
        s.state.location,
        StateLocation::File("/var/lib/vpcep-warden".into())
    );
}

#[test]
fn an_s3_bucket_takes_the_aws_keys_region_and_a_plain_http_endpoint() {
    let s = load(&[
        ("WARDEN_STATE", "s3://warden-state/prod"),
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_SESSION_TOKEN", "session-token-333"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"),
    ])
    .unwrap();
    let s3 = s.state.s3.clone().unwrap();
    assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert!(
        !s3.virtual_hosted,
        "a local server takes the bucket in the path"
    );
    assert_eq!(s3.region, "us-east-1");
    let S3Credentials::Keys {
        access_key_id,
        session_token,
        ..
    } = &s3.credentials
    else {
        panic!("keys")
    };
    assert_eq!(access_key_id, "AKIAEXAMPLE");
    assert!(session_token.is_some());
    let shown = format!("{s:?}\n{}", s.summary());
    assert!(
        !shown.contains(AWS_SECRET) && !shown.contains("session-token-333"),
        "{shown}"
    );
    assert!(s
        .summary()
        .contains("state:              s3://warden-state/prod"));
    // The S3-specific endpoint wins over the general one.
    let s = load(&[
        ("WARDEN_STATE", "s3://warden-state"),
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2"),
        ("AWS_REGION", "eu-west-1"),
    ])
    .unwrap();
    let s3 = s.state.s3.unwrap();
    assert_eq!(
        (s3.endpoint.as_deref(), s3.region.as_str()),
        (Some("http://127.0.0.1:2"), "eu-west-1")
    );
}

#[test]
fn without_aws_keys_obs_is_reached_with_the_wardens_own_huawei_credentials() {
    let s = load(&[("WARDEN_STATE", "s3://warden-state")]).unwrap();
    let s3 = s.state.s3.unwrap();
    assert_eq!(
        s3.endpoint.as_deref(),
        Some("https://obs.cn-north-4.myhuaweicloud.com")
    );
    assert!(s3.virtual_hosted, "OBS addresses a bucket by host name");
    assert_eq!(s3.region, "cn-north-4");
    assert!(
        matches!(s3.credentials, S3Credentials::Keys { ref access_key_id, .. } if access_key_id == "AKEXAMPLE")
    );
}

#[test]
fn bad_s3_settings_are_refused_naming_the_variable_without_the_secret() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("WARDEN_STATE", "s3:/bucket")], "WARDEN_STATE"),
        (
            &[("WARDEN_STATE", "s3://b-1"), ("AWS_ACCESS_KEY_ID", "AKIA")],
            "AWS_SECRET_ACCESS_KEY",
        ),
        (
            &[
                ("WARDEN_STATE", "s3://b-1"),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            ],
            "AWS_ACCESS_KEY_ID",
        ),
        (
            &[
                ("WARDEN_STATE", "s3://b-1"),
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", "aws-secret\nvalue-222"),
            ],
            "AWS_SECRET_ACCESS_KEY",
        ),
        (
            &[
                ("WARDEN_STATE", "s3://b-1"),
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
            ],
            "AWS_REGION",
        ),
        (
            &[
                ("WARDEN_STATE", "s3://b-1"),
                ("AWS_ACCESS_KEY_ID", "AKIA"),
                ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
                ("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1"),
            ],
            "AWS_ENDPOINT_URL_S3",
        ),
        (
            &[
                ("WARDEN_STATE", "s3://b-1"),
                ("HUAWEICLOUD_SDK_AK", ""),
                ("HUAWEICLOUD_SDK_SK", ""),
                ("WARDEN_AUTH_TOKEN", "tok"),
            ],
            "AWS_ACCESS_KEY_ID",
        ),
    ];
    for (extra, variable) in cases {
        let e = load(extra).unwrap_err();
        assert_eq!(e.variable(), *variable, "{extra:?}: {e}");
        assert!(e.to_string().contains(variable), "{e}");
        assert!(!e.to_string().contains("value-222"), "{e}");
    }
}

#[test]
fn revoking_after_a_grace_period_needs_a_durable_store_or_audit_marks() {
    let reject = [("WARDEN_RECONCILE", "reject")];
    let e = load(&reject).unwrap_err();
    assert_eq!(e.variable(), "WARDEN_RECONCILE");
    assert!(e.to_string().contains("WARDEN_STATE"), "{e}");
    load(&[reject[0], ("WARDEN_STATE", "file:///var/lib/vpcep-warden")]).unwrap();
}
