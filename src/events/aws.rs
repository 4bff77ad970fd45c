//! AWS envelopes: API Gateway (payload 1.0 and 2.0), Function URLs, SQS, SNS.
//!
//! Each is read through a small private struct holding only the fields the
//! warden needs (style.md habit 2) rather than the full `aws_lambda_events`
//! types: those also require fields the warden ignores, so a sample missing
//! one of them would fail for no reason, and the FunctionGraph APIG trigger
//! shares the payload 1.0 marker fields but not all of its types.
//!
//! Batches decode record by record: a malformed record becomes a
//! [`Record`] whose notice is an error, so it is reported in
//! `batchItemFailures` while the rest of the batch proceeds.

use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::error::{Cause, EventError};
use super::notice::{notice_from_bytes, NOTICE_SHAPE};
use super::webhook::{self, HttpEnvelope};
use super::{Decoded, Record, Reply, Trigger};
use crate::config::Settings;

/// An HTTP request: size check, then signature over the raw body, then the notice.
pub(crate) fn http(
    event: &Map<String, Value>,
    reply: Reply,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<Decoded, EventError> {
    let origin = http_origin(event, reply);
    let envelope = HttpEnvelope {
        origin,
        reply,
        event,
    };
    let body = envelope.body()?;
    webhook::verify(settings, &|name| envelope.header(name), &body, now).map_err(|reason| {
        EventError::Unauthorized {
            origin,
            reply,
            reason,
        }
    })?;
    let notice = notice_from_bytes(&body).map_err(|cause| {
        EventError::malformed(
            origin,
            reply,
            format!("{NOTICE_SHAPE} in the HTTP body"),
            cause,
        )
    })?;
    Ok(Decoded {
        source: origin,
        trigger: Trigger::Connections(vec![Record {
            id: None,
            notice: Ok(notice),
        }]),
        reply,
    })
}

/// Names the platform behind an HTTP envelope, for logs: a Function URL's
/// domain is `<id>.lambda-url.<region>.on.aws`; an AWS REST API sends
/// `multiValueHeaders` and its account id, the FunctionGraph APIG trigger neither.
fn http_origin(event: &Map<String, Value>, reply: Reply) -> &'static str {
    let context = event.get("requestContext");
    if reply == Reply::HttpV2 {
        let domain = context
            .and_then(|c| c.get("domainName"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        return if domain.contains(".lambda-url.") {
            "function-url"
        } else {
            "apigw-http"
        };
    }
    let aws = event.contains_key("multiValueHeaders")
        || context.and_then(|c| c.get("accountId")).is_some();
    if aws {
        "apigw-rest"
    } else {
        "functiongraph-apig"
    }
}

/// The fields of an SQS message the warden reads.
#[derive(Deserialize)]
struct SqsMessage {
    body: String,
}

/// An SQS batch: each record's body is a notice; `Record.id` is the `messageId`.
pub(crate) fn sqs(event: &Map<String, Value>) -> Result<Decoded, EventError> {
    let records = batch(event, "Records", |record| {
        let id = record
            .get("messageId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let notice = SqsMessage::deserialize(record)
            .map_err(Cause::from)
            .and_then(|message| notice_from_bytes(message.body.as_bytes()))
            .map_err(|cause| record_error("sqs", "in the message body", cause));
        Record { id, notice }
    })
    .ok_or_else(|| not_a_batch("sqs", Reply::Sqs, "Records"))?;
    Ok(Decoded {
        source: "sqs",
        trigger: Trigger::Connections(records),
        reply: Reply::Sqs,
    })
}

/// The fields of an SNS record the warden reads.
#[derive(Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsMessage,
}

#[derive(Deserialize)]
struct SnsMessage {
    #[serde(rename = "Message")]
    message: String,
}

/// An SNS event: each record's `Sns.Message` is a notice; `Record.id` is `Sns.MessageId`.
pub(crate) fn sns(event: &Map<String, Value>) -> Result<Decoded, EventError> {
    let records = batch(event, "Records", |record| {
        let id = record
            .pointer("/Sns/MessageId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let notice = SnsRecord::deserialize(record)
            .map_err(Cause::from)
            .and_then(|record| notice_from_bytes(record.sns.message.as_bytes()))
            .map_err(|cause| record_error("sns", "in Sns.Message", cause));
        Record { id, notice }
    })
    .ok_or_else(|| not_a_batch("sns", Reply::Report, "Records"))?;
    Ok(Decoded {
        source: "sns",
        trigger: Trigger::Connections(records),
        reply: Reply::Report,
    })
}

/// Maps every element of the array `event[field]`; `None` when it is not an array.
pub(crate) fn batch(
    event: &Map<String, Value>,
    field: &str,
    read: impl Fn(&Value) -> Record,
) -> Option<Vec<Record>> {
    Some(event.get(field)?.as_array()?.iter().map(read).collect())
}

/// The message of a record whose content is not a notice.
pub(crate) fn record_error(origin: &'static str, place: &str, cause: Cause) -> String {
    EventError::malformed(
        origin,
        Reply::Report,
        format!("{NOTICE_SHAPE} {place}"),
        cause,
    )
    .to_string()
}

pub(crate) fn not_a_batch(origin: &'static str, reply: Reply, field: &str) -> EventError {
    EventError::malformed(
        origin,
        reply,
        format!("{field} as an array of records"),
        None,
    )
}
