//! Alert bodies for each webhook format, as each receiver documents them.
//! Pure functions of the alerts.

mod alertmanager;
mod chat;

pub use alertmanager::alertmanager;
pub use chat::{dingtalk, feishu, slack, teams, wecom, SLACK_TEXT_MAX_CHARS};

use std::borrow::Borrow;

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::Alert;
use crate::config::AlertFormat;

/// What a body needs besides the alerts.
#[derive(Debug, Clone)]
pub struct Context {
    pub now: OffsetDateTime,
    /// How long Alertmanager keeps a firing alert (`WARDEN_ALERT_TTL_MINUTES`).
    pub ttl: Duration,
    /// The VPCEP console of the region, when the region is known.
    pub console: Option<String>,
}

/// The VPCEP console page of `region`.
pub fn console_url(region: &str) -> String {
    format!("https://console.huaweicloud.com/vpcep/?region={region}")
}

/// The alerts of a slice of alerts or of references to them, by reference:
/// a delivery formats what it picked without copying it.
pub fn refs<A: Borrow<Alert>>(alerts: &[A]) -> Vec<&Alert> {
    alerts.iter().map(Borrow::borrow).collect()
}

/// The webhook body for `alerts` in `format`: one request carries them all.
pub fn body(format: AlertFormat, alerts: &[impl Borrow<Alert>], cx: &Context) -> Value {
    match format {
        AlertFormat::Slack => slack(alerts, cx),
        AlertFormat::Alertmanager => alertmanager(alerts, cx),
        AlertFormat::Json => json!(refs(alerts)),
        AlertFormat::Feishu => feishu(alerts),
        AlertFormat::Dingtalk => dingtalk(alerts),
        AlertFormat::Wecom => wecom(alerts, cx),
        AlertFormat::Teams => teams(alerts, cx),
    }
}

/// An alert in one line: `summary (reason)`, or the summary alone when it
/// says the reason already (a posture finding's summary ends with it).
fn line(a: &Alert) -> String {
    if a.reason.is_empty() || a.summary.contains(&a.reason) {
        a.summary.clone()
    } else {
        format!("{} ({})", a.summary, a.reason)
    }
}

/// The SMN subject and message for `alerts`.
pub fn smn(alerts: &[impl Borrow<Alert>]) -> (String, String) {
    let alerts = refs(alerts);
    let worst = alerts.iter().map(|a| a.level).max();
    let subject = format!(
        "VPCEP warden {}: {} alert(s)",
        worst.map(|l| l.name()).unwrap_or("ok"),
        alerts.len()
    );
    let message = alerts
        .iter()
        .map(|a| line(a))
        .collect::<Vec<_>>()
        .join("\n");
    (subject, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, QuotaEntry};

    pub(super) fn alert() -> Alert {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level: Level::Critical,
            target: None,
        };
        Alert::quota(&entry, "p1", "95% used, critical level is 95%".into())
    }

    pub(super) fn cx(now: OffsetDateTime) -> Context {
        Context {
            now,
            ttl: Duration::minutes(180),
            console: Some(console_url("cn-north-4")),
        }
    }

    pub(super) const NOON: OffsetDateTime = time::macros::datetime!(2026-11-23 12:00 UTC);

    #[test]
    fn json_is_the_alert_objects_as_they_are() {
        let body = body(AlertFormat::Json, &[alert()], &cx(NOON));
        assert_eq!(body[0]["type"], "endpoint");
        assert_eq!(body[0]["level"], "critical");
        assert_eq!(body[0]["dedup_key"], "vpcep-quota/p1/endpoint/critical");
    }

    #[test]
    fn a_posture_findings_reason_is_said_once() {
        let finding = Alert::finding(
            "whitelist_open",
            "p1",
            "s1",
            "its whitelist holds *: any account may connect".into(),
        );
        let once = |text: &str| text.matches("any account may connect").count() == 1;
        let body = slack(std::slice::from_ref(&finding), &cx(NOON));
        assert!(once(body["text"].as_str().unwrap()), "{body}");
        assert!(
            once(body["blocks"][1]["text"]["text"].as_str().unwrap()),
            "{body}"
        );
        let wecom_body = wecom(std::slice::from_ref(&finding), &cx(NOON));
        assert!(once(wecom_body["markdown"]["content"].as_str().unwrap()));
        assert!(once(&smn(std::slice::from_ref(&finding)).1));
    }
}
