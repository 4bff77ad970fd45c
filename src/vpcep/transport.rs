//! Sending requests: URLs, authentication headers, the concurrency permit,
//! retries with backoff, error mapping and decoding (paging: `walk.rs`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use url::Url;

use super::auth::{Auth, Authn, Scope};
use super::error::{error_fields, excerpt, map_error_answer, scrub, ApiError, ApiErrorKind};
use super::retry::Backoff;
use super::Client;

/// Reads a body of at most `cap` bytes, chunk by chunk, never buffering more.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, ApiErrorKind> {
    let status = response.status().as_u16();
    let too_large = |size: String| {
        ApiErrorKind::Invalid {
        detail: format!(
            "the HTTP {status} answer of {size} is larger than the {} MiB one answer may hold (WARDEN_MAX_RESPONSE_MB)",
            cap >> 20
        ),
    }
    };
    if let Some(length) = response.content_length().filter(|&n| n > cap as u64) {
        return Err(too_large(format!("{length} bytes")));
    }
    // Room for the announced length at once (never past the cap): no regrowth.
    let announced = response.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(announced.min(cap));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| ApiErrorKind::Transport { source })?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_large(format!("more than {cap} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The state shared by every clone of a [`Client`].
pub(super) struct Inner {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    pub(super) project_id: String,
    /// `HUAWEICLOUD_SDK_DOMAIN_ID`: the account of this client's own
    /// credentials and of those an invocation brings for the same account.
    pub(super) domain_id: Option<String>,
    pub(super) auth: Auth,
    /// `Credentials::method` of the settings (no secret).
    pub(super) auth_method: &'static str,
    pub(super) max_retries: u32,
    /// The largest answer body read (`WARDEN_MAX_RESPONSE_MB`, 16 MiB by
    /// default, sixteen times a page of 1,000 endpoints): a larger one is
    /// refused, so no answer can drive a 256 MB function out of memory.
    pub(super) max_answer_bytes: usize,
    /// The time one request may take.
    pub(super) timeout: Duration,
    pub(super) backoff: Backoff,
    /// The process-wide limit on requests in flight, shared by the clients
    /// of every target ([`Client::for_target`]). Tokio's semaphore is fair
    /// (first come, first served), so a target with many requests queued
    /// cannot starve one with few.
    pub(super) permits: Arc<Semaphore>,
    /// The organization as last read, kept across warm invocations.
    pub(super) organization: super::organizations::Kept,
}

/// A successful answer.
pub(super) struct Answer {
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    pub(super) status: u16,
    pub(super) request_id: Option<String>,
}

impl Client {
    /// `{base}/v1/{project_id}/{segments...}?{query}`, each segment escaped.
    pub(super) fn url(
        &self,
        action: &'static str,
        target: &str,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, ApiError> {
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "" | "." | "..")) {
            // Such a segment would collapse the path onto the collection.
            return Err(ApiError::new(
                action,
                target,
                ApiErrorKind::Invalid {
                    detail: format!("{bad:?} is not an id the API can be asked about"),
                },
            ));
        }
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

    /// One call on `{base}/v1/{project_id}/{segments...}`, its answer decoded.
    pub(super) async fn request<T: DeserializeOwned>(
        &self,
        action: &'static str,
        target: &str,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let url = self.url(action, target, segments, &[])?;
        let answer = self.call(action, target, method, url, body).await?;
        self.decode(action, target, &answer)
    }

    /// Decodes a 2xx answer; a body that is an error object is an error.
    pub(super) fn decode<T: DeserializeOwned>(
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
                let secrets = self.auth().secrets();
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

    pub(super) fn decode_error(
        &self,
        action: &'static str,
        target: &str,
        answer: &Answer,
        source: serde_json::Error,
    ) -> ApiError {
        let kind = ApiErrorKind::Decode {
            status: answer.status,
            request_id: answer.request_id.clone(),
            excerpt: excerpt(&answer.body, &self.auth().secrets()),
            source,
        };
        ApiError::new(action, target, kind)
    }

    /// One authenticated call to this client's project, retried as needed.
    pub(super) async fn call(
        &self,
        action: &'static str,
        target: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, ApiError> {
        let project_id = self.inner.project_id.clone();
        self.call_scoped(
            action,
            target,
            method,
            url,
            body,
            Scope::Project(&project_id),
        )
        .await
    }

    /// One authenticated call to the service `scope` names, retried as needed.
    pub(super) async fn call_scoped(
        &self,
        action: &'static str,
        target: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
        scope: Scope<'_>,
    ) -> Result<Answer, ApiError> {
        if matches!(self.auth(), Auth::Missing) {
            return Err(ApiError::new(
                action,
                target,
                ApiErrorKind::Invalid {
                    detail: "no credentials: none are configured and this invocation brought none (give the FunctionGraph function an agency, or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK)".into(),
                },
            ));
        }
        let token = self.token(scope).await?;
        let authn = match (self.auth(), &token) {
            (Auth::AkSk { .. }, _) => Authn::Signed,
            (_, Some(token)) => Authn::Token(token),
            (_, None) => Authn::Anonymous,
        };
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let result = self
            .send(action, target, &method, &url, &body, &authn, scope)
            .await;
        if let (
            Err(e),
            Auth::Password {
                cache,
                domain_cache,
                ..
            },
        ) = (&result, self.auth())
        {
            if e.status() == Some(401) {
                // A refused IAM token (revoked, or the password changed) is
                // dropped, so the next call asks IAM again.
                let cache = match scope {
                    Scope::Project(_) => cache,
                    Scope::Global(_) => domain_cache,
                };
                *cache.lock().await = None;
            }
        }
        result
    }

    /// Sends a request, retrying retryable failures with backoff.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send(
        &self,
        action: &'static str,
        target: &str,
        method: &Method,
        url: &Url,
        body: &[u8],
        authn: &Authn<'_>,
        scope: Scope<'_>,
    ) -> Result<Answer, ApiError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Failed { kind, retry_after } =
                match self.attempt(method, url, body, authn, scope).await {
                    Ok(answer) => return Ok(answer),
                    Err(failed) => failed,
                };
            // The server's `Retry-After` (429, 503) is waited out, up to a
            // minute; the deadline check below still applies.
            let wait = self
                .inner
                .backoff
                .delay(attempts - 1)
                .max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
            let out_of_time = !self.has_time_after(wait) && kind.is_retryable();
            if !kind.is_retryable() || attempts > self.inner.max_retries || out_of_time {
                let mut error = ApiError::new(action, target, kind);
                error.attempts = attempts;
                return Err(error);
            }
            tracing::debug!(action, target, attempts, error = %kind, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether a request started after `wait` would still end before the deadline.
    fn has_time_after(&self, wait: Duration) -> bool {
        self.deadline.is_none_or(|deadline| {
            deadline.saturating_duration_since(Instant::now()) > wait + self.timeout
        })
    }

    /// One HTTP request, holding a concurrency permit while it is in flight.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: &[u8],
        authn: &Authn<'_>,
        scope: Scope<'_>,
    ) -> Result<Answer, Failed> {
        // Signed after the permit is held, so a long wait cannot age the
        // signing time. The semaphore is never closed: acquiring only waits.
        let _permit = self.inner.permits.acquire().await.ok();
        // Checked with the permit held: a request that waited in line may no
        // longer fit before the invocation's deadline, and must not start.
        if !self.has_time_after(Duration::ZERO) {
            return Err(ApiErrorKind::Deadline.into());
        }
        let headers = self
            .auth()
            .headers(authn, method.as_str(), url.as_str(), body, scope)?;
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .timeout(self.timeout);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !body.is_empty() {
            request = request.body(body.to_vec());
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
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
        let body = read_capped(response, self.inner.max_answer_bytes).await?;
        tracing::debug!(method = %method, path = url.path(), status, elapsed_ms = started.elapsed().as_millis() as u64, "api request");
        if !(200..300).contains(&status) {
            let mut secrets = self.auth().secrets();
            if let Authn::Token(token) = authn {
                secrets.push(token.expose().to_owned());
            }
            return Err(Failed {
                kind: map_error_answer(status, request_id, &body, &secrets),
                retry_after: matches!(status, 429 | 503)
                    .then(|| retry_after(&headers, OffsetDateTime::now_utc()))
                    .flatten(),
            });
        }
        Ok(Answer {
            headers,
            body,
            status,
            request_id,
        })
    }
}

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A failed attempt, with the wait the server asked for.
struct Failed {
    kind: ApiErrorKind,
    retry_after: Option<Duration>,
}

impl From<ApiErrorKind> for Failed {
    fn from(kind: ApiErrorKind) -> Self {
        Self {
            kind,
            retry_after: None,
        }
    }
}

/// The `Retry-After` header: delay seconds or an HTTP date (RFC 9110 10.2.3).
fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers.get("Retry-After")?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some((at - now).try_into().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("Retry-After", value.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let now = time::macros::datetime!(2026-11-24 10:00:00 UTC);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("Tue, 24 Nov 2026 10:00:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Tue, 24 Nov 2026 09:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
