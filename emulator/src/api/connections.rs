//! A service's connections (list, accept/reject, description) and whitelist
//! records (list, add/remove). Only the service's owner may call them.
//!
//! Accepting moves the endpoint (which is the connection) through `creating`
//! to `accepted`; rejecting makes it `rejected` at once. Both change what the
//! consumer sees on its own endpoint, since it is the same record.

use serde::Deserialize;
use serde_json::{json, Value};

use super::paging::{fuzzy, sort_page, Page, Sort};
use super::services::owned;
use super::views::{self, ConnectionView};
use super::wire::{parse_body, ApiError, Reply};
use super::Ctx;
use crate::state::{format_time, new_uuid, Endpoint, EpStatus, Next, Permission, State};

/// `GET .../vpc-endpoint-services/{id}/connections` with `id`, `marker_id`, `status` filters.
pub(super) fn list(state: &mut State, ctx: &Ctx, service_id: &str) -> Result<Reply, ApiError> {
    let svc = owned(state, ctx, service_id)?;
    let (page, sort) = (
        Page::from_query(ctx.query, 1000)?,
        Sort::from_query(ctx.query)?,
    );
    let q = ctx.query;
    let marker = q
        .get("marker_id")
        .map(|m| {
            m.parse::<u64>()
                .map_err(|_| ApiError::bad("EndPoint.0021", format!("Invalid marker_id: {m:?}")))
        })
        .transpose()?;
    let status = q
        .get("status")
        .map(|s| {
            EpStatus::parse(s).ok_or_else(|| {
                ApiError::bad("EndPoint.0019", format!("Invalid status: {s:?}; expected pendingAcceptance, creating, accepted, rejected, failed or deleting"))
            })
        })
        .transpose()?;
    let items: Vec<&Endpoint> = state
        .connections_of(svc)
        .filter(|e| q.get("id").is_none_or(|id| e.id == id))
        .filter(|e| marker.is_none_or(|m| e.marker_id == m))
        .filter(|e| status.is_none_or(|s| e.status == s))
        .collect();
    let (total, items) = sort_page(items, sort, page);
    let items: Vec<ConnectionView> = items.into_iter().map(ConnectionView::of).collect();
    views::page("connections", &items, total)
}

#[derive(Debug, Deserialize)]
struct ActionBody {
    action: Option<String>,
    #[serde(default)]
    endpoints: Vec<String>,
}

/// `POST .../vpc-endpoint-services/{id}/connections/action` (`receive` or `reject`, one endpoint).
pub(super) fn action(state: &mut State, ctx: &Ctx, service_id: &str) -> Result<Reply, ApiError> {
    owned(state, ctx, service_id)?;
    let body: ActionBody = parse_body(ctx.body)?;
    let accept = match body.action.as_deref() {
        Some("receive") => true,
        Some("reject") => false,
        other => {
            return Err(ApiError::bad(
                "EndPoint.2027",
                format!("Invalid action: {other:?}; expected receive or reject"),
            ))
        }
    };
    let [endpoint_id] = body.endpoints.as_slice() else {
        return Err(ApiError::bad(
            "EndPoint.2031",
            format!("Only one endpoint is allowed, got {}", body.endpoints.len()),
        ));
    };
    let slot = connection_slot(state, service_id, endpoint_id)?;
    let Some(ep) = state.endpoint(slot) else {
        return Err(ApiError::no_endpoint(endpoint_id));
    };
    let (shown, next) = decide(ep, accept)?;
    state.transition_endpoint(
        slot,
        shown,
        Next::To(next),
        ctx.now,
        if accept {
            ctx.transition
        } else {
            time::Duration::ZERO
        },
    );
    let ep = state
        .endpoint(slot)
        .ok_or_else(|| ApiError::no_endpoint(endpoint_id))?;
    views::page_without_total("connections", &[ConnectionView::of(ep)])
}

/// The slot of the endpoint `endpoint_id` when it is a connection of the
/// service, else 400 `EndPoint.2013`.
fn connection_slot(state: &State, service_id: &str, endpoint_id: &str) -> Result<u32, ApiError> {
    state
        .endpoint_slot(endpoint_id)
        .filter(|s| {
            state
                .endpoint(*s)
                .is_some_and(|e| e.service_id == service_id)
        })
        .ok_or_else(|| {
            ApiError::bad(
                "EndPoint.2013",
                format!("The endpoint does not belong to the endpoint service: {endpoint_id}"),
            )
        })
}

/// The longest connection description, in characters.
const MAX_DESCRIPTION: usize = 512;

#[derive(Debug, Deserialize)]
struct DescBody {
    connections: Option<Vec<DescItem>>,
}

#[derive(Debug, Deserialize)]
struct DescItem {
    id: Option<String>,
    description: Option<String>,
}

/// Why `description` is not a valid connection description, if it is not.
fn description_problem(description: &str) -> Option<String> {
    let chars = description.chars().count();
    if chars > MAX_DESCRIPTION {
        return Some(format!(
            "it has {chars} characters; expected at most {MAX_DESCRIPTION}"
        ));
    }
    description
        .contains(['<', '>'])
        .then(|| "it contains < or >; expected text without them".to_owned())
}

/// `PUT .../vpc-endpoint-services/{id}/connections/description` with
/// `{"connections": [{"id": ENDPOINT_ID, "description": TEXT}, ...]}`: sets the
/// owner's description of each connection (an empty or absent `description`
/// clears it). Every item is checked before any is changed, so a refused
/// request changes nothing; when an id is named twice the last item wins.
/// Answers `{"connections": [...]}` with each changed connection once, in the
/// order first named.
///
/// The endpoint's `updated_at` is left as it is: the description is the
/// provider's note on the connection, not a change of the endpoint the
/// consumer owns, and `updated_at` drives the consumer's view (and the age of
/// failed endpoints that a gc compares against).
pub(super) fn update_descriptions(
    state: &mut State,
    ctx: &Ctx,
    service_id: &str,
) -> Result<Reply, ApiError> {
    owned(state, ctx, service_id)?;
    let body: DescBody = parse_body(ctx.body)?;
    let items = body.connections.unwrap_or_default();
    if items.is_empty() {
        return Err(ApiError::bad(
            "EndPoint.0002",
            "Parameter error: connections is missing or empty; expected a list of {\"id\": ENDPOINT_ID, \"description\": TEXT}",
        ));
    }
    let mut changes: Vec<(u32, String)> = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Some(id) = item.id.filter(|id| !id.is_empty()) else {
            return Err(ApiError::bad(
                "EndPoint.0002",
                format!("Parameter error: connections[{i}].id is missing; expected the id of an endpoint connected to the service"),
            ));
        };
        let description = item.description.unwrap_or_default();
        if let Some(problem) = description_problem(&description) {
            return Err(ApiError::bad(
                "EndPoint.0002",
                format!("Parameter error: connections[{i}].description is invalid: {problem}"),
            ));
        }
        changes.push((connection_slot(state, service_id, &id)?, description));
    }
    let mut seen = std::collections::HashSet::with_capacity(changes.len());
    let mut order: Vec<u32> = Vec::with_capacity(changes.len());
    for (slot, description) in changes {
        if let Some(ep) = state.endpoint_mut(slot) {
            ep.connection_description = description;
        }
        if seen.insert(slot) {
            order.push(slot);
        }
    }
    let views: Vec<ConnectionView> = order
        .into_iter()
        .filter_map(|slot| state.endpoint(slot))
        .map(ConnectionView::of)
        .collect();
    views::page_without_total("connections", &views)
}

/// What an action does to an endpoint in its current status: the status shown
/// during the transition and the one after it.
fn decide(ep: &Endpoint, accept: bool) -> Result<(EpStatus, EpStatus), ApiError> {
    let accepting = ep
        .pending
        .is_some_and(|p| p.next == Next::To(EpStatus::Accepted));
    let id = &ep.id;
    match ep.status {
        EpStatus::Deleting => Err(ApiError::bad(
            "EndPoint.2018",
            format!("The endpoint is being deleted: {id}"),
        )),
        EpStatus::Failed => Err(ApiError::bad(
            "EndPoint.2022",
            format!(
                "Failed to create an endpoint: {id} is failed and cannot be accepted or rejected"
            ),
        )),
        EpStatus::Creating if !accepting => Err(ApiError::bad(
            "EndPoint.2019",
            format!("The endpoint is being created: {id}"),
        )),
        EpStatus::Accepted | EpStatus::Creating if accept => Err(ApiError::bad(
            "EndPoint.2014",
            format!("The endpoint has connected to the endpoint service: {id}"),
        )),
        _ if accept => Ok((EpStatus::Creating, EpStatus::Accepted)),
        _ => Ok((EpStatus::Rejected, EpStatus::Rejected)),
    }
}

/// `GET .../vpc-endpoint-services/{id}/permissions` with a fuzzy `permission` filter.
pub(super) fn list_permissions(
    state: &mut State,
    ctx: &Ctx,
    service_id: &str,
) -> Result<Reply, ApiError> {
    let svc = owned(state, ctx, service_id)?;
    let (page, sort) = (
        Page::from_query(ctx.query, 500)?,
        Sort::from_query(ctx.query)?,
    );
    let items: Vec<&Permission> = svc
        .permissions
        .iter()
        .filter(|p| {
            ctx.query
                .get("permission")
                .is_none_or(|f| fuzzy(&p.permission, f))
        })
        .collect();
    let (total, items) = sort_page(items, sort, page);
    let items: Vec<Value> = items
        .into_iter()
        .map(|p| {
            let kind = match p.permission.starts_with("organizations:orgPath::") {
                true => "orgPath",
                false => "domainId",
            };
            json!({"id": p.id, "permission": p.permission, "description": p.description,
                        "created_at": format_time(p.created_at), "permission_type": kind})
        })
        .collect();
    Ok(Reply::ok(
        json!({"permissions": items, "total_count": total}),
    ))
}

#[derive(Debug, Deserialize)]
struct PermissionBody {
    action: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

/// Whether `entry` is `*`, `iam:domain::ID` with ID of 1 to 64 letters,
/// digits or `*`, `organizations:orgPath::PATH` with PATH of 1 to 1,024
/// letters, digits, `/`, `-`, `*` or `?`, or `iam:domainName::PATTERN` with
/// PATTERN of 1 to 80 letters, digits or `_+*.-?{},` (the API reference's forms).
fn valid_permission(entry: &str) -> bool {
    let of = |prefix: &str, max: usize, extra: &str| {
        entry.strip_prefix(prefix).is_some_and(|d| {
            (1..=max).contains(&d.len())
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        })
    };
    entry == "*"
        || of("iam:domain::", 64, "*")
        || of("organizations:orgPath::", 1024, "/-*?")
        || of("iam:domainName::", 80, "_+*.-?{},")
}

/// `POST .../vpc-endpoint-services/{id}/permissions/action` (`add` or `remove`).
/// Answers the service's whole whitelist after the change.
pub(super) fn permission_action(
    state: &mut State,
    ctx: &Ctx,
    service_id: &str,
) -> Result<Reply, ApiError> {
    owned(state, ctx, service_id)?;
    let body: PermissionBody = parse_body(ctx.body)?;
    let add = match body.action.as_deref() {
        Some("add") => true,
        Some("remove") => false,
        other => {
            return Err(ApiError::bad(
                "EndPoint.3035",
                format!("Invalid action: {other:?}; expected add or remove"),
            ))
        }
    };
    if body.permissions.is_empty() {
        return Err(ApiError::bad(
            "EndPoint.3036",
            "Invalid permissions: the permission list cannot be empty",
        ));
    }
    if let Some(bad) = body.permissions.iter().find(|p| !valid_permission(p)) {
        return Err(ApiError::bad(
            "EndPoint.3002",
            format!("Invalid permission: {bad:?}; expected iam:domain::DOMAIN_ID, organizations:orgPath::PATH, iam:domainName::PATTERN or *"),
        ));
    }
    let Some(svc) = state.services.get_mut(service_id) else {
        return Err(ApiError::no_service(service_id));
    };
    for entry in &body.permissions {
        let present = svc.permissions.iter().any(|p| &p.permission == entry);
        if add && !present {
            svc.permissions.push(Permission {
                id: new_uuid(&mut rand::rng()),
                permission: entry.clone(),
                description: String::new(),
                created_at: ctx.now,
            });
        } else if !add {
            svc.permissions.retain(|p| &p.permission != entry);
        }
    }
    let all: Vec<&str> = svc
        .permissions
        .iter()
        .map(|p| p.permission.as_str())
        .collect();
    Ok(Reply::ok(json!({ "permissions": all })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_have_the_documented_form() {
        assert!(valid_permission("*"));
        assert!(valid_permission("iam:domain::abc123"));
        assert!(valid_permission("iam:domain::*"));
        assert!(!valid_permission("iam:domain::"));
        assert!(!valid_permission("domain::abc"));
        assert!(!valid_permission("iam:domain::a-b"));
        assert!(valid_permission("organizations:orgPath::o-1/r-2/ou-3/*"));
        assert!(!valid_permission("organizations:orgPath::o_1"));
        assert!(valid_permission("iam:domainName::op_svc_vpcep.*"));
        assert!(!valid_permission("iam:domainName::team[1]"));
    }
}
