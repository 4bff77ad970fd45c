//! The VPCEP resources the warden reads, as the API sends them.
//!
//! Reading is lenient (see [`super::lenient`]): fields the warden does not use
//! are ignored, missing fields take defaults where a default is meaningful,
//! and the string-or-number variants of the API's own examples all decode.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::lenient;

/// An endpoint service of ours (GET `/v1/{project_id}/vpc-endpoint-services[/{id}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointService {
    /// The service ID.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The service name.
    #[serde(default, deserialize_with = "lenient::string")]
    pub service_name: String,
    /// `creating`, `available`, `failed` or `deleting`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// Whether connections wait for approval (`pendingAcceptance`).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub approval_enabled: bool,
    /// `interface` or `gateway`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub service_type: String,
    /// Backend type: `LB`, `VM`, `VIP`, `BMS`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub server_type: String,
    /// The owner's account, when sent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub domain_id: Option<String>,
    /// The owner's project, when sent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub project_id: Option<String>,
    /// The backend VPC.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub vpc_id: Option<String>,
    /// Number of creating or accepted endpoints, when sent.
    #[serde(default, deserialize_with = "lenient::opt_count")]
    pub connection_count: Option<u64>,
    /// Port mappings.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub ports: Vec<Port>,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ` (see [`parse_time`]).
    #[serde(default, deserialize_with = "lenient::string")]
    pub created_at: String,
    /// Update time.
    #[serde(default, deserialize_with = "lenient::string")]
    pub updated_at: String,
    /// Why the service failed, when it did.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub error: Vec<EndpointError>,
}

/// A port mapping of an endpoint service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// The port the endpoint offers.
    #[serde(default, deserialize_with = "lenient::opt_count")]
    pub client_port: Option<u64>,
    /// The port of the backend.
    #[serde(default, deserialize_with = "lenient::opt_count")]
    pub server_port: Option<u64>,
    /// `TCP` (or `UDP`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub protocol: String,
}

/// A consumer endpoint's connection to one of our services
/// (GET `.../vpc-endpoint-services/{id}/connections`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The consumer's endpoint ID.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// The packet ID of the endpoint (a number or a string on the wire).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub marker_id: Option<String>,
    /// The consumer's account.
    #[serde(default, deserialize_with = "lenient::string")]
    pub domain_id: String,
    /// `pendingAcceptance`, `creating`, `accepted`, `rejected`, `failed`, `deleting`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// Creation time.
    #[serde(default, deserialize_with = "lenient::string")]
    pub created_at: String,
    /// Update time.
    #[serde(default, deserialize_with = "lenient::string")]
    pub updated_at: String,
    /// The connection's description, when set.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    /// Why the connection failed, when it did.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub error: Vec<EndpointError>,
}

/// A whitelist record of a service (GET `.../vpc-endpoint-services/{id}/permissions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// The record ID.
    #[serde(default, deserialize_with = "lenient::string")]
    pub id: String,
    /// `iam:domain::DOMAIN_ID`, an organization path, or `*` (everyone).
    #[serde(default, deserialize_with = "lenient::string")]
    pub permission: String,
    /// `domainId` or `orgPath`, when sent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub permission_type: Option<String>,
    /// The record's description, when set.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    /// When the record was added.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub created_at: Option<String>,
}

impl Permission {
    /// The account this record allows: `Some(ID)` for `iam:domain::ID`; `None`
    /// for `*` and every other form, which never name one account.
    pub fn domain_id(&self) -> Option<&str> {
        self.permission
            .trim()
            .strip_prefix("iam:domain::")
            .filter(|id| !id.is_empty() && !id.contains('*'))
    }
}

/// A VPC endpoint of ours (GET `/v1/{project_id}/vpc-endpoints[/{id}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The endpoint ID.
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    /// `pendingAcceptance`, `creating`, `accepted`, `rejected`, `failed`, `deleting`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub status: String,
    /// The service it connects to.
    #[serde(default, deserialize_with = "lenient::string")]
    pub endpoint_service_id: String,
    /// The name of the service it connects to.
    #[serde(default, deserialize_with = "lenient::string")]
    pub endpoint_service_name: String,
    /// `interface` or `gateway`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub service_type: String,
    /// The packet ID (a number or a string on the wire).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub marker_id: Option<String>,
    /// The owning project, when sent.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub project_id: Option<String>,
    /// The VPC it lives in.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub vpc_id: Option<String>,
    /// Its private IP, for interface endpoints.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub ip: Option<String>,
    /// Whether a private DNS name was created (a boolean or a string on the wire).
    #[serde(default, deserialize_with = "lenient::boolean")]
    pub enable_dns: bool,
    /// Creation time.
    #[serde(default, deserialize_with = "lenient::string")]
    pub created_at: String,
    /// Update time: the gc job's age is measured from it.
    #[serde(default, deserialize_with = "lenient::string")]
    pub updated_at: String,
    /// Resource tags.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub tags: Vec<Tag>,
    /// Why the endpoint failed: absent, one object or a list on the wire.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    pub error: Vec<EndpointError>,
    /// The endpoint's description, when set.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
}

impl Endpoint {
    /// Whether the endpoint carries a tag with this key (any value).
    pub fn has_tag(&self, key: &str) -> bool {
        self.tags.iter().any(|t| t.key == key)
    }
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key.
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    /// The value (may be empty).
    #[serde(default, deserialize_with = "lenient::string")]
    pub value: String,
}

/// Why a resource failed, as the API reports it (`error_code`/`error_message`,
/// or `code`/`message` in newer pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointError {
    /// The error code.
    #[serde(default, alias = "code", deserialize_with = "lenient::string")]
    pub error_code: String,
    /// The error message.
    #[serde(default, alias = "message", deserialize_with = "lenient::string")]
    pub error_message: String,
}

/// One quota of the project (GET `/v1/{project_id}/quotas`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// `endpoint` or `endpoint_service`.
    #[serde(rename = "type", deserialize_with = "lenient::string")]
    pub kind: String,
    /// Resources in use.
    #[serde(default, deserialize_with = "lenient::count")]
    pub used: u64,
    /// The limit; `None` when unlimited (`-1`, as some Huawei APIs send).
    #[serde(default = "no_limit_given", deserialize_with = "lenient::limit")]
    pub quota: Option<u64>,
}

/// An absent `quota` reads as 0, as a `null` one does.
fn no_limit_given() -> Option<u64> {
    Some(0)
}

/// What [`super::Client::connection_action`] does with a pending connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionAction {
    /// Accept it (`receive`).
    Receive,
    /// Reject it (`reject`).
    Reject,
}

impl ConnectionAction {
    /// The wire value: `receive` or `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receive => "receive",
            Self::Reject => "reject",
        }
    }
}

/// Parses the API's timestamps: `YYYY-MM-DDTHH:MM:SSZ`, RFC 3339 with an
/// offset or fractional seconds, and the zone-less `YYYY-MM-DDTHH:MM:SS[.fff]`
/// some pages show (read as UTC). `None` when the text is none of these.
pub fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let naive = text.strip_suffix('Z').unwrap_or(text);
    let format = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(naive, format)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_in_every_documented_form_parse() {
        let want = datetime!(2018-01-30 07:42:01 UTC);
        assert_eq!(parse_time("2018-01-30T07:42:01Z"), Some(want));
        assert_eq!(parse_time("2018-01-30T07:42:01+00:00"), Some(want));
        assert_eq!(parse_time("2018-01-30T08:42:01+01:00"), Some(want));
        assert_eq!(parse_time("2018-01-30T07:42:01"), Some(want));
        assert_eq!(
            parse_time("2018-01-30T07:42:01.174"),
            Some(datetime!(2018-01-30 07:42:01.174 UTC))
        );
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn only_domain_records_name_an_account() {
        let p = |s: &str| Permission {
            id: String::new(),
            permission: s.into(),
            permission_type: None,
            description: None,
            created_at: None,
        };
        assert_eq!(p("iam:domain::abc").domain_id(), Some("abc"));
        assert_eq!(p("*").domain_id(), None);
        assert_eq!(p("iam:domain::").domain_id(), None);
        assert_eq!(p("iam:domain::*").domain_id(), None);
        assert_eq!(p("organizations:orgPath::o-1").domain_id(), None);
    }
}
