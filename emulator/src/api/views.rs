//! Typed views of endpoints and connections, serialized straight to bytes:
//! list pages hold up to 1,000 of them, and building a `serde_json::Value`
//! per item would cost more than the rest of the request.

use serde::Serialize;

use super::wire::{ApiError, Reply};
use crate::state::{format_time, Endpoint, EpStatus, State};

/// The `error` entry of a failed endpoint (the reference's `QueryError`).
#[derive(Debug, Serialize)]
struct QueryError {
    error_code: &'static str,
    error_message: &'static str,
}

fn failure(e: &Endpoint) -> Option<[QueryError; 1]> {
    (e.status == EpStatus::Failed).then_some([QueryError {
        error_code: "EndPoint.2022",
        error_message: "Failed to create an endpoint.",
    }])
}

/// A connection, as the connections APIs show it.
#[derive(Debug, Serialize)]
pub(super) struct ConnectionView<'a> {
    id: &'a str,
    marker_id: u64,
    domain_id: &'a str,
    status: &'static str,
    created_at: String,
    updated_at: String,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<[QueryError; 1]>,
}

impl<'a> ConnectionView<'a> {
    /// The view of the endpoint `e` from its service's owner: its
    /// `description` is the owner's note on the connection, not the
    /// consumer's description of the endpoint.
    pub fn of(e: &'a Endpoint) -> Self {
        Self {
            id: &e.id,
            marker_id: e.marker_id,
            domain_id: &e.domain_id,
            status: e.status.as_str(),
            created_at: format_time(e.created_at),
            updated_at: format_time(e.updated_at),
            description: &e.connection_description,
            error: failure(e),
        }
    }
}

#[derive(Debug, Serialize)]
struct TagView<'a> {
    key: &'a str,
    value: &'a str,
}

/// An endpoint, as its owner sees it.
#[derive(Debug, Serialize)]
pub(super) struct EndpointView<'a> {
    id: &'a str,
    service_type: &'a str,
    status: &'static str,
    active_status: [&'static str; 1],
    endpoint_service_name: &'a str,
    marker_id: u64,
    endpoint_service_id: &'a str,
    enable_dns: bool,
    dns_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<&'a str>,
    vpc_id: &'a str,
    subnet_id: &'a str,
    created_at: String,
    updated_at: String,
    project_id: &'a str,
    tags: Vec<TagView<'a>>,
    whitelist: &'a [String],
    enable_whitelist: bool,
    routetables: [&'static str; 0],
    description: &'a str,
    enable_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<[QueryError; 1]>,
}

impl<'a> EndpointView<'a> {
    /// The view of `e`; the service's name and type come from `state`.
    pub fn of(state: &'a State, e: &'a Endpoint) -> Self {
        let service_type = state
            .services
            .get(&e.service_id)
            .map_or("interface", |s| s.service_type.as_str());
        let shows_ip = matches!(e.status, EpStatus::Accepted | EpStatus::Rejected);
        Self {
            id: &e.id,
            service_type,
            status: e.status.as_str(),
            active_status: ["active"],
            endpoint_service_name: state.service_name(&e.service_id),
            marker_id: e.marker_id,
            endpoint_service_id: &e.service_id,
            enable_dns: e.enable_dns,
            dns_names: if e.enable_dns {
                vec![format!("{}.vpcep.local", e.id)]
            } else {
                Vec::new()
            },
            ip: shows_ip.then_some(e.ip.as_str()),
            vpc_id: &e.vpc_id,
            subnet_id: &e.subnet_id,
            created_at: format_time(e.created_at),
            updated_at: format_time(e.updated_at),
            project_id: &e.project_id,
            tags: e
                .tags
                .iter()
                .map(|t| TagView {
                    key: &t.key,
                    value: &t.value,
                })
                .collect(),
            whitelist: &e.whitelist,
            enable_whitelist: e.enable_whitelist,
            routetables: [],
            description: &e.description,
            enable_status: "enable",
            error: failure(e),
        }
    }
}

/// `{"<key>": [items...], "total_count": total}`.
pub(super) fn page<T: Serialize>(key: &str, items: &[T], total: usize) -> Result<Reply, ApiError> {
    let items = serialize(items)?;
    let mut out = Vec::with_capacity(items.len() + key.len() + 32);
    out.extend_from_slice(b"{");
    out.extend_from_slice(&serialize(&key)?);
    out.push(b':');
    out.extend_from_slice(&items);
    out.extend_from_slice(b",\"total_count\":");
    out.extend_from_slice(total.to_string().as_bytes());
    out.push(b'}');
    Ok(Reply::raw(out))
}

/// `{"<key>": [items...]}`.
pub(super) fn page_without_total<T: Serialize>(key: &str, items: &[T]) -> Result<Reply, ApiError> {
    let mut out = b"{".to_vec();
    out.extend_from_slice(&serialize(&key)?);
    out.push(b':');
    out.extend_from_slice(&serialize(items)?);
    out.push(b'}');
    Ok(Reply::raw(out))
}

/// One item as the whole answer.
pub(super) fn one<T: Serialize>(item: &T) -> Result<Reply, ApiError> {
    serialize(item).map(Reply::raw)
}

fn serialize<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "EndPoint.0001",
            format!("System error: {e}"),
        )
    })
}
