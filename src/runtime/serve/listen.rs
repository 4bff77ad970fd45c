//! The connections of `serve`: accepted up to a cap, each served by hyper's
//! HTTP/1 with its header-read timeout (which also closes a keep-alive
//! connection idle for that long), and at shutdown given a bounded grace.
//!
//! What a stranger can hold: at most [`Limits::max_connections`] connections
//! (more wait in the kernel's backlog until one closes), each for at most
//! [`Limits::read_timeout`] before its request's headers are in, and as long
//! again for its body (see `http.rs`). At shutdown no connection is accepted,
//! idle ones close at once, and the others get [`Limits::shutdown_grace`] to
//! finish before they are dropped; the runs they started go on to their end
//! (they are tracked apart, see `mod.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower_http::timeout::RequestBodyTimeout;

/// The bounds of `serve`'s connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once, at most.
    pub max_connections: usize,
    /// The time a client has to send a request's headers (also how long a
    /// kept-alive connection may stay idle), and again its body.
    pub read_timeout: Duration,
    /// How long connections still open at shutdown may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 256,
            read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The largest request head (request line and headers) read.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Serves `router` on `listener` until `stop`, then lets the open
/// connections finish for at most the grace.
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .max_header_size(MAX_HEADER_BYTES)
        .keep_alive(true);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors, most often: wait a moment, then go on.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        // A body that stalls for the read timeout fails its read (tower-http);
        // `http.rs` bounds the whole body's time as well.
        let service =
            TowerToHyperService::new(RequestBodyTimeout::new(router.clone(), limits.read_timeout));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let open = limits.max_connections.max(1) - slots.available_permits();
    if open > 0 {
        tracing::info!(
            open,
            grace_secs = limits.shutdown_grace.as_secs_f64(),
            "letting the open connections finish"
        );
    }
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        let open = limits.max_connections.max(1) - slots.available_permits();
        tracing::warn!(
            open,
            "connections still open after the shutdown grace are closed"
        );
    }
}
