//! The three jobs. Each is a pure planner (what to do, with a reason) and an
//! executor that carries the plan out through the client; a dry run stops
//! after the plan.

pub mod approve;
pub mod caps;
pub mod gc;
pub mod marks;
mod organization;
pub mod quota;
pub mod remember;

use std::any::Any;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

use crate::alerts::Sinks;
use crate::config::{Credentials, Settings};
use crate::vpcep::{ApiError, Client, EndpointService, Permission};

/// Whitelists read in one run, by service.
type Whitelists =
    std::sync::Mutex<std::collections::HashMap<String, Arc<OnceCell<Arc<Vec<Permission>>>>>>;

/// What every job needs: settings, the API client, the alert sinks and the deadline.
#[derive(Clone)]
pub struct Ctx {
    pub settings: Arc<Settings>,
    pub client: Client,
    pub sinks: Arc<Sinks>,
    /// When the invocation must have answered (the Lambda deadline); `None` from the CLI.
    pub deadline: Option<Instant>,
    /// Bounds the action tasks (accept, reject, delete) alive at once, so
    /// memory follows the concurrency limit, not the size of the estate.
    actions: Arc<Semaphore>,
    /// The project's services, read at most once per run and shared by the
    /// jobs (approve sweeps them, quota reviews their posture).
    services: Arc<OnceCell<Vec<EndpointService>>>,
    /// Each service's whitelist, read at most once per run and shared by
    /// the jobs (approve judges by it, quota reviews its posture).
    whitelists: Arc<Whitelists>,
    /// State the layers above the jobs keep across warm invocations (the
    /// targets' clients and credentials), opaque to the jobs.
    kept: Arc<OnceLock<Arc<dyn Any + Send + Sync>>>,
    /// This run's place in the caps that count across every target.
    pub seat: Arc<caps::Seat>,
    /// The organization as this run sees it, read at most once per run
    /// (see [`Ctx::organization`]).
    organization: Arc<OnceCell<crate::organization::OrgView>>,
    /// Where state documents are kept (`WARDEN_STATE`), shared by every run.
    pub store: crate::state::Store,
    /// This run's state document (see [`remember`]); on its own, a
    /// document of this context only.
    pub state: Arc<crate::state::Run>,
}

impl Ctx {
    /// Builds the client and the sinks once; they are kept across warm invocations.
    pub fn new(settings: Settings) -> Result<Self, crate::vpcep::ApiError> {
        let client = Client::from_settings(&settings)?;
        let sinks = Sinks::from_settings(&settings, &client);
        let store = crate::state::Store::from_settings(&settings);
        Ok(Self::from_parts(settings, client, sinks).with_store(store))
    }

    /// A context of settings, a client and sinks built elsewhere (one per
    /// target, each client sharing the process-wide concurrency limit),
    /// keeping state in memory until [`Ctx::with_store`] says where.
    pub fn from_parts(settings: Settings, client: Client, sinks: Sinks) -> Self {
        let settings_concurrency = settings.max_concurrency.max(1);
        let store = crate::state::Store::memory();
        Self {
            settings: Arc::new(settings),
            client,
            sinks: Arc::new(sinks),
            deadline: None,
            actions: Arc::new(Semaphore::new(2 * settings_concurrency)),
            services: Arc::new(OnceCell::new()),
            whitelists: Arc::default(),
            kept: Arc::new(OnceLock::new()),
            seat: caps::Seat::alone(),
            organization: Arc::default(),
            store,
            state: Arc::new(crate::state::Run::detached()),
        }
    }

    /// The state a layer above the jobs keeps in this context (and every
    /// copy of it) across warm invocations, made by `init` on first use.
    /// `None` when a state of another type was kept first.
    pub fn kept<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> Option<Arc<T>> {
        self.kept
            .get_or_init(|| Arc::new(init()))
            .clone()
            .downcast::<T>()
            .ok()
    }

    /// The same context for one run: nothing read by an earlier run is
    /// reused, and the run's requests are counted apart from any other's.
    pub fn for_one_run(&self) -> Self {
        let client = self.client.counting_afresh();
        Self {
            sinks: Arc::new(self.sinks.with_client(&client)),
            client,
            services: Arc::new(OnceCell::new()),
            whitelists: Arc::default(),
            seat: caps::Seat::alone(),
            organization: Arc::default(),
            state: Arc::new(crate::state::Run::detached()),
            ..self.clone()
        }
    }

    /// The same context keeping its state in `store` (a target's context
    /// shares the warden's).
    pub fn with_store(self, store: crate::state::Store) -> Self {
        Self { store, ..self }
    }

    /// The same context for a run holding `state` (its sinks keep what they
    /// send there).
    pub fn with_state(&self, state: Arc<crate::state::Run>) -> Self {
        Self {
            sinks: Arc::new(self.sinks.for_run(state.clone())),
            state,
            ..self.clone()
        }
    }

    /// The same context delivering alerts through `sinks`.
    pub fn with_sinks(&self, sinks: Sinks) -> Self {
        Self {
            sinks: Arc::new(sinks),
            ..self.clone()
        }
    }

    /// The same context taking `seat` in a run of several targets.
    pub fn with_seat(self, seat: Arc<caps::Seat>) -> Self {
        Self { seat, ..self }
    }

    /// The project's endpoint services, listed once per run (a failed read
    /// is not kept: the next caller tries again).
    pub async fn services(&self) -> Result<&[EndpointService], ApiError> {
        self.services
            .get_or_try_init(|| self.client.list_services())
            .await
            .map(Vec::as_slice)
    }

    /// The whitelist records of a service, read at most once per run (a
    /// failed read is not kept: the next caller tries again).
    pub async fn whitelist(&self, service_id: &str) -> Result<Arc<Vec<Permission>>, ApiError> {
        let cell = self
            .whitelists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(service_id.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            self.client.list_permissions(service_id).await.map(Arc::new)
        })
        .await
        .cloned()
    }

    /// The same context with a deadline for one invocation.
    ///
    /// When the invocation has less time than `WARDEN_HTTP_TIMEOUT_SECS`
    /// allows one request (a function timeout shorter than the HTTP timeout),
    /// requests are given a third of the time left instead, with a warning,
    /// rather than none ever starting.
    pub fn with_deadline(&self, deadline: Option<Instant>) -> Self {
        let mut client = self.client.with_deadline(deadline);
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left <= client.timeout() * 2 {
                let fitted = (left / 3).max(Duration::from_millis(100));
                tracing::warn!(
                    http_timeout_secs = self.settings.http_timeout_secs,
                    time_left_ms = left.as_millis() as u64,
                    request_timeout_ms = fitted.as_millis() as u64,
                    "WARDEN_HTTP_TIMEOUT_SECS does not fit in this invocation's time: requests get a third of the time left"
                );
                client = client.with_timeout(fitted);
            }
        }
        Self {
            client,
            deadline,
            ..self.clone()
        }
    }

    /// The same context signing its VPCEP and SMN requests with `credentials`
    /// (those one invocation brought) instead of the configured ones.
    /// An S3 API store taking each invocation's credentials signs with them too.
    pub fn with_credentials(&self, credentials: &Credentials) -> Self {
        let client = self.client.with_credentials(credentials);
        self.store.use_credentials(credentials);
        Self {
            sinks: Arc::new(self.sinks.with_client(&client)),
            client,
            ..self.clone()
        }
    }

    /// Whether there is still time to start one more unit of work: one request
    /// may take up to the HTTP timeout, so that much must remain.
    pub fn has_time(&self) -> bool {
        match self.deadline {
            None => true,
            Some(deadline) => {
                deadline.saturating_duration_since(Instant::now()) > self.client.timeout()
            }
        }
    }

    /// Waits for room to start one more action task. Twice the request limit:
    /// enough to keep every request slot busy, few enough to stay small.
    pub async fn action_slot(&self) -> OwnedSemaphorePermit {
        self.actions
            .clone()
            .acquire_owned()
            .await
            .expect("the action semaphore is never closed")
    }

    /// Whether this run only plans.
    pub fn dry_run(&self) -> bool {
        self.settings.dry_run
    }
}

pub use crate::vpcep::DEADLINE_REASON;
