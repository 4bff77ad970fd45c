//! The typed VPCEP client: one `reqwest` client, authentication, retries with
//! backoff, a process-wide limit on requests in flight, and paging.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use url::Url;

use super::auth::Auth;
use super::error::{ApiError, ApiErrorKind};
use super::retry::Backoff;
use super::transport::Inner;
use crate::config::{Credentials, Settings};

/// Transport settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed for one HTTP request (connect, send, answer).
    pub timeout: Duration,
    /// Retries of a request after a retryable failure.
    pub max_retries: u32,
    /// Requests in flight at once, across every clone of the client.
    pub max_concurrency: usize,
    /// The first backoff ceiling; each retry doubles it.
    pub backoff_base: Duration,
    /// The longest backoff.
    pub backoff_cap: Duration,
    /// The largest answer body read; a larger one is an error.
    pub max_answer_bytes: usize,
}

impl ClientOptions {
    /// The options `WARDEN_HTTP_TIMEOUT_SECS`, `WARDEN_MAX_RETRIES` and
    /// `WARDEN_MAX_CONCURRENCY` give, with a backoff from 100 ms up to 5 s.
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            timeout: Duration::from_secs(settings.http_timeout_secs.max(1)),
            max_retries: settings.max_retries,
            max_concurrency: settings.max_concurrency.max(1),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(5),
            max_answer_bytes: (settings.max_response_mb.clamp(1, 128) as usize) << 20,
        }
    }
}

/// The VPCEP API of one project. Cheap to clone: clones share the connection
/// pool, the concurrency limit, the IAM token and the request counter (a run
/// counts apart with [`Client::counting_afresh`]).
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
    /// When the current invocation must have answered: no request starts
    /// that could end later (see [`Client::with_deadline`]).
    pub(super) deadline: Option<Instant>,
    /// The time one request may take in this invocation (at most the
    /// configured timeout; less when the invocation is shorter).
    pub(super) timeout: Duration,
    /// Credentials of this invocation, used instead of the configured ones
    /// (see [`Client::with_credentials`]).
    pub(super) invocation: Option<Arc<InvocationAuth>>,
    /// The requests sent by this client and the clones sharing this counter.
    pub(super) calls: Arc<AtomicU64>,
}

/// Credentials one invocation brought, with their method's name (no secret).
pub(super) struct InvocationAuth {
    pub(super) auth: Auth,
    pub(super) method: &'static str,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.base.as_str())
            .field("project_id", &self.inner.project_id)
            .field("auth", &self.auth_method())
            .field("max_retries", &self.inner.max_retries)
            .field("api_calls", &self.api_calls())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the settings' endpoint, project and credentials, with
    /// [`ClientOptions::from_settings`].
    pub fn from_settings(settings: &Settings) -> Result<Client, ApiError> {
        Self::with_options(settings, ClientOptions::from_settings(settings))
    }

    /// A client for the settings' endpoint, project and credentials, with
    /// the given transport options (tests use a short backoff).
    pub fn with_options(settings: &Settings, options: ClientOptions) -> Result<Client, ApiError> {
        let setup = |detail: String| {
            ApiError::new(
                "set up the VPCEP client",
                "",
                ApiErrorKind::Invalid { detail },
            )
        };
        let base = Url::parse(&settings.vpcep_endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                setup(format!(
                    "the VPCEP endpoint {:?} is not an http(s) URL",
                    settings.vpcep_endpoint
                ))
            })?;
        let http = crate::tls::client_builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            // A redirect would carry the credentials to another address: refuse it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::auth::USER_AGENT)
            .build()
            .map_err(|e| setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                project_id: settings.project_id.clone(),
                domain_id: settings.domain_id.clone(),
                auth: Auth::new(&settings.credentials, settings.domain_id.as_deref()),
                auth_method: settings.credentials.method(),
                max_retries: options.max_retries,
                max_answer_bytes: options.max_answer_bytes,
                timeout: options.timeout,
                backoff: Backoff::new(options.backoff_base, options.backoff_cap),
                permits: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
                organization: Default::default(),
            }),
            deadline: None,
            timeout: options.timeout,
            invocation: None,
            calls: Arc::default(),
        })
    }

    /// The same client (pool, limit, token, counter) for one invocation with a
    /// deadline: a request that could not end before it is not started, and
    /// fails with a retryable "deadline" error instead.
    pub fn with_deadline(&self, deadline: Option<Instant>) -> Client {
        Client {
            deadline,
            timeout: self.inner.timeout,
            ..self.clone()
        }
    }

    /// The same client (pool, limit, counter, deadline) signing with other
    /// credentials: those one invocation brought, e.g. the temporary
    /// credentials of a FunctionGraph agency. They are used by this clone
    /// and its clones only, and scrubbed from what the server sends back.
    pub fn with_credentials(&self, credentials: &Credentials) -> Client {
        Client {
            invocation: Some(Arc::new(InvocationAuth {
                // The host's credentials for this function: the same account.
                auth: Auth::new(credentials, self.inner.domain_id.as_deref()),
                method: credentials.method(),
            })),
            ..self.clone()
        }
    }

    /// A client for another target (its endpoint, project and credentials)
    /// that shares this one's connection pool, transport options and, above
    /// all, its concurrency limit: every target of a process together keeps
    /// to `WARDEN_MAX_CONCURRENCY`. It counts its own requests
    /// ([`Client::api_calls`]) and keeps its own IAM token.
    pub fn for_target(
        &self,
        vpcep_endpoint: &str,
        project_id: &str,
        credentials: &Credentials,
    ) -> Result<Client, ApiError> {
        let base = Url::parse(vpcep_endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ApiError::new(
                    "set up the VPCEP client",
                    project_id,
                    ApiErrorKind::Invalid {
                        detail: format!(
                            "the VPCEP endpoint {vpcep_endpoint:?} is not an http(s) URL"
                        ),
                    },
                )
            })?;
        let inner = &self.inner;
        Ok(Client {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base,
                project_id: project_id.to_owned(),
                // Another account, maybe: found when first needed.
                domain_id: None,
                auth: Auth::new(credentials, None),
                auth_method: credentials.method(),
                max_retries: inner.max_retries,
                max_answer_bytes: inner.max_answer_bytes,
                timeout: inner.timeout,
                backoff: inner.backoff,
                permits: inner.permits.clone(),
                organization: Default::default(),
            }),
            deadline: None,
            timeout: inner.timeout,
            invocation: None,
            calls: Arc::default(),
        })
    }

    /// The same client signing with the credentials `other` was given for
    /// this invocation, if any (see [`Client::with_credentials`]).
    pub fn with_invocation_of(&self, other: &Client) -> Client {
        Client {
            invocation: other.invocation.clone(),
            ..self.clone()
        }
    }

    /// Whether `other` shares this client's concurrency limit.
    pub fn shares_limit_with(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.inner.permits, &other.inner.permits)
    }

    /// The authentication requests are made with: the invocation's, else the configured one.
    pub(super) fn auth(&self) -> &Auth {
        self.invocation
            .as_ref()
            .map_or(&self.inner.auth, |i| &i.auth)
    }

    /// The same client with requests limited to `timeout` (never more than
    /// the configured one).
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            timeout: timeout.min(self.inner.timeout),
            ..self.clone()
        }
    }

    /// The time one request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// HTTP requests sent by this client (and its clones sharing its
    /// counter) so far, retries and IAM token requests included.
    pub fn api_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The same client counting its requests from zero, apart from every
    /// other clone: one run's count, which runs at the same time (two
    /// requests to `serve`) do not add to.
    pub fn counting_afresh(&self) -> Client {
        Client {
            calls: Arc::default(),
            ..self.clone()
        }
    }

    /// The project whose resources this client manages.
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// The authentication method, e.g. `AK/SK` or `IAM password` (no secret).
    pub fn auth_method(&self) -> &'static str {
        self.invocation
            .as_ref()
            .map_or(self.inner.auth_method, |i| i.method)
    }
}
