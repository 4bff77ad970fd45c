//! The records the emulator keeps: accounts, services, endpoints, whitelist
//! records, and the statuses they go through.

use time::{format_description::BorrowedFormatItem, macros::format_description, OffsetDateTime};

const TIME_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Formats a time as the API does: `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub(crate) fn format_time(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIME_FORMAT)
        .unwrap_or_default()
}

/// An account that may call the API.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub name: String,
    pub domain_id: String,
    pub project_id: String,
    pub ak: String,
    pub sk: String,
    pub token: Option<String>,
    pub domain_token: Option<String>,
    pub temporary: Vec<Temporary>,
    /// Agencies other accounts may assume to act for this one.
    pub agencies: Vec<crate::scenario::AgencySpec>,
}

/// A temporary AK/SK of an account, valid with its security token until `expires_at`.
#[derive(Debug, Clone)]
pub(crate) struct Temporary {
    pub ak: String,
    pub sk: String,
    pub security_token: String,
    pub expires_at: OffsetDateTime,
}

/// The status of a VPC endpoint, which is also the status of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EpStatus {
    PendingAcceptance,
    Creating,
    Accepted,
    Rejected,
    Failed,
    Deleting,
}

impl EpStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingAcceptance => "pendingAcceptance",
            Self::Creating => "creating",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Deleting => "deleting",
        }
    }

    /// Parses the API's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::PendingAcceptance,
            Self::Creating,
            Self::Accepted,
            Self::Rejected,
            Self::Failed,
            Self::Deleting,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// The status of an endpoint service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SvcStatus {
    Creating,
    Available,
    Failed,
    Deleting,
}

impl SvcStatus {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Failed => "failed",
            Self::Deleting => "deleting",
        }
    }

    /// Parses the API's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Creating,
            Self::Available,
            Self::Failed,
            Self::Deleting,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Where a transition leads once its time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next<S> {
    /// The record takes this status.
    To(S),
    /// The record disappears.
    Gone,
}

/// A transition in progress: the record shows its transitional status until
/// the queue entry with the same `seq` is due.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending<S> {
    pub next: Next<S>,
    pub seq: u64,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    pub key: String,
    pub value: String,
}

/// A VPC endpoint; seen from the service's owner it is a connection.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub id: String,
    pub service_id: String,
    pub domain_id: String,
    pub project_id: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub ip: String,
    pub marker_id: u64,
    pub enable_dns: bool,
    pub tags: Vec<Tag>,
    pub whitelist: Vec<String>,
    pub enable_whitelist: bool,
    /// The consumer's own description of its endpoint.
    pub description: String,
    /// The service owner's note on the connection, shown as `description` by
    /// the connections APIs; separate from the endpoint's `description`.
    pub connection_description: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub status: EpStatus,
    pub pending: Option<Pending<EpStatus>>,
}

impl Default for Endpoint {
    /// An `accepted` endpoint with empty ids, no tags, no whitelist, created at the epoch.
    fn default() -> Self {
        Self {
            id: String::new(),
            service_id: String::new(),
            domain_id: String::new(),
            project_id: String::new(),
            vpc_id: String::new(),
            subnet_id: String::new(),
            ip: String::new(),
            marker_id: 0,
            enable_dns: false,
            tags: Vec::new(),
            whitelist: Vec::new(),
            enable_whitelist: false,
            description: String::new(),
            connection_description: String::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            status: EpStatus::Accepted,
            pending: None,
        }
    }
}

/// One port mapping of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Port {
    pub client_port: u16,
    pub server_port: u16,
    pub protocol: String,
}

/// A whitelist record of a service.
#[derive(Debug, Clone)]
pub(crate) struct Permission {
    pub id: String,
    pub permission: String,
    pub description: String,
    pub created_at: OffsetDateTime,
}

/// An endpoint service.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub id: String,
    pub owner_domain: String,
    pub owner_project: String,
    pub owner_name: String,
    pub service_name: String,
    pub port_id: String,
    pub vpc_id: String,
    pub server_type: String,
    pub service_type: String,
    pub approval_enabled: bool,
    pub ports: Vec<Port>,
    pub tcp_proxy: String,
    pub description: String,
    pub public: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub status: SvcStatus,
    pub pending: Option<Pending<SvcStatus>>,
    /// Slots of the endpoints connected to it, in creation order.
    pub connections: Vec<u32>,
    pub permissions: Vec<Permission>,
}

impl Service {
    /// Whether an account of `domain_id` may connect: the owner always; others
    /// when the service has no whitelist records, or one of them is `*`,
    /// `iam:domain::*` or `iam:domain::{domain_id}`, or, for a member of
    /// `organization`, an `organizations:orgPath::` or `iam:domainName::`
    /// record that admits it.
    pub fn admits(&self, domain_id: &str, organization: Option<&super::Organization>) -> bool {
        domain_id == self.owner_domain
            || self.permissions.is_empty()
            || self.permissions.iter().any(|p| {
                let entry = p.permission.as_str();
                entry == "*"
                    || entry
                        .strip_prefix("iam:domain::")
                        .is_some_and(|d| d == "*" || d == domain_id)
                    || organization.is_some_and(|o| o.admits(entry, domain_id))
            })
    }
}

/// Something listed with `sort_key` / `sort_dir`.
pub(crate) trait Listed {
    fn id(&self) -> &str;
    fn created_at(&self) -> OffsetDateTime;
    fn updated_at(&self) -> OffsetDateTime;
}

impl Listed for Endpoint {
    fn id(&self) -> &str {
        &self.id
    }
    fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl Listed for Service {
    fn id(&self) -> &str {
        &self.id
    }
    fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.updated_at
    }
}

impl Listed for Permission {
    fn id(&self) -> &str {
        &self.id
    }
    fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
    fn updated_at(&self) -> OffsetDateTime {
        self.created_at
    }
}
