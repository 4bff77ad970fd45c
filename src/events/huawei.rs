//! Huawei Cloud envelopes: FunctionGraph timer and SMN triggers, EventGrid
//! CloudEvents 1.0 and the CTS trigger.
//!
//! Like the AWS ones, each is read for the few fields the warden needs.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::aws::{batch, not_a_batch, record_error};
use super::direct::direct;
use super::error::{Cause, EventError};
use super::fields::{describe, jobs};
use super::notice::{
    is_trace, notice_from_bytes, notice_from_trace, notice_from_value, NOTICE_SHAPE, TRACE_SHAPE,
};
use super::{Decoded, Job, Notice, Record, Reply, Trigger};
use crate::config::Settings;

/// A FunctionGraph timer: a tick; `user_event`, when set, is JSON (an object
/// or a string holding one) that may name `jobs`, or plain text: job names
/// matched ignoring case, separated by commas or spaces (`approve,gc`,
/// `Approve GC`), run those. Any other text (the console's example `User
/// Event`, a mistyped `gc,quotaa`, text that starts like JSON but is not) is
/// refused rather than read as "every job", so no typo ever runs gc's
/// deletions. An empty `user_event` runs every job.
///
/// A JSON `user_event` with `"warden": "tick"` or `"warden": "fanout"` is
/// read as the direct event it is, targets and all: the Terraform timers send
/// `{"warden": "fanout", "jobs": [...]}` so that one invocation hands each
/// target to an invocation of its own.
pub(crate) fn timer(
    event: &Map<String, Value>,
    settings: &Settings,
) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "functiongraph-timer";
    const EXPECTED: &str = r#"user_event as JSON such as {"jobs": ["approve", "gc"]}, job names such as "approve gc", or empty"#;
    let invalid =
        |cause: Option<Cause>| EventError::malformed(ORIGIN, Reply::Report, EXPECTED, cause);
    let parsed;
    let user_event = match event.get("user_event") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) if !text.trim_start().starts_with(['{', '[', '"']) => {
            return Ok(Decoded {
                source: ORIGIN,
                trigger: Trigger::Tick {
                    jobs: named_jobs(text).map_err(|why| invalid(Some(Cause::Invalid(why))))?,
                    targets: Vec::new(),
                },
                reply: Reply::Report,
            });
        }
        Some(Value::String(text)) => {
            parsed =
                serde_json::from_str::<Value>(text).map_err(|err| invalid(Some(err.into())))?;
            Some(&parsed)
        }
        Some(other) => Some(other),
    };
    let jobs = match user_event {
        None => jobs(None, ORIGIN)?,
        Some(Value::Object(fields)) if fields.contains_key("warden") => {
            return match fields.get("warden").and_then(Value::as_str) {
                Some("tick" | "fanout") => Ok(Decoded {
                    source: ORIGIN,
                    ..direct(fields, settings)?
                }),
                _ => Err(invalid(Some(Cause::Invalid(
                    "\"warden\" in a timer's user_event must be \"tick\" or \"fanout\"".into(),
                )))),
            };
        }
        Some(Value::Object(fields)) => jobs(fields.get("jobs"), ORIGIN)?,
        Some(other) => {
            return Err(invalid(Some(Cause::Invalid(format!(
                "found {}",
                describe(other)
            )))))
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

/// The jobs a plain-text `user_event` names: words separated by commas or
/// spaces, each a job name in any case; else why not.
fn named_jobs(text: &str) -> Result<Vec<Job>, String> {
    let mut jobs = Vec::new();
    for word in text.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let job = word.to_ascii_lowercase().parse::<Job>().map_err(|_| {
            let shown: String = word.chars().take(40).collect();
            format!("unknown job {shown:?} in a timer's plain-text user_event: it is not a job; name jobs (approve, quota, gc) separated by commas or spaces, or leave it empty for every job")
        })?;
        if !jobs.contains(&job) {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

#[derive(Deserialize)]
struct SmnRecord {
    smn: SmnMessage,
}

#[derive(Deserialize)]
struct SmnMessage {
    message: String,
}

/// A FunctionGraph SMN trigger: each `record[].smn.message` is a notice;
/// `Record.id` is `smn.message_id`.
pub(crate) fn smn(event: &Map<String, Value>) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "functiongraph-smn";
    let records = batch(event, "record", |record| {
        let id = record
            .pointer("/smn/message_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let notice = SmnRecord::deserialize(record)
            .map_err(Cause::from)
            .and_then(|record| notice_from_bytes(record.smn.message.as_bytes()))
            .map_err(|cause| record_error(ORIGIN, "in smn.message", cause));
        Record { id, notice }
    })
    .ok_or_else(|| not_a_batch(ORIGIN, Reply::Report, "record"))?;
    Ok(Decoded {
        source: ORIGIN,
        trigger: Trigger::Connections(records),
        reply: Reply::Report,
    })
}

/// A CloudEvents 1.0 event (Huawei EventGrid): `data` (an object, a string
/// holding JSON, or `data_base64`) is a notice or a CTS trace.
pub(crate) fn cloud_event(event: &Map<String, Value>) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "cloudevents";
    let malformed = |expected: String, cause: Option<Cause>| {
        EventError::malformed(ORIGIN, Reply::Report, expected, cause)
    };
    let data_shape = || format!("data holding {NOTICE_SHAPE} or {TRACE_SHAPE}");
    let owned;
    let data = match (event.get("data"), event.get("data_base64")) {
        (Some(Value::String(text)), _) => {
            owned = serde_json::from_str::<Value>(text)
                .map_err(|err| malformed(data_shape(), Some(err.into())))?;
            &owned
        }
        (Some(data), _) if !data.is_null() => data,
        (_, Some(Value::String(encoded))) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|err| malformed(data_shape(), Some(err.into())))?;
            owned = serde_json::from_slice::<Value>(&bytes)
                .map_err(|err| malformed(data_shape(), Some(err.into())))?;
            &owned
        }
        _ => return Err(malformed(data_shape(), None)),
    };
    let notice = if is_trace(data) {
        notice_from_trace(data)
            .map_err(|cause| malformed(format!("data holding {TRACE_SHAPE}"), Some(cause)))
    } else {
        notice_from_value(data)
            .map_err(|cause| malformed(format!("data holding {NOTICE_SHAPE}"), Some(cause)))
    }?;
    Ok(single(ORIGIN, notice))
}

/// A CTS trigger: the `cts` trace must be a `createEndpoint` trace.
pub(crate) fn cts(trace: &Value) -> Result<Decoded, EventError> {
    const ORIGIN: &str = "cts";
    let notice = notice_from_trace(trace).map_err(|cause| {
        EventError::malformed(
            ORIGIN,
            Reply::Report,
            format!("cts holding {TRACE_SHAPE}"),
            cause,
        )
    })?;
    Ok(single(ORIGIN, notice))
}

fn single(source: &'static str, notice: Notice) -> Decoded {
    Decoded {
        source,
        trigger: Trigger::Connections(vec![Record {
            id: None,
            notice: Ok(notice),
        }]),
        reply: Reply::Report,
    }
}
