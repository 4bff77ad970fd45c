//! The binary and the Lambda handler path as users meet them: exit codes,
//! HTTP answers, and events that cannot make the warden do anything.

use std::process::{Command, Output};

use serde_json::{json, Value};
use vpcep_emulator::Options;
use vpcep_warden::config::Secret;
use vpcep_warden::events::sign_webhook;
use vpcep_warden::runtime::{invoke, Answer};

use crate::helpers::*;

const SECRET: &str = "cli-test-webhook-secret";

/// Runs the binary with the provider's settings against `base` and `args`,
/// `stdin` as standard input.
fn warden(base: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
        .args(args)
        .env_clear()
        .env("HUAWEICLOUD_SDK_AK", AK)
        .env("HUAWEICLOUD_SDK_SK", SK)
        .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
        .env("WARDEN_VPCEP_ENDPOINT", base)
        .env("WARDEN_ALLOWED_DOMAINS", ALLOWED)
        .env("WARDEN_MAX_RETRIES", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn one_pending_each() -> Value {
    json!({"services": [{"id": SERVICE, "owner": "provider", "service_name": "orders", "approval_enabled": true,
        "connections": [pending("e-allowed", ALLOWED), pending("e-stranger", STRANGER)]}]})
}

async fn run_binary(
    emu: &vpcep_emulator::Emulator,
    args: &'static [&'static str],
    stdin: &'static str,
) -> Output {
    let base = emu.base_url();
    tokio::task::spawn_blocking(move || warden(&base, args, stdin))
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_and_unknown_events_exit_2_and_say_what_was_expected() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let truncated = run_binary(&emu, &["invoke", "-"], "{\"warden\": \"ti").await;
    assert_eq!(truncated.status.code(), Some(2));
    let unknown = run_binary(&emu, &["invoke", "-"], "{\"hello\": \"world\"}").await;
    assert_eq!(unknown.status.code(), Some(2));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("Scheduled Event") && message.contains("aws:sqs"),
        "{message}"
    );
    assert!(unknown.stdout.is_empty(), "no report when nothing was done");
    assert_eq!(emu.stats().total, 0, "nothing reached the API");
}

#[tokio::test]
async fn a_tick_exits_0_and_prints_the_report_and_dry_run_goes_anywhere() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let dry = run_binary(&emu, &["tick", "--dry-run", "--jobs", "approve"], "").await;
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let report: Value = serde_json::from_slice(&dry.stdout).expect("stdout is the report alone");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["approved"][0]["endpoint_id"], "e-allowed");
    assert_eq!(emu.stats().by_operation.get("connection_action"), None);

    let real = run_binary(
        &emu,
        &["--dry-run", "invoke", "-"],
        "{\"warden\": \"tick\", \"jobs\": [\"approve\"]}",
    )
    .await;
    assert_eq!(real.status.code(), Some(0));
    assert_eq!(
        emu.stats().by_operation.get("connection_action"),
        None,
        "--dry-run before the command too"
    );
}

#[tokio::test]
async fn a_tick_against_a_failing_api_exits_1_and_changes_nothing() {
    let emu = emulator(
        one_pending_each(),
        Options {
            fault_rate: 1.0,
            ..Options::default()
        },
    )
    .await;
    let out = run_binary(&emu, &["tick"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("EndPoint.0001"));
    emu.set_faults(Options::default()).unwrap();
    let ctx = ctx(settings(&emu));
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-allowed"],
        "pendingAcceptance"
    );
}

#[tokio::test]
async fn bad_settings_exit_2_naming_the_variable() {
    let out = tokio::task::spawn_blocking(|| warden("not a url", &["tick"], ""))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("WARDEN_VPCEP_ENDPOINT"));
}

fn http_event(body: &str, timestamp: i64, signature: &str) -> Vec<u8> {
    json!({
        "version": "2.0", "routeKey": "POST /webhook", "rawPath": "/webhook", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-warden-timestamp": timestamp.to_string(), "x-warden-signature": signature},
        "requestContext": {"http": {"method": "POST", "path": "/webhook", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.7", "userAgent": "curl"}},
        "body": body, "isBase64Encoded": false
    })
    .to_string()
    .into_bytes()
}

fn status_of(answer: &Answer) -> u64 {
    match answer {
        Answer::Value(v) => v["statusCode"].as_u64().unwrap_or(0),
        Answer::Failed(m) => panic!("an HTTP event is answered in HTTP, got {m}"),
    }
}

#[tokio::test]
async fn webhooks_with_bad_signatures_get_401_and_do_nothing() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let mut s = settings(&emu);
    s.webhook_secret = Some(Secret::new(SECRET));
    let ctx = ctx(s);
    let body = format!("{{\"service_id\": \"{SERVICE}\"}}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let good = sign_webhook(SECRET, now, body.as_bytes());
    let cases = [
        (
            "wrong secret",
            http_event(&body, now, &sign_webhook("other", now, body.as_bytes())),
        ),
        (
            "stale",
            http_event(
                &body,
                now - 301,
                &sign_webhook(SECRET, now - 301, body.as_bytes()),
            ),
        ),
        (
            "other body",
            http_event(&body.replace('}', " }"), now, &good),
        ),
        ("missing", http_event(&body, now, "")),
    ];
    for (name, event) in cases {
        assert_eq!(status_of(&invoke(&ctx, &event).await), 401, "{name}");
    }
    assert_eq!(emu.stats().total, 0, "a refused webhook reaches no API");

    let answer = invoke(&ctx, &http_event(&body, now, &good)).await;
    assert_eq!(status_of(&answer), 200);
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-allowed"],
        "accepted"
    );
}

#[tokio::test]
async fn a_webhook_body_that_is_not_a_notice_gets_400_saying_what_was_expected() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let mut s = settings(&emu);
    s.webhook_secret = Some(Secret::new(SECRET));
    let ctx = ctx(s);
    let body = "{\"service\": \"x\"}";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let answer = invoke(
        &ctx,
        &http_event(body, now, &sign_webhook(SECRET, now, body.as_bytes())),
    )
    .await;
    assert_eq!(status_of(&answer), 400);
    let Answer::Value(v) = answer else {
        unreachable!()
    };
    assert!(v["body"].as_str().unwrap().contains("service_id"), "{v}");
}

#[tokio::test]
async fn a_domain_id_in_the_event_is_ignored_in_favour_of_the_apis() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let ctx = ctx(settings(&emu));
    let event = json!({"warden": "connection", "service_id": SERVICE, "endpoint_id": "e-stranger",
                       "domain_id": ALLOWED, "status": "pendingAcceptance"});
    let Answer::Value(report) = invoke(&ctx, event.to_string().as_bytes()).await else {
        panic!("a clean run answers with the report")
    };
    assert!(
        report["approved"].as_array().unwrap().is_empty(),
        "{report}"
    );
    assert_eq!(report["left_pending"][0]["domain_id"], STRANGER);
    assert_eq!(
        connection_statuses(&ctx, SERVICE).await["e-stranger"],
        "pendingAcceptance"
    );
}

#[tokio::test]
async fn notices_that_can_never_succeed_get_422_and_api_failures_502() {
    let emu = emulator(one_pending_each(), Options::default()).await;
    let mut s = settings(&emu);
    s.webhook_secret = Some(Secret::new(SECRET));
    s.service_ids = vec![SERVICE.to_owned()];
    let ctx = ctx(s);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let post = |body: String| {
        let event = http_event(&body, now, &sign_webhook(SECRET, now, body.as_bytes()));
        let ctx = ctx.clone();
        async move { invoke(&ctx, &event).await }
    };
    let unmanaged =
        post(json!({"service_id": "5e000000-0000-4000-8000-0000000000ff"}).to_string()).await;
    assert_eq!(status_of(&unmanaged), 422);
    let no_connection =
        post(json!({"service_id": SERVICE, "endpoint_id": "e-nobody"}).to_string()).await;
    assert_eq!(status_of(&no_connection), 422);

    emu.set_faults(Options {
        fault_rate: 1.0,
        ..Options::default()
    })
    .unwrap();
    let failing = post(json!({"service_id": SERVICE}).to_string()).await;
    assert_eq!(status_of(&failing), 502, "worth retrying later");
}
