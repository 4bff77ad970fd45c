//! The `vpcep-emulator` binary: first line, flags, exit codes.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_vpcep-emulator");

fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vpcep-emulator-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("scenario written");
    path
}

#[tokio::test]
async fn the_binary_prints_its_address_first_and_serves_with_its_flags() {
    let text = serde_json::to_string(&scenario(serde_json::json!({
        "services": [{"id": "s1", "connections": [{"endpoint_id": "e1"}]}]
    })))
    .unwrap();
    let path = scenario_file("ok.json", &text);
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--scenario"])
        .arg(&path)
        .args(["--quirks", "--latency-ms", "1", "--transition-ms", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let base = line.trim().strip_prefix("listening on ").map(str::to_owned);
    let answer = match &base {
        Some(base) if base.starts_with("http://127.0.0.1:") => {
            let caller = Caller {
                base: base.clone(),
                ak: "AK-PROVIDER".into(),
                sk: "SK-provider".into(),
                project: PROVIDER_PROJECT.into(),
                security_token: None,
            };
            Some(caller.get("/vpc-endpoint-services/s1/connections").await)
        }
        _ => None,
    };
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert!(
        answer.body["connections"][0]["marker_id"].is_string(),
        "--quirks is on"
    );
}

#[test]
fn a_missing_or_invalid_scenario_exits_2_with_a_message() {
    let out = Command::new(BIN)
        .args(["--scenario", "/nonexistent/scenario.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the scenario"));
    assert!(out.stdout.is_empty());

    let path = scenario_file("bad.json", r#"{"accounts": []}"#);
    let out = Command::new(BIN)
        .arg("--scenario")
        .arg(&path)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accounts"));

    let path = scenario_file(
        "rate.json",
        &serde_json::to_string(&scenario(serde_json::json!({}))).unwrap(),
    );
    let out = Command::new(BIN)
        .arg("--scenario")
        .arg(&path)
        .args(["--fault-rate", "3"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fault_rate"));
}
