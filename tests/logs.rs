//! Logs cost little: one summary line per run, one line per action, each
//! line small and JSON fields at the top level, whatever the estate size.

use serde_json::{json, Value};
use vpcep_emulator::Options;

use crate::helpers::*;

/// Runs `vpcep-warden tick` against `base` with `settings` beside the
/// provider's (stderr a pipe); (exit code, stdout, stderr).
async fn tick(
    base: String,
    settings: &[(&'static str, &'static str)],
) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let settings = settings.to_vec();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
            .arg("tick")
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            .env("WARDEN_VPCEP_ENDPOINT", base)
            .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
            .envs(settings)
            .output()
            .unwrap();
        (out.status.code(), out.stdout, out.stderr)
    })
    .await
    .unwrap()
}

/// Runs `vpcep-warden tick` with JSON logs against `base`; (stdout, stderr).
async fn tick_with_json_logs(base: String) -> (Vec<u8>, Vec<u8>) {
    let settings = [
        ("WARDEN_GC_MAX_DELETES", "1000"),
        ("WARDEN_LOG_FORMAT", "json"),
    ];
    let (code, stdout, stderr) = tick(base, &settings).await;
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&stderr));
    (stdout, stderr)
}

fn lines(stderr: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test]
async fn logs_of_a_100_by_1000_estate_are_one_small_line_per_action_plus_a_summary() {
    let scenario = json!({"generate": {"seed": 7, "services": 100, "connections_per_service": 1000,
        "pending_ratio": 0.05, "allowed_domains": [ALLOWED], "endpoints": 1000, "failed_ratio": 0.02}});
    let emu = emulator(scenario, Options::default()).await;
    let (stdout, stderr) = tick_with_json_logs(emu.base_url()).await;
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    let approved = report["approved"].as_array().unwrap().len();
    let deleted = report["deleted"].as_array().unwrap().len();
    assert_eq!(approved, 2500, "the returned report keeps everything");
    assert_eq!(report["left_pending"].as_array().unwrap().len(), 2500);

    let longest = String::from_utf8_lossy(&stderr)
        .lines()
        .map(str::len)
        .max()
        .unwrap();
    assert!(longest < 1024, "a line of {longest} bytes");
    let per_action = stderr.len() / (approved + deleted);
    assert!(
        stderr.len() < 400 * (approved + deleted) + 16 * 1024,
        "{} bytes of logs, {per_action} per action",
        stderr.len()
    );
    let logged = lines(&stderr);
    let summaries: Vec<&Value> = logged
        .iter()
        .filter(|l| l["message"] == "run summary")
        .collect();
    assert_eq!(summaries.len(), 1);
    let s = summaries[0];
    assert_eq!(s["approved"], 2500, "a number, at the top level: {s}");
    assert_eq!(s["left_pending"], 2500);
    assert!(s["left_pending_first"]
        .as_str()
        .unwrap()
        .ends_with("(+2495 more)"));
    assert!(s["api_calls"].as_u64().unwrap() > 100);

    // The next run has nothing to do: its logs are a few lines.
    let (_, quiet) = tick_with_json_logs(emu.base_url()).await;
    assert!(
        quiet.len() < 4096,
        "{} bytes: {}",
        quiet.len(),
        String::from_utf8_lossy(&quiet)
    );
    assert_eq!(
        lines(&quiet)
            .iter()
            .filter(|l| l["message"] == "run summary")
            .count(),
        1
    );
}

/// Runs `vpcep-warden tick` with the log format `format` (stderr a pipe) against `base`.
async fn tick_logs(base: String, format: &'static str) -> String {
    let settings = [
        ("WARDEN_QUOTA_WARN_PERCENT", "0.5"),
        ("WARDEN_LOG_FORMAT", format),
    ];
    let (_, _, stderr) = tick(base, &settings).await;
    String::from_utf8(stderr).unwrap()
}

/// A connection to approve, one left pending, a failed endpoint to delete
/// and both quotas over the warning level (a working endpoint keeps the
/// endpoint quota over it, whether the quota is read before the deletion or
/// after).
fn busy() -> Value {
    json!({
        "services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
            "connections": [pending("e0000000-0000-4000-8000-0000000000a1", ALLOWED),
                            pending("e0000000-0000-4000-8000-0000000000b2", STRANGER)]}],
        "endpoints": [endpoint("e0000000-0000-4000-8000-0000000000f1", "failed", &minutes_ago(600), &[]),
                      endpoint("e0000000-0000-4000-8000-0000000000f2", "accepted", &minutes_ago(600), &[])],
    })
}

const ACTIONS: [&str; 4] = [
    "connection accepted",
    "failed endpoint deleted",
    "alert",
    "connection rejected",
];

#[tokio::test]
async fn text_logs_in_a_pipe_have_no_colour_a_timestamp_and_short_action_lines() {
    let emu = emulator(busy(), Options::default()).await;
    let text = tick_logs(emu.base_url(), "text").await;
    assert!(!text.contains('\u{1b}'), "colour codes in a pipe: {text:?}");
    let mut actions = 0;
    for line in text.lines() {
        let stamp = line.split_whitespace().next().unwrap_or_default();
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "no RFC 3339 time first: {line}"
        );
        if ACTIONS.iter().any(|a| line.contains(&format!(" {a} "))) {
            actions += 1;
            assert!(line.len() < 200, "{} bytes: {line}", line.len());
        }
    }
    assert!(actions >= 4, "accepted, deleted and alerts: {text}");
}

#[tokio::test]
async fn json_log_lines_have_one_level_and_a_timestamp_and_alerts_their_own_level_apart() {
    let emu = emulator(busy(), Options::default()).await;
    let text = tick_logs(emu.base_url(), "json").await;
    let mut alerts = 0;
    for line in text.lines() {
        assert_eq!(line.matches("\"level\":").count(), 1, "{line}");
        let value: Value = serde_json::from_str(line).unwrap();
        let stamp = value["timestamp"].as_str().unwrap_or_default();
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{line}"
        );
        if value["message"] == "alert" {
            alerts += 1;
            assert_eq!(value["level"], "WARN", "{line}");
            assert!(value["alert_level"].is_string(), "{line}");
        }
    }
    assert!(alerts >= 2, "{text}");
}
