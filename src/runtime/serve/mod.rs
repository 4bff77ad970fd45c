//! `vpcep-warden serve`: a small HTTP server for containers and FunctionGraph
//! HTTP functions: the server's life (bind, serve, shut down); the routes are
//! in [`http`], the schedule in [`schedule`], the numbers in [`metrics`].
//!
//! - `POST /` and `POST /webhook` run one event (see `http::decode_request`
//!   for the rule) and answer like the HTTP triggers: 200 with the report, 400,
//!   401, 413, 422 or 502.
//! - `GET /healthz` answers `ok` without calling any API.
//! - `GET /metrics` is the OpenMetrics text (which Prometheus reads) of the runs this
//!   process made (`metrics::Metrics`).
//! - `--every` runs a tick at start and then on an internal schedule, never
//!   two at once.
//!
//! On SIGTERM or Ctrl-C the server stops accepting, lets the running tick and
//! the requests in flight finish, then exits 0.

mod http;
mod metrics;
mod schedule;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::events::Trigger;
use crate::jobs::Ctx;
use crate::report::Report;
use metrics::Metrics;

pub use schedule::parse_period;

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
    metrics: Metrics,
}

/// Serves until SIGTERM or Ctrl-C, then lets the running work finish.
/// Exit code 0 after a clean shutdown, 2 when the address cannot be bound.
pub async fn run(ctx: Ctx, options: Options) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(options.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", options.listen);
            return ExitCode::from(super::EXIT_BAD_INPUT);
        }
    };
    match listener.local_addr() {
        Ok(addr) => eprintln!("listening on http://{addr}"),
        Err(e) => eprintln!("listening on {} ({e})", options.listen),
    }
    let shared = Arc::new(Shared {
        metrics: Metrics::new(&ctx.settings),
        ctx,
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
        .map(|period| tokio::spawn(schedule::schedule(shared.clone(), period, stop_rx.clone())));
    let mut stopped = stop_rx.clone();
    let served = axum::serve(listener, http::router(shared))
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

impl Shared {
    pub(super) fn record(&self, trigger: &Trigger, report: &Report) {
        self.metrics
            .record(trigger, report, OffsetDateTime::now_utc().unix_timestamp());
    }
}
