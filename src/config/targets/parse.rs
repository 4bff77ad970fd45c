//! Reading `WARDEN_TARGETS`: the JSON list (inline or from a file), each
//! entry checked field by field into a [`Target`].

use serde::Deserialize;

use super::{Target, MAX_NAME_CHARS, VARIABLE};
use crate::config::organizations::paths_of;
use crate::config::values::{http_url, is_near_service_whitelist, is_plain_id};
use crate::config::ConfigError;
use crate::config::{NotAllowed, SERVICE_WHITELIST};

/// A target as written in `WARDEN_TARGETS`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: String,
    region: String,
    project_id: String,
    #[serde(default)]
    vpcep_endpoint: Option<String>,
    #[serde(default)]
    domain_id: Option<String>,
    #[serde(default)]
    domain_name: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    allowed_domains: Option<Vec<String>>,
    #[serde(default)]
    allowed_org_paths: Option<Vec<String>>,
    #[serde(default)]
    service_ids: Option<Vec<String>>,
    #[serde(default)]
    not_allowed: Option<String>,
    #[serde(default)]
    quota_warn_percent: Option<f64>,
    #[serde(default)]
    quota_critical_percent: Option<f64>,
}

/// Reads `WARDEN_TARGETS`: a JSON list, inline or `@path` to a file holding it.
pub(in crate::config) fn parse(value: &str) -> Result<Vec<Target>, ConfigError> {
    let value = value.trim();
    let text = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path.trim()).map_err(|e| {
            ConfigError::new(
                VARIABLE,
                format!("{VARIABLE} names the file {path:?}, which cannot be read: {e}"),
            )
        })?,
        None => value.to_owned(),
    };
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).map_err(|e| {
        ConfigError::new(
            VARIABLE,
            format!("{VARIABLE} must be a JSON list of targets ({{\"name\", \"region\", \"project_id\", ...}}), inline or @path to a file: {e}"),
        )
    })?;
    if items.is_empty() {
        return Err(ConfigError::new(
            VARIABLE,
            format!("{VARIABLE} is an empty list: name at least one target, or unset it"),
        ));
    }
    let mut targets: Vec<Target> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        // A name too long to show is named by its place instead.
        let label = item
            .get("name")
            .and_then(serde_json::Value::as_str)
            .filter(|n| n.chars().count() <= MAX_NAME_CHARS)
            .map_or_else(|| format!("target {}", i + 1), |n| format!("target {n:?}"));
        let raw: RawTarget = serde_json::from_value(item)
            .map_err(|e| ConfigError::new(VARIABLE, format!("{VARIABLE}: {label}: {e}")))?;
        let target = raw.validate(&label)?;
        if targets.iter().any(|t| t.name == target.name) {
            return Err(ConfigError::new(
                VARIABLE,
                format!("{VARIABLE}: {label}: name: used twice; each target needs its own name"),
            ));
        }
        targets.push(target);
    }
    Ok(targets)
}

impl RawTarget {
    fn validate(self, label: &str) -> Result<Target, ConfigError> {
        let bad = |field: &str, why: String| {
            ConfigError::new(VARIABLE, format!("{VARIABLE}: {label}: {field}: {why}"))
        };
        // The name goes into every alert key, metric label and log line.
        let length = self.name.chars().count();
        if length > MAX_NAME_CHARS {
            return Err(bad(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters, got {length}"),
            ));
        }
        if !is_plain_id(&self.name) {
            return Err(bad(
                "name",
                format!("must be letters, digits, - and _ only, got {:?}", self.name),
            ));
        }
        if !is_region(&self.region) {
            return Err(bad(
                "region",
                format!(
                    "must be a region name like cn-north-4, got {:?}",
                    self.region
                ),
            ));
        }
        if !is_plain_id(&self.project_id) {
            return Err(bad(
                "project_id",
                format!(
                    "must be a project ID (letters, digits, - and _), got {:?}",
                    self.project_id
                ),
            ));
        }
        let vpcep_endpoint = match &self.vpcep_endpoint {
            // An `@` may hold a user and password: refused, never shown.
            Some(url) if url.contains('@') => {
                return Err(bad(
                    "vpcep_endpoint",
                    "must not hold a user name or password (user:password@host): credentials go in their own variables (the value is not shown)".into(),
                ))
            }
            Some(url) => http_url(VARIABLE, url).map_err(|_| {
                bad(
                    "vpcep_endpoint",
                    format!("must be an http:// or https:// base URL without user, password or query, got {url:?}"),
                )
            })?,
            None => format!("https://vpcep.{}.myhuaweicloud.com", self.region),
        };
        for (field, value) in [
            ("domain_id", &self.domain_id),
            ("domain_name", &self.domain_name),
            ("agency", &self.agency),
        ] {
            if let Some(v) = value {
                let ok = is_plain_id(v) || (field != "domain_id" && is_name(v));
                if !ok {
                    return Err(bad(field, format!("{v:?} is not a valid {field}")));
                }
            }
        }
        if self.agency.is_some() && self.domain_id.is_none() && self.domain_name.is_none() {
            return Err(bad(
                "agency",
                "needs domain_id or domain_name: the account whose agency is assumed".into(),
            ));
        }
        if self.domain_id.is_some() && self.domain_name.is_some() {
            return Err(bad(
                "domain_name",
                "set domain_id or domain_name, not both".into(),
            ));
        }
        if let Some(list) = &self.allowed_domains {
            if let Some(near) = list.iter().find(|d| is_near_service_whitelist(d)) {
                return Err(bad(
                    "allowed_domains",
                    format!("holds {near:?}: write it exactly {SERVICE_WHITELIST} to allow each service's whitelist (it is not an account ID)"),
                ));
            }
            if let Some(d) = list
                .iter()
                .find(|d| *d != SERVICE_WHITELIST && !is_plain_id(d))
            {
                return Err(bad(
                    "allowed_domains",
                    format!(
                        "must list account (domain) IDs or service-whitelist; {d:?} is neither"
                    ),
                ));
            }
        }
        if let Some(list) = &self.service_ids {
            if let Some(s) = list.iter().find(|s| !is_plain_id(s)) {
                return Err(bad(
                    "service_ids",
                    format!("must list endpoint service IDs; {s:?} is not one"),
                ));
            }
        }
        let allowed_org_paths = self
            .allowed_org_paths
            .as_deref()
            .map(paths_of)
            .transpose()
            .map_err(|why| {
                bad(
                    "allowed_org_paths",
                    format!("must list organization paths: {why}"),
                )
            })?;
        let not_allowed = match self.not_allowed.as_deref() {
            None => None,
            Some("leave") => Some(NotAllowed::Leave),
            Some("reject") => Some(NotAllowed::Reject),
            Some(other) => {
                return Err(bad(
                    "not_allowed",
                    format!("must be leave or reject, got {other:?}"),
                ))
            }
        };
        for (field, value) in [
            ("quota_warn_percent", self.quota_warn_percent),
            ("quota_critical_percent", self.quota_critical_percent),
        ] {
            if value.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
                return Err(bad(field, "must be a number from 0 to 100".into()));
            }
        }
        Ok(Target {
            name: self.name,
            region: self.region,
            project_id: self.project_id,
            vpcep_endpoint,
            domain_id: self.domain_id,
            domain_name: self.domain_name,
            agency: self.agency,
            allowed_domains: self.allowed_domains,
            allowed_org_paths,
            service_ids: self.service_ids,
            not_allowed,
            quota_warn_percent: self.quota_warn_percent,
            quota_critical_percent: self.quota_critical_percent,
        })
    }
}

/// `cn-north-4`, `ap-southeast-1`, `la-south-2`: lower-case words and a number.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
}

/// An account or agency name: letters, digits, `-`, `_`, `.` and spaces inside.
fn is_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Agency, AgencyDomain, Settings};
    use crate::organization::PathPattern;

    fn err(json: &str) -> String {
        parse(json).unwrap_err().to_string()
    }

    #[test]
    fn a_full_target_reads_with_its_default_endpoint() {
        let t = parse(
            r#"[{"name": "prod-bj", "region": "cn-north-4", "project_id": "p1",
            "domain_id": "d1", "agency": "warden", "allowed_domains": ["a", "service-whitelist"],
            "allowed_org_paths": ["o-1/r-2/ou-3/*"],
            "not_allowed": "reject", "quota_warn_percent": 70}]"#,
        )
        .unwrap();
        assert_eq!(
            t[0].vpcep_endpoint,
            "https://vpcep.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(t[0].not_allowed, Some(NotAllowed::Reject));
        let s = t[0].settings(&Settings::for_tests("http://x", "base", "ak", "sk"));
        assert_eq!(s.allowed_domains, vec!["a".to_owned()]);
        assert!(s.allow_service_whitelist);
        assert_eq!(s.quota_warn_percent, 70.0);
        assert_eq!(
            s.organizations.allowed_paths,
            vec![PathPattern::parse("o-1/r-2/ou-3/*").unwrap()]
        );
        assert_eq!(s.project_id, "p1");
        assert_eq!(
            t[0].agency(),
            Some(Agency {
                name: "warden",
                domain: AgencyDomain::Id("d1")
            })
        );
    }

    #[test]
    fn errors_name_the_target_and_the_field() {
        let base = r#""region": "cn-north-4", "project_id": "p""#;
        for (json, needle) in [
            (format!(r#"[{{"name": "a b", {base}}}]"#), "\"a b\": name"),
            (
                format!(r#"[{{"name": "a", {base}}}, {{"name": "a", {base}}}]"#),
                "used twice",
            ),
            (
                r#"[{"name": "a", "region": "North 4", "project_id": "p"}]"#.into(),
                "\"a\": region",
            ),
            (
                r#"[{"name": "a", "region": "cn-north-4", "project_id": "p/q"}]"#.into(),
                "\"a\": project_id",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "vpcep_endpoint": "ftp://x"}}]"#),
                "\"a\": vpcep_endpoint",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "colour": 1}}]"#),
                "unknown field `colour`",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "agency": "w"}}]"#),
                "\"a\": agency: needs domain_id",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "allowed_org_paths": ["o-1 r-2"]}}]"#),
                "\"a\": allowed_org_paths",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "not_allowed": "drop"}}]"#),
                "\"a\": not_allowed",
            ),
            (
                format!(r#"[{{"name": "a", {base}, "quota_warn_percent": 120}}]"#),
                "quota_warn_percent",
            ),
            (
                r#"[{"region": "cn-north-4"}]"#.into(),
                "target 1: missing field `name`",
            ),
            ("[]".into(), "empty list"),
            ("{".into(), "JSON list of targets"),
        ] {
            let e = err(&json);
            assert!(e.contains("WARDEN_TARGETS"), "{e}");
            assert!(e.contains(needle), "{json}: {e}");
        }
    }

    #[test]
    fn a_file_is_read_after_an_at_sign() {
        let path = std::env::temp_dir().join(format!("warden-targets-{}.json", std::process::id()));
        std::fs::write(
            &path,
            r#"[{"name": "a", "region": "cn-north-4", "project_id": "p"}]"#,
        )
        .unwrap();
        let t = parse(&format!("@{}", path.display())).unwrap();
        assert_eq!(t[0].name, "a");
        std::fs::remove_file(&path).unwrap();
        assert!(err("@/nonexistent/targets.json").contains("cannot be read"));
    }
}
