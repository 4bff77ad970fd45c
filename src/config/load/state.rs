//! `WARDEN_STATE` and the `AWS_*` variables of an S3 API store, each
//! checked, every error naming its variable and never showing a secret.

use super::credentials::credential;
use super::variables::Raw;
use crate::config::values::{http_url, text};
use crate::config::{
    ConfigError, Credentials, S3Access, S3Credentials, Secret, StateLocation, StateSettings,
};

const VARIABLE: &str = "WARDEN_STATE";

/// What `WARDEN_STATE` accepts, for error messages.
const EXPECTED: &str = "memory, file:///absolute/directory or s3://bucket/prefix";

/// Reads `WARDEN_STATE` (else the host's default, else `memory`) and, for an
/// S3 API bucket, how to reach it.
pub(super) fn state(
    raw: &mut Raw,
    credentials: &Credentials,
    region: Option<&str>,
    host_default: Option<&str>,
) -> Result<StateSettings, ConfigError> {
    let value = text(raw.warden_state.take())
        .or_else(|| host_default.map(str::to_owned))
        .unwrap_or_else(|| "memory".to_owned());
    let location = location(&value)?;
    let s3 = match &location {
        StateLocation::S3 { .. } => Some(s3_access(raw, credentials, region)?),
        _ => None,
    };
    Ok(StateSettings { location, s3 })
}

/// `memory`, `file:///dir` or `s3://bucket/prefix`.
pub(super) fn location(value: &str) -> Result<StateLocation, ConfigError> {
    let bad = |why: &str| {
        ConfigError::new(
            VARIABLE,
            format!("{VARIABLE} must be {EXPECTED}{why}, got {value:?}"),
        )
    };
    if value.eq_ignore_ascii_case("memory") {
        return Ok(StateLocation::Memory);
    }
    let url = url::Url::parse(value).map_err(|_| bad(""))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            VARIABLE,
            format!("{VARIABLE} must not hold a user name or password: S3 keys go in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the value is not shown)"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(" (without ? or #)"));
    }
    match url.scheme() {
        "file" => {
            if url
                .host_str()
                .is_some_and(|h| !h.is_empty() && h != "localhost")
            {
                return Err(bad(
                    " (a file URL names no host: three slashes, then the absolute path)",
                ));
            }
            let dir = url.to_file_path().map_err(|()| bad(""))?;
            if dir.parent().is_none() {
                return Err(bad(" (a directory of its own, not /)"));
            }
            Ok(StateLocation::File(dir))
        }
        "s3" => {
            let bucket = url.host_str().unwrap_or_default().to_owned();
            if !is_bucket_name(&bucket) {
                return Err(bad(" (a bucket name is 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit)"));
            }
            let prefix = url.path().trim_matches('/').to_owned();
            let segment_ok = |s: &str| {
                !s.is_empty()
                    && s != "."
                    && s != ".."
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.!*'()".contains(c))
            };
            if !prefix.is_empty() && !prefix.split('/').all(segment_ok) {
                return Err(bad(" (a prefix of letters, digits and - _ . ! * ' ( ) separated by single slashes)"));
            }
            Ok(StateLocation::S3 { bucket, prefix })
        }
        _ => Err(bad("")),
    }
}

/// An S3 bucket name (which OBS's rules also satisfy).
fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
}

/// A region name such as `eu-west-1` or `cn-north-4`.
fn region_name(variable: &'static str, value: String) -> Result<String, ConfigError> {
    if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(value)
    } else {
        Err(ConfigError::new(
            variable,
            format!(
                "{variable} must be a region name such as eu-west-1 or cn-north-4, got {value:?}"
            ),
        ))
    }
}

/// Whether the API at `endpoint` is Huawei Cloud's OBS (which addresses a
/// bucket by host name).
fn is_obs(endpoint: &str) -> bool {
    url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| h.ends_with(".myhuaweicloud.com") || h.ends_with(".huaweicloud.com"))
}

/// The region in an OBS endpoint's host name (`obs.cn-north-4.myhuaweicloud.com`).
fn obs_region(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    let mut labels = url.host_str()?.split('.');
    (labels.next()? == "obs").then_some(())?;
    labels.next().map(str::to_owned)
}

/// The endpoint, credentials and region of an S3 API bucket.
///
/// The keys are `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with
/// `AWS_SESSION_TOKEN` for temporary ones; Lambda sets all three for its
/// execution role). Without them, the warden's own Huawei Cloud AK/SK sign
/// the requests (OBS takes them), or, on FunctionGraph, each invocation's
/// agency credentials; the endpoint then defaults to OBS in `WARDEN_REGION`.
fn s3_access(
    raw: &mut Raw,
    credentials: &Credentials,
    region: Option<&str>,
) -> Result<S3Access, ConfigError> {
    let endpoint = match (
        text(raw.aws_endpoint_url_s3.take()),
        text(raw.aws_endpoint_url.take()),
    ) {
        (Some(url), _) => Some(http_url("AWS_ENDPOINT_URL_S3", &url)?),
        (None, Some(url)) => Some(http_url("AWS_ENDPOINT_URL", &url)?),
        (None, None) => None,
    };
    let key_id = credential("AWS_ACCESS_KEY_ID", raw.aws_access_key_id.take())?;
    let secret = credential("AWS_SECRET_ACCESS_KEY", raw.aws_secret_access_key.take())?;
    let token = credential("AWS_SESSION_TOKEN", raw.aws_session_token.take())?;
    let aws_region = text(raw.aws_region.take())
        .map(|r| region_name("AWS_REGION", r))
        .transpose()?;
    let keys = match (key_id, secret) {
        (Some(access_key_id), Some(secret)) => Some(S3Credentials::Keys {
            access_key_id,
            secret_access_key: Secret::new(secret),
            session_token: token.map(Secret::new),
        }),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SECRET_ACCESS_KEY is required when AWS_ACCESS_KEY_ID is set: the S3 API store of WARDEN_STATE signs with both",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "AWS_ACCESS_KEY_ID",
                "AWS_ACCESS_KEY_ID is required when AWS_SECRET_ACCESS_KEY is set: the S3 API store of WARDEN_STATE signs with both",
            ))
        }
        (None, None) => None,
    };
    let (credentials, huawei) = match (keys, credentials) {
        (Some(keys), _) => (keys, false),
        (
            None,
            Credentials::AkSk {
                ak,
                sk,
                security_token,
            },
        ) => (
            S3Credentials::Keys {
                access_key_id: ak.clone(),
                secret_access_key: sk.clone(),
                session_token: security_token.clone(),
            },
            true,
        ),
        (None, Credentials::PerInvocation) => (S3Credentials::PerInvocation, true),
        (None, _) => {
            return Err(ConfigError::new(
                "AWS_ACCESS_KEY_ID",
                "WARDEN_STATE names an S3 API bucket, which needs keys to sign with: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (an IAM token or password cannot sign S3 requests)",
            ))
        }
    };
    let endpoint = match (endpoint, huawei, region) {
        (Some(url), _, _) => Some(url),
        (None, true, Some(region)) => Some(format!("https://obs.{region}.myhuaweicloud.com")),
        (None, true, None) => {
            return Err(ConfigError::new(
                "AWS_ENDPOINT_URL_S3",
                "WARDEN_STATE names an S3 API bucket reached with Huawei Cloud credentials (OBS): set WARDEN_REGION, or AWS_ENDPOINT_URL_S3 such as https://obs.cn-north-4.myhuaweicloud.com",
            ))
        }
        (None, false, _) => None,
    };
    let region = match (aws_region, &endpoint) {
        (Some(r), _) => r,
        (None, Some(url)) => obs_region(url)
            .filter(|_| is_obs(url))
            .unwrap_or_else(|| "us-east-1".to_owned()),
        (None, None) => {
            return Err(ConfigError::new(
                "AWS_REGION",
                "AWS_REGION is required for an AWS S3 bucket in WARDEN_STATE (or AWS_ENDPOINT_URL_S3 for another S3 API)",
            ))
        }
    };
    let virtual_hosted = endpoint.as_deref().is_none_or(is_obs);
    Ok(S3Access {
        credentials,
        region,
        endpoint,
        virtual_hosted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_locations_are_read_and_bad_ones_refused_naming_the_variable() {
        assert_eq!(location("memory").unwrap(), StateLocation::Memory);
        assert_eq!(
            location("file:///var/lib/vpcep-warden").unwrap(),
            StateLocation::File("/var/lib/vpcep-warden".into())
        );
        assert_eq!(
            location("s3://my-bucket/warden/prod").unwrap(),
            StateLocation::S3 {
                bucket: "my-bucket".into(),
                prefix: "warden/prod".into()
            }
        );
        assert_eq!(
            location("s3://my-bucket").unwrap(),
            StateLocation::S3 {
                bucket: "my-bucket".into(),
                prefix: String::new()
            }
        );
        for bad in [
            "memroy",
            "/var/lib/x",
            "file://relative/dir",
            "file:///",
            "s3://My_Bucket/x",
            "s3://ab",
            "s3://bucket/a//b",
            "s3://bucket/x?y=1",
            "s3://key:secret@bucket/x",
            "https://bucket/x",
        ] {
            let e = location(bad)
                .map(|l| format!("{bad} -> {l:?}"))
                .unwrap_err();
            assert_eq!(e.variable(), "WARDEN_STATE", "{bad}");
            assert!(!e.to_string().contains("secret@"), "{e}");
        }
    }
}
