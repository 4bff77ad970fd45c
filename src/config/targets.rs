//! `WARDEN_TARGETS`: the estates (project and region, perhaps another
//! account reached through an agency) one warden looks after, each with
//! optional overrides of the judgement settings. Read strictly: every error
//! names the target and the field.

use super::ConfigError;
use super::{NotAllowed, Settings, SERVICE_WHITELIST};
use crate::organization::PathPattern;

mod parse;

pub(super) use parse::parse;

const VARIABLE: &str = "WARDEN_TARGETS";

/// One estate the warden looks after.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Unique, `[A-Za-z0-9_-]+`: appears in the report, alert keys and events.
    pub name: String,
    /// E.g. `cn-north-4`.
    pub region: String,
    /// The project whose services and endpoints are managed.
    pub project_id: String,
    /// The VPCEP API's base URL (given, or `https://vpcep.{region}.myhuaweicloud.com`).
    pub vpcep_endpoint: String,
    /// The account the project belongs to (needed, or `domain_name`, with `agency`).
    pub domain_id: Option<String>,
    /// The account's name, instead of `domain_id`.
    pub domain_name: Option<String>,
    /// The agency of that account the warden assumes with its own identity.
    pub agency: Option<String>,
    /// Overrides `WARDEN_ALLOWED_DOMAINS` (may hold `service-whitelist`).
    pub allowed_domains: Option<Vec<String>>,
    /// Overrides `WARDEN_ALLOWED_ORG_PATHS`.
    pub allowed_org_paths: Option<Vec<PathPattern>>,
    /// Overrides `WARDEN_SERVICE_IDS`.
    pub service_ids: Option<Vec<String>>,
    /// Overrides `WARDEN_NOT_ALLOWED`.
    pub not_allowed: Option<NotAllowed>,
    /// Overrides `WARDEN_QUOTA_WARN_PERCENT`.
    pub quota_warn_percent: Option<f64>,
    /// Overrides `WARDEN_QUOTA_CRITICAL_PERCENT`.
    pub quota_critical_percent: Option<f64>,
}

/// The longest target name: it goes into every alert key, metric label
/// and log line of its target.
pub const MAX_NAME_CHARS: usize = 64;

/// The name the top-level project takes among the targets.
pub const TOP_LEVEL: &str = "default";

/// Adds the top-level project (`HUAWEICLOUD_SDK_PROJECT_ID`, when given
/// beside `WARDEN_TARGETS`) as one more target named [`TOP_LEVEL`], unless a
/// target already names that project at that endpoint. Without it, the
/// first target's project stands for the warden's own (its identity: agency
/// hand-offs, SMN); the jobs then run in the targets only. Returns the
/// project that stands for the warden's own and the targets.
pub(super) fn with_top_level(
    mut targets: Vec<Target>,
    project_id: String,
    region: Option<&str>,
    vpcep_endpoint: &str,
) -> Result<(String, Vec<Target>), ConfigError> {
    let Some(first) = targets.first() else {
        return Ok((project_id, targets));
    };
    if project_id.is_empty() {
        return Ok((first.project_id.clone(), targets));
    }
    let listed = targets
        .iter()
        .any(|t| t.project_id == project_id && t.vpcep_endpoint == vpcep_endpoint);
    if !listed {
        if targets.iter().any(|t| t.name == TOP_LEVEL) {
            return Err(ConfigError::new(
                VARIABLE,
                format!("{VARIABLE}: a target is named {TOP_LEVEL:?}, the name HUAWEICLOUD_SDK_PROJECT_ID takes as a target: rename it, or unset HUAWEICLOUD_SDK_PROJECT_ID"),
            ));
        }
        targets.push(Target {
            name: TOP_LEVEL.to_owned(),
            region: region.unwrap_or_default().to_owned(),
            project_id: project_id.clone(),
            vpcep_endpoint: vpcep_endpoint.to_owned(),
            domain_id: None,
            domain_name: None,
            agency: None,
            allowed_domains: None,
            allowed_org_paths: None,
            service_ids: None,
            not_allowed: None,
            quota_warn_percent: None,
            quota_critical_percent: None,
        });
    }
    Ok((project_id, targets))
}

impl Target {
    /// The settings of this target: `base` with its project, region, endpoint
    /// and the overrides it gives.
    pub fn settings(&self, base: &Settings) -> Settings {
        let mut s = base.clone();
        s.targets = Vec::new();
        s.project_id = self.project_id.clone();
        s.region = Some(self.region.clone());
        s.vpcep_endpoint = self.vpcep_endpoint.clone();
        // Worked through an agency, the target's credentials are its account's.
        if self.agency.is_some() {
            s.domain_id = self.domain_id.clone();
        }
        if let Some(list) = &self.allowed_domains {
            s.allow_service_whitelist = list.iter().any(|d| d == SERVICE_WHITELIST);
            s.allowed_domains = list
                .iter()
                .filter(|d| *d != SERVICE_WHITELIST)
                .cloned()
                .collect();
        }
        if let Some(paths) = &self.allowed_org_paths {
            s.organizations.allowed_paths = paths.clone();
        }
        if let Some(ids) = &self.service_ids {
            s.service_ids = ids.clone();
        }
        if let Some(n) = self.not_allowed {
            s.not_allowed = n;
        }
        if let Some(p) = self.quota_warn_percent {
            s.quota_warn_percent = p;
        }
        if let Some(p) = self.quota_critical_percent {
            s.quota_critical_percent = p;
        }
        s
    }

    /// The account to assume the agency in, when the target has one.
    pub fn agency(&self) -> Option<Agency<'_>> {
        let name = self.agency.as_deref()?;
        let domain = match (&self.domain_id, &self.domain_name) {
            (Some(id), _) => AgencyDomain::Id(id),
            (None, Some(n)) => AgencyDomain::Name(n),
            (None, None) => return None,
        };
        Some(Agency { name, domain })
    }
}

/// An agency to assume: its name and the account it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agency<'a> {
    pub name: &'a str,
    pub domain: AgencyDomain<'a>,
}

/// The account of an agency, by id or by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgencyDomain<'a> {
    Id(&'a str),
    Name(&'a str),
}

impl std::fmt::Display for AgencyDomain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgencyDomain::Id(id) => f.write_str(id),
            AgencyDomain::Name(name) => f.write_str(name),
        }
    }
}
