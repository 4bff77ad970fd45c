//! The SMN sink: alerts published to a Huawei Cloud SMN topic
//! (`WARDEN_SMN_TOPIC_URN`) through the signed client.
//!
//! The topic URN `urn:smn:REGION:PROJECT:NAME` names where the topic lives:
//! the publish goes to `https://smn.{REGION}.myhuaweicloud.com` unless
//! `WARDEN_SMN_ENDPOINT` says otherwise, to `/v2/{PROJECT}/...`, with
//! `X-Project-Id: PROJECT` (as the SMN SDK sends it), whatever the VPCEP
//! project is.
//!
//! SMN refuses a message over 256 KB or a subject over 512 bytes, and
//! refuses the whole publish. So alerts are published in as many messages as
//! they need, each within the limits ("part i of n" in the subject); an alert
//! longer than a message on its own is cut, saying so; past
//! [`MAX_PUBLISHES`] messages, the last one says how many alerts it leaves
//! out (all of them are in the log and the report). Nothing is dropped
//! without a word.

use std::borrow::Borrow;

use super::{format, Alert};
use crate::config::Settings;
use crate::report::ErrorEntry;
use crate::vpcep::Client;

/// The largest message SMN publishes: 256 KB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The largest subject SMN takes.
pub const MAX_SUBJECT_BYTES: usize = 512;

/// Most publishes for one delivery (2.5 MB of alerts): beyond, a summary.
pub const MAX_PUBLISHES: usize = 10;

/// The SMN topic alerts are published to, through the signed client.
#[derive(Debug, Clone)]
pub(super) struct Smn {
    client: Client,
    publish_url: String,
    /// The project the topic belongs to (the URN's).
    project_id: String,
}

/// The region and project a topic URN names.
fn urn_parts(urn: &str) -> Option<(&str, &str)> {
    match urn.split(':').collect::<Vec<_>>().as_slice() {
        ["urn", "smn", region, project, name]
            if !region.is_empty() && !project.is_empty() && !name.is_empty() =>
        {
            Some((region, project))
        }
        _ => None,
    }
}

impl Smn {
    /// The topic `settings` configure, published to with `client`'s
    /// credentials; `None` when no topic is configured.
    pub(super) fn from_settings(settings: &Settings, client: &Client) -> Option<Self> {
        let urn = settings.smn_topic_urn.as_deref()?;
        // The settings refuse a malformed URN; one built by hand falls back
        // on the settings' project, and still shows as a sink.
        let (region, project_id) = urn_parts(urn).unwrap_or(("", &settings.project_id));
        let endpoint = match &settings.smn_endpoint {
            Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
            None => format!("https://smn.{region}.myhuaweicloud.com"),
        };
        Some(Self {
            client: client.clone(),
            publish_url: format!(
                "{endpoint}/v2/{project_id}/notifications/topics/{}/publish",
                // As the official SMN SDK sends it: `:` as `%3A`.
                urn.replace(':', "%3A")
            ),
            project_id: project_id.to_owned(),
        })
    }

    /// The same topic, published to through `client`.
    pub(super) fn with_client(&self, client: &Client) -> Self {
        Self {
            client: client.clone(),
            ..self.clone()
        }
    }

    /// Publishes `alerts` in as many messages as the limits need; `None`
    /// when there is nothing to publish.
    pub(super) async fn publish(
        &self,
        job: &str,
        alerts: &[&Alert],
    ) -> Option<Result<(), ErrorEntry>> {
        if alerts.is_empty() {
            return None;
        }
        let messages = messages(alerts);
        let total = messages.len();
        let mut failed = Vec::new();
        for (subject, message) in &messages {
            let body = serde_json::json!({"subject": subject, "message": message});
            let result = self
                .client
                .send_json_in(
                    &self.project_id,
                    reqwest::Method::POST,
                    &self.publish_url,
                    Some(&body),
                )
                .await;
            if let Err(e) = result {
                failed.push(e);
            }
        }
        let Some(first) = failed.first() else {
            return Some(Ok(()));
        };
        let message = if total == 1 {
            first.to_string()
        } else {
            format!("{} of {total} SMN messages failed: {first}", failed.len())
        };
        Some(Err(ErrorEntry {
            job: job.into(),
            target: "SMN topic".into(),
            message,
            retryable: failed.iter().all(|e| e.is_retryable()),
            target_name: None,
        }))
    }
}

/// The (subject, message) pairs that carry `alerts` within SMN's limits.
pub fn messages(alerts: &[impl Borrow<Alert>]) -> Vec<(String, String)> {
    let alerts = format::refs(alerts);
    // Each alert's own line, as the message of one alert alone reads.
    let sizes: Vec<usize> = alerts
        .iter()
        .map(|a| format::smn(std::slice::from_ref(a)).1.len())
        .collect();
    let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, &len) in sizes.iter().enumerate() {
        let joined = if i == start { len } else { size + 1 + len };
        if i > start && joined > MAX_MESSAGE_BYTES {
            batches.push(start..i);
            (start, size) = (i, len);
        } else {
            size = joined;
        }
    }
    batches.push(start..alerts.len());
    let left_out: usize = batches.iter().skip(MAX_PUBLISHES).map(|b| b.len()).sum();
    batches.truncate(MAX_PUBLISHES);
    let parts = batches.len();
    batches
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let (subject, mut message) = format::smn(&alerts[range]);
            let subject = if parts > 1 {
                format!("{subject}, part {} of {parts}", i + 1)
            } else {
                subject
            };
            let mut note = String::new();
            if i + 1 == parts && left_out > 0 {
                note = format!(
                    "\n... and {left_out} more alert(s) not sent to SMN: see the warden's log and report"
                );
            }
            if message.len() + note.len() > MAX_MESSAGE_BYTES {
                let cut = format!(
                    " ... (cut: {} bytes over SMN's 256 KB)",
                    message.len() + note.len() - MAX_MESSAGE_BYTES
                );
                truncate(&mut message, MAX_MESSAGE_BYTES - note.len() - cut.len());
                message.push_str(&cut);
            }
            message.push_str(&note);
            let mut subject = subject;
            truncate(&mut subject, MAX_SUBJECT_BYTES);
            (subject, message)
        })
        .collect()
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, QuotaEntry};

    fn pending(i: usize) -> Alert {
        Alert::pending(
            "0605767b5d00d3b22f5cc0137f2fa7e2",
            "5133655d-0e28-4090-b669-13f87b355c78",
            &format!("ep-{i:08}-95d5-4555-86c4-e767a371ff99"),
            "9f8e7d6c5b4a49380716253443526170",
            "the account is not on WARDEN_ALLOWED_DOMAINS, and WARDEN_NOT_ALLOWED is leave",
        )
    }

    #[test]
    fn fifteen_hundred_waiting_connections_go_out_in_messages_within_the_limits() {
        let alerts: Vec<Alert> = (0..1500).map(pending).collect();
        let whole = format::smn(&alerts).1.len();
        assert!(
            whole > MAX_MESSAGE_BYTES,
            "the test needs more than one message: {whole}"
        );
        let out = messages(&alerts);
        assert!(out.len() >= 2, "{}", out.len());
        for (subject, message) in &out {
            assert!(subject.len() <= MAX_SUBJECT_BYTES);
            assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
        }
        assert_eq!(
            out[0].0,
            format!(
                "VPCEP warden warning: {} alert(s), part 1 of {}",
                out[0].1.lines().count(),
                out.len()
            )
        );
        let sent: Vec<&str> = out.iter().flat_map(|(_, m)| m.lines()).collect();
        assert_eq!(sent.len(), 1500);
        for (alert, line) in alerts.iter().zip(&sent) {
            assert!(line.starts_with(&alert.summary), "{line}");
        }
    }

    #[test]
    fn a_few_alerts_are_one_message_as_before() {
        let alerts: Vec<Alert> = (0..3).map(pending).collect();
        assert_eq!(messages(&alerts), vec![format::smn(&alerts)]);
    }

    #[test]
    fn an_alert_longer_than_a_message_is_cut_and_says_so() {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 1,
            quota: 1,
            percent: 100.0,
            level: Level::Critical,
            target: None,
        };
        let huge = Alert::quota(&entry, "p1", "é".repeat(MAX_MESSAGE_BYTES));
        let out = messages(&[huge]);
        assert_eq!(out.len(), 1);
        assert!(out[0].1.len() <= MAX_MESSAGE_BYTES);
        assert!(
            out[0].1.contains("(cut: "),
            "{}",
            &out[0].1[out[0].1.len() - 80..]
        );
    }

    #[test]
    fn past_the_most_messages_the_last_says_how_many_it_leaves_out() {
        let long = "x".repeat(MAX_MESSAGE_BYTES / 2);
        let alerts: Vec<Alert> = (0..30)
            .map(|i| {
                let mut a = pending(i);
                a.reason = long.clone();
                a
            })
            .collect();
        let out = messages(&alerts);
        assert_eq!(out.len(), MAX_PUBLISHES);
        let last = &out[MAX_PUBLISHES - 1].1;
        assert!(last.len() <= MAX_MESSAGE_BYTES);
        let sent = out
            .iter()
            .flat_map(|(_, m)| m.lines())
            .filter(|l| l.starts_with("VPCEP"))
            .count();
        assert!(
            last.ends_with(&format!(
                "... and {} more alert(s) not sent to SMN: see the warden's log and report",
                30 - sent
            )),
            "{}",
            &last[last.len() - 100..]
        );
    }
}
