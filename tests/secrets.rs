//! No secret reaches stdout, stderr or the report, even with debug logging on
//! and an API that echoes the request's credentials back in its error.

use std::process::Command;

use serde_json::json;

use crate::scripted::{Reply, TestServer};

const SK: &str = "sk-ABSOLUTELY-SECRET-0001";
const TOKEN: &str = "token-ABSOLUTELY-SECRET-0002";
const WEBHOOK_SECRET: &str = "webhook-ABSOLUTELY-SECRET-0003";
const HOOK_PATH: &str = "hookpath-ABSOLUTELY-SECRET-0004";

/// Answers every request with 401 and a canonical request that shows the
/// security token, as a misbehaving gateway might.
async fn start_echo_server() -> TestServer {
    TestServer::start(|seen| {
        let token = seen.header("x-security-token").unwrap_or("");
        let auth = seen.header("authorization").unwrap_or("");
        Reply::json(
            401,
            json!({
                "error_code": "APIGW.0301",
                "error_msg": format!("Incorrect IAM authentication information: canonical request: GET\n/\n\nx-security-token:{token}\nauthorization:{auth}")
            }),
        )
        .header("X-Request-Id", "req-echo-1")
    })
    .await
}

#[tokio::test]
async fn no_secret_appears_in_output_with_debug_logging() {
    let server = start_echo_server().await;
    let base = server.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
            .arg("tick")
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", "AKPUBLIC0000000000001")
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_SECURITY_TOKEN", TOKEN)
            .env(
                "HUAWEICLOUD_SDK_PROJECT_ID",
                "0123456789abcdef0123456789abcdef",
            )
            .env("WARDEN_VPCEP_ENDPOINT", &base)
            .env("WARDEN_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env(
                "WARDEN_ALERT_WEBHOOK_URL",
                format!("{base}/hooks/{HOOK_PATH}"),
            )
            .env("WARDEN_MAX_RETRIES", "0")
            .env("RUST_LOG", "trace")
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the tick ran and failed: {stderr}"
    );
    assert!(
        stdout.contains("APIGW.0301"),
        "the API's error code is reported: {stdout}"
    );
    for secret in [SK, TOKEN, WEBHOOK_SECRET, HOOK_PATH] {
        assert!(!stdout.contains(secret), "{secret} leaked to stdout");
        assert!(!stderr.contains(secret), "{secret} leaked to stderr");
    }
}
