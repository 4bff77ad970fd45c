//! Loading [`Settings`] from environment variables: every value checked, every
//! problem reported with the variable's name and how to fix it, never with a
//! secret's value.

mod credentials;
mod state;
mod urns;
mod validate;
mod variables;

use super::{ConfigError, Secret, Settings};
use variables::{is_known, is_ours, unknown_variable, Raw, KNOWN};

/// What a host (the platform the warden runs on) supplies when the
/// environment leaves it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostDefaults {
    /// The project when `HUAWEICLOUD_SDK_PROJECT_ID` is not set (FunctionGraph:
    /// `RUNTIME_PROJECT_ID`, the function's own project).
    pub project_id: Option<String>,
    /// Each invocation brings credentials (FunctionGraph agency credentials):
    /// none configured is then no error, but [`Credentials::PerInvocation`](super::Credentials::PerInvocation).
    pub per_invocation_credentials: bool,
    /// Variables the host fetched from a secret store at start (Lambda:
    /// `WARDEN_SECRETS_ARN`); they replace environment variables of the same name.
    pub secrets: Vec<(String, Secret)>,
    /// `WARDEN_STATE` when it is not set (the command line and `serve`: a
    /// directory of the user's; elsewhere `memory`).
    pub default_state: Option<String>,
}

impl Settings {
    /// Reads and validates the settings from the process environment.
    /// Variables that are not UTF-8 are refused when they are ours and
    /// skipped otherwise (`std::env::vars` would panic on them).
    pub fn from_env() -> Result<Settings, ConfigError> {
        Self::from_env_with(&HostDefaults::default())
    }

    /// [`Settings::from_env`] with what the host supplies for missing values.
    pub fn from_env_with(host: &HostDefaults) -> Result<Settings, ConfigError> {
        let mut vars = Vec::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().map(str::to_owned) else {
                continue;
            };
            match value.into_string() {
                Ok(value) => vars.push((name, value)),
                Err(_) if is_ours(&name) => {
                    let variable = KNOWN
                        .iter()
                        .find(|k| **k == name)
                        .copied()
                        .unwrap_or("environment");
                    return Err(ConfigError::new(
                        variable,
                        format!("{name} is not valid UTF-8 text: set it again"),
                    ));
                }
                Err(_) => {}
            }
        }
        vars.retain(|(name, _)| host.secrets.iter().all(|(secret, _)| secret != name));
        vars.extend(
            host.secrets
                .iter()
                .map(|(name, value)| (name.clone(), value.expose().to_owned())),
        );
        Self::from_vars_with(vars, host)
    }

    /// Reads and validates the settings from `(name, value)` pairs named as in
    /// design.md section 3. Unset and empty variables take their defaults.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        Self::from_vars_with(vars, &HostDefaults::default())
    }

    /// [`Settings::from_vars`] with what the host supplies for missing values.
    pub fn from_vars_with(
        vars: impl IntoIterator<Item = (String, String)>,
        host: &HostDefaults,
    ) -> Result<Settings, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, v)| is_ours(k) && !v.trim().is_empty())
            .collect();
        // Other HUAWEICLOUD_SDK_ variables belong to the official SDKs: left alone.
        let unknown = |k: &str| k.to_ascii_uppercase().starts_with("WARDEN_") && !is_known(k);
        if let Some((name, _)) = vars.iter().find(|(k, _)| unknown(k)) {
            return Err(unknown_variable(name));
        }
        let raw: Raw = envy::from_iter(vars).map_err(|e| {
            ConfigError::new(
                "environment",
                format!("the environment could not be read: {e}"),
            )
        })?;
        raw.validate(host)
    }
}
