//! How the warden is run: as a Lambda function ([`lambda`]), from a terminal
//! ([`cli`]) or as a small HTTP server ([`serve`]). Each decodes an event,
//! dispatches it and shapes the answer with [`answer`] (or, for `serve`, as a
//! plain HTTP response with the same statuses).

pub mod cli;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod lambda;
pub mod serve;

use serde_json::{json, Value};

use crate::dispatch::Outcome;
use crate::events::{Decoded, EventError, Reply};

/// The answer an invocation gives, in the shape its source expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Return this value.
    Value(Value),
    /// Return an error (a tick that had errors), after all other work was done,
    /// so the platform's retry and error alarm see it.
    Failed(String),
}

/// Shapes a finished invocation's answer for its source.
pub fn answer(reply: Reply, outcome: &Outcome) -> Answer {
    let report = serde_json::to_value(&outcome.report).expect("a report always serializes");
    match reply {
        Reply::Report if outcome.report.is_clean() => Answer::Value(report),
        Reply::Report => Answer::Failed(failure_message(outcome)),
        Reply::HttpV1 | Reply::HttpV2 => {
            Answer::Value(http_response(http_status(&outcome.report), &report))
        }
        Reply::Sqs => Answer::Value(json!({
            "batchItemFailures": outcome.failed_records.iter()
                .map(|id| json!({"itemIdentifier": id}))
                .collect::<Vec<_>>()
        })),
    }
}

/// 200 when all went well; 502 when a failure is worth retrying (the VPCEP
/// API failed: retry later); 422 when none is (a service outside
/// `WARDEN_SERVICE_IDS`, an endpoint with no connection, a refused request),
/// so callers and queues do not retry forever what cannot succeed.
fn http_status(report: &crate::report::Report) -> u16 {
    if report.is_clean() {
        200
    } else if report.errors.iter().any(|e| e.retryable) {
        502
    } else {
        422
    }
}

/// The answer to an event that could not be decoded: an HTTP error for HTTP
/// sources, an error otherwise (nothing was done).
pub fn refusal(error: &EventError) -> Answer {
    match error.reply() {
        Some(Reply::HttpV1 | Reply::HttpV2) => Answer::Value(http_response(
            error.http_status(),
            &json!({"error": error.to_string()}),
        )),
        _ => Answer::Failed(error.to_string()),
    }
}

fn http_response(status: u16, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "isBase64Encoded": false,
        "body": body.to_string(),
    })
}

fn failure_message(outcome: &Outcome) -> String {
    let errors = &outcome.report.errors;
    let first = errors
        .first()
        .map(|e| format!(": {} {}: {}", e.job, e.target, e.message))
        .unwrap_or_default();
    format!(
        "{} action(s) failed{first}; report: {}",
        errors.len(),
        outcome.report.to_json_line()
    )
}

/// Decodes one event as Lambda receives it, runs it, logs the report as one
/// JSON line and shapes the answer.
pub async fn invoke(ctx: &crate::jobs::Ctx, payload: &[u8]) -> Answer {
    match run_event(ctx, payload).await {
        Ok((reply, outcome)) => answer(reply, &outcome),
        Err(e) => refusal(&e),
    }
}

/// Decodes and dispatches one event; the report is logged as one JSON line.
pub async fn run_event(
    ctx: &crate::jobs::Ctx,
    payload: &[u8],
) -> Result<(Reply, Outcome), EventError> {
    let decoded = crate::events::decode(payload, &ctx.settings, time::OffsetDateTime::now_utc())
        .inspect_err(|e| tracing::warn!(error = %e, "event refused"))?;
    Ok(run_decoded(ctx, decoded).await)
}

/// Dispatches a decoded event; the report is logged as one JSON line.
pub async fn run_decoded(ctx: &crate::jobs::Ctx, decoded: Decoded) -> (Reply, Outcome) {
    tracing::info!(source = decoded.source, "event decoded");
    // Boxed: the jobs' future is a deep type; boxing it here keeps every
    // caller's future (up to `main`'s) within the compiler's layout limit.
    let outcome = Box::pin(crate::dispatch::dispatch(ctx, decoded.trigger)).await;
    tracing::info!(report = %outcome.report.to_json_line(), "report");
    (decoded.reply, outcome)
}
