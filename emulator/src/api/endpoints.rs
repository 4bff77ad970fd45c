//! VPC endpoints (create, show, delete, list) and quotas.
//!
//! An endpoint is visible to its owner's project. Creating one for another
//! account's service makes it a connection of that service, with the
//! creator's `domain_id`. Whitelists: a service with no whitelist records
//! admits every account; one with records admits its owner, the listed
//! domains and everyone when `*` (or `iam:domain::*`) is listed; others get
//! 400 `EndPoint.2012`.

use serde::Deserialize;
use serde_json::{json, Value};

use super::paging::{fuzzy, sort_page, Page, Sort};
use super::views::{self, EndpointView};
use super::wire::{lenient_bool, parse_body, ApiError, Reply};
use super::Ctx;
use crate::state::{ip_for, new_uuid, Endpoint, EpStatus, Next, State, SvcStatus, Tag};

/// The caller's own endpoint `id`, by slot.
fn owned_slot(state: &State, ctx: &Ctx, id: &str) -> Result<u32, ApiError> {
    state
        .endpoint_slot(id)
        .filter(|s| {
            state
                .endpoint(*s)
                .is_some_and(|e| e.project_id == ctx.account.project_id)
        })
        .ok_or_else(|| ApiError::no_endpoint(id))
}

/// `GET /v1/{project_id}/vpc-endpoints` with `endpoint_service_name`, `vpc_id`, `id` filters.
pub(super) fn list(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (page, sort) = (
        Page::from_query(ctx.query, 1000)?,
        Sort::from_query(ctx.query)?,
    );
    let q = ctx.query;
    let items: Vec<&Endpoint> = state
        .endpoints_of(&ctx.account.project_id)
        .filter(|e| q.get("id").is_none_or(|id| e.id == id))
        .filter(|e| q.get("vpc_id").is_none_or(|v| e.vpc_id == v))
        .filter(|e| {
            q.get("endpoint_service_name")
                .is_none_or(|n| fuzzy(state.service_name(&e.service_id), n))
        })
        .collect();
    let (total, items) = sort_page(items, sort, page);
    let items: Vec<EndpointView> = items
        .into_iter()
        .map(|e| EndpointView::of(state, e))
        .collect();
    views::page("endpoints", &items, total)
}

/// `GET /v1/{project_id}/vpc-endpoints/{id}`.
pub(super) fn show(state: &mut State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let slot = owned_slot(state, ctx, id)?;
    let e = state
        .endpoint(slot)
        .ok_or_else(|| ApiError::no_endpoint(id))?;
    views::one(&EndpointView::of(state, e))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateBody {
    endpoint_service_id: Option<String>,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    enable_dns: Option<Value>,
    enable_whitelist: Option<Value>,
    whitelist: Vec<String>,
    tags: Vec<TagBody>,
    port_ip: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TagBody {
    key: String,
    value: String,
}

fn flag(v: Option<&Value>, name: &str, code: &'static str) -> Result<bool, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(v) => lenient_bool(v).ok_or_else(|| {
            ApiError::bad(
                code,
                format!("The entered parameter {name} is invalid: {v}"),
            )
        }),
    }
}

/// `POST /v1/{project_id}/vpc-endpoints`.
pub(super) fn create(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let body: CreateBody = parse_body(ctx.body)?;
    let service_id = body
        .endpoint_service_id
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::bad(
                "EndPoint.2029",
                "The requested endpoint service ID is empty",
            )
        })?;
    let vpc_id = body
        .vpc_id
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("EndPoint.2011", "The input parameter VPC ID is empty"))?;
    let enable_dns = flag(body.enable_dns.as_ref(), "enable_dns", "EndPoint.2033")?;
    let enable_whitelist = flag(
        body.enable_whitelist.as_ref(),
        "enable_whitelist",
        "EndPoint.0002",
    )?;
    if body.tags.iter().any(|t| t.key.is_empty()) {
        return Err(ApiError::bad("EndPoint.3066", "The tag cannot be empty"));
    }
    let svc = state
        .services
        .get(&service_id)
        .ok_or_else(|| ApiError::no_service(&service_id))?;
    if svc.status != SvcStatus::Available {
        return Err(ApiError::bad(
            "EndPoint.2004",
            format!(
                "The endpoint service is unavailable: it is {}",
                svc.status.as_str()
            ),
        ));
    }
    if !svc.admits(&ctx.account.domain_id, state.organization.as_ref()) {
        return Err(ApiError::bad(
            "EndPoint.2012",
            "You have no permission to connect to the VPC endpoint service",
        ));
    }
    let final_status = if svc.approval_enabled {
        EpStatus::PendingAcceptance
    } else {
        EpStatus::Accepted
    };
    let (_, used) = state.used(&ctx.account.project_id);
    if used >= state.quotas.endpoint {
        return Err(ApiError::bad(
            "Endpoint.1018",
            format!(
                "Quota exceeded: {used} of {} endpoints are in use",
                state.quotas.endpoint
            ),
        ));
    }
    let marker_id = state.take_marker();
    let id = new_uuid(&mut rand::rng());
    let ep = Endpoint {
        id: id.clone(),
        service_id,
        domain_id: ctx.account.domain_id.clone(),
        project_id: ctx.account.project_id.clone(),
        vpc_id,
        subnet_id: body.subnet_id.unwrap_or_default(),
        ip: body.port_ip.unwrap_or_else(|| ip_for(marker_id)),
        marker_id,
        enable_dns,
        tags: body
            .tags
            .into_iter()
            .map(|t| Tag {
                key: t.key,
                value: t.value,
            })
            .collect(),
        whitelist: body.whitelist,
        enable_whitelist,
        description: body.description.unwrap_or_default(),
        created_at: ctx.now,
        updated_at: ctx.now,
        status: EpStatus::Creating,
        ..Endpoint::default()
    };
    let slot = state.insert_endpoint(ep);
    state.transition_endpoint(
        slot,
        EpStatus::Creating,
        Next::To(final_status),
        ctx.now,
        ctx.transition,
    );
    show(state, ctx, &id)
}

/// `DELETE /v1/{project_id}/vpc-endpoints/{id}`: `deleting` for the transition time, then gone.
pub(super) fn delete(state: &mut State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let slot = owned_slot(state, ctx, id)?;
    let e = state
        .endpoint(slot)
        .ok_or_else(|| ApiError::no_endpoint(id))?;
    let accepting = e
        .pending
        .is_some_and(|p| p.next == Next::To(EpStatus::Accepted));
    match e.status {
        EpStatus::Deleting => Err(ApiError::bad(
            "EndPoint.2018",
            format!("The endpoint is being deleted: {id}"),
        )),
        EpStatus::Creating if !accepting => Err(ApiError::bad(
            "EndPoint.2019",
            format!("The endpoint is being created: {id}"),
        )),
        _ => {
            state.transition_endpoint(
                slot,
                EpStatus::Deleting,
                Next::Gone,
                ctx.now,
                ctx.transition,
            );
            Ok(Reply::no_content())
        }
    }
}

/// `GET /v1/{project_id}/quotas?type=endpoint|endpoint_service`.
pub(super) fn quotas(state: &mut State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let (services, endpoints) = state.used(&ctx.account.project_id);
    let all = [
        ("endpoint_service", services, state.quotas.endpoint_service),
        ("endpoint", endpoints, state.quotas.endpoint),
    ];
    let kind = ctx.query.get("type");
    if let Some(k) = kind.filter(|k| !all.iter().any(|(t, _, _)| t == k)) {
        return Err(ApiError::bad(
            "EndPoint.3070",
            format!("Invalid resource type: {k:?}; expected endpoint or endpoint_service"),
        ));
    }
    let resources: Vec<Value> = all
        .iter()
        .filter(|(t, _, _)| kind.is_none_or(|k| k == *t))
        .map(|(t, used, quota)| json!({"type": t, "used": used, "quota": quota}))
        .collect();
    Ok(Reply::ok(json!({"quotas": {"resources": resources}})))
}
