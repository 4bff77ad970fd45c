//! Where the warden keeps what it must remember across runs (`WARDEN_STATE`)
//! and how it reaches an S3 API store (the usual `AWS_*` variables).

use std::path::PathBuf;

use super::Secret;

/// `WARDEN_STATE`: where the state documents live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// In the process only (`memory`): a warm Lambda or FunctionGraph
    /// instance, or one `serve` process, remembers; a new one starts afresh.
    Memory,
    /// A directory on this machine (`file:///var/lib/vpcep-warden`).
    File(PathBuf),
    /// A bucket of an S3 API (`s3://bucket/prefix`): AWS S3, Huawei OBS, MinIO.
    S3 {
        bucket: String,
        /// The key prefix, without leading or trailing `/` (may be empty).
        prefix: String,
    },
}

impl StateLocation {
    /// The location as written in `WARDEN_STATE`.
    pub fn describe(&self) -> String {
        match self {
            Self::Memory => "memory".into(),
            Self::File(dir) => format!("file://{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            Self::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Whether what is kept there outlives the process.
    pub fn is_durable(&self) -> bool {
        !matches!(self, Self::Memory)
    }
}

/// How requests to an S3 API store are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Credentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; or,
    /// for OBS, the warden's own Huawei Cloud AK/SK (and security token).
    Keys {
        access_key_id: String,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
    /// Each invocation's: FunctionGraph's agency credentials (a temporary
    /// AK/SK and security token, which OBS's S3 API takes as
    /// `x-amz-security-token`).
    PerInvocation,
}

/// How to reach an S3 API store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Access {
    pub credentials: S3Credentials,
    /// The signing region (`AWS_REGION`, or the OBS endpoint's region).
    pub region: String,
    /// The API's base URL (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, or
    /// OBS's for `WARDEN_REGION`); `None`: AWS S3 of the region.
    pub endpoint: Option<String>,
    /// Whether the bucket goes in the host name (AWS S3 without an endpoint,
    /// OBS) rather than the path (MinIO, moto and other local servers).
    pub virtual_hosted: bool,
}

/// Where state is kept and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSettings {
    pub location: StateLocation,
    /// Set when `location` is an S3 API bucket.
    pub s3: Option<S3Access>,
}

impl StateSettings {
    /// State kept in the process only.
    pub fn memory() -> Self {
        Self {
            location: StateLocation::Memory,
            s3: None,
        }
    }

    /// State kept in the directory `dir` (for tests and the container).
    pub fn file(dir: impl Into<PathBuf>) -> Self {
        Self {
            location: StateLocation::File(dir.into()),
            s3: None,
        }
    }
}
