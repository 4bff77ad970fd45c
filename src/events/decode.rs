//! Picks the source by its marker fields, then reads only what it needs.
//!
//! The order of the checks is the order of the table in design.md section 4,
//! with the direct invocation (`warden`) first so a hand-written event can
//! never be mistaken for a platform one. Formats are never tried in turn: an
//! SNS event would parse as an SQS one, since both have only optional fields.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::{Cause, EventError};
use super::notice::{notice_from_value, truncate, NOTICE_SHAPE};
use super::{aws, huawei, Decoded, Job, Record, Reply, Trigger};
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

pub(crate) fn direct(
    event: &Map<String, Value>,
    settings: &Settings,
) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "direct";
    let decoded = |trigger| Decoded {
        source: ORIGIN,
        trigger,
        reply: Reply::Report,
    };
    match event.get("warden").and_then(Value::as_str) {
        Some("tick") => {
            let reply = match event.get("answer").and_then(Value::as_str) {
                None | Some("report") => Reply::Report,
                Some("summary") => Reply::Summary,
                Some(_) => {
                    return Err(EventError::malformed(
                        ORIGIN,
                        Reply::Report,
                        "\"answer\": \"report\" (the default) or \"summary\"",
                        None,
                    ))
                }
            };
            Ok(Decoded {
                reply,
                ..decoded(Trigger::Tick {
                    jobs: jobs(event.get("jobs"), ORIGIN)?,
                    targets: targets(event.get("targets"), settings, ORIGIN)?,
                })
            })
        }
        Some("fanout") => Ok(decoded(Trigger::FanOut {
            jobs: jobs(event.get("jobs"), ORIGIN)?,
            targets: targets(event.get("targets"), settings, ORIGIN)?,
        })),
        Some("connection") => {
            let notice = notice_from_value(&Value::Object(event.clone())).map_err(|cause| {
                EventError::malformed(
                    ORIGIN,
                    Reply::Report,
                    format!("{NOTICE_SHAPE} beside \"warden\": \"connection\""),
                    cause,
                )
            })?;
            Ok(decoded(Trigger::Connections(vec![Record {
                id: None,
                notice: Ok(notice),
            }])))
        }
        _ => Err(EventError::malformed(
            ORIGIN,
            Reply::Report,
            "\"warden\": \"tick\" (with optional \"jobs\"), \"warden\": \"fanout\" (the same, one invocation per target) or \"warden\": \"connection\" (with a notice's service_id and endpoint_id)",
            None,
        )),
    }
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

/// Reads a target list: absent or null means every target; otherwise an
/// array of names from `WARDEN_TARGETS`, at least one, each known.
pub(crate) fn targets(
    value: Option<&Value>,
    settings: &Settings,
    origin: &'static str,
) -> Result<Vec<String>, EventError> {
    const EXPECTED: &str = "targets as an array of target names from WARDEN_TARGETS";
    let invalid =
        |why: String| EventError::malformed(origin, Reply::Report, EXPECTED, Cause::Invalid(why));
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(invalid(format!("found {}", describe(other)))),
    };
    if settings.targets.is_empty() {
        return Err(invalid(
            "WARDEN_TARGETS is not set: this warden has no named targets".into(),
        ));
    }
    let mut named: Vec<String> = Vec::new();
    for item in items {
        // `"a, b"` split on commas (as the state machine does) leaves spaces: trimmed.
        let name = item
            .as_str()
            .map(str::trim)
            .ok_or_else(|| invalid(format!("{} is not a name", describe(item))))?;
        if !settings.targets.iter().any(|t| t.name == name) {
            let known: Vec<&str> = settings.targets.iter().map(|t| t.name.as_str()).collect();
            return Err(invalid(format!(
                "unknown target {:?}; WARDEN_TARGETS names {}",
                truncate(name),
                known.join(", ")
            )));
        }
        if !named.iter().any(|n| n == name) {
            named.push(name.to_owned());
        }
    }
    if named.is_empty() {
        return Err(invalid("no target is named".into()));
    }
    Ok(named)
}

/// Reads a job list: absent or null means every job; otherwise an array of
/// names or a comma-separated string naming at least one job. The result is
/// in [`Job::ALL`] order without duplicates.
pub(crate) fn jobs(value: Option<&Value>, origin: &'static str) -> Result<Vec<Job>, EventError> {
    const EXPECTED: &str =
        "jobs as an array of names or a comma-separated string naming approve, quota or gc";
    let invalid = |cause: Cause| EventError::malformed(origin, Reply::Report, EXPECTED, cause);
    let names: Vec<&str> = match value {
        None | Some(Value::Null) => return Ok(Job::ALL.to_vec()),
        Some(Value::String(list)) => list.split(',').collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    invalid(Cause::Invalid(format!("{} is not a name", describe(item))))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(Cause::Invalid(format!(
                "found {}",
                describe(other)
            ))))
        }
    };
    let mut named = Vec::new();
    for name in names
        .iter()
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
    {
        let job: Job = name
            .parse()
            .map_err(|_| invalid(Cause::Invalid(format!("unknown job {:?}", truncate(name)))))?;
        named.push(job);
    }
    if named.is_empty() {
        return Err(invalid(Cause::Invalid("no job is named".into())));
    }
    Ok(Job::ALL
        .into_iter()
        .filter(|job| named.contains(job))
        .collect())
}

/// A short, bounded description of a JSON value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(map) if map.is_empty() => "an empty object".into(),
        Value::Object(map) => {
            const SHOWN: usize = 8;
            let mut keys: Vec<String> = map.keys().take(SHOWN).map(|key| truncate(key)).collect();
            if map.len() > SHOWN {
                keys.push(format!("and {} more", map.len() - SHOWN));
            }
            format!("an object with keys {}", keys.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jobs_are_deduplicated_and_ordered() {
        let list = json!(["gc", "approve", "gc"]);
        assert_eq!(jobs(Some(&list), "t").unwrap(), vec![Job::Approve, Job::Gc]);
        let text = json!(" quota , gc ,");
        assert_eq!(jobs(Some(&text), "t").unwrap(), vec![Job::Quota, Job::Gc]);
        assert_eq!(jobs(None, "t").unwrap(), Job::ALL.to_vec());
    }

    #[test]
    fn jobs_reject_empty_unknown_and_wrong_types() {
        for bad in [
            json!([]),
            json!(""),
            json!(["sweep"]),
            json!([1]),
            json!(3),
            json!({}),
        ] {
            let err = jobs(Some(&bad), "t").unwrap_err();
            assert!(err.to_string().contains("approve, quota or gc"), "{err}");
        }
    }

    #[test]
    fn describe_is_bounded() {
        let mut map = Map::new();
        for i in 0..20 {
            map.insert(format!("{i}{}", "k".repeat(1000)), Value::Null);
        }
        let text = describe(&Value::Object(map));
        assert!(text.len() < 1000, "{}", text.len());
        assert!(text.ends_with("and 12 more"));
    }
}
