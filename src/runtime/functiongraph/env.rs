//! What the FunctionGraph environment says about the function: the runtime
//! API's address, the timeout, the project and the function's names.

use std::time::Duration;

use url::Url;

use super::{ServeError, API_ADDR_VAR};
use crate::config::HostDefaults;

/// What the FunctionGraph environment says about the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Env {
    /// `RUNTIME_API_ADDR`, e.g. `127.0.0.1:8888`.
    pub api_addr: String,
    /// `RUNTIME_TIMEOUT`: the function's timeout.
    pub timeout: Duration,
    /// `RUNTIME_PROJECT_ID`: the function's project.
    pub project_id: Option<String>,
    /// `RUNTIME_FUNC_NAME`.
    pub func_name: Option<String>,
    /// `RUNTIME_FUNC_VERSION`.
    pub func_version: Option<String>,
    /// `RUNTIME_PACKAGE`: the app (function group).
    pub package: Option<String>,
    /// `RUNTIME_MEMORY`: the function's memory, in MB.
    pub memory_mb: Option<u64>,
}

/// A FunctionGraph variable that is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(String);

impl Env {
    /// Reads the FunctionGraph variables from the process environment.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the FunctionGraph variables through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let text = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let api_addr =
            text(API_ADDR_VAR).ok_or_else(|| EnvError(format!("{API_ADDR_VAR} is not set")))?;
        let timeout = text("RUNTIME_TIMEOUT")
            .ok_or_else(|| {
                EnvError("RUNTIME_TIMEOUT is not set: FunctionGraph sets it to the function's timeout in seconds".into())
            })
            .and_then(|t| {
                t.parse::<u64>()
                    .ok()
                    .filter(|&s| s > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| {
                        EnvError(format!(
                            "RUNTIME_TIMEOUT must be the function's timeout in whole seconds, got {t:?}"
                        ))
                    })
            })?;
        Ok(Self {
            api_addr,
            timeout,
            project_id: text("RUNTIME_PROJECT_ID"),
            func_name: text("RUNTIME_FUNC_NAME"),
            func_version: text("RUNTIME_FUNC_VERSION"),
            package: text("RUNTIME_PACKAGE"),
            memory_mb: text("RUNTIME_MEMORY").and_then(|m| m.parse().ok()),
        })
    }

    /// What FunctionGraph supplies to the settings: the function's project
    /// as the default project, and credentials with each invocation.
    pub fn host_defaults(&self) -> HostDefaults {
        HostDefaults {
            project_id: self.project_id.clone(),
            per_invocation_credentials: true,
            secrets: Vec::new(),
            default_state: None,
        }
    }

    /// `http://{RUNTIME_API_ADDR}/v1/runtime/invocation/`.
    pub(super) fn invocation_url(&self) -> Result<Url, ServeError> {
        let bad = || ServeError::BadAddress {
            addr: self.api_addr.clone(),
        };
        let base = Url::parse(&format!("http://{}/", self.api_addr)).map_err(|_| bad())?;
        if base.path() != "/" || base.query().is_some() {
            return Err(bad());
        }
        base.join("v1/runtime/invocation/").map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Result<Env, EnvError> {
        Env::from_vars(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_timeout_is_read_in_seconds_and_required() {
        let e = env(&[
            ("RUNTIME_API_ADDR", "127.0.0.1:8888"),
            ("RUNTIME_TIMEOUT", "30"),
        ])
        .unwrap();
        assert_eq!(e.timeout, Duration::from_secs(30));
        for bad in ["", "0", "-3", "30s", "1.5"] {
            let err = env(&[
                ("RUNTIME_API_ADDR", "127.0.0.1:8888"),
                ("RUNTIME_TIMEOUT", bad),
            ])
            .unwrap_err();
            assert!(err.to_string().contains("RUNTIME_TIMEOUT"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_project_of_the_function_is_the_default_project() {
        let e = env(&[
            ("RUNTIME_API_ADDR", "127.0.0.1:8888"),
            ("RUNTIME_TIMEOUT", "30"),
            ("RUNTIME_PROJECT_ID", "p1"),
        ])
        .unwrap();
        let host = e.host_defaults();
        assert_eq!(host.project_id.as_deref(), Some("p1"));
        assert!(host.per_invocation_credentials);
    }

    #[test]
    fn the_invocation_url_is_built_from_the_address_alone() {
        let e = env(&[
            ("RUNTIME_API_ADDR", "127.0.0.1:8888"),
            ("RUNTIME_TIMEOUT", "3"),
        ])
        .unwrap();
        assert_eq!(
            e.invocation_url().unwrap().as_str(),
            "http://127.0.0.1:8888/v1/runtime/invocation/"
        );
        let bad = Env {
            api_addr: "127.0.0.1:8888/elsewhere?x".into(),
            ..e
        };
        assert!(bad.invocation_url().is_err());
    }
}
