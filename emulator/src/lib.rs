//! A local stand-in for the Huawei Cloud VPC Endpoint (VPCEP) v1 API, as
//! LocalStack and moto are for AWS.
//!
//! Start it in-process with [`start`] and point any VPCEP client (the
//! official SDKs included) at [`Emulator::base_url`]. It verifies
//! SDK-HMAC-SHA256 signatures (or `X-Auth-Token`) of the accounts in the
//! [`Scenario`], keeps services, connections, whitelists and endpoints,
//! passes through `creating` / `deleting` like the real service, and injects
//! faults on demand ([`Options`]). Admin routes under `/__admin/` show and
//! replace the state without authentication.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vpcep_emulator::Error> {
//! let scenario = vpcep_emulator::Scenario::from_json(
//!     r#"{"accounts": [{"name": "me", "domain_id": "d1", "project_id": "p1",
//!                       "ak": "AK", "sk": "SK"}]}"#,
//! )?;
//! let emulator = vpcep_emulator::start(scenario, Default::default()).await?;
//! println!("{}", emulator.base_url());
//! emulator.stop().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod admin;
mod api;
mod auth;
mod faults;
pub mod generate;
mod scenario;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::Stats;
pub use scenario::{
    AccountSpec, AgencySpec, ConnectionSpec, EndpointSpec, GenerateSpec, MemberSpec,
    OrganizationSpec, PortSpec, QuotaSpec, Scenario, ServiceSpec, TagSpec, TemporarySpec, UnitSpec,
    DEFAULT_ENDPOINT_QUOTA, DEFAULT_SERVICE_QUOTA,
};

use faults::Bucket;
use state::State;

/// Behaviour switches: latency, faults, rate limit, transition time and quirks.
///
/// The default is all off: no latency, no faults, no rate limit, immediate
/// transitions (`transition_ms: 0`) and canonical number/boolean fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Added to every API request, in milliseconds (at most [`MAX_DELAY_MS`]).
    pub latency_ms: u64,
    /// Share of API requests (0..=1) answered 500 `EndPoint.0001`.
    pub fault_rate: f64,
    /// Requests per second above which the API answers 400 `EndPoint.0022`
    /// (a token bucket holding `max(rate, 1)` requests).
    pub rate_limit: Option<f64>,
    /// How long creating, accepting and deleting take, in milliseconds (0: at once;
    /// at most [`MAX_DELAY_MS`]).
    pub transition_ms: u64,
    /// Send the documented string variants: `marker_id`, `client_port`,
    /// `server_port`, `is_charge` and `enable_dns` as strings.
    pub quirks: bool,
}

/// The largest `latency_ms` and `transition_ms` accepted: one hour.
pub const MAX_DELAY_MS: u64 = 3_600_000;

impl Options {
    fn validate(&self) -> Result<(), Error> {
        for (name, value) in [
            ("latency_ms", self.latency_ms),
            ("transition_ms", self.transition_ms),
        ] {
            if value > MAX_DELAY_MS {
                return Err(Error::Options(format!(
                    "{name} must be at most {MAX_DELAY_MS} (one hour), got {value}"
                )));
            }
        }
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(Error::Options(format!(
                "fault_rate must be within 0..=1, got {}",
                self.fault_rate
            )));
        }
        match self.rate_limit {
            Some(r) if !(r.is_finite() && r > 0.0) => Err(Error::Options(format!(
                "rate_limit must be a positive number of requests per second, got {r}"
            ))),
            _ => Ok(()),
        }
    }
}

/// What can go wrong when starting or reconfiguring the emulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario is not valid (the message says where and why).
    #[error("invalid scenario: {0}")]
    Scenario(String),
    /// The scenario is not valid JSON or does not have the scenario's shape.
    #[error("invalid scenario JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The options are out of range.
    #[error("invalid options: {0}")]
    Options(String),
    /// A temporary credential could not be added (the message says why).
    #[error("invalid temporary credential: {0}")]
    Credential(String),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    options: Mutex<Options>,
    bucket: Mutex<Bucket>,
    stats: Mutex<Stats>,
}

/// Locks a mutex; a panic elsewhere never makes the emulator unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn options(&self) -> Options {
        lock(&self.options).clone()
    }

    fn set_options(&self, options: Options) -> Result<(), Error> {
        options.validate()?;
        *lock(&self.bucket) = Bucket::full(options.rate_limit);
        *lock(&self.options) = options;
        Ok(())
    }

    fn load(&self, scenario: &Scenario) -> Result<(), Error> {
        let state = State::load(scenario, OffsetDateTime::now_utc())?;
        *lock(&self.state) = state;
        Ok(())
    }

    fn add_temporary(&self, account: &str, spec: &TemporarySpec) -> Result<(), Error> {
        let temporary = state::load_temporary(spec, "credential")
            .map_err(|e| Error::Credential(e.to_string()))?;
        lock(&self.state)
            .add_temporary(account, temporary)
            .map_err(Error::Credential)
    }

    fn admin_state(&self) -> serde_json::Value {
        let mut state = lock(&self.state);
        state.settle(OffsetDateTime::now_utc());
        state.to_admin_json()
    }
}

/// A running emulator. It stops when [`Emulator::stop`] is called or when it is dropped.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Starts an emulator on `127.0.0.1` and a free port.
pub async fn start(scenario: Scenario, options: Options) -> Result<Emulator, Error> {
    start_on(SocketAddr::from(([127, 0, 0, 1], 0)), scenario, options).await
}

/// Starts an emulator on `addr` (port 0 picks a free port).
pub async fn start_on(
    addr: SocketAddr,
    scenario: Scenario,
    options: Options,
) -> Result<Emulator, Error> {
    options.validate()?;
    let state = State::load(&scenario, OffsetDateTime::now_utc())?;
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        bucket: Mutex::new(Bucket::full(options.rate_limit)),
        options: Mutex::new(options),
        stats: Mutex::new(Stats::default()),
    });
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let app = router(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!(error = %e, "the emulator's server stopped");
        }
    });
    tracing::info!(%addr, "VPCEP emulator listening");
    Ok(Emulator {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}

fn router(shared: Arc<Shared>) -> Router {
    admin::routes()
        .fallback(api::entry)
        .layer(axum::middleware::from_fn(api::request_id))
        .with_state(shared)
}

impl Emulator {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request counters (as `GET /__admin/stats`).
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Sets the request counters to zero (as `POST /__admin/stats/reset`).
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }

    /// The whole state (as `GET /__admin/state`): accounts without secrets,
    /// services with their connections and whitelists, the accounts' endpoints.
    pub fn state(&self) -> serde_json::Value {
        self.shared.admin_state()
    }

    /// The options in force.
    pub fn options(&self) -> Options {
        self.shared.options()
    }

    /// Replaces the options (as `POST /__admin/faults`, which also takes a partial object).
    pub fn set_faults(&self, options: Options) -> Result<(), Error> {
        self.shared.set_options(options)
    }

    /// Replaces the whole estate (as `POST /__admin/scenario`).
    pub fn load_scenario(&self, scenario: &Scenario) -> Result<(), Error> {
        self.shared.load(scenario)
    }

    /// Gives the account named `account` a temporary credential (as `POST
    /// /__admin/credentials`); it lasts until the estate is replaced.
    pub fn add_temporary_credential(
        &self,
        account: &str,
        credential: &TemporarySpec,
    ) -> Result<(), Error> {
        self.shared.add_temporary(account, credential)
    }

    /// Stops the server and waits (at most a second) for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(1), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
