//! Chat receivers and the `alert-test` command: what a bot's answer means,
//! what repeats, what a chat hears of each level.

use std::time::Duration;

use serde_json::json;
use vpcep_emulator::Options;
use vpcep_warden::config::{AlertFormat, Secret};
use vpcep_warden::dispatch::dispatch;

use super::{near_the_limit, quota_tick, receiver, run_with_hook};
use crate::helpers::*;
use crate::scripted::{Reply, TestServer};

/// Runs `vpcep-warden alert-test` with the alert webhook at `hook` in `format`.
async fn alert_test(hook: &str, format: &'static str) -> std::process::Output {
    let hook = hook.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vpcep-warden"))
            .arg("alert-test")
            .env_clear()
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", SK)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            .env("WARDEN_VPCEP_ENDPOINT", "http://127.0.0.1:9")
            .env("WARDEN_ALERT_WEBHOOK_URL", hook)
            .env("WARDEN_ALERT_FORMAT", format)
            .env("WARDEN_MAX_RETRIES", "0")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn alert_test_sends_one_sample_through_each_sink_and_says_which_took_it() {
    let hook = receiver(0, Duration::ZERO).await;
    let out = alert_test(&format!("{}/hook", hook.url), "teams").await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["configured"], json!(["log", "webhook (teams)"]));
    assert_eq!(result["reached"], json!(["log", "webhook"]));
    let body = hook.requests()[0].json();
    assert_eq!(body["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert!(body.to_string().contains("test alert"));

    let down = receiver(usize::MAX, Duration::ZERO).await;
    let out = alert_test(&format!("{}/hook", down.url), "slack").await;
    assert_eq!(out.status.code(), Some(1));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["reached"], json!(["log"]));
    assert!(result["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("HTTP 500"));
}

#[tokio::test]
async fn a_chat_bot_that_answers_200_with_an_error_code_is_a_failed_delivery() {
    for (format, answer) in [
        (
            AlertFormat::Feishu,
            json!({"code": 19024, "msg": "Key Words Not Found"}),
        ),
        (
            AlertFormat::Dingtalk,
            json!({"errcode": 310000, "errmsg": "keywords not in content"}),
        ),
        (
            AlertFormat::Wecom,
            json!({"errcode": 93000, "errmsg": "invalid webhook url"}),
        ),
    ] {
        let answer = answer.clone();
        let bot = TestServer::start(move |_| Reply::json(200, answer.clone())).await;
        let emu = emulator(near_the_limit(), Options::default()).await;
        let mut s = settings(&emu);
        s.alert_webhook_url = Some(Secret::new(format!(
            "{}/robot/send?access_token=t0ken",
            bot.url
        )));
        s.alert_format = format;
        let report = dispatch(&ctx(s), quota_tick()).await.report;
        assert_eq!(report.errors.len(), 1, "{format:?}");
        let message = &report.errors[0].message;
        assert!(message.contains("refused the message"), "{message}");
        assert!(
            !message.contains("t0ken"),
            "the URL stays secret: {message}"
        );
        let body = bot.requests()[0].json();
        let kind = body.get("msg_type").or_else(|| body.get("msgtype"));
        assert!(kind.is_some(), "{format:?}: {body}");
    }
}

#[tokio::test]
async fn chat_gets_an_unchanged_alert_once_while_alertmanager_gets_every_run() {
    for (format, posts) in [(AlertFormat::Slack, 1), (AlertFormat::Alertmanager, 2)] {
        let hook = receiver(0, Duration::ZERO).await;
        let emu = emulator(near_the_limit(), Options::default()).await;
        let mut s = settings(&emu);
        s.alert_webhook_url = Some(Secret::new(format!("{}/hook", hook.url)));
        s.alert_format = format;
        // The second run comes well within the repeat hours of the first.
        s.alert_repeat_hours = 720;
        let ctx = ctx(s);
        let first = dispatch(&ctx, quota_tick()).await.report;
        let second = dispatch(&ctx, quota_tick()).await.report;
        assert_eq!(hook.requests().len(), posts, "{format:?}");
        assert_eq!(first.alerts[0].sinks, ["log", "webhook"]);
        let expected: &[&str] = if posts == 2 {
            &["log", "webhook"]
        } else {
            &["log"]
        };
        assert_eq!(second.alerts[0].sinks, expected, "{format:?}");
    }
}

#[tokio::test]
async fn a_string_error_code_an_echoed_token_and_a_huge_answer_are_failed_deliveries() {
    const TOKEN: &str = "6f1d2c3b4a5e6f708192a3b4c5d6e7f8";
    let huge = "x".repeat(2 * 1024 * 1024);
    for (format, answer) in [
        // Feishu's documented codes come as strings from some gateways.
        (
            AlertFormat::Feishu,
            Reply::json(
                200,
                json!({"code": "19021", "msg": "sign match fail or timestamp is not within one hour from current time"}),
            ),
        ),
        // A bot that echoes the request (its URL, its token) in its refusal.
        (
            AlertFormat::Dingtalk,
            Reply::json(
                200,
                json!({"errcode": 300001, "errmsg": format!("token {TOKEN} is not exist, url /robot/send?access_token={TOKEN}")}),
            ),
        ),
        // An answer far larger than a bot's: not read whole.
        (AlertFormat::Wecom, Reply::raw(200, &huge)),
    ] {
        let bot = TestServer::start(move |_| answer.clone()).await;
        let emu = emulator(near_the_limit(), Options::default()).await;
        let mut s = settings(&emu);
        s.alert_webhook_url = Some(Secret::new(format!(
            "{}/robot/send?access_token={TOKEN}",
            bot.url
        )));
        s.alert_format = format;
        let report = dispatch(&ctx(s), quota_tick()).await.report;
        assert_eq!(report.errors.len(), 1, "{format:?}: {:?}", report.errors);
        let message = &report.errors[0].message;
        assert!(!message.contains(TOKEN), "the token leaked: {message}");
        assert!(
            report
                .alerts
                .iter()
                .all(|a| !a.sinks.contains(&"webhook".to_owned())),
            "{format:?}: counted as delivered"
        );
        if format == AlertFormat::Feishu {
            assert!(message.contains("19021"), "{message}");
        }
        if format == AlertFormat::Wecom {
            assert!(message.contains("bytes"), "{message}");
        }
    }
}

#[tokio::test]
async fn at_critical_alertmanager_keeps_the_warning_firing_and_chat_hears_critical_only() {
    // 143 of 150: critical (95 %), and above the warning level too.
    let (hook, _) = run_with_hook(AlertFormat::Alertmanager).await;
    let body = hook.requests()[0].json();
    let alerts = body.as_array().unwrap();
    let endpoint = |severity: &str| {
        alerts
            .iter()
            .find(|a| {
                a["labels"]["resource_type"] == "endpoint" && a["labels"]["severity"] == severity
            })
            .unwrap_or_else(|| panic!("no {severity} alert: {body}"))
    };
    let now = time::OffsetDateTime::now_utc();
    for severity in ["critical", "warning"] {
        let ends = endpoint(severity)["endsAt"].as_str().unwrap();
        let ends =
            time::OffsetDateTime::parse(ends, &time::format_description::well_known::Rfc3339)
                .unwrap();
        assert!(
            ends > now + time::Duration::minutes(1),
            "{severity} is firing: {body}"
        );
        assert!(
            !endpoint(severity)["annotations"]["description"]
                .as_str()
                .unwrap()
                .contains("back under"),
            "{body}"
        );
    }
    let (chat, _) = run_with_hook(AlertFormat::Slack).await;
    let text = chat.requests()[0].json()["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.contains("critical: endpoint"), "{text}");
    assert!(!text.contains("warning: endpoint"), "{text}");
}
