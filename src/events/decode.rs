//! Picks the source by its marker fields, then reads only what it needs.
//!
//! The order of the checks is the order of the table in design.md section 4,
//! with the direct invocation (`warden`) first so a hand-written event can
//! never be mistaken for a platform one. Formats are never tried in turn: an
//! SNS event would parse as an SQS one, since both have only optional fields.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::direct::direct;
use super::error::EventError;
use super::fields::{describe, jobs};
use super::notice::truncate;
use super::{aws, huawei, Decoded, Job, Reply, Trigger};
use crate::config::Settings;

/// Decodes an already parsed event.
///
/// `now` is the clock webhook timestamps are checked against. Never panics;
/// any input that is not an accepted event is an [`EventError`].
pub fn decode_value(
    payload: &Value,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Decoded, EventError> {
    let Some(event) = payload.as_object() else {
        return Err(EventError::Unknown {
            found: describe(payload),
        });
    };
    if event.contains_key("warden") {
        return direct(event, settings);
    }
    if let Some(detail_type) = event.get("detail-type") {
        return eventbridge(event, detail_type);
    }
    if event.get("trigger_type").and_then(Value::as_str) == Some("TIMER") {
        return huawei::timer(event, settings);
    }
    if let Some(context) = event.get("requestContext") {
        // Look-alikes that are not webhooks: an API Gateway authorizer
        // request (`methodArn` / `routeArn`), a WebSocket event
        // (`connectionId`), an ALB target request (`elb`). Refused as unknown.
        let look_alike = event.contains_key("methodArn")
            || event.contains_key("routeArn")
            || context.get("connectionId").is_some()
            || context.get("elb").is_some();
        if look_alike {
            return Err(EventError::Unknown {
                found: describe(payload),
            });
        }
        if context.get("http").is_some() {
            return aws::http(event, Reply::HttpV2, settings, now);
        }
        if event.contains_key("httpMethod") {
            return aws::http(event, Reply::HttpV1, settings, now);
        }
    }
    if let Some(first) = event.get("Records").and_then(|r| r.get(0)) {
        if first.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") {
            return aws::sqs(event);
        }
        if first.get("EventSource").and_then(Value::as_str) == Some("aws:sns") {
            return aws::sns(event);
        }
    }
    if let Some(first) = event.get("record").and_then(|r| r.get(0)) {
        if first.get("event_source").and_then(Value::as_str) == Some("smn") {
            return huawei::smn(event);
        }
    }
    if event.contains_key("specversion") {
        return huawei::cloud_event(event);
    }
    if let Some(trace) = event.get("cts") {
        return huawei::cts(trace);
    }
    Err(EventError::Unknown {
        found: describe(payload),
    })
}

/// Decodes an event from its JSON text: the Lambda payload or a file the CLI
/// reads. Text that is not JSON (truncated, nested deeper than `serde_json`'s
/// recursion limit of 128) is a [`EventError::Malformed`] carrying the
/// `serde_json` error. See [`decode_value`].
pub fn decode(
    bytes: &[u8],
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Decoded, EventError> {
    let payload: Value = serde_json::from_slice(bytes).map_err(|err| {
        EventError::malformed("input", Reply::Report, "a JSON event", Some(err.into()))
    })?;
    decode_value(&payload, settings, now)
}

fn eventbridge(event: &Map<String, Value>, detail_type: &Value) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "eventbridge";
    if detail_type.as_str() != Some("Scheduled Event") {
        return Err(EventError::Unknown {
            found: format!(
                "an EventBridge event of detail-type {}",
                truncate(&detail_type.to_string())
            ),
        });
    }
    let jobs = match event.get("detail") {
        None | Some(Value::Null) => Job::ALL.to_vec(),
        Some(Value::Object(detail)) => jobs(detail.get("jobs"), ORIGIN)?,
        Some(_) => {
            return Err(EventError::malformed(
                ORIGIN,
                Reply::Report,
                "detail as an object, optionally with \"jobs\"",
                None,
            ))
        }
    };
    Ok(Decoded {
        source: ORIGIN,
        trigger: Trigger::Tick {
            jobs,
            targets: Vec::new(),
        },
        reply: Reply::Report,
    })
}
