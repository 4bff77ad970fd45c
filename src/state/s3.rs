//! `WARDEN_STATE=s3://bucket/prefix`: documents as objects of an S3 API
//! (AWS S3, Huawei OBS, MinIO), through the `object_store` crate.
//!
//! A write is conditional: `If-None-Match: *` for a new document, `If-Match:
//! <ETag>` for one read before; the store answers 412 (or 409) when another
//! writer got there first. AWS S3, MinIO and moto honour both headers. OBS's
//! S3-compatible API documents `x-amz-security-token` for temporary
//! credentials (so FunctionGraph's agency credentials sign these requests),
//! but its pages consulted say nothing of conditional PUTs: should it ignore
//! them, two runs writing at the very same moment keep the last one's
//! document, and at worst one alert goes out twice.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential, S3ConditionalPut};
use object_store::client::{HttpClient, HttpConnector};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, CredentialProvider, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload, RetryConfig, UpdateVersion,
};

use super::backend::{Backend, Expected, Put, StoreError, Stored, Version, MAX_DOC_BYTES};
use crate::config::{Credentials, S3Access, S3Credentials};

/// The credentials S3 requests are signed with: fixed, or replaced by each
/// invocation's (FunctionGraph's agency credentials).
#[derive(Debug, Default)]
pub struct Keys(RwLock<Option<Arc<AwsCredential>>>);

#[async_trait::async_trait]
impl CredentialProvider for Keys {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| object_store::Error::Generic {
                store: "S3",
                source: "no credentials to sign with: this invocation brought no AK/SK (FunctionGraph passes the agency's with each invocation when the function has an agency)".into(),
            })
    }
}

impl Keys {
    /// Signs with `credentials` from now on (an IAM token alone cannot sign).
    pub fn set(&self, credentials: &Credentials) {
        let keys = match credentials {
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            } => Some(Arc::new(AwsCredential {
                key_id: ak.clone(),
                secret_key: sk.expose().to_owned(),
                token: security_token.as_ref().map(|t| t.expose().to_owned()),
            })),
            _ => None,
        };
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }
}

/// The store's requests go through a client of the warden's own TLS
/// ([`crate::tls`]), built with the settings' timeouts.
#[derive(Debug)]
struct Connector(reqwest::Client);

impl HttpConnector for Connector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.0.clone()))
    }
}

/// Documents under one bucket and prefix.
#[derive(Debug)]
pub struct S3Backend {
    location: String,
    prefix: String,
    /// The client, or why none could be built (then every request fails with it).
    store: Result<AmazonS3, String>,
}

/// How long and how often a request to the store is tried, from the
/// settings' HTTP limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_retries: u32,
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
        let retry = RetryConfig {
            max_retries: limits.max_retries as usize,
            retry_timeout: limits.timeout * (limits.max_retries + 1),
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                ..BackoffConfig::default()
            },
        };
        let allow_http = access
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        let http = crate::tls::client_builder()
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout)
            .https_only(!allow_http)
            // A redirect would take signed requests elsewhere: refused.
            .redirect(reqwest::redirect::Policy::none())
            .build();
        let http = match http {
            Ok(http) => http,
            Err(e) => {
                return Self {
                    location,
                    prefix: prefix.to_owned(),
                    store: Err(format!("cannot build the HTTP client: {e}")),
                }
            }
        };
        let mut builder = AmazonS3Builder::new()
            .with_http_connector(Connector(http))
            .with_bucket_name(bucket)
            .with_region(&access.region)
            .with_credentials(keys)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_retry(retry)
            .with_virtual_hosted_style_request(access.virtual_hosted)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(limits.timeout)
                    .with_connect_timeout(limits.timeout)
                    .with_allow_http(allow_http),
            );
        if let Some(endpoint) = &access.endpoint {
            builder =
                builder.with_endpoint(bucket_endpoint(endpoint, bucket, access.virtual_hosted));
        }
        Self {
            location,
            prefix: prefix.to_owned(),
            store: builder.build().map_err(|e| e.to_string()),
        }
    }

    fn path(&self, key: &str) -> Path {
        match self.prefix.as_str() {
            "" => Path::from(key),
            p => Path::from(format!("{p}/{key}")),
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

    fn client(&self, action: &'static str, key: &str) -> Result<&AmazonS3, StoreError> {
        self.store.as_ref().map_err(|why| {
            self.error(
                action,
                key,
                format!("the S3 client could not be set up: {why}"),
            )
        })
    }
}

/// The endpoint object_store takes: with the bucket in the host name when
/// requests are virtual-hosted (`https://bucket.obs.cn-north-4.myhuaweicloud.com`).
fn bucket_endpoint(endpoint: &str, bucket: &str, virtual_hosted: bool) -> String {
    match (virtual_hosted, endpoint.split_once("://")) {
        (true, Some((scheme, host))) => format!("{scheme}://{bucket}.{host}"),
        _ => endpoint.to_owned(),
    }
}

/// The ETag of a write, which the next conditional write names.
fn version(e_tag: Option<String>) -> Result<Version, String> {
    e_tag
        .map(Version)
        .ok_or_else(|| "the store answered without an ETag, which conditional writes need".into())
}

impl Backend for S3Backend {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Stored>, StoreError>> {
        async move {
            let store = self.client("read", key)?;
            let fail = |e: object_store::Error| self.error("read", key, e.to_string());
            let got = match store.get(&self.path(key)).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(fail(e)),
            };
            if got.meta.size > MAX_DOC_BYTES {
                return Err(self.error(
                    "read",
                    key,
                    format!(
                        "the object is larger than {MAX_DOC_BYTES} bytes: not a state document"
                    ),
                ));
            }
            let e_tag = got.meta.e_tag.clone();
            let bytes = got.bytes().await.map_err(fail)?.to_vec();
            let version = version(e_tag).map_err(|m| self.error("read", key, m))?;
            Ok(Some(Stored { bytes, version }))
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
            let store = self.client("write", key)?;
            let mode = match expected {
                Expected::Absent => PutMode::Create,
                Expected::Version(v) => PutMode::Update(UpdateVersion {
                    e_tag: Some(v.0.clone()),
                    version: None,
                }),
            };
            let options = PutOptions {
                mode,
                ..PutOptions::default()
            };
            match store
                .put_opts(&self.path(key), PutPayload::from(bytes), options)
                .await
            {
                Ok(done) => version(done.e_tag)
                    .map(Put::Written)
                    .map_err(|m| self.error("write", key, m)),
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ) => Ok(Put::Conflict),
                Err(e) => Err(self.error("write", key, e.to_string())),
            }
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        async move {
            let store = self.client("delete", key)?;
            match store.delete(&self.path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(self.error("delete", key, e.to_string())),
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obs_buckets_go_in_the_host_name_and_local_servers_in_the_path() {
        assert_eq!(
            bucket_endpoint("https://obs.cn-north-4.myhuaweicloud.com", "b1", true),
            "https://b1.obs.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            bucket_endpoint("http://127.0.0.1:9000", "b1", false),
            "http://127.0.0.1:9000"
        );
    }
}
