//! `WARDEN_TARGETS` among the settings: targets beside the top-level
//! project, and targets alone.

use vpcep_warden::config::{Credentials, Settings};

use super::{functiongraph, load, vars, SK};

#[test]
fn targets_load_from_json_and_iam_endpoint_alone_names_where_agencies_are_assumed() {
    let targets = r#"[{"name": "bj", "region": "cn-north-4", "project_id": "p2",
        "domain_id": "d2", "agency": "warden", "service_ids": ["s1"]}]"#;
    let s = load(&[
        ("WARDEN_TARGETS", targets),
        ("WARDEN_IAM_ENDPOINT", "https://iam.example.com/"),
    ])
    .unwrap();
    // The top-level project set beside the targets is one more target.
    let names: Vec<&str> = s.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["bj", "default"]);
    assert_eq!(s.targets[1].project_id, "p1");
    assert_eq!(s.targets[0].service_ids, Some(vec!["s1".to_owned()]));
    assert_eq!(s.iam_endpoint.as_deref(), Some("https://iam.example.com"));
    assert!(matches!(s.credentials, Credentials::AkSk { .. }));
    assert!(s
        .summary()
        .contains("bj (cn-north-4, project p2, agency warden of d2)"));
    let bad = load(&[(
        "WARDEN_TARGETS",
        r#"[{"name": "bj", "region": "cn-north-4"}]"#,
    )])
    .unwrap_err();
    assert_eq!(bad.variable(), "WARDEN_TARGETS");
    assert!(
        bad.to_string()
            .contains("target \"bj\": missing field `project_id`"),
        "{bad}"
    );
    assert!(load(&[]).unwrap().targets.is_empty());
}

#[test]
fn targets_alone_are_enough_to_start_and_no_project_of_the_host_is_added() {
    let targets = r#"[{"name": "bj", "region": "cn-north-4", "project_id": "p2"},
        {"name": "gz", "region": "cn-south-1", "project_id": "p3"}]"#;
    let only = vars(&[
        ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("WARDEN_TARGETS", targets),
    ]);
    let s = Settings::from_vars(only.clone()).unwrap();
    let names: Vec<&str> = s.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["bj", "gz"]);
    let s = Settings::from_vars_with(only, &functiongraph()).unwrap();
    assert_eq!(s.targets.len(), 2, "RUNTIME_PROJECT_ID is not a target");
    // A project that a target already names is not added twice.
    let listed = load(&[(
        "WARDEN_TARGETS",
        r#"[{"name": "bj", "region": "cn-north-4", "project_id": "p1"}]"#,
    )])
    .unwrap();
    assert_eq!(listed.targets.len(), 1);
    let taken = load(&[(
        "WARDEN_TARGETS",
        r#"[{"name": "default", "region": "cn-north-4", "project_id": "p9"}]"#,
    )])
    .unwrap_err();
    assert!(taken.to_string().contains("rename it"), "{taken}");
}
