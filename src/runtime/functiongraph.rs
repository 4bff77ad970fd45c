//! The Huawei FunctionGraph custom runtime: the only module that knows it.
//!
//! A "Custom" runtime function runs the executable `bootstrap` of its
//! package, which loops over the platform's runtime API. What this file
//! relies on, from FunctionGraph's documentation ("Custom Runtime" /
//! 定制运行时, the runtime API and environment variable tables):
//!
//! - `RUNTIME_API_ADDR`: host and port of the runtime API.
//! - `GET http://$RUNTIME_API_ADDR/v1/runtime/invocation/request` waits for
//!   the next event and answers with the event as its body. Its headers:
//!   `X-Cff-Request-Id` (the request id), `X-CFF-Invoke-Type`, and, when the
//!   function has an agency, that agency's temporary credentials
//!   `X-CFF-Access-Key`, `X-CFF-Secret-Key`, `X-CFF-Security-Token` and
//!   `X-CFF-Auth-Token`. (FunctionGraph's HTTP functions name the key
//!   headers `X-CFF-Security-Access-Key` / `X-CFF-Security-Secret-Key`; those
//!   are read as well when the documented ones are absent.)
//! - `POST .../v1/runtime/invocation/response/{request_id}`: the result.
//! - `POST .../v1/runtime/invocation/error/{request_id}`: a failed
//!   invocation. The documentation gives no body shape; the warden sends
//!   `{"errorCode": "WardenError", "errorMessage": "..."}` (its own choice,
//!   modelled on Lambda's `errorType` / `errorMessage`).
//! - Environment: `RUNTIME_PROJECT_ID` (the function's project),
//!   `RUNTIME_FUNC_NAME`, `RUNTIME_FUNC_VERSION`, `RUNTIME_PACKAGE` (the app),
//!   `RUNTIME_TIMEOUT` (the function's timeout), `RUNTIME_MEMORY` (MB). The
//!   table does not state the unit of `RUNTIME_TIMEOUT`; it is the function's
//!   configured timeout, which FunctionGraph takes in whole seconds (3 to
//!   900 by default), so it is read as seconds.
//!
//! The runtime API sends no deadline: the warden counts `RUNTIME_TIMEOUT`
//! from the moment it received the event, so no request starts that could
//! not end before the platform stops the invocation.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tracing::Instrument;
use url::Url;

use super::{agency_credentials, header, invoke, Answer};
use crate::config::Credentials;
use crate::jobs::Ctx;

mod env;

pub use env::{Env, EnvError};

/// The environment variable whose presence selects this runtime.
pub const API_ADDR_VAR: &str = "RUNTIME_API_ADDR";

/// Time allowed to post an answer to the runtime API.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest event read: FunctionGraph's documented limit on the request
/// body of a synchronous invocation ("Notes and Constraints": 6 MB). A larger
/// one is answered with an error, unread, so no event can drive the
/// function out of memory.
pub const MAX_EVENT_BYTES: usize = 6 << 20;

/// Failed polls in a row after which the runtime API is taken to be gone.
const MAX_POLL_FAILURES: u32 = 3;

/// Why the runtime stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The runtime API address does not make a URL.
    #[error("{API_ADDR_VAR} {addr:?} is not a host:port")]
    BadAddress { addr: String },
    /// The runtime API could not be reached, several times in a row.
    #[error("the FunctionGraph runtime API stopped answering: {source}")]
    Gone {
        #[source]
        source: reqwest::Error,
    },
}

/// One event handed out by the runtime API.
struct Invocation {
    request_id: String,
    invoke_type: Option<String>,
    credentials: Option<Credentials>,
    /// The event, or why it was not read.
    body: Result<Vec<u8>, String>,
}

/// Serves FunctionGraph invocations until the runtime API goes away or the
/// process is asked to stop (SIGTERM, between invocations). `ctx` lives as
/// long as the warm instance; each invocation gets its own deadline and, with
/// no static credentials, its own agency credentials.
pub async fn serve(ctx: Ctx, env: Env) -> Result<(), ServeError> {
    let base = env.invocation_url()?;
    let next_url = base.join("request").map_err(|_| ServeError::BadAddress {
        addr: env.api_addr.clone(),
    })?;
    // No overall timeout: the GET waits until the next event arrives.
    let http = crate::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| ServeError::Gone { source })?;
    let per_invocation = matches!(ctx.settings.credentials, Credentials::PerInvocation);
    tracing::info!(
        function = env.func_name.as_deref().unwrap_or("?"),
        version = env.func_version.as_deref().unwrap_or("?"),
        timeout_secs = env.timeout.as_secs(),
        project = %ctx.settings.project_id,
        credentials = if per_invocation {
            "the agency credentials of each invocation"
        } else {
            ctx.settings.credentials.method()
        },
        "serving FunctionGraph invocations"
    );
    let mut stop = stop_signal();
    let mut failures = 0;
    loop {
        let next = tokio::select! {
            next = next_invocation(&http, &next_url) => next,
            () = &mut stop => {
                tracing::info!("asked to stop: no invocation is running");
                return Ok(());
            }
        };
        let invocation = match next {
            Ok(Some(invocation)) => invocation,
            Ok(None) => continue,
            Err(source) => {
                failures += 1;
                if failures >= MAX_POLL_FAILURES {
                    return Err(ServeError::Gone { source });
                }
                tracing::warn!(error = %source, failures, "cannot get the next invocation");
                tokio::time::sleep(Duration::from_millis(200) * failures).await;
                continue;
            }
        };
        failures = 0;
        let span = tracing::info_span!("invocation", request_id = %invocation.request_id);
        handle(&ctx, &env, &http, &base, invocation, per_invocation)
            .instrument(span)
            .await;
    }
}

/// Runs one invocation and posts its answer.
async fn handle(
    ctx: &Ctx,
    env: &Env,
    http: &reqwest::Client,
    base: &Url,
    invocation: Invocation,
    per_invocation: bool,
) {
    // A timeout beyond what the clock can hold means no deadline, not a panic.
    let deadline = Instant::now().checked_add(env.timeout);
    tracing::debug!(
        invoke_type = invocation.invoke_type.as_deref().unwrap_or("?"),
        time_left_ms = env.timeout.as_millis() as u64,
        "invocation"
    );
    let mut run = ctx.with_deadline(deadline);
    if per_invocation {
        match &invocation.credentials {
            Some(credentials) => run = run.with_credentials(credentials),
            None => tracing::warn!(
                "this invocation brought no agency credentials: give the function an agency, or set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK"
            ),
        }
    }
    let answer = match &invocation.body {
        Ok(body) => invoke(&run, body).await,
        Err(message) => {
            tracing::warn!(error = %message, "event refused");
            Answer::Failed(message.clone())
        }
    };
    let (kind, body) = match answer {
        Answer::Value(value) => ("response", value),
        Answer::Failed(message) => (
            "error",
            json!({"errorCode": "WardenError", "errorMessage": message}),
        ),
    };
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .push(kind)
            .push(&invocation.request_id);
    }
    if let Err(e) = post(http, url, &body).await {
        tracing::error!(error = %e, kind, "cannot post the answer to the runtime API");
    }
}

/// Posts an answer, once more after a failure to connect.
async fn post(http: &reqwest::Client, url: Url, body: &Value) -> Result<(), reqwest::Error> {
    let send = || {
        http.post(url.clone())
            .timeout(POST_TIMEOUT)
            .json(body)
            .send()
    };
    let response = match send().await {
        Err(e) if e.is_connect() => send().await?,
        other => other?,
    };
    response.error_for_status().map(drop)
}

/// The event's body, read up to [`MAX_EVENT_BYTES`]; past that, why not.
async fn read_event(
    response: &mut reqwest::Response,
) -> Result<Result<Vec<u8>, String>, reqwest::Error> {
    let too_large = || {
        format!(
            "the event is larger than {MAX_EVENT_BYTES} bytes, FunctionGraph's limit for a synchronous invocation: not read"
        )
    };
    if response
        .content_length()
        .is_some_and(|size| size > MAX_EVENT_BYTES as u64)
    {
        return Ok(Err(too_large()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_EVENT_BYTES {
            return Ok(Err(too_large()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Ok(body))
}

/// Waits for the next event. `None` when the answer cannot be used (no
/// request id): it is logged and the next one is awaited.
async fn next_invocation(
    http: &reqwest::Client,
    url: &Url,
) -> Result<Option<Invocation>, reqwest::Error> {
    let mut response = http.get(url.clone()).send().await?.error_for_status()?;
    let headers = response.headers().clone();
    let body = read_event(&mut response).await?;
    let Some(request_id) = header(&headers, &["X-Cff-Request-Id"]) else {
        tracing::error!(
            "the runtime API handed out an event without X-Cff-Request-Id: it cannot be answered"
        );
        return Ok(None);
    };
    Ok(Some(Invocation {
        request_id,
        invoke_type: header(&headers, &["X-CFF-Invoke-Type"]),
        credentials: agency_credentials(&headers),
        body,
    }))
}

/// Resolves when the process receives SIGTERM (or Ctrl-C).
fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return Box::pin(async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            });
        }
    }
    Box::pin(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    #[test]
    fn agency_headers_become_credentials_whatever_their_case() {
        let mut h = HeaderMap::new();
        h.insert("x-cff-access-key", "AK1".parse().unwrap());
        h.insert("X-CFF-SECRET-KEY", "SK1".parse().unwrap());
        h.insert("x-cff-security-token", "T1".parse().unwrap());
        match agency_credentials(&h) {
            Some(Credentials::AkSk {
                ak,
                sk,
                security_token,
            }) => {
                assert_eq!(ak, "AK1");
                assert_eq!(sk.expose(), "SK1");
                assert_eq!(security_token.unwrap().expose(), "T1");
            }
            other => panic!("{other:?}"),
        }
        let mut h = HeaderMap::new();
        h.insert("x-cff-auth-token", "TOKEN".parse().unwrap());
        h.insert("x-cff-access-key", "AK-without-SK".parse().unwrap());
        assert!(
            matches!(agency_credentials(&h), Some(Credentials::Token(t)) if t.expose() == "TOKEN")
        );
        assert!(agency_credentials(&HeaderMap::new()).is_none());
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let mut h = HeaderMap::new();
        h.insert("x-cff-access-key", "AK1".parse().unwrap());
        h.insert("x-cff-secret-key", "very-secret-sk".parse().unwrap());
        h.insert("x-cff-security-token", "very-secret-token".parse().unwrap());
        let shown = format!("{:?}", agency_credentials(&h));
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
