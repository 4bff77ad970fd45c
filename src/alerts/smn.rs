//! The SMN sink: alerts published to a Huawei Cloud SMN topic
//! (`WARDEN_SMN_TOPIC_URN`) through the signed client.

use super::{format, Alert};
use crate::config::Settings;
use crate::report::ErrorEntry;
use crate::vpcep::Client;

/// The SMN topic alerts are published to, through the signed client.
#[derive(Debug, Clone)]
pub(super) struct Smn {
    client: Client,
    publish_url: String,
}

impl Smn {
    /// The topic `settings` configure, published to with `client`'s credentials.
    pub(super) fn from_settings(settings: &Settings, client: &Client) -> Option<Self> {
        match (&settings.smn_topic_urn, &settings.smn_endpoint) {
            (Some(urn), Some(endpoint)) => Some(Self {
                client: client.clone(),
                publish_url: format!(
                    "{}/v2/{}/notifications/topics/{}/publish",
                    endpoint.trim_end_matches('/'),
                    settings.project_id,
                    // As the official SMN SDK sends it: `:` as `%3A`.
                    urn.replace(':', "%3A")
                ),
            }),
            _ => None,
        }
    }

    /// The same topic, published to through `client`.
    pub(super) fn with_client(&self, client: &Client) -> Self {
        Self {
            client: client.clone(),
            publish_url: self.publish_url.clone(),
        }
    }

    /// Publishes `alerts`; `None` when there is nothing to publish.
    pub(super) async fn publish(
        &self,
        job: &str,
        alerts: &[Alert],
    ) -> Option<Result<(), ErrorEntry>> {
        if alerts.is_empty() {
            return None;
        }
        let (subject, message) = format::smn(alerts);
        let body = serde_json::json!({"subject": subject, "message": message});
        let result = self
            .client
            .send_json(reqwest::Method::POST, &self.publish_url, Some(&body))
            .await;
        Some(result.map(|_| ()).map_err(|e| ErrorEntry {
            job: job.into(),
            target: "SMN topic".into(),
            message: e.to_string(),
            retryable: e.is_retryable(),
            target_name: None,
        }))
    }
}
