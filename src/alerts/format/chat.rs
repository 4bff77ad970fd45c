//! Chat bodies: Slack, Feishu, DingTalk, WeCom and Teams messages, each
//! within what its receiver shows.

use serde_json::{json, Value};

use std::borrow::Borrow;

use super::{line, refs, Context};
use crate::alerts::Alert;

/// Alerts one chat message shows; the rest are counted.
const CHAT_ALERTS: usize = 40;

/// One line per alert, at most [`CHAT_ALERTS`], then how many more.
fn lines(alerts: &[&Alert]) -> Vec<String> {
    let mut out: Vec<String> = alerts.iter().take(CHAT_ALERTS).map(|a| line(a)).collect();
    if alerts.len() > CHAT_ALERTS {
        out.push(format!("… and {} more", alerts.len() - CHAT_ALERTS));
    }
    out
}

/// The most characters of Slack's fallback `text`: Slack advises at most
/// 4,000 (a longer one is cut in notifications, and truncated past 40,000).
pub const SLACK_TEXT_MAX_CHARS: usize = 4000;

/// Whole lines while they fit in `max` characters, then how many were left out.
fn fitted(alerts: &[&Alert], max: usize) -> String {
    let mut text = String::new();
    let mut used = 0;
    for (i, a) in alerts.iter().enumerate() {
        let next = line(a);
        let left = alerts.len() - i;
        let tail = format!("\n… and {left} more");
        let sep = usize::from(!text.is_empty());
        let size = next.chars().count() + sep;
        // Keep room to say how many more there are, unless this is the last line.
        let room = if left > 1 { tail.chars().count() } else { 0 };
        if used + size + room > max {
            if text.is_empty() {
                // One line alone too long: cut it.
                let cut: String = next
                    .chars()
                    .take(max.saturating_sub(tail.chars().count() + 1))
                    .collect();
                return format!("{cut}…{}", if left > 1 { tail } else { String::new() });
            }
            text.push_str(&tail);
            return text;
        }
        if sep == 1 {
            text.push('\n');
        }
        text.push_str(&next);
        used += size;
    }
    text
}

/// A ten-step bar of a quota alert's usage, e.g. `██████████ 95%`.
fn usage_bar(a: &Alert) -> Option<String> {
    let percent = a.facts.get("percent")?.as_f64()?;
    let filled = ((percent / 10.0).round() as usize).min(10);
    Some(format!(
        "{}{} {percent:.0}%",
        "█".repeat(filled),
        "░".repeat(10 - filled)
    ))
}

/// A Slack incoming-webhook message: `text` (the fallback shown in
/// notifications, and all Mattermost and Rocket.Chat read) and `blocks`: a
/// header, one section per alert with its level, usage bar, numbers and
/// project, and a link to the console when the region is known.
pub fn slack(alerts: &[impl Borrow<Alert>], cx: &Context) -> Value {
    let alerts = &refs(alerts)[..];
    let text = fitted(alerts, SLACK_TEXT_MAX_CHARS);
    let worst = alerts.iter().map(|a| a.level).max().unwrap_or_default();
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": format!("VPCEP warden: {} alert(s), worst {}", alerts.len(), worst.name())}
    })];
    for a in alerts.iter().take(CHAT_ALERTS) {
        let mut text = if a.summary.contains(&a.reason) {
            format!("*{}* {}", a.level.name().to_uppercase(), a.summary)
        } else {
            format!(
                "*{}* {}\n{}",
                a.level.name().to_uppercase(),
                a.summary,
                a.reason
            )
        };
        if let Some(bar) = usage_bar(a) {
            text.push_str(&format!("\n`{bar}`"));
        }
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    let mut context = Vec::new();
    if alerts.len() > CHAT_ALERTS {
        context.push(format!("… and {} more", alerts.len() - CHAT_ALERTS));
    }
    if let Some(url) = &cx.console {
        context.push(format!("<{url}|VPCEP console>"));
    }
    if !context.is_empty() {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context.join(" · ")}]}));
    }
    json!({ "text": text, "blocks": blocks })
}

/// A Feishu (Lark) custom bot text message: `{"msg_type": "text", "content": {"text": ...}}`.
pub fn feishu(alerts: &[impl Borrow<Alert>]) -> Value {
    let alerts = &refs(alerts)[..];
    json!({"msg_type": "text", "content": {"text": lines(alerts).join("\n")}})
}

/// A DingTalk custom robot text message: `{"msgtype": "text", "text": {"content": ...}}`.
/// The text starts with `VPCEP`, a keyword for the robot's keyword security setting.
pub fn dingtalk(alerts: &[impl Borrow<Alert>]) -> Value {
    let alerts = &refs(alerts)[..];
    json!({"msgtype": "text", "text": {"content": lines(alerts).join("\n")}})
}

/// The most a WeCom markdown message may hold, in bytes (the documented limit is 4096).
const WECOM_MAX_BYTES: usize = 4000;

/// A WeCom (WeChat Work) group robot markdown message:
/// `{"msgtype": "markdown", "markdown": {"content": ...}}`, cut to its size limit.
pub fn wecom(alerts: &[impl Borrow<Alert>], cx: &Context) -> Value {
    let alerts = &refs(alerts)[..];
    let mut content = String::new();
    for a in alerts {
        let color = match a.level {
            crate::report::Level::Critical => "warning",
            _ => "comment",
        };
        let line = format!(
            "<font color=\"{color}\">{}</font> {}\n",
            a.level.name(),
            line(a)
        );
        if content.len() + line.len() > WECOM_MAX_BYTES - 64 {
            content.push_str("… and more\n");
            break;
        }
        content.push_str(&line);
    }
    if let Some(url) = &cx.console {
        if content.len() + url.len() < WECOM_MAX_BYTES - 32 {
            content.push_str(&format!("[VPCEP console]({url})"));
        }
    }
    json!({"msgtype": "markdown", "markdown": {"content": content}})
}

/// A Microsoft Teams Workflows ("Post to a channel when a webhook request is
/// received") message: an Adaptive Card 1.4 attachment.
pub fn teams(alerts: &[impl Borrow<Alert>], cx: &Context) -> Value {
    let alerts = &refs(alerts)[..];
    let mut body = vec![json!({
        "type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
        "text": format!("VPCEP warden: {} alert(s)", alerts.len())
    })];
    for line in lines(alerts) {
        body.push(json!({"type": "TextBlock", "wrap": true, "text": line}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(url) = &cx.console {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "VPCEP console", "url": url}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{alert, cx, NOON};
    use super::*;

    #[test]
    fn slack_has_a_fallback_text_and_blocks_with_level_bar_and_link() {
        let body = slack(&[alert()], &cx(NOON));
        assert_eq!(
            body["text"],
            "VPCEP quota critical: endpoint 143/150 (95%) in project p1 (95% used, critical level is 95%)"
        );
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        let section = blocks[1]["text"]["text"].as_str().unwrap();
        assert!(section.starts_with("*CRITICAL*"), "{section}");
        assert!(section.contains("██████████ 95%"), "{section}");
        let context = blocks[2]["elements"][0]["text"].as_str().unwrap();
        assert!(context.contains("console.huaweicloud.com/vpcep/?region=cn-north-4"));
        // Slack allows at most 50 blocks.
        let many = vec![alert(); 120];
        assert!(slack(&many, &cx(NOON))["blocks"].as_array().unwrap().len() <= 50);
    }

    #[test]
    fn feishu_dingtalk_and_wecom_bodies_have_their_documented_fields() {
        let alerts = [alert()];
        let f = feishu(&alerts);
        assert_eq!(f["msg_type"], "text");
        assert!(f["content"]["text"]
            .as_str()
            .unwrap()
            .starts_with("VPCEP quota critical"));
        let d = dingtalk(&alerts);
        assert_eq!(d["msgtype"], "text");
        assert!(d["text"]["content"].as_str().unwrap().starts_with("VPCEP"));
        let w = wecom(&vec![alert(); 500], &cx(NOON));
        assert_eq!(w["msgtype"], "markdown");
        let content = w["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= 4096, "{}", content.len());
        assert!(content.contains("… and more"));
    }

    #[test]
    fn teams_gets_an_adaptive_card_attachment() {
        let t = teams(&[alert()], &cx(NOON));
        assert_eq!(t["type"], "message");
        let attachment = &t["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachment["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(card["body"][1]["type"], "TextBlock");
        assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    }

    #[test]
    fn slacks_fallback_text_stays_within_4000_characters_on_a_busy_run() {
        let many: Vec<Alert> = (0..300)
            .map(|i| {
                Alert::pending(
                    "0123456789abcdef0123456789abcdef",
                    "5e000000-0000-4000-8000-000000000001",
                    &format!("e0000000-0000-4000-8000-{i:012}"),
                    "ffffffffffffffffffffffffffffffff",
                    "account ffffffffffffffffffffffffffffffff is not in WARDEN_ALLOWED_DOMAINS",
                )
            })
            .collect();
        let text = slack(&many, &cx(NOON))["text"].as_str().unwrap().to_owned();
        assert!(
            text.chars().count() <= SLACK_TEXT_MAX_CHARS,
            "{}",
            text.len()
        );
        assert!(text.ends_with(" more"), "{text}");
        let shown = text.lines().count() - 1;
        assert!(
            text.ends_with(&format!("… and {} more", 300 - shown)),
            "{text}"
        );
        // Few alerts: all there, nothing said of more.
        let two = slack(&many[..2], &cx(NOON))["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(two.lines().count(), 2, "{two}");
    }
}
