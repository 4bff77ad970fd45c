//! The HTTP surface of `serve`: the routes, what is checked before a body
//! is read, and the answers. The only file that knows axum's extractors.
//!
//! A POST is refused before one byte of its body is read when its
//! `Content-Length` is over the limit (413) or, under
//! `WARDEN_WEBHOOK_AUTH=hmac`, when its signature headers are missing,
//! malformed or out of the time window (401). The body is then read up to
//! [`MAX_BODY_BYTES`] (413 beyond) within the read timeout (408 after).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tracing::Instrument;

use super::request::{decode_request, header_value, run_context};
use super::Shared;
use crate::events::{verify_webhook_headers, EventError, Reply, MAX_BODY_BYTES};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(post_event))
        .route("/webhook", post(post_event))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

async fn post_event(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let span = tracing::info_span!("request", path = uri.path());
    async move {
        let body = match read_body(&shared, &headers, body).await {
            Ok(body) => body,
            Err((status, message)) => {
                tracing::warn!(status, error = %message, "request refused");
                return respond(status, &json!({"error": message}));
            }
        };
        let ctx = run_context(&shared.ctx, &headers);
        let now = OffsetDateTime::now_utc();
        match decode_request(&ctx.settings, &headers, uri.path(), &body, now) {
            Ok(decoded) => {
                let (status, body) = super::runs::run(&shared, ctx, decoded).await;
                respond(status, &body)
            }
            Err(e) => {
                tracing::warn!(error = %e, "event refused");
                respond(e.http_status(), &json!({"error": e.to_string()}))
            }
        }
    }
    .instrument(span)
    .await
}

/// The body of a POST, once what can be checked without it passed: its
/// announced size, then its signature headers; read within the limits.
async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, (u16, String)> {
    let too_large = || {
        (
            413,
            format!("request body too large: the limit is {MAX_BODY_BYTES} bytes"),
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|size| size > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let now = OffsetDateTime::now_utc();
    verify_webhook_headers(
        &shared.ctx.settings,
        &|name| header_value(headers, name),
        now,
    )
    .map_err(|reason| {
        let e = EventError::Unauthorized {
            origin: "serve",
            reply: Reply::HttpV2,
            reason,
        };
        (e.http_status(), e.to_string())
    })?;
    let late = || {
        (
            408,
            format!(
                "the request body did not arrive within {} s",
                shared.read_timeout.as_secs_f64()
            ),
        )
    };
    // tower-http fails a read that stalls; this bounds the whole body.
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    match tokio::time::timeout(shared.read_timeout, read).await {
        Err(_) => Err(late()),
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) if caused_by::<http_body_util::LengthLimitError>(&e) => Err(too_large()),
        Ok(Err(e)) if caused_by::<tower_http::timeout::TimeoutError>(&e) => Err(late()),
        Ok(Err(e)) => Err((400, format!("cannot read the request body: {e}"))),
    }
}

/// Whether an error of type `E` is anywhere in `error`'s chain of sources.
fn caused_by<E: std::error::Error + 'static>(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<E>() {
            return true;
        }
        cause = e.source();
    }
    false
}

pub(super) fn respond(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = shared.metrics.render();
    ([(header::CONTENT_TYPE, super::metrics::CONTENT_TYPE)], text).into_response()
}
