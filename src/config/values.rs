//! Readers of single setting values: text, lists, URLs, numbers, choices;
//! each error names the variable and what it accepts.

use super::ConfigError;

/// A trimmed, non-empty value.
pub(super) fn text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A comma-separated list, entries trimmed, empty entries dropped.
pub(super) fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An ID as the API writes them: letters, digits, `-`, `_`.
pub(super) fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// An http(s) base URL without a trailing slash.
pub(super) fn http_url(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let value = value.trim();
    if let Ok(u) = url::Url::parse(value) {
        if !u.username().is_empty() || u.password().is_some() {
            // Refused rather than masked: the value is never shown or stored.
            return Err(ConfigError::new(
                variable,
                format!("{variable} must not hold a user name or password (user:password@host): credentials go in their own variables (the value is not shown)"),
            ));
        }
    }
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none() => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError::new(
            variable,
            format!("{variable} must be an http:// or https:// base URL such as https://vpcep.cn-north-4.myhuaweicloud.com, got {value:?}"),
        )),
    }
}

/// A percentage from 0 to 100.
pub(super) fn percent(
    variable: &'static str,
    value: Option<String>,
    default: f64,
) -> Result<f64, ConfigError> {
    let Some(value) = text(value) else {
        return Ok(default);
    };
    match value.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(ConfigError::new(
            variable,
            format!("{variable} must be a number from 0 to 100, got {value:?}"),
        )),
    }
}

/// A whole number within `range` (each setting's range is in README.md), so
/// no value can overflow the times and limits built from it.
pub(super) fn number<T>(
    variable: &'static str,
    value: Option<String>,
    range: std::ops::RangeInclusive<T>,
) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(value) = text(value) else {
        return Ok(None);
    };
    match value.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError::new(
            variable,
            format!(
                "{variable} must be a whole number from {} to {}, got {value:?}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// One of a few words (any case).
pub(super) fn choice<T: Copy>(
    variable: &'static str,
    value: Option<String>,
    options: &[(&str, T)],
    default: T,
) -> Result<T, ConfigError> {
    let Some(value) = text(value) else {
        return Ok(default);
    };
    options
        .iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(&value))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let words: Vec<&str> = options.iter().map(|(w, _)| *w).collect();
            ConfigError::new(
                variable,
                format!(
                    "{variable} must be one of {}, got {value:?}",
                    words.join(", ")
                ),
            )
        })
}

/// Whether an allowlist entry is `service-whitelist` written another way
/// (`SERVICE-WHITELIST`, `service_whitelist`): refused, never taken as an
/// account ID.
pub(super) fn is_near_service_whitelist(entry: &str) -> bool {
    entry != super::SERVICE_WHITELIST
        && entry.trim().to_ascii_lowercase().replace(['_', ' '], "-") == super::SERVICE_WHITELIST
}
