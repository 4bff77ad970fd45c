//! The typed VPCEP client: one `reqwest` client, authentication, retries with
//! backoff, a process-wide limit on requests in flight, and paging.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use url::Url;

use super::auth::{self, Auth, Authn};
use super::error::{error_fields, excerpt, map_error_answer, scrub, ApiError, ApiErrorKind};
use super::lenient;
use super::models::{Connection, ConnectionAction, Endpoint, EndpointService, Permission, Quota};
use super::paging::{Pager, PAGE_LIMIT};
use super::retry::Backoff;
use crate::config::{Secret, Settings};

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
        }
    }
}

/// The VPCEP API of one project. Cheap to clone: clones share the connection
/// pool, the concurrency limit, the IAM token and the request counter.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    project_id: String,
    auth: Auth,
    max_retries: u32,
    backoff: Backoff,
    permits: Semaphore,
    calls: AtomicU64,
}

/// A successful answer.
struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
    status: u16,
    request_id: Option<String>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.base.as_str())
            .field("project_id", &self.inner.project_id)
            .field("auth", &self.inner.auth)
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
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("vpcep-warden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| setup(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                project_id: settings.project_id.clone(),
                auth: Auth::new(&settings.credentials),
                max_retries: options.max_retries,
                backoff: Backoff::new(options.backoff_base, options.backoff_cap),
                permits: Semaphore::new(options.max_concurrency.max(1)),
                calls: AtomicU64::new(0),
            }),
        })
    }

    /// HTTP requests sent by this client (and its clones) so far, retries and
    /// IAM token requests included.
    pub fn api_calls(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The project whose resources this client manages.
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// The authentication method, e.g. `AK/SK` or `IAM password` (no secret).
    pub fn auth_method(&self) -> &'static str {
        self.inner.auth.method()
    }

    /// Every endpoint service of the project (all pages).
    pub async fn list_services(&self) -> Result<Vec<EndpointService>, ApiError> {
        self.collect(
            "list endpoint services",
            String::new(),
            &["vpc-endpoint-services"],
            &[],
            "endpoint_services",
        )
        .await
    }

    /// One endpoint service.
    pub async fn get_service(&self, service_id: &str) -> Result<EndpointService, ApiError> {
        let (action, target) = ("get endpoint service", service_id.to_owned());
        let url = self.url(action, &target, &["vpc-endpoint-services", service_id], &[])?;
        let answer = self.call(action, &target, Method::GET, url, None).await?;
        self.decode(action, &target, &answer)
    }

    /// The connections of a service (all pages), optionally only those with
    /// `status` (e.g. `pendingAcceptance`) or of one endpoint (`endpoint_id`).
    pub async fn list_connections(
        &self,
        service_id: &str,
        status: Option<&str>,
        endpoint_id: Option<&str>,
    ) -> Result<Vec<Connection>, ApiError> {
        let filters: Vec<(&str, &str)> = [("status", status), ("id", endpoint_id)]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        self.collect(
            "list connections of service",
            service_id.to_owned(),
            &["vpc-endpoint-services", service_id, "connections"],
            &filters,
            "connections",
        )
        .await
    }

    /// Accepts or rejects one endpoint's connection to a service. Accepting an
    /// endpoint that is already connected (`EndPoint.2014`) is success.
    pub async fn connection_action(
        &self,
        service_id: &str,
        endpoint_id: &str,
        action: ConnectionAction,
    ) -> Result<(), ApiError> {
        let verb = match action {
            ConnectionAction::Receive => "accept endpoint",
            ConnectionAction::Reject => "reject endpoint",
        };
        let target = format!("{endpoint_id} on service {service_id}");
        let url = self.url(
            verb,
            &target,
            &["vpc-endpoint-services", service_id, "connections", "action"],
            &[],
        )?;
        let body = json!({ "action": action.as_str(), "endpoints": [endpoint_id] });
        let result = async {
            let answer = self
                .call(verb, &target, Method::POST, url, Some(&body))
                .await?;
            self.decode::<Value>(verb, &target, &answer).map(drop)
        }
        .await;
        match result {
            Err(e) if action == ConnectionAction::Receive && e.has_code("EndPoint.2014") => Ok(()),
            other => other,
        }
    }

    /// The whitelist records of a service (all pages).
    pub async fn list_permissions(&self, service_id: &str) -> Result<Vec<Permission>, ApiError> {
        self.collect(
            "list whitelist records of service",
            service_id.to_owned(),
            &["vpc-endpoint-services", service_id, "permissions"],
            &[],
            "permissions",
        )
        .await
    }

    /// Every VPC endpoint of the project (all pages).
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, ApiError> {
        self.collect(
            "list endpoints",
            String::new(),
            &["vpc-endpoints"],
            &[],
            "endpoints",
        )
        .await
    }

    /// Every VPC endpoint of the project, handed to `f` one page at a time so
    /// the caller keeps only what it needs.
    pub async fn for_each_endpoint_page<F: FnMut(Vec<Endpoint>)>(
        &self,
        f: F,
    ) -> Result<(), ApiError> {
        self.for_each_page(
            "list endpoints",
            String::new(),
            &["vpc-endpoints"],
            &[],
            "endpoints",
            f,
        )
        .await
    }

    /// One VPC endpoint.
    pub async fn get_endpoint(&self, endpoint_id: &str) -> Result<Endpoint, ApiError> {
        let (action, target) = ("get endpoint", endpoint_id.to_owned());
        let url = self.url(action, &target, &["vpc-endpoints", endpoint_id], &[])?;
        let answer = self.call(action, &target, Method::GET, url, None).await?;
        self.decode(action, &target, &answer)
    }

    /// Deletes a VPC endpoint. An endpoint that is gone or already being
    /// deleted (404, `EndPoint.2006`, `.2008`, `.2018`) counts as deleted.
    pub async fn delete_endpoint(&self, endpoint_id: &str) -> Result<(), ApiError> {
        let (action, target) = ("delete endpoint", endpoint_id.to_owned());
        let url = self.url(action, &target, &["vpc-endpoints", endpoint_id], &[])?;
        let result = async {
            let answer = self
                .call(action, &target, Method::DELETE, url, None)
                .await?;
            self.decode::<Value>(action, &target, &answer).map(drop)
        }
        .await;
        match result {
            Err(e)
                if e.status() == Some(404)
                    || ["EndPoint.2006", "EndPoint.2008", "EndPoint.2018"]
                        .iter()
                        .any(|c| e.has_code(c)) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// The project's VPCEP quotas (`endpoint`, `endpoint_service`).
    pub async fn quotas(&self) -> Result<Vec<Quota>, ApiError> {
        #[derive(Deserialize)]
        struct Answer {
            quotas: Resources,
        }
        #[derive(Deserialize)]
        struct Resources {
            #[serde(default, deserialize_with = "lenient::one_or_many")]
            resources: Vec<Quota>,
        }
        let action = "read quotas";
        let url = self.url(action, "", &["quotas"], &[])?;
        let answer = self.call(action, "", Method::GET, url, None).await?;
        let quotas: Answer = self.decode(action, "", &answer)?;
        Ok(quotas.quotas.resources)
    }

    /// Calls another signed Huawei Cloud API (e.g. SMN publish) with the same
    /// authentication, retries, concurrency limit and error mapping. An empty
    /// answer reads as `null`.
    pub async fn send_json(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let action = "call";
        let target = format!("{method} {}", url.split('?').next().unwrap_or(url));
        let parsed = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                ApiError::new(
                    action,
                    target.clone(),
                    ApiErrorKind::Invalid {
                        detail: "not an http(s) URL".into(),
                    },
                )
            })?;
        let answer = self.call(action, &target, method, parsed, body).await?;
        self.decode(action, &target, &answer)
    }

    /// `{base}/v1/{project_id}/{segments...}?{query}`, each segment escaped.
    fn url(
        &self,
        action: &'static str,
        target: &str,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, ApiError> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                ApiError::new(
                    action,
                    target,
                    ApiErrorKind::Invalid {
                        detail: "the endpoint URL cannot take a path".into(),
                    },
                )
            })?
            .pop_if_empty()
            .extend(["v1", self.inner.project_id.as_str()])
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    async fn collect<T: DeserializeOwned>(
        &self,
        action: &'static str,
        target: String,
        segments: &[&str],
        filters: &[(&str, &str)],
        key: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut all = Vec::new();
        self.for_each_page(action, target, segments, filters, key, |page| {
            all.extend(page)
        })
        .await?;
        Ok(all)
    }

    /// Walks a list with `limit=1000` and `offset` until `total_count` items are read.
    async fn for_each_page<T: DeserializeOwned, F: FnMut(Vec<T>)>(
        &self,
        action: &'static str,
        target: String,
        segments: &[&str],
        filters: &[(&str, &str)],
        key: &str,
        mut f: F,
    ) -> Result<(), ApiError> {
        #[derive(Deserialize)]
        struct Count {
            #[serde(default, deserialize_with = "lenient::opt_count")]
            total_count: Option<u64>,
        }
        let mut pager = Pager::default();
        let limit = PAGE_LIMIT.to_string();
        loop {
            let offset = pager.offset().to_string();
            let mut query = vec![("limit", limit.as_str()), ("offset", offset.as_str())];
            query.extend_from_slice(filters);
            let url = self.url(action, &target, segments, &query)?;
            let answer = self.call(action, &target, Method::GET, url, None).await?;
            let mut page: Value = self.decode(action, &target, &answer)?;
            let items = match page.get_mut(key).map(Value::take) {
                None | Some(Value::Null) => Value::Array(Vec::new()),
                Some(items) => items,
            };
            let count: Count = serde_json::from_value(page)
                .map_err(|e| self.decode_error(action, &target, &answer, e))?;
            let items: Vec<T> = serde_json::from_value(items)
                .map_err(|e| self.decode_error(action, &target, &answer, e))?;
            let more = pager
                .advance(items.len() as u64, count.total_count)
                .map_err(|detail| {
                    ApiError::new(
                        action,
                        target.clone(),
                        ApiErrorKind::InconsistentList { detail },
                    )
                })?;
            f(items);
            if !more {
                return Ok(());
            }
        }
    }

    /// Decodes a 2xx answer; a body that is an error object is an error.
    fn decode<T: DeserializeOwned>(
        &self,
        action: &'static str,
        target: &str,
        answer: &Answer,
    ) -> Result<T, ApiError> {
        let value: Value = if answer.body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&answer.body)
                .map_err(|e| self.decode_error(action, target, answer, e))?
        };
        if value.get("error_code").is_some() {
            if let Some((error_code, error_msg, body_request_id)) = error_fields(&value) {
                let secrets = self.inner.auth.secrets();
                return Err(ApiError::new(
                    action,
                    target,
                    ApiErrorKind::Api {
                        status: answer.status,
                        error_code: error_code.map(|c| scrub(&c, &secrets)),
                        error_msg: scrub(&error_msg, &secrets),
                        request_id: answer.request_id.clone().or(body_request_id),
                    },
                ));
            }
        }
        serde_json::from_value(value).map_err(|e| self.decode_error(action, target, answer, e))
    }

    fn decode_error(
        &self,
        action: &'static str,
        target: &str,
        answer: &Answer,
        source: serde_json::Error,
    ) -> ApiError {
        let kind = ApiErrorKind::Decode {
            status: answer.status,
            request_id: answer.request_id.clone(),
            excerpt: scrub(&excerpt(&answer.body), &self.inner.auth.secrets()),
            source,
        };
        ApiError::new(action, target, kind)
    }

    /// One authenticated call, retried as needed.
    async fn call(
        &self,
        action: &'static str,
        target: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, ApiError> {
        let token = self.token().await?;
        let authn = match (&self.inner.auth, &token) {
            (Auth::AkSk { .. }, _) => Authn::Signed,
            (_, Some(token)) => Authn::Token(token),
            (_, None) => Authn::Anonymous,
        };
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send(action, target, &method, &url, &body, &authn)
            .await
    }

    /// The token to send: the fixed one, or the cached IAM token, renewed when
    /// less than an hour is left; `None` for AK/SK.
    async fn token(&self) -> Result<Option<Secret>, ApiError> {
        let Auth::Password {
            tokens_url,
            user,
            password,
            domain,
            cache,
        } = &self.inner.auth
        else {
            return Ok(match &self.inner.auth {
                Auth::Token(token) => Some(token.clone()),
                _ => None,
            });
        };
        let mut cached = cache.lock().await;
        if let Some(token) = cached
            .as_ref()
            .filter(|t| t.is_fresh(OffsetDateTime::now_utc()))
        {
            return Ok(Some(token.value.clone()));
        }
        let (action, target) = ("get an IAM token", format!("for user {user}"));
        let url = Url::parse(tokens_url).map_err(|e| {
            ApiError::new(
                action,
                target.clone(),
                ApiErrorKind::Invalid {
                    detail: format!("bad IAM endpoint: {e}"),
                },
            )
        })?;
        let body = auth::password_body(user, password, domain, &self.inner.project_id).to_string();
        let answer = self
            .send(
                action,
                &target,
                &Method::POST,
                &url,
                body.as_bytes(),
                &Authn::Anonymous,
            )
            .await?;
        let token =
            auth::token_from_answer(&answer.headers, &answer.body, OffsetDateTime::now_utc())
                .map_err(|kind| ApiError::new(action, target, kind))?;
        tracing::info!(expires_at = %token.expires_at, "obtained an IAM token");
        let value = token.value.clone();
        *cached = Some(token);
        Ok(Some(value))
    }

    /// Sends a request, retrying retryable failures with backoff.
    async fn send(
        &self,
        action: &'static str,
        target: &str,
        method: &Method,
        url: &Url,
        body: &[u8],
        authn: &Authn<'_>,
    ) -> Result<Answer, ApiError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let kind = match self.attempt(method, url, body, authn).await {
                Ok(answer) => return Ok(answer),
                Err(kind) => kind,
            };
            if !kind.is_retryable() || attempts > self.inner.max_retries {
                let mut error = ApiError::new(action, target, kind);
                error.attempts = attempts;
                return Err(error);
            }
            let wait = self.inner.backoff.delay(attempts - 1);
            tracing::debug!(action, target, attempts, error = %kind, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP request, holding a concurrency permit while it is in flight.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: &[u8],
        authn: &Authn<'_>,
    ) -> Result<Answer, ApiErrorKind> {
        let headers = self.inner.auth.headers(
            authn,
            method.as_str(),
            url.as_str(),
            body,
            &self.inner.project_id,
        )?;
        let mut request = self.inner.http.request(method.clone(), url.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.body(body.to_vec());
        }
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.inner.permits.acquire().await.ok();
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|source| ApiErrorKind::Transport { source })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let request_id = headers
            .get("X-Request-Id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|source| ApiErrorKind::Transport { source })?
            .to_vec();
        tracing::debug!(method = %method, path = url.path(), status, elapsed_ms = started.elapsed().as_millis() as u64, "api request");
        if !(200..300).contains(&status) {
            let mut secrets = self.inner.auth.secrets();
            if let Authn::Token(token) = authn {
                secrets.push(token.expose());
            }
            return Err(map_error_answer(status, request_id, &body, &secrets));
        }
        Ok(Answer {
            headers,
            body,
            status,
            request_id,
        })
    }
}
