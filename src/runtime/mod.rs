//! How the warden is run: as a Lambda function ([`lambda`]), as a FunctionGraph
//! custom runtime ([`functiongraph`]), from a terminal ([`cli`]) or as a small
//! HTTP server ([`serve`]). Each decodes an event, dispatches it and shapes the
//! answer with [`answer`] (or, for `serve`, as a plain HTTP response with the
//! same statuses).

pub mod arena;
pub mod cli;
#[cfg(feature = "emulator")]
pub mod demo;
pub mod functiongraph;
pub mod lambda;
mod period;
#[cfg(feature = "serve")]
pub mod serve;

pub use period::parse_period;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};
use serde_json::{json, Value};

use crate::dispatch::Outcome;
use crate::events::{Decoded, EventError, Reply};

/// The exit code for a bad input or setting: nothing was done. Shared by
/// the command line and `serve`.
pub const EXIT_BAD_INPUT: u8 = 2;

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
        Reply::Summary if outcome.report.is_clean() => Answer::Value(outcome.report.summary()),
        Reply::Report | Reply::Summary => Answer::Failed(failure_message(reply, outcome)),
        Reply::HttpV1 | Reply::HttpV2 => {
            Answer::Value(http_response(reply, http_status(&outcome.report), &report))
        }
        Reply::Sqs => {
            let mut batch = SqsBatchResponse::default();
            batch.batch_item_failures = outcome
                .failed_records
                .iter()
                .map(|id| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id.clone();
                    failure
                })
                .collect();
            Answer::Value(to_value(&batch))
        }
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
        Some(reply @ (Reply::HttpV1 | Reply::HttpV2)) => Answer::Value(http_response(
            reply,
            error.http_status(),
            &json!({"error": error.to_string()}),
        )),
        _ => Answer::Failed(error.to_string()),
    }
}

/// An HTTP answer as `aws_lambda_events` shapes it for the source: API
/// Gateway REST (payload 1.0, and FunctionGraph's APIG trigger, which takes
/// the same fields) or HTTP API / Function URL (payload 2.0).
fn http_response(reply: Reply, status: u16, body: &Value) -> Value {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = Some(Body::Text(body.to_string()));
    if reply == Reply::HttpV2 {
        let mut r = ApiGatewayV2httpResponse::default();
        (r.status_code, r.headers, r.body) = (i64::from(status), headers, body);
        to_value(&r)
    } else {
        let mut r = ApiGatewayProxyResponse::default();
        (r.status_code, r.headers, r.body) = (i64::from(status), headers, body);
        to_value(&r)
    }
}

fn to_value(answer: &impl serde::Serialize) -> Value {
    serde_json::to_value(answer).expect("an answer always serializes")
}

/// The largest report carried whole in a failed invocation's error message.
const MAX_REPORT_IN_ERROR: usize = 256 * 1024;

fn failure_message(reply: Reply, outcome: &Outcome) -> String {
    let errors = &outcome.report.errors;
    let first = errors
        .first()
        .map(|e| format!(": {} {}: {}", e.job, e.target, e.message))
        .unwrap_or_default();
    if reply == Reply::Summary {
        let summary = outcome.report.summary();
        return format!(
            "{} action(s) failed{first}; summary: {summary}",
            errors.len()
        );
    }
    let report = outcome.report.to_json_line();
    let report = if report.len() <= MAX_REPORT_IN_ERROR {
        report
    } else {
        format!(
            "too large to include ({} bytes); the run summary in the logs has the counts",
            report.len()
        )
    };
    format!("{} action(s) failed{first}; report: {report}", errors.len())
}

/// Decodes one event as Lambda receives it, runs it, logs a summary and
/// shapes the answer.
pub async fn invoke(ctx: &crate::jobs::Ctx, payload: &[u8]) -> Answer {
    match run_event(ctx, payload).await {
        Ok((reply, outcome)) => answer(reply, &outcome),
        Err(e) => refusal(&e),
    }
}

/// Decodes and dispatches one event; a summary of the report is logged.
pub async fn run_event(
    ctx: &crate::jobs::Ctx,
    payload: &[u8],
) -> Result<(Reply, Outcome), EventError> {
    let decoded = crate::events::decode(payload, &ctx.settings, time::OffsetDateTime::now_utc())
        .inspect_err(|e| tracing::warn!(error = %e, "event refused"))?;
    Ok(run_decoded(ctx, decoded).await)
}

/// Dispatches a decoded event; a summary of the report is logged.
pub async fn run_decoded(ctx: &crate::jobs::Ctx, decoded: Decoded) -> (Reply, Outcome) {
    tracing::info!(source = decoded.source, "event decoded");
    // Boxed: the jobs' future is a deep type; boxing it here keeps every
    // caller's future (up to `main`'s) within the compiler's layout limit.
    let outcome = Box::pin(crate::dispatch::dispatch(ctx, decoded.trigger)).await;
    crate::logs::summary(&outcome.report);
    (decoded.reply, outcome)
}

/// The first of `names` present with a non-empty text value.
pub(crate) fn header(headers: &reqwest::header::HeaderMap, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

/// The agency credentials an invocation brought: AK/SK (with the security
/// token) when both keys are there, else the IAM token, else none.
pub(crate) fn agency_credentials(
    headers: &reqwest::header::HeaderMap,
) -> Option<crate::config::Credentials> {
    let ak = header(headers, &["X-CFF-Access-Key", "X-CFF-Security-Access-Key"]);
    let sk = header(headers, &["X-CFF-Secret-Key", "X-CFF-Security-Secret-Key"]);
    let security_token = header(headers, &["X-CFF-Security-Token"]).map(crate::config::Secret::new);
    let auth_token = header(headers, &["X-CFF-Auth-Token"]).map(crate::config::Secret::new);
    match (ak, sk, auth_token) {
        (Some(ak), Some(sk), _) => Some(crate::config::Credentials::AkSk {
            ak,
            sk: crate::config::Secret::new(sk),
            security_token,
        }),
        (_, _, Some(token)) => Some(crate::config::Credentials::Token(token)),
        _ => None,
    }
}
