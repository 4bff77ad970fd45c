//! The binary with many targets: `tick --targets` runs the named ones and
//! refuses unknown names; `check` reads each target and names the one that fails.

use serde_json::Value;
use vpcep_emulator::Emulator;

use super::{north, south, three, CUSTOMER_PROJECT, SOUTH_PROJECT};
use crate::helpers::{AK, ALLOWED, PROJECT, SK};

/// Runs the binary with the warden's settings, `WARDEN_TARGETS` = `targets`.
async fn binary(
    north: &Emulator,
    targets: Value,
    args: &'static [&'static str],
) -> std::process::Output {
    let (base, targets) = (north.base_url(), targets.to_string());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
            .args(args)
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            .env("WARDEN_VPCEP_ENDPOINT", &base)
            .env("WARDEN_IAM_ENDPOINT", &base)
            .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
            .env("WARDEN_TARGETS", targets)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_cli_tick_runs_the_targets_it_names_and_refuses_unknown_ones() {
    let (north, south) = (north(None).await, south().await);
    let out = binary(
        &north,
        three(&north, &south, "warden-ops"),
        &["tick", "--targets", "south-own,north-customer"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is the report");
    let names: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["north-customer", "south-own"]);
    assert_eq!(report["approved"].as_array().unwrap().len(), 2);

    let out = binary(
        &north,
        three(&north, &south, "warden-ops"),
        &["tick", "--targets", "west"],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"west\"") && stderr.contains("north-own"),
        "{stderr}"
    );
}

#[tokio::test]
async fn check_reads_each_target_and_names_the_one_that_fails() {
    let (north, south) = (north(None).await, south().await);
    let out = binary(&north, three(&north, &south, "warden-ops"), &["check"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let projects: Vec<&str> = found["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["found"]["project_id"].as_str().unwrap())
        .collect();
    assert_eq!(projects, [PROJECT, CUSTOMER_PROJECT, SOUTH_PROJECT]);
    let customer = &found["targets"][1]["found"];
    assert_eq!(customer["auth_method"], "AK/SK with security token");
    assert_eq!(customer["services"][0]["pending_connections"], 2);

    let out = binary(&north, three(&north, &south, "closed"), &["check"]).await;
    assert_eq!(out.status.code(), Some(1));
    let found: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert!(found["targets"][0]["found"].is_object());
    assert!(found["targets"][1]["error"]
        .as_str()
        .unwrap()
        .contains("IAM.0002"));
    assert!(found["targets"][2]["found"].is_object());
    assert!(String::from_utf8_lossy(&out.stderr).contains("target north-customer"));
}
