//! `WARDEN_STATE=s3://bucket/prefix`: documents as objects of an S3 API
//! (AWS S3, Huawei OBS, MinIO). Requests are signed with AWS Signature
//! Version 4 as presigned URLs (the `rusty-s3` crate, which only signs) and
//! sent by the warden's own HTTP client ([`crate::tls`]).
//!
//! A write is conditional: `If-None-Match: *` for a new document, `If-Match:
//! <ETag>` for one read before, both signed headers; the store answers 412
//! (or 409) when another writer got there first. AWS S3, MinIO and moto
//! honour both headers. OBS's S3-compatible API documents
//! `x-amz-security-token` for temporary credentials (so FunctionGraph's agency
//! credentials sign these requests), but its pages consulted say nothing of
//! conditional PUTs: should it ignore them, two runs writing at the very same
//! moment keep the last one's document, and at worst one alert goes out twice.
//!
//! A presigned URL carries the session token in its query string, so no
//! error message ever holds a URL: transport errors are stripped of theirs,
//! and of an S3 error answer only its `<Code>` and `<Message>` are kept.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use rusty_s3::actions::{DeleteObject, GetObject, PutObject};
use rusty_s3::{Bucket, S3Action, UrlStyle};

mod answers;

use answers::{answer, document, transport, version};

use super::backend::{Backend, Expected, Put, StoreError, Stored};
use crate::config::{Credentials, S3Access, S3Credentials};
use crate::vpcep::Backoff;

/// How long a signed request stays valid: long enough for its slowest
/// attempt; each retry is signed anew.
const SIGNED_FOR: Duration = Duration::from_secs(300);

/// The credentials S3 requests are signed with: fixed, or replaced by each
/// invocation's (FunctionGraph's agency credentials).
#[derive(Debug, Default)]
pub struct Keys(RwLock<Option<Arc<rusty_s3::Credentials>>>);

impl Keys {
    /// Signs with `credentials` from now on (an IAM token alone cannot sign).
    pub fn set(&self, credentials: &Credentials) {
        let keys = match credentials {
            Credentials::AkSk {
                ak,
                sk,
                security_token: None,
            } => Some(rusty_s3::Credentials::new(ak.clone(), sk.expose())),
            Credentials::AkSk {
                ak,
                sk,
                security_token: Some(token),
            } => Some(rusty_s3::Credentials::new_with_token(
                ak.clone(),
                sk.expose(),
                token.expose(),
            )),
            _ => None,
        };
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = keys.map(Arc::new);
    }

    fn get(&self) -> Result<Arc<rusty_s3::Credentials>, String> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| "no credentials to sign with: this invocation brought no AK/SK (FunctionGraph passes the agency's with each invocation when the function has an agency)".into())
    }
}

/// How long and how often a request to the store is tried, from the
/// settings' HTTP limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_retries: u32,
}

/// The bucket's addresses and the client that reaches them.
#[derive(Debug)]
struct Client {
    bucket: Bucket,
    http: reqwest::Client,
}

/// Documents under one bucket and prefix.
#[derive(Debug)]
pub struct S3Backend {
    location: String,
    prefix: String,
    keys: Arc<Keys>,
    max_retries: u32,
    backoff: Backoff,
    /// The client, or why none could be set up (then every request fails with it).
    client: Result<Client, String>,
}

impl S3Backend {
    /// A client for `bucket` with `access`; `keys` holds the credentials.
    pub fn new(
        bucket: &str,
        prefix: &str,
        access: &S3Access,
        keys: Arc<Keys>,
        limits: Limits,
    ) -> Self {
        let location = match prefix {
            "" => format!("s3://{bucket}"),
            p => format!("s3://{bucket}/{p}"),
        };
        if let S3Credentials::Keys {
            access_key_id,
            secret_access_key,
            session_token,
        } = &access.credentials
        {
            keys.set(&Credentials::AkSk {
                ak: access_key_id.clone(),
                sk: secret_access_key.clone(),
                security_token: session_token.clone(),
            });
        }
        Self {
            location,
            prefix: prefix.to_owned(),
            keys,
            max_retries: limits.max_retries,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(2)),
            client: client(bucket, access, limits.timeout),
        }
    }

    /// The object name of `key`, under the prefix.
    fn object(&self, key: &str) -> String {
        match self.prefix.as_str() {
            "" => key.to_owned(),
            p => format!("{p}/{key}"),
        }
    }

    fn error(&self, action: &'static str, key: &str, message: String) -> StoreError {
        StoreError {
            location: self.location.clone(),
            action,
            key: key.to_owned(),
            message,
        }
    }

    /// Sends the request `sign` builds (signed anew for each attempt),
    /// retrying transport errors, 429 and 5xx answers up to `max_retries`
    /// times. Any other answer is returned for the caller to read.
    async fn send(
        &self,
        action: &'static str,
        key: &str,
        sign: impl Fn(&Client, &rusty_s3::Credentials, &str) -> RequestBuilder,
    ) -> Result<Response, StoreError> {
        let fail = |message| self.error(action, key, message);
        let client = self
            .client
            .as_ref()
            .map_err(|why| fail(format!("the S3 client could not be set up: {why}")))?;
        let object = self.object(key);
        let mut attempt = 0;
        loop {
            let keys = self.keys.get().map_err(fail)?;
            let result = sign(client, &keys, &object).send().await;
            let retryable = match &result {
                Ok(r) => {
                    r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS
                }
                Err(e) => !e.is_builder(),
            };
            if !retryable || attempt >= self.max_retries {
                return match result {
                    Ok(r) if retryable => Err(fail(format!(
                        "{} after {} attempt(s)",
                        answer(r).await,
                        attempt + 1
                    ))),
                    Ok(r) => Ok(r),
                    Err(e) => Err(fail(format!(
                        "{} after {} attempt(s)",
                        transport(e),
                        attempt + 1
                    ))),
                };
            }
            tokio::time::sleep(self.backoff.delay(attempt)).await;
            attempt += 1;
        }
    }
}

/// The bucket and an HTTP client of the warden's TLS with the settings'
/// timeouts, or why they cannot be set up.
fn client(bucket: &str, access: &S3Access, timeout: Duration) -> Result<Client, String> {
    let endpoint = match &access.endpoint {
        Some(endpoint) => endpoint.clone(),
        None => format!("https://s3.{}.amazonaws.com", access.region),
    };
    let base = endpoint
        .parse()
        .map_err(|e| format!("the endpoint {endpoint} is not a URL ({e})"))?;
    let style = if access.virtual_hosted {
        UrlStyle::VirtualHost
    } else {
        UrlStyle::Path
    };
    let bucket = Bucket::new(base, style, bucket.to_owned(), access.region.clone())
        .map_err(|e| format!("no address for bucket {bucket} at {endpoint}: {e:?}"))?;
    let http = crate::tls::client_builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .https_only(!endpoint.starts_with("http://"))
        // A redirect would take signed requests elsewhere: refused.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {}", transport(e)))?;
    Ok(Client { bucket, http })
}

/// A request of method `method` to a URL signed with the headers `action`
/// holds (which are sent as signed).
fn request<'a>(
    http: &reqwest::Client,
    method: Method,
    action: &impl S3Action<'a>,
    headers: &[(&'static str, &str)],
) -> RequestBuilder {
    let mut request = http.request(method, action.sign(SIGNED_FOR));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

impl Backend for S3Backend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        async move {
            let response = self
                .send("read", key, |c, keys, object| {
                    let action = GetObject::new(&c.bucket, Some(keys), object);
                    request(&c.http, Method::GET, &action, &[])
                })
                .await?;
            let fail = |m| self.error("read", key, m);
            match response.status() {
                StatusCode::NOT_FOUND => Ok(None),
                s if s.is_success() => {
                    let version = version(&response).map_err(fail)?;
                    let bytes = document(response).await.map_err(fail)?;
                    Ok(Some(Stored { bytes, version }))
                }
                _ => Err(fail(answer(response).await)),
            }
        }
        .boxed()
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        expected: &'a Expected,
    ) -> BoxFuture<'a, Result<Put, StoreError>> {
        async move {
            let condition = match expected {
                Expected::Absent => ("if-none-match", "*"),
                Expected::Version(v) => ("if-match", v.0.as_str()),
            };
            let response = self
                .send("write", key, |c, keys, object| {
                    let mut action = PutObject::new(&c.bucket, Some(keys), object);
                    action.headers_mut().insert(condition.0, condition.1);
                    request(&c.http, Method::PUT, &action, &[condition])
                        .header(reqwest::header::CONTENT_LENGTH, bytes.len())
                        .body(bytes.clone())
                })
                .await?;
            let fail = |m| self.error("write", key, m);
            match response.status() {
                StatusCode::PRECONDITION_FAILED | StatusCode::CONFLICT => Ok(Put::Conflict),
                s if s.is_success() => version(&response).map(Put::Written).map_err(fail),
                _ => Err(fail(answer(response).await)),
            }
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let response = self
                .send("delete", key, |c, keys, object| {
                    let action = DeleteObject::new(&c.bucket, Some(keys), object);
                    request(&c.http, Method::DELETE, &action, &[])
                })
                .await?;
            match response.status() {
                s if s.is_success() || s == StatusCode::NOT_FOUND => Ok(()),
                _ => Err(self.error("delete", key, answer(response).await)),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(endpoint: Option<&str>, virtual_hosted: bool) -> S3Access {
        S3Access {
            credentials: S3Credentials::PerInvocation,
            region: "cn-north-4".into(),
            endpoint: endpoint.map(str::to_owned),
            virtual_hosted,
        }
    }

    fn object_url(access: &S3Access, object: &str) -> String {
        let client = client("b1", access, Duration::from_secs(1)).unwrap();
        client.bucket.object_url(object).to_string()
    }

    #[test]
    fn obs_buckets_go_in_the_host_name_and_local_servers_in_the_path() {
        let obs = access(Some("https://obs.cn-north-4.myhuaweicloud.com"), true);
        assert_eq!(
            object_url(&obs, "state/projects/p1.json"),
            "https://b1.obs.cn-north-4.myhuaweicloud.com/state/projects/p1.json"
        );
        let local = access(Some("http://127.0.0.1:9000"), false);
        assert_eq!(
            object_url(&local, "projects/p1.json"),
            "http://127.0.0.1:9000/b1/projects/p1.json"
        );
        let aws = access(None, true);
        assert_eq!(
            object_url(&aws, "p.json"),
            "https://b1.s3.cn-north-4.amazonaws.com/p.json"
        );
    }

    #[tokio::test]
    async fn an_unreachable_store_says_why_without_the_signed_url_or_a_key() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let keys = Arc::new(Keys::default());
        keys.set(&Credentials::AkSk {
            ak: "AKEXAMPLEACCESSKEY".into(),
            sk: crate::config::Secret::new("sk-very-secret-value"),
            security_token: Some(crate::config::Secret::new("token-very-secret-value")),
        });
        let local = access(Some(&format!("http://127.0.0.1:{port}")), false);
        let limits = Limits {
            timeout: Duration::from_secs(1),
            max_retries: 1,
        };
        let backend = S3Backend::new("b1", "pre", &local, keys, limits);
        let e = backend.get("projects/p1.json").await.unwrap_err();
        let text = e.to_string();
        assert!(text.contains("connection failed"), "{text}");
        assert!(text.contains("after 2 attempt(s)"), "{text}");
        for secret in [
            "sk-very-secret-value",
            "token-very-secret-value",
            "X-Amz",
            "Signature",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    #[tokio::test]
    async fn without_credentials_nothing_is_sent_and_the_error_says_why() {
        let local = access(Some("http://127.0.0.1:9"), false);
        let limits = Limits {
            timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        let backend = S3Backend::new("b1", "", &local, Arc::default(), limits);
        let e = backend.delete("projects/p1.json").await.unwrap_err();
        assert!(e.message.contains("no credentials to sign with"), "{e}");
    }
}
