//! Readers of the fields several event formats share: job and target lists,
//! and a bounded description of a value for error messages.

use serde_json::Value;

use super::error::{Cause, EventError};
use super::notice::truncate;
use super::{Job, Reply};
use crate::config::Settings;

/// Reads a target list: absent or null means every target; otherwise an
/// array of names from `WARDEN_TARGETS`, at least one, each known.
pub(crate) fn targets(
    value: Option<&Value>,
    settings: &Settings,
    origin: &'static str,
) -> Result<Vec<String>, EventError> {
    const EXPECTED: &str = "targets as an array of target names from WARDEN_TARGETS";
    let invalid =
        |why: String| EventError::malformed(origin, Reply::Report, EXPECTED, Cause::Invalid(why));
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(invalid(format!("found {}", describe(other)))),
    };
    if settings.targets.is_empty() {
        return Err(invalid(
            "WARDEN_TARGETS is not set: this warden has no named targets".into(),
        ));
    }
    let mut named: Vec<String> = Vec::new();
    for item in items {
        // `"a, b"` split on commas (as the state machine does) leaves spaces: trimmed.
        let name = item
            .as_str()
            .map(str::trim)
            .ok_or_else(|| invalid(format!("{} is not a name", describe(item))))?;
        if !settings.targets.iter().any(|t| t.name == name) {
            let known: Vec<&str> = settings.targets.iter().map(|t| t.name.as_str()).collect();
            return Err(invalid(format!(
                "unknown target {:?}; WARDEN_TARGETS names {}",
                truncate(name),
                known.join(", ")
            )));
        }
        if !named.iter().any(|n| n == name) {
            named.push(name.to_owned());
        }
    }
    if named.is_empty() {
        return Err(invalid("no target is named".into()));
    }
    Ok(named)
}

/// Reads a job list: absent or null means every job; otherwise an array of
/// names or a comma-separated string naming at least one job. The result is
/// in [`Job::ALL`] order without duplicates.
pub(crate) fn jobs(value: Option<&Value>, origin: &'static str) -> Result<Vec<Job>, EventError> {
    const EXPECTED: &str =
        "jobs as an array of names or a comma-separated string naming approve, quota or gc";
    let invalid = |cause: Cause| EventError::malformed(origin, Reply::Report, EXPECTED, cause);
    let names: Vec<&str> = match value {
        None | Some(Value::Null) => return Ok(Job::ALL.to_vec()),
        Some(Value::String(list)) => list.split(',').collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    invalid(Cause::Invalid(format!("{} is not a name", describe(item))))
                })
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(Cause::Invalid(format!(
                "found {}",
                describe(other)
            ))))
        }
    };
    let mut named = Vec::new();
    for name in names
        .iter()
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
    {
        let job: Job = name
            .parse()
            .map_err(|_| invalid(Cause::Invalid(format!("unknown job {:?}", truncate(name)))))?;
        named.push(job);
    }
    if named.is_empty() {
        return Err(invalid(Cause::Invalid("no job is named".into())));
    }
    Ok(Job::ALL
        .into_iter()
        .filter(|job| named.contains(job))
        .collect())
}

/// A short, bounded description of a JSON value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(_) => "a number".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(map) if map.is_empty() => "an empty object".into(),
        Value::Object(map) => {
            const SHOWN: usize = 8;
            let mut keys: Vec<String> = map.keys().take(SHOWN).map(|key| truncate(key)).collect();
            if map.len() > SHOWN {
                keys.push(format!("and {} more", map.len() - SHOWN));
            }
            format!("an object with keys {}", keys.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    #[test]
    fn jobs_are_deduplicated_and_ordered() {
        let list = json!(["gc", "approve", "gc"]);
        assert_eq!(jobs(Some(&list), "t").unwrap(), vec![Job::Approve, Job::Gc]);
        let text = json!(" quota , gc ,");
        assert_eq!(jobs(Some(&text), "t").unwrap(), vec![Job::Quota, Job::Gc]);
        assert_eq!(jobs(None, "t").unwrap(), Job::ALL.to_vec());
    }

    #[test]
    fn jobs_reject_empty_unknown_and_wrong_types() {
        for bad in [
            json!([]),
            json!(""),
            json!(["sweep"]),
            json!([1]),
            json!(3),
            json!({}),
        ] {
            let err = jobs(Some(&bad), "t").unwrap_err();
            assert!(err.to_string().contains("approve, quota or gc"), "{err}");
        }
    }

    #[test]
    fn describe_is_bounded() {
        let mut map = Map::new();
        for i in 0..20 {
            map.insert(format!("{i}{}", "k".repeat(1000)), Value::Null);
        }
        let text = describe(&Value::Object(map));
        assert!(text.len() < 1000, "{}", text.len());
        assert!(text.ends_with("and 12 more"));
    }
}
