//! `vpcep-warden serve`: a small HTTP server for containers and FunctionGraph
//! HTTP functions: the server's life (bind, serve, shut down); the
//! connections and their bounds are in [`listen`], the routes in [`http`],
//! one tick per target at a time in [`ticks`], the schedule in [`schedule`],
//! the numbers in [`metrics`].
//!
//! - `POST /` and `POST /webhook` run one event (see `http::decode_request`
//!   for the rule) and answer like the HTTP triggers: 200 with the report, 400,
//!   401, 408, 413, 422 or 502; a posted tick that a running tick covers is
//!   answered 202 and joined.
//! - `GET /healthz` answers `ok` without calling any API.
//! - `GET /metrics` is the OpenMetrics text (which Prometheus reads) of the
//!   runs this process made (`metrics::Metrics`).
//! - `--every` runs a tick at start and then on an internal schedule.
//!
//! Every run (a tick, a posted event) is a task of its own, tracked: on
//! SIGTERM or Ctrl-C the server stops accepting, gives the open connections
//! a bounded grace, lets every run finish, whatever became of its
//! connection, then exits 0.

mod http;
mod listen;
mod metrics;
mod request;
mod runs;
mod schedule;
mod ticks;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::events::Trigger;
use crate::jobs::Ctx;
use crate::report::Report;
use metrics::Metrics;
use ticks::Ticks;

pub use listen::Limits;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen (port 0: any free port; the bound address is printed on stderr).
    pub listen: SocketAddr,
    /// Run a tick this often (with up to 10 % jitter); `None`: only on request.
    pub every: Option<Duration>,
    /// The bounds of the connections.
    pub limits: Limits,
}

/// What the handlers and the scheduler share.
struct Shared {
    ctx: Ctx,
    metrics: Metrics,
    ticks: Arc<Ticks>,
    /// Every run, so that shutdown waits for them all.
    runs: TaskTracker,
    /// The time a request body may take to arrive, whole.
    read_timeout: Duration,
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
    let targets = if ctx.settings.targets.is_empty() {
        vec![crate::config::TOP_LEVEL.to_owned()]
    } else {
        ctx.settings
            .targets
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    let shared = Arc::new(Shared {
        metrics: Metrics::new(&ctx.settings),
        ticks: Arc::new(Ticks::new(targets)),
        runs: TaskTracker::new(),
        read_timeout: options.limits.read_timeout,
        ctx,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop = Arc::new(stop_tx);
    let on_signal = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; the running tick and requests finish");
        on_signal.send_replace(true);
    });
    let scheduler = options
        .every
        .map(|period| tokio::spawn(schedule::schedule(shared.clone(), period, stop_rx.clone())));
    listen::serve(
        listener,
        http::router(shared.clone()),
        options.limits,
        stop_rx.clone(),
    )
    .await;
    stop.send_replace(true);
    if let Some(scheduler) = scheduler {
        if let Err(e) = scheduler.await {
            tracing::error!(error = %e, "the scheduler stopped abnormally");
        }
    }
    shared.runs.close();
    if shared.ticks.any_running() {
        tracing::info!("waiting for the running tick to finish");
    } else if !shared.runs.is_empty() {
        tracing::info!(
            runs = shared.runs.len(),
            "waiting for the runs in flight to finish"
        );
    }
    shared.runs.wait().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
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
