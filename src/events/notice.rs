//! Notices: `{"service_id": "...", "endpoint_id": "..."}` and the CTS
//! `createEndpoint` trace that says the same thing.
//!
//! An id that reaches the VPCEP client becomes part of a URL path, so ids are
//! checked here: 1 to 128 characters of ASCII letters, digits, `-` and `_`.
//! Every JSON text parsed here goes through `serde_json`, whose recursion
//! limit bounds the nesting depth; nothing here recurses on its own.

use serde::Deserialize;
use serde_json::Value;

use super::error::Cause;
use super::Notice;

/// What a notice looks like, for "expected ..." messages.
pub(crate) const NOTICE_SHAPE: &str = r#"a notice {"service_id": "...", "endpoint_id": "..."}"#;

/// The longest id accepted.
const MAX_ID_LEN: usize = 128;

/// Parses a notice from JSON text (an HTTP body, a queue message).
///
/// A body that is itself an SNS notification envelope (SNS to SQS without raw
/// message delivery) is unwrapped once: its `Message` is the notice.
pub(crate) fn notice_from_bytes(bytes: &[u8]) -> Result<Notice, Cause> {
    let value: Value = serde_json::from_slice(bytes)?;
    if let Some(message) = sns_envelope_message(&value) {
        let inner: Value = serde_json::from_str(message)?;
        return notice_from_value(&inner);
    }
    notice_from_value(&value)
}

/// Reads a notice from an already parsed JSON value; unknown keys are ignored.
pub(crate) fn notice_from_value(value: &Value) -> Result<Notice, Cause> {
    let notice = Notice::deserialize(value)?;
    check_id("service_id", &notice.service_id)?;
    if let Some(endpoint_id) = &notice.endpoint_id {
        check_id("endpoint_id", endpoint_id)?;
    }
    if let Some(target) = &notice.target {
        check_id("target", target)?;
    }
    Ok(notice)
}

fn sns_envelope_message(value: &Value) -> Option<&str> {
    if value.get("Type")?.as_str()? == "Notification" && value.get("TopicArn").is_some() {
        value.get("Message")?.as_str()
    } else {
        None
    }
}

fn check_id(field: &str, id: &str) -> Result<(), Cause> {
    if id.is_empty() {
        return Err(Cause::Invalid(format!("{field} is empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Cause::Invalid(format!(
            "{field} is {} characters long, at most {MAX_ID_LEN} are allowed",
            id.len()
        )));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Cause::Invalid(format!(
            "{field} may hold only ASCII letters, digits, '-' and '_'"
        )));
    }
    Ok(())
}

/// What a `createEndpoint` trace must look like, for "expected ..." messages.
pub(crate) const TRACE_SHAPE: &str =
    "a CTS trace of createEndpoint (trace_name = \"createEndpoint\", \
resource_id = the endpoint id, request or response holding endpoint_service_id)";

/// The fields of a CTS trace the warden reads.
#[derive(Deserialize)]
struct Trace {
    trace_name: String,
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    request: Option<Value>,
    #[serde(default)]
    response: Option<Value>,
}

/// Whether a JSON object looks like a CTS trace rather than a notice.
pub(crate) fn is_trace(value: &Value) -> bool {
    value.get("trace_name").is_some()
}

/// Turns a CTS trace of `createEndpoint` into a notice. Any other trace name
/// is an error that names it: the CTS trigger (or EventGrid rule) should be
/// filtered to `createEndpoint`, and an unexpected trace is worth seeing.
pub(crate) fn notice_from_trace(value: &Value) -> Result<Notice, Cause> {
    let trace = Trace::deserialize(value)?;
    if trace.trace_name != "createEndpoint" {
        return Err(Cause::Invalid(format!(
            "trace_name {:?} is not handled, only createEndpoint is",
            truncate(&trace.trace_name)
        )));
    }
    let request = trace.request.as_ref().and_then(embedded_object);
    let response = trace.response.as_ref().and_then(embedded_object);
    let service_id = [&request, &response]
        .into_iter()
        .flatten()
        .find_map(|body| body.get("endpoint_service_id")?.as_str().map(str::to_owned))
        .ok_or_else(|| {
            Cause::Invalid("no endpoint_service_id in the trace's request or response".into())
        })?;
    let endpoint_id = trace.resource_id.filter(|id| !id.is_empty()).or_else(|| {
        let id = response.as_ref()?.get("id")?.as_str()?;
        Some(id.to_owned())
    });
    let notice = Notice {
        service_id,
        endpoint_id,
        target: None,
    };
    check_id("endpoint_service_id", &notice.service_id)?;
    if let Some(endpoint_id) = &notice.endpoint_id {
        check_id("resource_id", endpoint_id)?;
    }
    Ok(notice)
}

/// A trace's `request` / `response`: an object, or a string holding one.
fn embedded_object(value: &Value) -> Option<Value> {
    match value {
        Value::Object(_) => Some(value.clone()),
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object),
        _ => None,
    }
}

/// At most 64 characters of `text`, for quoting untrusted input in messages.
pub(crate) fn truncate(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notice_needs_a_service_id() {
        let err = notice_from_bytes(br#"{"endpoint_id": "e1"}"#).unwrap_err();
        assert!(
            err.to_string().contains("missing field `service_id`"),
            "{err}"
        );
        let err = notice_from_bytes(br#"{"service_id": ""}"#).unwrap_err();
        assert_eq!(err.to_string(), "service_id is empty");
        let err = notice_from_bytes(br#"{"service_id": 7}"#).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
    }

    #[test]
    fn notice_ids_cannot_smuggle_path_segments() {
        let err = notice_from_bytes(br#"{"service_id": "s1/../x"}"#).unwrap_err();
        assert!(err.to_string().contains("only ASCII letters"), "{err}");
        let long = format!(r#"{{"service_id": "{}"}}"#, "a".repeat(129));
        assert!(notice_from_bytes(long.as_bytes()).is_err());
        let err = notice_from_bytes(br#"{"service_id": "s1", "endpoint_id": ""}"#).unwrap_err();
        assert_eq!(err.to_string(), "endpoint_id is empty");
    }

    #[test]
    fn notice_endpoint_is_optional_and_extra_keys_are_ignored() {
        let notice = notice_from_bytes(br#"{"service_id": "s-1", "note": [1, 2]}"#).unwrap();
        assert_eq!(notice.service_id, "s-1");
        assert_eq!(notice.endpoint_id, None);
    }

    #[test]
    fn sns_envelope_in_a_queue_body_is_unwrapped() {
        let body = json!({
            "Type": "Notification",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:t",
            "Message": r#"{"service_id": "s1", "endpoint_id": "e1"}"#
        });
        let notice = notice_from_bytes(body.to_string().as_bytes()).unwrap();
        assert_eq!(notice.endpoint_id.as_deref(), Some("e1"));
    }

    #[test]
    fn trace_takes_the_service_from_response_when_request_lacks_it() {
        let trace = json!({
            "trace_name": "createEndpoint",
            "request": "not json",
            "response": {"id": "e9", "endpoint_service_id": "s2"}
        });
        let notice = notice_from_trace(&trace).unwrap();
        assert_eq!(notice.service_id, "s2");
        assert_eq!(notice.endpoint_id.as_deref(), Some("e9"));
    }

    #[test]
    fn other_traces_are_named_in_the_error() {
        let trace = json!({"trace_name": "deleteEndpoint", "resource_id": "e1"});
        let err = notice_from_trace(&trace).unwrap_err();
        assert!(err.to_string().contains("\"deleteEndpoint\""), "{err}");
        let trace = json!({"trace_name": "createEndpoint", "resource_id": "e1"});
        let err = notice_from_trace(&trace).unwrap_err();
        assert!(err.to_string().contains("endpoint_service_id"), "{err}");
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        let text = "é".repeat(100);
        assert_eq!(truncate(&text).chars().count(), 67);
        assert_eq!(truncate("short"), "short");
    }
}
