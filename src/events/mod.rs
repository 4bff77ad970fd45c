//! Wire formats in, one [`Trigger`] out.
//!
//! Every event source of design.md section 4 is recognised by its marker
//! fields and decoded into a [`Decoded`]: the [`Trigger`] the jobs act on, and
//! the [`Reply`] shape the runtime must answer in. No handler sees a wire format.
//!
//! - [`decode`] (JSON text) / [`decode_value`] (parsed JSON): pick the source by marker fields, read it;
//! - [`EventError`]: why not, with the HTTP status and the [`Reply`] shape to answer in;
//! - [`sign_webhook`] / [`sign_http_event`]: the `X-Warden-Signature` a sender puts on a webhook;
//! - [`verify_webhook`]: the check of those headers over a raw body (the `serve` host checks
//!   every request with it before it looks at the body); [`verify_webhook_headers`]: what
//!   can be checked before the body is read (`serve` refuses on it without reading one byte).
//!
//! | source | marker | `Decoded::source` | reply |
//! |---|---|---|---|
//! | direct invocation | `warden` | `direct` | `Report` |
//! | EventBridge schedule | `detail-type` = `Scheduled Event` | `eventbridge` | `Report` |
//! | FunctionGraph timer | `trigger_type` = `TIMER` | `functiongraph-timer` | `Report` |
//! | HTTP API 2.0 / Function URL | `requestContext.http` | `apigw-http` / `function-url` | `HttpV2` |
//! | REST API 1.0 / FunctionGraph APIG | `httpMethod` + `requestContext` | `apigw-rest` / `functiongraph-apig` | `HttpV1` |
//! | SQS | `Records[0].eventSource` = `aws:sqs` | `sqs` | `Sqs` |
//! | SNS | `Records[0].EventSource` = `aws:sns` | `sns` | `Report` |
//! | FunctionGraph SMN | `record[0].event_source` = `smn` | `functiongraph-smn` | `Report` |
//! | CloudEvents 1.0 | `specversion` | `cloudevents` | `Report` |
//! | CTS trigger | `cts` | `cts` | `Report` |

mod aws;
mod decode;
mod direct;
mod error;
mod fields;
mod huawei;
mod notice;
mod webhook;

pub use decode::{decode, decode_value};
pub use error::{AuthError, Cause, EventError, EXPECTED_SOURCES, MAX_BODY_BYTES};
pub use webhook::{
    sign_http_event, sign_webhook, verify as verify_webhook,
    verify_headers as verify_webhook_headers, MAX_SKEW_SECS, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};

use serde::{Deserialize, Serialize};

/// A job the warden can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Job {
    /// Accept allowlisted pending connections.
    Approve,
    /// Read quotas and alert.
    Quota,
    /// Delete failed endpoints.
    Gc,
}

impl Job {
    /// Every job, in the order a tick runs them.
    pub const ALL: [Job; 3] = [Job::Approve, Job::Quota, Job::Gc];

    /// The job's name as in settings, events and the report.
    pub fn name(self) -> &'static str {
        match self {
            Job::Approve => "approve",
            Job::Quota => "quota",
            Job::Gc => "gc",
        }
    }
}

impl std::str::FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "approve" => Ok(Job::Approve),
            "quota" => Ok(Job::Quota),
            "gc" => Ok(Job::Gc),
            other => Err(format!(
                "unknown job {other:?}: expected approve, quota or gc"
            )),
        }
    }
}

/// "Look at this service (and endpoint)": where to look, never what to do.
/// The approve job re-reads the connection from the API before acting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The endpoint service the connection is for.
    pub service_id: String,
    /// The connecting endpoint; absent means every pending connection of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    /// The target of `WARDEN_TARGETS` that holds the service, when the
    /// sender knows it; else the warden finds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// One message of a batch (an SQS, SNS or SMN record, or a single webhook body).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id to report back when it fails (SQS `messageId`).
    pub id: Option<String>,
    /// The notice, or why the record's body is not one.
    pub notice: Result<Notice, String>,
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// A schedule tick running these jobs (all three unless a subset was
    /// named), in these targets of `WARDEN_TARGETS` (all when empty).
    Tick {
        jobs: Vec<Job>,
        targets: Vec<String>,
    },
    /// New-connection notices: run the approve job for each.
    Connections(Vec<Record>),
    /// A tick handed to each target (or those named) as an invocation of
    /// its own: the function of `WARDEN_FUNCTION_URN`, invoked asynchronously.
    FanOut {
        jobs: Vec<Job>,
        targets: Vec<String>,
    },
}

/// How the runtime must shape its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The report itself (schedules, direct invocations, SNS, SMN, cloud events).
    Report,
    /// An HTTP response in API Gateway payload 2.0 / Function URL form.
    HttpV2,
    /// An HTTP response in API Gateway REST (payload 1.0) / FunctionGraph APIG form.
    HttpV1,
    /// An SQS partial batch response (`batchItemFailures`).
    Sqs,
    /// A bounded summary of the report (a direct tick with `"answer":
    /// "summary"`, as the Step Functions state machine sends it).
    Summary,
}

/// A decoded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The source it came from, e.g. `sqs` or `eventbridge`, for logs.
    pub source: &'static str,
    /// What to run.
    pub trigger: Trigger,
    /// How to answer.
    pub reply: Reply,
}
