//! Endpoint services: create, show, update, delete, list, describe, public list.
//!
//! A service is visible (show, update, delete, list) to its owner's project
//! only; `describe` finds any service by id or name, for any caller, and shows
//! only its basic information, as the real API does for would-be consumers.

use serde::Deserialize;
use serde_json::{json, Value};

use super::paging::{fuzzy, sort_page, Page, Query, Sort};
use super::wire::{lenient_bool, lenient_port, parse_body, ApiError, Reply};
use super::Ctx;
use crate::state::{format_time, new_uuid, EpStatus, Next, Port, Service, State, SvcStatus};

/// The full form of a service, as show, list, create and update answer it.
pub(super) fn render(state: &State, s: &Service) -> Value {
    let connection_count = state
        .connections_of(s)
        .filter(|e| matches!(e.status, EpStatus::Accepted | EpStatus::Creating))
        .count();
    let ports: Vec<Value> = s
        .ports
        .iter()
        .map(|p| json!({"client_port": p.client_port, "server_port": p.server_port, "protocol": p.protocol}))
        .collect();
    let mut out = json!({
        "id": s.id, "port_id": s.port_id, "vpc_id": s.vpc_id, "status": s.status.as_str(),
        "approval_enabled": s.approval_enabled, "service_name": s.service_name,
        "service_type": s.service_type, "server_type": s.server_type, "project_id": s.owner_project,
        "created_at": format_time(s.created_at), "updated_at": format_time(s.updated_at),
        "ports": ports, "tcp_proxy": s.tcp_proxy, "description": s.description,
        "connection_count": connection_count, "enable_policy": false, "tags": []
    });
    if s.status == SvcStatus::Failed {
        // The reference's Error object has `error_code` and `error_message`;
        // the official SDK's model (`Error`) reads `code` and `message`.
        // Both are sent, so that a client built on either finds the cause.
        out["error"] = json!([{
            "error_code": FAILED_SERVICE.0, "error_message": FAILED_SERVICE.1,
            "code": FAILED_SERVICE.0, "message": FAILED_SERVICE.1,
        }]);
    }
    out
}

/// The cause a failed service shows: the reference's code for a service
/// that cannot be used.
const FAILED_SERVICE: (&str, &str) = ("EndPoint.2004", "The endpoint service is unavailable.");

/// The caller's own service `id`.
pub(super) fn owned<'a>(state: &'a State, ctx: &Ctx, id: &str) -> Result<&'a Service, ApiError> {
    state
        .services
        .get(id)
        .filter(|s| s.owner_project == ctx.account.project_id)
        .ok_or_else(|| ApiError::no_service(id))
}

fn status_filter(q: &Query) -> Result<Option<SvcStatus>, ApiError> {
    q.get("status")
        .map(|v| {
            SvcStatus::parse(v).ok_or_else(|| {
                ApiError::bad(
                    "EndPoint.0019",
                    format!(
                        "Invalid status: {v:?}; expected creating, available, failed or deleting"
                    ),
                )
            })
        })
        .transpose()
}

fn matches_filters(s: &Service, q: &Query, status: Option<SvcStatus>) -> bool {
    q.get("endpoint_service_name")
        .is_none_or(|n| fuzzy(&s.service_name, n))
        && q.get("id").is_none_or(|id| s.id == id)
        && status.is_none_or(|st| s.status == st)
}

/// `GET /v1/{project_id}/vpc-endpoint-services`.
pub(super) fn list(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (page, sort) = (
        Page::from_query(ctx.query, 1000)?,
        Sort::from_query(ctx.query)?,
    );
    let status = status_filter(ctx.query)?;
    let items: Vec<&Service> = state
        .services
        .values()
        .filter(|s| s.owner_project == ctx.account.project_id)
        .filter(|s| matches_filters(s, ctx.query, status))
        .collect();
    let (total, items) = sort_page(items, sort, page);
    let items: Vec<Value> = items.into_iter().map(|s| render(state, s)).collect();
    Ok(Reply::ok(
        json!({"endpoint_services": items, "total_count": total}),
    ))
}

/// `GET .../vpc-endpoint-services/public`: the services marked `public` in the scenario.
pub(super) fn list_public(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (page, sort) = (
        Page::from_query(ctx.query, 1000)?,
        Sort::from_query(ctx.query)?,
    );
    let items: Vec<&Service> = state
        .services
        .values()
        .filter(|s| s.public && matches_filters(s, ctx.query, None))
        .collect();
    let (total, items) = sort_page(items, sort, page);
    let items: Vec<Value> = items
        .into_iter()
        .map(|s| {
            let owner = if s.owner_name.is_empty() {
                "vpcep"
            } else {
                &s.owner_name
            };
            json!({"id": s.id, "owner": owner, "service_name": s.service_name,
                   "service_type": s.service_type, "created_at": format_time(s.created_at),
                   "is_charge": false})
        })
        .collect();
    Ok(Reply::ok(
        json!({"endpoint_services": items, "total_count": total}),
    ))
}

/// `GET .../vpc-endpoint-services/describe?id=...|endpoint_service_name=...`.
pub(super) fn describe(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (id, name) = (ctx.query.get("id"), ctx.query.get("endpoint_service_name"));
    if id.is_none() && name.is_none() {
        return Err(ApiError::bad(
            "EndPoint.2029",
            "The requested endpoint service ID is empty: give id or endpoint_service_name",
        ));
    }
    let found = state.services.values().find(|s| {
        id.is_none_or(|id| s.id == id)
            && name.is_none_or(|n| s.service_name.eq_ignore_ascii_case(n))
    });
    let s = found.ok_or_else(|| ApiError::no_service(id.or(name).unwrap_or_default()))?;
    Ok(Reply::ok(json!({
        "id": s.id, "service_name": s.service_name, "service_type": s.service_type,
        "created_at": format_time(s.created_at), "is_charge": false,
        "approval_enabled": s.approval_enabled
    })))
}

/// `GET .../vpc-endpoint-services/{id}`.
pub(super) fn show(state: &mut State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let s = owned(state, ctx, id)?;
    Ok(Reply::ok(render(state, s)))
}

/// The body of create and update; every field is optional here and checked by the handler.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceBody {
    port_id: Option<String>,
    vpc_id: Option<String>,
    service_name: Option<String>,
    approval_enabled: Option<Value>,
    service_type: Option<String>,
    server_type: Option<String>,
    ports: Option<Vec<Value>>,
    tcp_proxy: Option<String>,
    description: Option<String>,
}

fn parse_ports(ports: &[Value]) -> Result<Vec<Port>, ApiError> {
    if ports.is_empty() {
        return Err(ApiError::bad(
            "EndPoint.2028",
            "The endpoint service port or protocol is empty",
        ));
    }
    ports
        .iter()
        .map(|p| {
            let client = lenient_port(&p["client_port"]);
            let server = lenient_port(&p["server_port"]);
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match (client, server, protocol) {
                (Some(client_port), Some(server_port), "TCP" | "UDP") => Ok(Port {
                    client_port,
                    server_port,
                    protocol: protocol.to_owned(),
                }),
                _ => Err(ApiError::bad(
                    "EndPoint.3043",
                    format!("The service port is invalid: {p}; expected client_port and server_port in 1..65535 and protocol TCP or UDP"),
                )),
            }
        })
        .collect()
}

fn approval(body: &ServiceBody) -> Result<Option<bool>, ApiError> {
    body.approval_enabled
        .as_ref()
        .map(|v| {
            lenient_bool(v).ok_or_else(|| {
                ApiError::bad(
                    "EndPoint.0002",
                    format!("Parameter error: approval_enabled must be a boolean, got {v}"),
                )
            })
        })
        .transpose()
}

/// `POST /v1/{project_id}/vpc-endpoint-services`.
pub(super) fn create(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body: ServiceBody = parse_body(ctx.body)?;
    let required = |v: &Option<String>, name: &str| {
        v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
            ApiError::bad(
                "EndPoint.0002",
                format!("Parameter error: {name} is required"),
            )
        })
    };
    let (port_id, vpc_id) = (
        required(&body.port_id, "port_id")?,
        required(&body.vpc_id, "vpc_id")?,
    );
    let server_type = required(&body.server_type, "server_type")?;
    if !matches!(server_type.as_str(), "LB" | "VM" | "VIP" | "BMS") {
        return Err(ApiError::bad(
            "EndPoint.3021",
            format!("Invalid serverType: {server_type:?}"),
        ));
    }
    let ports = parse_ports(body.ports.as_deref().unwrap_or_default())?;
    let (used, _) = state.used(&ctx.account.project_id);
    if used >= state.quotas.endpoint_service {
        return Err(ApiError::bad(
            "Endpoint.1018",
            format!(
                "Quota exceeded: {used} of {} endpoint services are in use",
                state.quotas.endpoint_service
            ),
        ));
    }
    let id = new_uuid(&mut rand::rng());
    let svc = Service {
        service_name: body
            .service_name
            .clone()
            .unwrap_or_else(|| format!("svc-{}", id.chars().take(8).collect::<String>())),
        id: id.clone(),
        owner_domain: ctx.account.domain_id.clone(),
        owner_project: ctx.account.project_id.clone(),
        owner_name: ctx.account.name.clone(),
        port_id,
        vpc_id,
        server_type,
        service_type: body
            .service_type
            .clone()
            .unwrap_or_else(|| "interface".into()),
        approval_enabled: approval(&body)?.unwrap_or(true),
        ports,
        tcp_proxy: body.tcp_proxy.clone().unwrap_or_else(|| "close".into()),
        description: body.description.clone().unwrap_or_default(),
        public: false,
        created_at: ctx.now,
        updated_at: ctx.now,
        status: SvcStatus::Creating,
        pending: None,
        connections: Vec::new(),
        permissions: Vec::new(),
    };
    state.services.insert(id.clone(), svc);
    let next = Next::To(SvcStatus::Available);
    state.transition_service(&id, SvcStatus::Creating, next, ctx.now, ctx.transition);
    show(state, ctx, &id)
}

/// `PUT .../vpc-endpoint-services/{id}`.
pub(super) fn update(state: &mut State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    owned(state, ctx, id)?;
    let body: ServiceBody = parse_body(ctx.body)?;
    let approval = approval(&body)?;
    let ports = body.ports.as_deref().map(parse_ports).transpose()?;
    let Some(svc) = state.services.get_mut(id) else {
        return Err(ApiError::no_service(id));
    };
    if svc.status == SvcStatus::Deleting {
        return Err(ApiError::bad(
            "EndPoint.3045",
            "Other properties cannot be modified in the current endpoint service state",
        ));
    }
    if let Some(a) = approval {
        svc.approval_enabled = a;
    }
    if let Some(p) = ports {
        svc.ports = p;
    }
    for (field, value) in [
        (&mut svc.service_name, body.service_name),
        (&mut svc.port_id, body.port_id),
        (&mut svc.tcp_proxy, body.tcp_proxy),
        (&mut svc.description, body.description),
    ] {
        if let Some(v) = value {
            *field = v;
        }
    }
    svc.updated_at = ctx.now;
    show(state, ctx, id)
}

/// `DELETE .../vpc-endpoint-services/{id}`: refused while endpoints are
/// pending, creating or accepted (`EndPoint.3006`).
pub(super) fn delete(state: &mut State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let svc = owned(state, ctx, id)?;
    if svc.status == SvcStatus::Deleting {
        return Ok(Reply::no_content());
    }
    let in_use = state.connections_of(svc).any(|e| {
        matches!(
            e.status,
            EpStatus::PendingAcceptance | EpStatus::Creating | EpStatus::Accepted
        )
    });
    if in_use {
        return Err(ApiError::bad(
            "EndPoint.3006",
            "The endpoint service is being used: delete or reject its endpoints first",
        ));
    }
    state.transition_service(id, SvcStatus::Deleting, Next::Gone, ctx.now, ctx.transition);
    Ok(Reply::no_content())
}
