//! `vpcep-warden serve`: a small HTTP server for containers and FunctionGraph
//! HTTP functions. The only file that knows axum.
//!
//! - `POST /` and `POST /webhook` run one event (see [`decode_request`] for
//!   the rule) and answer like the HTTP triggers: 200 with the report, 400,
//!   401, 413, 422 or 502.
//! - `GET /healthz` answers `ok` without calling any API.
//! - `GET /metrics` is the Prometheus text exposition of the runs this
//!   process made ([`Metrics`]).
//! - `--every` runs a tick at start and then on an internal schedule, never
//!   two at once.
//!
//! On SIGTERM or Ctrl-C the server stops accepting, lets the running tick and
//! the requests in flight finish, then exits 0.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use rand::Rng;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use crate::config::Credentials;
use crate::config::Settings;
use crate::events::{
    decode_value, verify_webhook, Decoded, EventError, Job, Trigger, MAX_BODY_BYTES,
};
use crate::jobs::Ctx;
use crate::report::Report;

/// The address `serve` listens on unless `--listen` says otherwise: what
/// FunctionGraph HTTP functions and containers expect.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8000";

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (port 0: any free port; the bound address is printed on stderr).
    pub listen: SocketAddr,
    /// Run a tick this often (with up to 10 % jitter); `None`: only on request.
    pub every: Option<Duration>,
}

/// What the handlers and the scheduler share.
struct Shared {
    ctx: Ctx,
    metrics: Mutex<Metrics>,
}

/// Serves until SIGTERM or Ctrl-C, then lets the running work finish.
/// Exit code 0 after a clean shutdown, 2 when the address cannot be bound.
pub async fn run(ctx: Ctx, options: Options) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(options.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", options.listen);
            return ExitCode::from(super::cli::EXIT_BAD_INPUT);
        }
    };
    match listener.local_addr() {
        Ok(addr) => eprintln!("listening on http://{addr}"),
        Err(e) => eprintln!("listening on {} ({e})", options.listen),
    }
    let shared = Arc::new(Shared {
        ctx,
        metrics: Mutex::new(Metrics::default()),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = Arc::new(stop_tx);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new requests; the running tick and requests finish");
        on_signal.send_replace(true);
    });
    let scheduler = options
        .every
        .map(|period| tokio::spawn(schedule(shared.clone(), period, stop_rx.clone())));
    let mut stopped = stop_rx.clone();
    let served = axum::serve(listener, router(shared))
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })
        .await;
    // Should the server end on its own, the schedule ends with it.
    stop.send_replace(true);
    if let Some(scheduler) = scheduler {
        if let Err(e) = scheduler.await {
            tracing::error!(error = %e, "the scheduler stopped abnormally");
        }
    }
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "the server failed");
            ExitCode::FAILURE
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(post_event))
        .route("/webhook", post(post_event))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// Resolves on the first SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The context a request's run uses: the one place where request headers
/// reach a run. When no credentials are configured (a FunctionGraph HTTP
/// function with an agency and "include keys"), the request's
/// `X-CFF-Access-Key` / `X-CFF-Secret-Key` / `X-CFF-Security-Token` (or
/// `X-CFF-Auth-Token`) sign that request's run; configured credentials win.
fn run_context(base: &Ctx, headers: &HeaderMap) -> Ctx {
    if base.settings.credentials != Credentials::PerInvocation {
        return base.clone();
    }
    match super::agency_credentials(headers) {
        Some(credentials) => base.with_credentials(&credentials),
        None => base.clone(),
    }
}

async fn post_event(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let span = tracing::info_span!("request", path = uri.path());
    async move {
        let body = match body {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                let message =
                    format!("request body too large: the limit is {MAX_BODY_BYTES} bytes");
                tracing::warn!(error = %message, "request refused");
                return respond(413, &json!({"error": message}));
            }
            Err(rejection) => {
                let message = rejection.body_text();
                tracing::warn!(error = %message, "request refused");
                return respond(rejection.status().as_u16(), &json!({"error": message}));
            }
        };
        let ctx = run_context(&shared.ctx, &headers);
        let now = OffsetDateTime::now_utc();
        let decoded = match decode_request(&ctx.settings, &headers, uri.path(), &body, now) {
            Ok(decoded) => decoded,
            Err(e) => {
                tracing::warn!(error = %e, "event refused");
                return respond(e.http_status(), &json!({"error": e.to_string()}));
            }
        };
        let trigger = decoded.trigger.clone();
        let (_, outcome) = super::run_decoded(&ctx, decoded).await;
        shared.record(&trigger, &outcome.report);
        let report = serde_json::to_value(&outcome.report).expect("a report always serializes");
        respond(super::http_status(&outcome.report), &report)
    }
    .instrument(span)
    .await
}

/// Reads a POST: the signature first, then the body.
///
/// The rule, so that an unsigned request never runs work under
/// `WARDEN_WEBHOOK_AUTH=hmac`:
/// 1. every request must carry a valid `X-Warden-Timestamp` /
///    `X-Warden-Signature` over its raw body, whatever the body holds (401
///    otherwise; with `WARDEN_WEBHOOK_AUTH=none` every request passes);
/// 2. a body that is a JSON object with the marker fields of an event the
///    decoder knows (`{"warden": "tick"}`, an SQS or SMN event, ...) is that
///    event;
/// 3. anything else is a webhook: the request becomes the API Gateway HTTP
///    API (payload 2.0) event a platform would have sent, and the decoder
///    reads its body as a notice (checking the signature again, as it does
///    for every HTTP event).
fn decode_request(
    settings: &Settings,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Decoded, EventError> {
    verify_webhook(settings, &|name| header_value(headers, name), body, now).map_err(|reason| {
        EventError::Unauthorized {
            origin: "serve",
            reply: crate::events::Reply::HttpV2,
            reason,
        }
    })?;
    let direct = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .map(|event| decode_value(&event, settings, now));
    match direct {
        Some(Err(EventError::Unknown { .. })) | None => {
            decode_value(&http_event(headers, path, body), settings, now)
        }
        Some(decoded) => decoded,
    }
}

/// A header's value (several values joined by commas, as API Gateway does).
fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The request as an API Gateway HTTP API (payload 2.0) event.
fn http_event(headers: &HeaderMap, path: &str, body: &[u8]) -> Value {
    // `keys()` yields each name once, however many values it has.
    let headers: Map<String, Value> = headers
        .keys()
        .map(|name| name.as_str())
        .filter_map(|name| Some((name.to_owned(), Value::String(header_value(headers, name)?))))
        .collect();
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    json!({
        "version": "2.0",
        "routeKey": format!("POST {path}"),
        "rawPath": path,
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": path}},
        "body": body,
        "isBase64Encoded": encoded,
    })
}

fn respond(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = shared.metrics().render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

impl Shared {
    fn metrics(&self) -> std::sync::MutexGuard<'_, Metrics> {
        // A panic while the lock was held leaves plain numbers behind: still usable.
        self.metrics.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, trigger: &Trigger, report: &Report) {
        self.metrics()
            .record(trigger, report, OffsetDateTime::now_utc().unix_timestamp());
    }
}

/// Runs a tick at once, then every `period` (plus up to 10 % jitter), never
/// two at once, until `stop`; then waits for the running tick to finish.
async fn schedule(shared: Arc<Shared>, period: Duration, mut stop: watch::Receiver<bool>) {
    tracing::info!(every_secs = period.as_secs_f64(), "ticks scheduled");
    let mut base = Instant::now();
    let mut due = base;
    let mut running: Option<JoinHandle<()>> = None;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            _ = stop.wait_for(|stop| *stop) => break,
        }
        if running.as_ref().is_some_and(|tick| !tick.is_finished()) {
            tracing::warn!("a scheduled tick is due while the last one still runs: skipped");
            shared.metrics().ticks_skipped += 1;
        } else {
            let shared = shared.clone();
            running = Some(tokio::spawn(async move {
                let trigger = Trigger::Tick {
                    jobs: Job::ALL.to_vec(),
                    targets: Vec::new(),
                };
                let outcome = crate::dispatch::dispatch(&shared.ctx, trigger.clone()).await;
                tracing::info!(report = %outcome.report.to_json_line(), "report");
                shared.record(&trigger, &outcome.report);
            }));
        }
        // The schedule keeps its pace; after a long stall it starts again from now.
        base = (base + period).max(Instant::now());
        due = base + jitter(period);
    }
    if let Some(tick) = running {
        if !tick.is_finished() {
            tracing::info!("waiting for the running tick to finish");
        }
        if let Err(e) = tick.await {
            tracing::error!(error = %e, "the last tick stopped abnormally");
        }
    }
}

/// A random delay of up to 10 % of `period`, so replicas do not tick in step.
fn jitter(period: Duration) -> Duration {
    let max = period / 10;
    if max.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
}

/// Reads `--every`: a number and a unit, `s`, `m` or `h` (`90s`, `5m`,
/// `1h`), or several (`1h30m`). At least one second, at most a week.
pub fn parse_period(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration such as 30s, 5m, 1h or 1h30m; got {text:?}");
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut parts = 0;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(expected()),
        };
        let n: u64 = digits.parse().map_err(|_| expected())?;
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(expected)?;
        digits.clear();
        parts += 1;
    }
    if !digits.is_empty() || parts == 0 {
        return Err(expected());
    }
    const WEEK: u64 = 7 * 24 * 3600;
    match total {
        0 => Err(format!("the period must be at least 1s; got {text:?}")),
        secs if secs > WEEK => Err(format!(
            "the period must be at most a week (168h); got {text:?}"
        )),
        secs => Ok(Duration::from_secs(secs)),
    }
}

/// The numbers `/metrics` shows, from the reports of the runs this process made.
#[derive(Debug, Default, Clone, PartialEq)]
struct Metrics {
    /// Used and limit per quota type, as of the last run that read the quotas.
    quotas: BTreeMap<String, (u64, u64)>,
    /// Connections left pending by the last run that swept them (a tick with approve).
    pending: u64,
    approved: u64,
    rejected: u64,
    deleted: u64,
    errors: u64,
    api_calls: u64,
    runs: u64,
    ticks: u64,
    ticks_skipped: u64,
    /// When the last tick finished, unix seconds (0: none yet).
    last_tick: i64,
}

impl Metrics {
    fn record(&mut self, trigger: &Trigger, report: &Report, finished_at: i64) {
        let count = |items: usize| u64::try_from(items).unwrap_or(u64::MAX);
        self.runs += 1;
        self.approved += count(report.approved.len());
        self.rejected += count(report.rejected.len());
        self.deleted += count(report.deleted.len());
        self.errors += count(report.errors.len());
        self.api_calls += report.api_calls;
        if !report.quotas.is_empty() {
            self.quotas = report
                .quotas
                .iter()
                .map(|q| (q.kind.clone(), (q.used, q.quota)))
                .collect();
        }
        if let Trigger::Tick { jobs, .. } = trigger {
            self.ticks += 1;
            self.last_tick = finished_at;
            if jobs.is_empty() || jobs.contains(&Job::Approve) {
                self.pending = count(report.left_pending.len());
            }
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_type = |pick: fn(&(u64, u64)) -> u64| -> Vec<(String, String)> {
            self.quotas
                .iter()
                .map(|(kind, numbers)| {
                    (
                        format!("{{type=\"{}\"}}", escape_label(kind)),
                        pick(numbers).to_string(),
                    )
                })
                .collect()
        };
        let one = |value: String| vec![(String::new(), value)];
        family(
            "vpcep_warden_quota_used",
            "gauge",
            "VPCEP resources in use, per quota type, as of the last run that read the quotas.",
            &per_type(|n| n.0),
        );
        family(
            "vpcep_warden_quota_limit",
            "gauge",
            "VPCEP quota, per quota type, as of the last run that read the quotas.",
            &per_type(|n| n.1),
        );
        family(
            "vpcep_warden_pending_connections",
            "gauge",
            "Connections left pending by the last tick that ran the approve job.",
            &one(self.pending.to_string()),
        );
        for (name, help, value) in [
            (
                "vpcep_warden_approved_total",
                "Connections accepted (in a dry run: that would have been).",
                self.approved,
            ),
            (
                "vpcep_warden_rejected_total",
                "Connections rejected (in a dry run: that would have been).",
                self.rejected,
            ),
            (
                "vpcep_warden_deleted_total",
                "Failed endpoints deleted (in a dry run: that would have been).",
                self.deleted,
            ),
            (
                "vpcep_warden_errors_total",
                "Errors reported by runs (the reports' errors entries).",
                self.errors,
            ),
            (
                "vpcep_warden_api_calls_total",
                "VPCEP API requests made by runs.",
                self.api_calls,
            ),
            (
                "vpcep_warden_runs_total",
                "Runs made: ticks and requests that ran an event.",
                self.runs,
            ),
            ("vpcep_warden_ticks_total", "Ticks run.", self.ticks),
            (
                "vpcep_warden_ticks_skipped_total",
                "Scheduled ticks skipped because the last one still ran.",
                self.ticks_skipped,
            ),
        ] {
            family(name, "counter", help, &one(value.to_string()));
        }
        family(
            "vpcep_warden_last_tick_timestamp_seconds",
            "gauge",
            "When the last tick finished, unix seconds (0: none yet).",
            &one(self.last_tick.to_string()),
        );
        out
    }
}

/// A label value escaped as the text format wants: `\`, `"` and newlines.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ConnectionEntry, Level, QuotaEntry};

    #[test]
    fn periods_take_seconds_minutes_and_hours() {
        assert_eq!(parse_period("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_period("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_period("1h30m"), Ok(Duration::from_secs(5400)));
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "0s",
            "-5m",
            "1.5m",
            "200h",
            "99999999999999999999h",
        ] {
            assert!(parse_period(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jitter_stays_within_a_tenth_of_the_period() {
        for _ in 0..100 {
            assert!(jitter(Duration::from_secs(60)) <= Duration::from_secs(6));
        }
        assert_eq!(jitter(Duration::from_nanos(5)), Duration::ZERO);
    }

    fn entry(id: &str) -> ConnectionEntry {
        ConnectionEntry {
            service_id: "s".into(),
            endpoint_id: id.into(),
            domain_id: "d".into(),
            reason: String::new(),
            target: None,
        }
    }

    #[test]
    fn metrics_add_up_runs_and_keep_the_last_ticks_gauges() {
        let mut metrics = Metrics::default();
        let mut report = Report::new("tick", false);
        report.approved = vec![entry("a"), entry("b")];
        report.api_calls = 7;
        report.quotas = vec![QuotaEntry {
            kind: "endpoint".into(),
            used: 3,
            quota: 150,
            percent: 2.0,
            level: Level::Ok,
            target: None,
        }];
        let tick = Trigger::Tick {
            jobs: Job::ALL.to_vec(),
            targets: Vec::new(),
        };
        metrics.record(&tick, &report, 1_800_000_000);
        let notice = Trigger::Connections(Vec::new());
        let mut one = Report::new("connection", false);
        one.approved = vec![entry("c")];
        metrics.record(&notice, &one, 1_800_000_100);
        assert_eq!(metrics.approved, 3);
        assert_eq!(metrics.api_calls, 7);
        assert_eq!(metrics.ticks, 1);
        assert_eq!(metrics.runs, 2);
        assert_eq!(metrics.last_tick, 1_800_000_000);
        assert_eq!(metrics.quotas["endpoint"], (3, 150));
        let text = metrics.render();
        assert!(text.contains("# TYPE vpcep_warden_quota_used gauge\n"));
        assert!(text.contains("vpcep_warden_quota_used{type=\"endpoint\"} 3\n"));
        assert!(text.contains("vpcep_warden_quota_limit{type=\"endpoint\"} 150\n"));
        assert!(text.contains("# TYPE vpcep_warden_approved_total counter\n"));
        assert!(text.contains("vpcep_warden_approved_total 3\n"));
        assert!(text.contains("vpcep_warden_last_tick_timestamp_seconds 1800000000\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    const SECRET: &str = "unit-secret";

    fn signed(body: &[u8], now: OffsetDateTime) -> HeaderMap {
        let ts = now.unix_timestamp();
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-timestamp", ts.to_string().parse().unwrap());
        let signature = crate::events::sign_webhook(SECRET, ts, body);
        headers.insert("x-warden-signature", signature.parse().unwrap());
        headers
    }

    fn settings(auth: crate::config::WebhookAuth) -> Settings {
        let mut settings = Settings::for_tests("http://127.0.0.1:9", "p", "ak", "sk");
        settings.webhook_secret = Some(crate::config::Secret::new(SECRET.to_owned()));
        settings.webhook_auth = auth;
        settings
    }

    #[test]
    fn every_post_needs_the_signature_whatever_its_body() {
        let settings = settings(crate::config::WebhookAuth::Hmac);
        let now = OffsetDateTime::now_utc();
        for body in [
            &b"{\"warden\": \"tick\"}"[..],
            b"{\"service_id\": \"s\"}",
            b"{\"Records\": [{\"eventSource\": \"aws:sqs\", \"body\": \"{}\"}]}",
            b"not json",
        ] {
            let err = decode_request(&settings, &HeaderMap::new(), "/", body, now).unwrap_err();
            assert_eq!(err.http_status(), 401, "{err}");
            let wrong = signed(b"another body", now);
            let err = decode_request(&settings, &wrong, "/", body, now).unwrap_err();
            assert_eq!(err.http_status(), 401, "{err}");
        }
    }

    #[test]
    fn a_signed_body_with_markers_is_that_event_and_anything_else_a_notice() {
        let settings = settings(crate::config::WebhookAuth::Hmac);
        let now = OffsetDateTime::now_utc();
        let tick = b"{\"warden\": \"tick\", \"jobs\": [\"gc\"]}";
        let decoded = decode_request(&settings, &signed(tick, now), "/", tick, now).unwrap();
        assert_eq!(
            decoded.trigger,
            Trigger::Tick {
                jobs: vec![Job::Gc],
                targets: Vec::new(),
            }
        );
        let notice = b"{\"service_id\": \"s\", \"endpoint_id\": \"e\"}";
        let decoded =
            decode_request(&settings, &signed(notice, now), "/webhook", notice, now).unwrap();
        let Trigger::Connections(records) = decoded.trigger else {
            panic!("a notice runs the approve job");
        };
        assert_eq!(
            records[0].notice.as_ref().unwrap().endpoint_id.as_deref(),
            Some("e")
        );
        let junk = b"{\"hello\": 1}";
        let err = decode_request(&settings, &signed(junk, now), "/", junk, now).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert!(err.to_string().contains("service_id"), "{err}");
    }

    #[test]
    fn without_hmac_the_platform_is_trusted() {
        let settings = settings(crate::config::WebhookAuth::None);
        let now = OffsetDateTime::now_utc();
        let tick = b"{\"warden\": \"tick\"}";
        let decoded = decode_request(&settings, &HeaderMap::new(), "/", tick, now).unwrap();
        assert!(matches!(decoded.trigger, Trigger::Tick { .. }));
    }

    #[test]
    fn a_request_becomes_an_http_api_event_with_its_headers_and_body() {
        let mut headers = HeaderMap::new();
        headers.insert("x-warden-timestamp", "1".parse().unwrap());
        headers.append("x-multi", "a".parse().unwrap());
        headers.append("x-multi", "b".parse().unwrap());
        let event = http_event(&headers, "/webhook", b"{\"service_id\":\"s\"}");
        assert_eq!(event["headers"]["x-warden-timestamp"], "1");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["body"], "{\"service_id\":\"s\"}");
        assert_eq!(event["isBase64Encoded"], false);
        assert!(event.pointer("/requestContext/http").is_some());
        let binary = http_event(&HeaderMap::new(), "/", &[0xff, 0xfe]);
        assert_eq!(binary["isBase64Encoded"], true);
    }
}
