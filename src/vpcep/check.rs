//! `vpcep-warden check`: read quotas and the managed services with the
//! configured settings (and the organization, when a rule needs it), and say
//! what was found or, on failure, what to fix.

use serde::Serialize;

use super::{ApiError, Client, EndpointService, Permission};
use crate::config::Settings;

/// The IAM actions the warden needs (from the API reference's permissions table).
pub const REQUIRED_ACTIONS: &[&str] = &[
    "vpcep:quotas:get",
    "vpcep:epservices:list",
    "vpcep:epservices:get",
    "vpcep:connections:list",
    "vpcep:connections:update",
    "vpcep:permissions:list",
    "vpcep:endpoints:list",
    "vpcep:endpoints:get",
    "vpcep:endpoints:delete",
];

/// The Organizations actions the warden reads the organization with
/// (ShowOrganization, ListRoots, ListOrganizationalUnits, ListAccounts).
pub const ORGANIZATIONS_ACTIONS: &[&str] = &[
    "organizations:organizations:get",
    "organizations:roots:list",
    "organizations:ous:list",
    "organizations:accounts:list",
];

/// Words of a 401 message that blame the request time rather than the key.
const CLOCK_WORDS: &[&str] = &[
    "skew",
    "expired",
    "server time",
    "request time",
    "clock",
    "minutes away",
];

/// What `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The VPCEP endpoint used.
    pub endpoint: String,
    /// The project managed.
    pub project_id: String,
    /// How requests were authenticated (no secret).
    pub auth_method: String,
    /// The project's quotas.
    pub quotas: Vec<QuotaFound>,
    /// The managed services.
    pub services: Vec<ServiceFound>,
    /// The organization, when `WARDEN_ALLOWED_ORG_PATHS` or (with
    /// `service-whitelist`) a whitelist record by org path or account name
    /// needs it; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationFound>,
    /// API requests made by the check.
    pub api_calls: u64,
}

/// The organization as found.
#[derive(Debug, Clone, Serialize)]
pub struct OrganizationFound {
    /// The Organizations endpoint used.
    pub endpoint: String,
    /// What needs it: `WARDEN_ALLOWED_ORG_PATHS`, or the services whose
    /// whitelist holds a record by org path or account name.
    pub needed_by: Vec<String>,
    /// The organization's id.
    pub id: String,
    /// Member accounts read.
    pub accounts: usize,
    /// Organizational units read (roots not counted).
    pub units: usize,
}

/// One quota as found.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaFound {
    /// `endpoint` or `endpoint_service`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Resources in use.
    pub used: u64,
    /// The limit; `null` when unlimited (the API's `-1`).
    pub quota: Option<u64>,
}

/// One managed service as found.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceFound {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub service_name: String,
    /// Its status.
    pub status: String,
    /// Whether connections wait for approval.
    pub approval_enabled: bool,
    /// Connections in `pendingAcceptance`.
    pub pending_connections: usize,
    /// What in its set-up deserves a look (see [`findings`]).
    pub findings: Vec<Finding>,
}

/// Something in a service's set-up that lets consumers in without review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `approval_disabled` or `whitelist_open`.
    pub kind: &'static str,
    /// What it means, in words.
    pub message: String,
}

/// The findings about one service and its whitelist records: approval
/// disabled (any whitelisted account connects without review) and a `*`
/// whitelist record (any account may ask, or with approval disabled, connect).
pub fn findings(service: &EndpointService, records: &[Permission]) -> Vec<Finding> {
    let mut found = Vec::new();
    if !service.approval_enabled {
        found.push(Finding {
            kind: "approval_disabled",
            message: "approval is disabled: whitelisted accounts connect without review, the warden never sees them".into(),
        });
    }
    let open = records.iter().any(|r| {
        let p = r.permission.trim();
        p == "*" || p == "iam:domain::*"
    });
    if open {
        found.push(Finding {
            kind: "whitelist_open",
            message: "the whitelist has a * record: every account may ask to connect".into(),
        });
    }
    found
}

/// Why `check` failed: the API error and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("{source}\nhint: {hint}")]
pub struct CheckError {
    /// The failed call, with the API's code, message and request id.
    #[source]
    pub source: ApiError,
    /// What to fix.
    pub hint: String,
}

impl From<ApiError> for CheckError {
    fn from(source: ApiError) -> Self {
        Self {
            hint: hint(&source),
            source,
        }
    }
}

/// Reads the quotas and the managed services (`WARDEN_SERVICE_IDS`, or all of
/// the project's) with their pending connections and findings.
pub async fn check(settings: &Settings) -> Result<CheckReport, CheckError> {
    let client = Client::from_settings(settings)?;
    let quotas = client
        .quotas()
        .await?
        .into_iter()
        .map(|q| QuotaFound {
            kind: q.kind,
            used: q.used,
            quota: q.quota,
        })
        .collect();
    let services = if settings.service_ids.is_empty() {
        client.list_services().await?
    } else {
        let mut found = Vec::with_capacity(settings.service_ids.len());
        for id in &settings.service_ids {
            found.push(client.get_service(id).await?);
        }
        found
    };
    let mut checked = Vec::with_capacity(services.len());
    let mut needed_by = Vec::new();
    if !settings.organizations.allowed_paths.is_empty() {
        needed_by.push("WARDEN_ALLOWED_ORG_PATHS".to_owned());
    }
    for service in services {
        let pending = client
            .list_connections(&service.id, Some("pendingAcceptance"), None)
            .await?;
        let records = client.list_permissions(&service.id).await?;
        if settings.allow_service_whitelist && records.iter().any(needs_organization) {
            needed_by.push(format!("the whitelist of service {}", service.id));
        }
        checked.push(ServiceFound {
            pending_connections: pending.len(),
            findings: findings(&service, &records),
            id: service.id,
            service_name: service.service_name,
            status: service.status,
            approval_enabled: service.approval_enabled,
        });
    }
    let organization = match needed_by.is_empty() {
        true => None,
        false => {
            let endpoint = &settings.organizations.endpoint;
            let tree = client
                .organization(endpoint, super::iam_endpoint(settings))
                .await
                .map_err(|source| CheckError {
                    hint: format!(
                        "{} (needed by {})",
                        organization_hint(&source),
                        needed_by.join(", ")
                    ),
                    source,
                })?;
            Some(OrganizationFound {
                endpoint: endpoint.clone(),
                needed_by,
                id: tree.id.clone(),
                accounts: tree.accounts(),
                units: tree.units,
            })
        }
    };
    Ok(CheckReport {
        endpoint: settings.vpcep_endpoint.clone(),
        project_id: settings.project_id.clone(),
        auth_method: client.auth_method().to_owned(),
        quotas,
        services: checked,
        organization,
        api_calls: client.api_calls(),
    })
}

/// Whether a whitelist record is judged against the organization: by org
/// path or account name (with the prefix in any case, or by `permission_type`).
fn needs_organization(record: &Permission) -> bool {
    let p = record.permission.trim().to_ascii_lowercase();
    p.starts_with("organizations:orgpath::")
        || p.starts_with("iam:domainname::")
        || matches!(
            record.permission_type.as_deref().map(str::trim),
            Some("orgPath" | "domainName")
        ) && !p.contains("::")
}

/// What to fix, judged from how a call failed.
pub fn hint(error: &ApiError) -> String {
    // Only the gateway's own words: a canonical request echoed after them
    // names headers such as x-sdk-date whatever the cause was.
    let message = error.error_msg().unwrap_or_default().to_ascii_lowercase();
    let message = message
        .split("canonical request")
        .next()
        .unwrap_or_default();
    let code = error.error_code().unwrap_or_default();
    if error.is_connect() {
        return "the VPCEP endpoint cannot be reached (connection refused or DNS failure): check WARDEN_VPCEP_ENDPOINT or WARDEN_REGION, and the network path to it".into();
    }
    if error.is_timeout() {
        return "the VPCEP endpoint did not answer in time: check the network path (VPC, NAT, proxy) and WARDEN_HTTP_TIMEOUT_SECS".into();
    }
    match error.status() {
        Some(401) => {
            let signature = code.eq_ignore_ascii_case("APIGW.0301") || message.contains("signature");
            let about_time = CLOCK_WORDS.iter().any(|w| message.contains(w));
            if signature && about_time {
                "the request time was refused: the clock of this machine is off; sync it (NTP), signatures are accepted within 15 minutes".into()
            } else {
                "authentication failed: check HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK (and HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary credentials), WARDEN_AUTH_TOKEN, or the WARDEN_IAM_* password settings".into()
            }
        }
        Some(403) => format!(
            "the credentials lack a permission: grant the user or agency these actions: {}",
            REQUIRED_ACTIONS.join(", ")
        ),
        Some(404) => "not found: check HUAWEICLOUD_SDK_PROJECT_ID (the project must be in the endpoint's region), WARDEN_VPCEP_ENDPOINT and WARDEN_SERVICE_IDS".into(),
        Some(status) if status == 429 || status >= 500 || error.is_retryable() => {
            "the API is busy or failing: try again later; if it persists, check the service status".into()
        }
        Some(_) => "the API refused the request: see its error code and message above".into(),
        None => "see the error above".into(),
    }
}

/// What to fix when the organization cannot be read: the permission or
/// setting missing, judged from how the call failed. Organizations answers
/// 401 `Organizations.1001` / `Organizations.1002` to an account that is
/// neither the management account nor a delegated administrator (its API
/// reference, "Error Codes"); an IAM policy without the actions gets 403.
pub fn organization_hint(error: &ApiError) -> String {
    if error.is_connect() || error.is_timeout() {
        return "the Organizations API cannot be reached: check WARDEN_ORGANIZATIONS_ENDPOINT (default https://organizations.myhuaweicloud.com) and the network path to it".into();
    }
    let code = error.error_code().unwrap_or_default();
    if code.eq_ignore_ascii_case("Organizations.1001")
        || code.eq_ignore_ascii_case("Organizations.1002")
    {
        return "run the warden (or the target's agency) in the organization's management account or in a delegated administrator account: only they may list its roots, units and accounts".into();
    }
    match error.status() {
        Some(401) => hint(error),
        Some(403) => format!(
            "grant the warden's user (or the target's agency) {}; the account must be the organization's management account or a delegated administrator",
            ORGANIZATIONS_ACTIONS.join(", ")
        ),
        Some(404) => "no organization was found: the warden's account (or the target's) must belong to an organization, and WARDEN_ORGANIZATIONS_ENDPOINT must be the Organizations API".into(),
        Some(status) if status == 429 || status >= 500 || error.is_retryable() => {
            "the Organizations API is busy or failing: the next run tries again".into()
        }
        Some(_) => "the Organizations API refused the request: see its error code and message".into(),
        None if error.is_retryable() => "the Organizations API could not be read in time: the next run tries again".into(),
        None => "the Organizations API's answer was not understood: check WARDEN_ORGANIZATIONS_ENDPOINT".into(),
    }
}
