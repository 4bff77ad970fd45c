//! Connection descriptions: the one way the warden writes them.
//!
//! A description belongs to the service's owner. The warden writes only
//! over a description that is empty or one of its own marks (starting with
//! [`MARK_PREFIX`]), and it checks that at the moment of writing: the
//! connections are re-read right before the `PUT`, and a connection whose
//! description changed to someone else's since the run read it is left
//! alone. What remains is the time between that re-read and the `PUT` (one
//! request, typically tens of milliseconds): an edit made by a person in that
//! window can be overwritten, since the API offers no conditional write.

use reqwest::Method;
use serde_json::{json, Value};

use super::client::Client;
use super::error::ApiError;

/// Every description the warden writes starts with this.
pub const MARK_PREFIX: &str = "vpcep-warden:";

/// Whether the warden may write over this description: empty, or one of its marks.
pub fn is_own_description(description: Option<&str>) -> bool {
    description
        .map(str::trim)
        .is_none_or(|d| d.is_empty() || d.starts_with(MARK_PREFIX))
}

/// What a description write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Described {
    /// Connections whose description was written.
    pub written: Vec<String>,
    /// Connections left alone: their description is someone else's now, or
    /// they are gone.
    pub left: Vec<String>,
}

impl Client {
    /// Sets the descriptions of some connections of a service, in one
    /// request (`PUT .../vpc-endpoint-services/{id}/connections/description`),
    /// but only over descriptions that are still empty or the warden's own
    /// when re-read just before.
    pub async fn describe_own_connections(
        &self,
        service_id: &str,
        descriptions: &[(String, String)],
    ) -> Result<Described, ApiError> {
        let mut done = Described::default();
        if descriptions.is_empty() {
            return Ok(done);
        }
        let current = self.list_connections(service_id, None, None).await?;
        let ours = |id: &str| {
            current
                .iter()
                .find(|c| c.id == id)
                .is_some_and(|c| is_own_description(c.description.as_deref()))
        };
        let mut writes = Vec::with_capacity(descriptions.len());
        for (id, text) in descriptions {
            if ours(id) {
                writes.push(json!({"id": id, "description": text}));
                done.written.push(id.clone());
            } else {
                done.left.push(id.clone());
            }
        }
        if writes.is_empty() {
            return Ok(done);
        }
        let target = format!("{} connection(s) of service {service_id}", writes.len());
        let segments = [
            "vpc-endpoint-services",
            service_id,
            "connections",
            "description",
        ];
        let body = json!({ "connections": writes });
        self.request::<Value>(
            "describe connections",
            &target,
            Method::PUT,
            &segments,
            Some(&body),
        )
        .await?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_descriptions_and_marks_are_ours() {
        assert!(is_own_description(None));
        assert!(is_own_description(Some("  ")));
        assert!(is_own_description(Some(
            "vpcep-warden: announced 2026-11-24T10:00Z, x"
        )));
        assert!(!is_own_description(Some(
            "billing contact: ops@example.com"
        )));
        assert!(!is_own_description(Some("ops: vpcep-warden: keep")));
    }
}
