//! The one error of settings, shared by the loader and the readers of
//! single values and targets (so none of them depends on another).

/// A setting that is missing or invalid: names the variable and how to fix it.
/// Never contains a secret's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    variable: &'static str,
    message: String,
}

impl ConfigError {
    pub(super) fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }

    /// The variable at fault (the first one, when several are involved).
    pub fn variable(&self) -> &str {
        self.variable
    }
}
