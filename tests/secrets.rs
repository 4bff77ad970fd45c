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

/// The Parameters and Secrets Lambda Extension, as a stand-in.
async fn extension(secret: serde_json::Value) -> TestServer {
    TestServer::start(move |seen| {
        if seen.header("x-aws-parameters-secrets-token") != Some("session-token")
            || seen.path != "/secretsmanager/get"
        {
            return Reply::json(401, json!({"message": "not authorized"}));
        }
        Reply::json(
            200,
            json!({"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warden",
                   "Name": "warden", "SecretString": secret.to_string()}),
        )
    })
    .await
}

fn port_of(server: &TestServer) -> u16 {
    server.url.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn secrets_come_from_secrets_manager_through_the_lambda_extension() {
    use vpcep_warden::config::{Credentials, HostDefaults, Settings};
    use vpcep_warden::runtime::lambda::secrets_from_extension;
    let ext = extension(json!({"ak": "AKFROMSECRET", "sk": SK, "webhook_secret": WEBHOOK_SECRET, "note": "ignored"})).await;
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warden";
    let secrets = secrets_from_extension(arn, port_of(&ext), "session-token")
        .await
        .unwrap();
    let names: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "HUAWEICLOUD_SDK_AK",
            "HUAWEICLOUD_SDK_SK",
            "WARDEN_WEBHOOK_SECRET"
        ]
    );
    assert!(!format!("{secrets:?}").contains(SK), "secrets stay hidden");
    assert_eq!(
        ext.requests()[0].query_value("secretId").as_deref(),
        Some(arn)
    );
    // They load as settings, as if they were in the environment.
    let host = HostDefaults {
        secrets,
        ..HostDefaults::default()
    };
    let vars: Vec<(String, String)> = host
        .secrets
        .iter()
        .map(|(n, v)| (n.clone(), v.expose().to_owned()))
        .chain([
            ("HUAWEICLOUD_SDK_PROJECT_ID".to_owned(), "p1".to_owned()),
            ("WARDEN_REGION".to_owned(), "eu-west-101".to_owned()),
        ])
        .collect();
    let settings = Settings::from_vars_with(vars, &host).unwrap();
    assert!(
        matches!(settings.credentials, Credentials::AkSk { ref ak, .. } if ak == "AKFROMSECRET")
    );

    let refused = secrets_from_extension(arn, port_of(&ext), "wrong-token").await;
    assert!(refused.unwrap_err().contains("HTTP 401"));
    let not_json = extension(json!("a plain string")).await;
    let err = secrets_from_extension(arn, port_of(&not_json), "session-token")
        .await
        .unwrap_err();
    assert!(err.contains("must be a JSON object"), "{err}");
}

#[tokio::test]
async fn the_extension_is_asked_again_while_not_ready_and_never_followed_elsewhere() {
    use vpcep_warden::runtime::lambda::secrets_from_extension;
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:warden";
    // At a cold start the extension answers 400 "not ready" before it is up.
    let secret = json!({"SecretString": json!({"sk": SK}).to_string()});
    let cold = TestServer::scripted(vec![
        Reply::raw(400, "not ready to serve traffic, please wait"),
        Reply::raw(400, "not ready to serve traffic, please wait"),
        Reply::json(200, secret),
    ])
    .await;
    let secrets = secrets_from_extension(arn, port_of(&cold), "session-token")
        .await
        .expect("read once the extension is ready");
    assert_eq!(secrets[0].0, "HUAWEICLOUD_SDK_SK");
    assert_eq!(cold.count(), 3);
    // Another 4xx is not waited on.
    let denied = TestServer::scripted(vec![Reply::raw(400, "secret not found")]).await;
    let err = secrets_from_extension(arn, port_of(&denied), "session-token")
        .await
        .unwrap_err();
    assert!(err.contains("HTTP 400"), "{err}");
    assert_eq!(denied.count(), 1);
    // A redirect is not followed: the session token reaches no other host.
    let elsewhere = TestServer::start(|_| Reply::json(200, json!({}))).await;
    let target = format!("{}/steal", elsewhere.url);
    let redirecting =
        TestServer::start(move |_| Reply::raw(302, "").header("Location", &target)).await;
    let err = secrets_from_extension(arn, port_of(&redirecting), "session-token")
        .await
        .unwrap_err();
    assert!(err.contains("redirect"), "{err}");
    assert_eq!(elsewhere.count(), 0, "the token went to another host");
}
