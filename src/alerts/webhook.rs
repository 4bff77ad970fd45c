//! The webhook sink: one POST per run carrying every alert, retried on
//! network errors, timeouts, 5xx and 429. The URL often holds a credential
//! in its path or query, so errors and logs name only its scheme and host.

use std::time::Duration;

use super::{format, Alert};
use crate::config::{AlertFormat, Secret, Settings};
use crate::vpcep::Backoff;

/// Why a delivery failed, without the URL's path or query.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("alert webhook {host} answered HTTP {status} after {attempts} attempt(s)")]
    Status {
        host: String,
        status: u16,
        attempts: u32,
    },
    #[error("alert webhook {host} answered HTTP {status}, a redirect, which is not followed: set WARDEN_ALERT_WEBHOOK_URL to the final address")]
    Redirect { host: String, status: u16 },
    #[error(
        "alert webhook {host} answered HTTP 200 but refused the message: code {code}, {message:?}"
    )]
    Refused {
        host: String,
        code: String,
        message: String,
    },
    #[error("alert webhook {host} answered HTTP 200 with more than {limit} bytes: not read whole, not taken as delivered")]
    TooLarge { host: String, limit: usize },
    #[error("alert webhook {host} unreachable after {attempts} attempt(s): {kind}")]
    Transport {
        host: String,
        kind: &'static str,
        attempts: u32,
    },
}

/// The most of a chat bot's answer read: the bots answer a few dozen bytes.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The body of `answer`, or `None` when it holds more than `limit` bytes.
async fn read_bounded(mut answer: reqwest::Response, limit: usize) -> Option<Vec<u8>> {
    if answer
        .content_length()
        .is_some_and(|size| size > limit as u64)
    {
        return None;
    }
    let mut body = Vec::new();
    // A transport error mid-answer leaves what was read: judged as it is.
    while let Ok(Some(chunk)) = answer.chunk().await {
        if body.len() + chunk.len() > limit {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    Some(body)
}

/// A webhook receiver.
#[derive(Debug)]
pub struct Webhook {
    url: Secret,
    format: AlertFormat,
    http: reqwest::Client,
    max_retries: u32,
    backoff: Backoff,
    ttl: time::Duration,
    console: Option<String>,
}

impl Webhook {
    /// A sink posting to `url` in `format`, with the settings' timeout and retries.
    pub fn new(url: Secret, format: AlertFormat, settings: &Settings) -> Self {
        let http = crate::tls::client_builder()
            .timeout(Duration::from_secs(settings.http_timeout_secs.max(1)))
            // A redirect would carry the secret URL onward (in `Referer`) and
            // turn a POST into a GET: it is a failed delivery instead.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .unwrap_or_default();
        Self {
            url,
            format,
            http,
            max_retries: settings.max_retries,
            ttl: time::Duration::minutes(settings.alert_ttl_minutes.min(i64::MAX as u64) as i64),
            console: settings.region.as_deref().map(format::console_url),
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
        }
    }

    /// The body format.
    pub fn format(&self) -> AlertFormat {
        self.format
    }

    /// `scheme://host[:port]` of the URL: safe to show.
    fn host(&self) -> String {
        url::Url::parse(self.url.expose())
            .map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")))
            .unwrap_or_else(|_| "<unparsable URL>".into())
    }

    /// Whether a 2xx answer really took the message: the Feishu, DingTalk and
    /// WeCom bots answer HTTP 200 with a non-zero `code` / `errcode` (a
    /// number, or a string such as `"19021"`) when they refuse one (bad body,
    /// keyword or signature check, rate limit). The answer is read up to
    /// [`MAX_ANSWER_BYTES`], as the VPCEP client bounds its answers.
    async fn accepted(&self, answer: reqwest::Response) -> Result<(), WebhookError> {
        if !matches!(
            self.format,
            AlertFormat::Feishu | AlertFormat::Dingtalk | AlertFormat::Wecom
        ) {
            return Ok(());
        }
        let body = read_bounded(answer, MAX_ANSWER_BYTES)
            .await
            .ok_or_else(|| WebhookError::TooLarge {
                host: self.host(),
                limit: MAX_ANSWER_BYTES,
            })?;
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
            return Ok(());
        };
        let code = match value.get("code").or_else(|| value.get("errcode")) {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            _ => return Ok(()),
        };
        if code == "0" || code.is_empty() {
            return Ok(());
        }
        let message: String = value
            .get("msg")
            .or_else(|| value.get("errmsg"))
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        Err(WebhookError::Refused {
            host: self.host(),
            code: self.scrub(&code.chars().take(40).collect::<String>()),
            message: self.scrub(&message),
        })
    }

    /// `text` with every secret-looking part of the URL (the whole URL, each
    /// path segment and query value of 8 characters or more) replaced by
    /// `<redacted>`: a bot that echoes the request puts its token in the answer.
    fn scrub(&self, text: &str) -> String {
        let url = self.url.expose();
        let mut parts: Vec<String> = vec![url.to_owned()];
        if let Ok(u) = url::Url::parse(url) {
            parts.extend(u.path_segments().into_iter().flatten().map(str::to_owned));
            parts.extend(u.query_pairs().map(|(_, v)| v.into_owned()));
            parts.extend(u.password().map(str::to_owned));
        }
        let mut parts: Vec<String> = parts.into_iter().filter(|p| p.len() >= 8).collect();
        // Longest first, so a part inside another is not left half shown.
        parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let mut out = text.to_owned();
        for part in parts {
            out = out.replace(&part, "<redacted>");
        }
        out
    }

    /// Posts the alerts, retrying what may pass on a second try.
    pub async fn post(&self, alerts: &[&Alert]) -> Result<(), WebhookError> {
        let cx = format::Context {
            now: time::OffsetDateTime::now_utc(),
            ttl: self.ttl,
            console: self.console.clone(),
        };
        let body = format::body(self.format, alerts, &cx);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.http.post(self.url.expose()).json(&body).send().await;
            let retryable = match &result {
                Ok(r) if r.status().is_success() => {
                    let Ok(r) = result else { return Ok(()) };
                    return self.accepted(r).await;
                }
                Ok(r) if r.status().is_redirection() => {
                    return Err(WebhookError::Redirect {
                        host: self.host(),
                        status: r.status().as_u16(),
                    })
                }
                Ok(r) => r.status().is_server_error() || r.status().as_u16() == 429,
                Err(_) => true,
            };
            if !retryable || attempt > self.max_retries {
                return Err(match result {
                    Ok(r) => WebhookError::Status {
                        host: self.host(),
                        status: r.status().as_u16(),
                        attempts: attempt,
                    },
                    Err(e) => WebhookError::Transport {
                        host: self.host(),
                        kind: if e.is_timeout() {
                            "timed out"
                        } else if e.is_connect() {
                            "connection failed"
                        } else {
                            "request failed"
                        },
                        attempts: attempt,
                    },
                });
            }
            tokio::time::sleep(self.backoff.delay(attempt - 1)).await;
        }
    }
}
