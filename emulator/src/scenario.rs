//! The scenario file: who the accounts are and what the estate holds when the
//! emulator starts (or when `POST /__admin/scenario` replaces it).
//!
//! Every field but `accounts` is optional; ids, timestamps and statuses get
//! defaults when absent. Unknown fields are ignored so that scenario files
//! can carry notes for other tools.

use serde::{Deserialize, Serialize};

use crate::Error;

/// A whole scenario: accounts, quotas, an explicit estate and an optional generated one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    /// The accounts that may call the API. At least one is required.
    pub accounts: Vec<AccountSpec>,
    /// Per-account quotas (the same for every account).
    pub quotas: Option<QuotaSpec>,
    /// Endpoint services, each with its connections.
    pub services: Vec<ServiceSpec>,
    /// VPC endpoints owned by the accounts.
    pub endpoints: Vec<EndpointSpec>,
    /// A large generated estate added after the explicit one (see [`GenerateSpec`]).
    pub generate: Option<GenerateSpec>,
    /// The organization the accounts belong to, answered by the
    /// Organizations API routes (see [`OrganizationSpec`]).
    pub organization: Option<OrganizationSpec>,
}

impl Scenario {
    /// Parses a scenario from its JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, Error> {
        let scenario: Scenario = serde_json::from_str(text)?;
        if scenario.accounts.is_empty() {
            return Err(Error::Scenario(
                "`accounts` must name at least one account".into(),
            ));
        }
        Ok(scenario)
    }
}

/// An account: its names, its project and its credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSpec {
    /// The name other entries use as `owner`.
    pub name: String,
    /// The account (domain) id, shown as `domain_id` in connections.
    pub domain_id: String,
    /// The project id that appears in the API paths.
    pub project_id: String,
    /// The access key.
    pub ak: String,
    /// The secret key; never shown by the admin routes.
    pub sk: String,
    /// An IAM token accepted in `X-Auth-Token`, when set: scoped to the
    /// project, as VPCEP needs it.
    pub token: Option<String>,
    /// An IAM token scoped to the account (domain), as IAM's agency
    /// hand-off needs it: accepted there, where `token` is refused.
    pub domain_token: Option<String>,
    /// Temporary credentials (as IAM's `securitytokens` API hands out) that
    /// act for this account besides its permanent `ak` / `sk`.
    pub temporary: Vec<TemporarySpec>,
    /// Agencies of this account that other accounts may assume through
    /// IAM's `POST /v3.0/OS-CREDENTIAL/securitytokens`.
    pub agencies: Vec<AgencySpec>,
}

/// An agency: the account `trusted_domain_id` may assume it and act for
/// the account that holds it, with temporary credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgencySpec {
    /// The agency's name, as `agency_name` gives it.
    pub name: String,
    /// The account (domain) id allowed to assume it.
    pub trusted_domain_id: String,
    /// How long the credentials it hands out last, in seconds, whatever the
    /// caller asks for (default: the `duration_seconds` asked, else 900).
    pub duration_seconds: Option<u64>,
}

/// A temporary AK/SK: requests signed with `ak` must carry `security_token`
/// in a signed `X-Security-Token` header, and are refused after `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporarySpec {
    /// The temporary access key (unique among all access keys).
    pub ak: String,
    /// Its secret key; never shown by the admin routes.
    pub sk: String,
    /// The security token that must accompany every request.
    pub security_token: String,
    /// When it stops working, RFC 3339 (`2026-01-01T00:00:00Z`).
    pub expires_at: String,
}

/// Quotas per account; absent values take the defaults below.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaSpec {
    /// VPC endpoints per account (default [`DEFAULT_ENDPOINT_QUOTA`]).
    pub endpoint: Option<u64>,
    /// Endpoint services per account (default [`DEFAULT_SERVICE_QUOTA`]).
    pub endpoint_service: Option<u64>,
}

/// The default VPC endpoint quota per account (the documented example value).
pub const DEFAULT_ENDPOINT_QUOTA: u64 = 150;
/// The default endpoint service quota per account (the documented example value).
pub const DEFAULT_SERVICE_QUOTA: u64 = 20;

/// An endpoint service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    /// Its id (generated when absent).
    pub id: Option<String>,
    /// The owning account's `name` (default: the first account).
    pub owner: Option<String>,
    /// Its name (default `svc-` and the first 8 characters of the id).
    pub service_name: Option<String>,
    /// Whether connections wait for approval (default `true`, as the API's).
    pub approval_enabled: Option<bool>,
    /// `available` (default), `creating`, `failed` or `deleting`.
    pub status: Option<String>,
    /// `LB` (default), `VM`, `VIP` or `BMS`.
    pub server_type: Option<String>,
    /// `interface` (default) or `gateway`.
    pub service_type: Option<String>,
    /// The backend's VPC id (generated when absent).
    pub vpc_id: Option<String>,
    /// The backend's port id (generated when absent).
    pub port_id: Option<String>,
    /// Port mappings (default one TCP mapping 80 -> 80).
    pub ports: Option<Vec<PortSpec>>,
    /// `close` (default), `toa_open`, `proxy_open`, `open` or `proxy_vni`.
    pub tcp_proxy: Option<String>,
    /// A free-text description.
    pub description: Option<String>,
    /// Listed by `GET .../vpc-endpoint-services/public` for every account.
    pub public: bool,
    /// Whitelist records: `iam:domain::DOMAIN_ID`, `*`,
    /// `organizations:orgPath::PATH` or `iam:domainName::PATTERN`.
    pub permissions: Vec<String>,
    /// Connections (VPC endpoints of any account) to this service.
    pub connections: Vec<ConnectionSpec>,
    /// Creation time, RFC 3339 (default: load time).
    pub created_at: Option<String>,
    /// Update time, RFC 3339 (default: `created_at`).
    pub updated_at: Option<String>,
}

/// One port mapping of a service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortSpec {
    /// The port the endpoint listens on.
    pub client_port: u16,
    /// The port of the backend.
    pub server_port: u16,
    /// `TCP` (default) or `UDP`.
    pub protocol: Option<String>,
}

/// A connection: a VPC endpoint of some account connected to the service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionSpec {
    /// The endpoint's id (generated when absent). When an entry of `endpoints`
    /// has the same id, that endpoint is the connection and this entry only links it.
    pub endpoint_id: Option<String>,
    /// The consumer account's domain id (default: a generated unknown domain).
    /// When it is an account's domain, the endpoint belongs to that account.
    pub domain_id: Option<String>,
    /// Default `pendingAcceptance` when the service needs approval, else `accepted`.
    pub status: Option<String>,
    /// The marker id (default: the next free one).
    pub marker_id: Option<u64>,
    /// Creation time, RFC 3339 (default: load time).
    pub created_at: Option<String>,
    /// Update time, RFC 3339 (default: `created_at`).
    pub updated_at: Option<String>,
    /// The endpoint's own description, as its owner (the consumer) sees it
    /// (ignored when `endpoint_id` links an entry of `endpoints`).
    pub description: Option<String>,
    /// The service owner's note on the connection, listed as `description`
    /// by the connections APIs (default empty). When `endpoint_id` links an
    /// entry of `endpoints`, it replaces that entry's `connection_description`.
    pub connection_description: Option<String>,
}

/// A VPC endpoint owned by one of the accounts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EndpointSpec {
    /// Its id (generated when absent).
    pub id: Option<String>,
    /// The owning account's `name` (default: the first account).
    pub owner: Option<String>,
    /// `accepted` (default), `pendingAcceptance`, `creating`, `rejected`, `failed` or `deleting`.
    pub status: Option<String>,
    /// The service it connects to; when that service is in the scenario, the
    /// endpoint shows up in its connections.
    pub endpoint_service_id: Option<String>,
    /// The VPC it lives in (generated when absent).
    pub vpc_id: Option<String>,
    /// Its subnet (generated when absent).
    pub subnet_id: Option<String>,
    /// Its IP address (default: derived from the marker id).
    pub ip: Option<String>,
    /// Whether a private DNS name was created.
    pub enable_dns: bool,
    /// The marker id (default: the next free one).
    pub marker_id: Option<u64>,
    /// Tags.
    pub tags: Vec<TagSpec>,
    /// Creation time, RFC 3339 (default: load time).
    pub created_at: Option<String>,
    /// Update time, RFC 3339 (default: `created_at`).
    pub updated_at: Option<String>,
    /// The endpoint's own description, as its owner (the consumer) sees it.
    pub description: Option<String>,
    /// The service owner's note on the connection, listed as `description`
    /// by the connections APIs (default empty).
    pub connection_description: Option<String>,
}

/// A resource tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TagSpec {
    /// The key.
    pub key: String,
    /// The value (may be empty).
    pub value: String,
}

/// An organization (Huawei Organizations): its roots, organizational units
/// and member accounts. Its management account and delegated administrators
/// may read it all; any member may read the organization itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationSpec {
    /// Its id (default `o-` and 32 generated letters and digits).
    pub id: Option<String>,
    /// The `name` of the account of `accounts` that manages it (default the
    /// first account); it is a member under the first root unless listed.
    pub management_account: Option<String>,
    /// The `name`s of accounts registered as delegated administrators.
    pub delegated_administrators: Vec<String>,
    /// Its roots (default one, named `Root`, holding the management account).
    pub roots: Vec<UnitSpec>,
}

/// A root or an organizational unit, with what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UnitSpec {
    /// Its id (default `r-` or `ou-` and generated letters and digits).
    pub id: Option<String>,
    /// Its name (default: its id).
    pub name: Option<String>,
    /// The organizational units directly in it.
    pub units: Vec<UnitSpec>,
    /// The member accounts directly in it.
    pub accounts: Vec<MemberSpec>,
}

/// A member account: any account (domain) id, with or without credentials here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemberSpec {
    /// The account (domain) id.
    pub domain_id: String,
    /// Its account name (default: the `name` of the account of `accounts`
    /// with this domain id, else the domain id).
    pub name: Option<String>,
}

/// Parameters of a generated estate; the exact rule is documented on
/// [`crate::generate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateSpec {
    /// The random seed: the same seed gives the same ids, domains and statuses.
    pub seed: u64,
    /// Number of services owned by the first account.
    pub services: usize,
    /// Connections per generated service.
    pub connections_per_service: usize,
    /// Share of each service's connections that are `pendingAcceptance`.
    pub pending_ratio: f64,
    /// Domains used round-robin for half of the pending connections.
    pub allowed_domains: Vec<String>,
    /// Number of endpoints owned by the first account.
    pub endpoints: usize,
    /// Share of those endpoints that are `failed`.
    pub failed_ratio: f64,
    /// How long before the load the connections are created, in minutes
    /// (default 7 days): a few minutes makes the waiting ones young enough
    /// to be announced by a scheduled tick.
    pub connection_age_minutes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_needs_accounts_and_ignores_unknown_fields() {
        assert!(Scenario::from_json(r#"{"services": []}"#).is_err());
        assert!(Scenario::from_json("not json").is_err());
        let s = Scenario::from_json(
            r#"{"accounts": [{"name": "a", "domain_id": "d", "project_id": "p",
                "ak": "AK", "sk": "SK"}], "note": "ignored"}"#,
        )
        .unwrap();
        assert_eq!(s.accounts[0].name, "a");
        assert!(s.generate.is_none());
    }
}
