//! What ships beside the binary: the container image's user and the SAM
//! template's choices, checked against the warden itself.

fn file(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[test]
fn the_image_runs_as_a_numeric_non_root_user() {
    let dockerfile = file("Dockerfile");
    let users: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("USER "))
        .collect();
    // Kubernetes' runAsNonRoot can only verify a numeric user.
    assert_eq!(users, ["65532:65532"], "{dockerfile}");
}

#[test]
fn sams_alert_format_offers_every_format_the_warden_has() {
    let template = file("template.yaml");
    let block = template
        .split("\n  AlertFormat:\n")
        .nth(1)
        .expect("an AlertFormat parameter");
    let allowed: Vec<String> = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("AllowedValues: ["))
        .expect("AllowedValues")
        .trim_end_matches(']')
        .split(',')
        .map(|v| v.trim().to_owned())
        .collect();
    let load = |format: &str| {
        vpcep_warden::config::Settings::from_vars(
            [
                ("HUAWEICLOUD_SDK_AK", "AKEXAMPLE"),
                ("HUAWEICLOUD_SDK_SK", "sk"),
                ("HUAWEICLOUD_SDK_PROJECT_ID", "p1"),
                ("WARDEN_REGION", "cn-north-4"),
                ("WARDEN_ALERT_FORMAT", format),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
    };
    for format in &allowed {
        assert!(load(format).is_ok(), "the template offers {format}");
    }
    // The warden's own list, as its refusal states it.
    let refusal = load("no-such-format").unwrap_err().to_string();
    let known = refusal
        .split("must be one of ")
        .nth(1)
        .and_then(|rest| rest.split(", got").next())
        .expect("the refusal lists the formats");
    for format in known.split(", ") {
        assert!(
            allowed.iter().any(|a| a == format),
            "{format} missing from {allowed:?}"
        );
    }
}
