//! The settings of approval by organization: where the Organizations API is
//! (`WARDEN_ORGANIZATIONS_ENDPOINT`) and the organizational units allowed
//! from the settings (`WARDEN_ALLOWED_ORG_PATHS`, or a target's
//! `allowed_org_paths`), in the syntax of VPCEP's `organizations:orgPath::`
//! whitelist records (see [`crate::organization::patterns`]).

use super::values::{http_url, list, text};
use super::ConfigError;
use crate::organization::PathPattern;

/// The Organizations API used when `WARDEN_ORGANIZATIONS_ENDPOINT` is not
/// set: the global endpoint (Organizations is a global service).
pub const DEFAULT_ORGANIZATIONS_ENDPOINT: &str = "https://organizations.myhuaweicloud.com";

/// Approval by organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizations {
    /// `WARDEN_ORGANIZATIONS_ENDPOINT`, no trailing slash.
    pub endpoint: String,
    /// `WARDEN_ALLOWED_ORG_PATHS` (with a target's `allowed_org_paths`):
    /// accounts in these units are allowed, as `WARDEN_ALLOWED_DOMAINS` allows accounts.
    pub allowed_paths: Vec<PathPattern>,
}

impl Default for Organizations {
    fn default() -> Self {
        Self {
            endpoint: DEFAULT_ORGANIZATIONS_ENDPOINT.to_owned(),
            allowed_paths: Vec::new(),
        }
    }
}

impl Organizations {
    /// Reads `WARDEN_ORGANIZATIONS_ENDPOINT` and `WARDEN_ALLOWED_ORG_PATHS`
    /// (comma-separated paths).
    pub(super) fn from_vars(
        endpoint: Option<String>,
        paths: Option<String>,
    ) -> Result<Self, ConfigError> {
        let endpoint = match text(endpoint) {
            Some(url) => http_url("WARDEN_ORGANIZATIONS_ENDPOINT", &url)?,
            None => DEFAULT_ORGANIZATIONS_ENDPOINT.to_owned(),
        };
        let allowed_paths = paths_of(&list(paths)).map_err(|why| {
            ConfigError::new(
                "WARDEN_ALLOWED_ORG_PATHS",
                format!("WARDEN_ALLOWED_ORG_PATHS must list organization paths separated by commas, such as o-1a2b/r-3c4d/ou-5e6f/* : {why}"),
            )
        })?;
        Ok(Self {
            endpoint,
            allowed_paths,
        })
    }
}

/// Reads each path, or says why one is not a path.
pub(super) fn paths_of(written: &[String]) -> Result<Vec<PathPattern>, String> {
    written.iter().map(|p| PathPattern::parse(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_endpoint_and_no_paths_by_default() {
        let o = Organizations::from_vars(None, None).unwrap();
        assert_eq!(o, Organizations::default());
        assert_eq!(o.endpoint, "https://organizations.myhuaweicloud.com");
    }

    #[test]
    fn paths_are_read_in_the_whitelist_syntax_and_errors_name_the_variable() {
        let o = Organizations::from_vars(
            Some("http://127.0.0.1:9/".into()),
            Some(" o-1/r-2/ou-3/* , o-1/r-2/ou-4 ,".into()),
        )
        .unwrap();
        assert_eq!(o.endpoint, "http://127.0.0.1:9");
        let written: Vec<&str> = o.allowed_paths.iter().map(PathPattern::as_str).collect();
        assert_eq!(written, ["o-1/r-2/ou-3/*", "o-1/r-2/ou-4"]);
        let bad = Organizations::from_vars(None, Some("o-1/r-2/ou_3".into())).unwrap_err();
        assert_eq!(bad.variable(), "WARDEN_ALLOWED_ORG_PATHS");
        assert!(bad.to_string().contains("'_'"), "{bad}");
        let url = Organizations::from_vars(Some("ftp://x".into()), None).unwrap_err();
        assert_eq!(url.variable(), "WARDEN_ORGANIZATIONS_ENDPOINT");
    }
}
