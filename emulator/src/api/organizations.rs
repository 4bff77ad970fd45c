//! Organizations, as much as the warden and the official
//! `huaweicloudsdkorganizations` SDK read: the organization
//! (`GET /v1/organizations`), its roots, organizational units and accounts
//! (by parent), one account, and its entities, with the SDK's field names.
//!
//! A global service, authenticated as IAM is (a signed `X-Domain-Id`; see
//! `iam::check_scope`). Any member may read the organization itself; the
//! rest only the management account or a delegated administrator, others
//! get 401 `Organizations.1002`, as the Organizations API reference's error
//! codes say. An account outside every organization gets 404
//! `Organizations.0404`, and a bad `limit` or `marker` 400
//! `Organizations.0400`: the emulator's own codes (the reference lists none
//! for these).
//!
//! Lists page by marker: `limit` 1 to 1,000 (default 1,000), `marker` the
//! `page_info.next_marker` of the page before (`null` on the last page).
//! `ListEntities` without a filter lists every root, unit and account; with
//! `parent_id`, that parent's direct units and accounts; with `child_id`,
//! that entity alone (the emulator's reading of "filter by parent and child").

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::wire::{ApiError, Reply};
use super::Ctx;
use crate::state::{format_time, Member, Organization, State, Unit};

/// The largest page a list gives.
const MAX_LIMIT: usize = 1000;

fn not_in_organization() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "Organizations.0404",
        "Your account is not a member of an organization.",
    )
}

/// The caller's organization, when the caller is a member.
fn membership<'a>(state: &'a State, ctx: &Ctx) -> Result<&'a Organization, ApiError> {
    state
        .organization
        .as_ref()
        .filter(|o| o.member(&ctx.account.domain_id).is_some())
        .ok_or_else(not_in_organization)
}

/// The caller's organization, when the caller may read all of it.
fn readable<'a>(state: &'a State, ctx: &Ctx) -> Result<&'a Organization, ApiError> {
    let org = membership(state, ctx)?;
    if !org.may_read_all(&ctx.account.domain_id) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Organizations.1002",
            "This operation can be called only from the management account of an organization or by a member account that is a delegated administrator for a service.",
        ));
    }
    Ok(org)
}

fn urn(org: &Organization, kind: &str, id: &str) -> String {
    format!(
        "organizations::{}:{kind}:{}/{id}",
        org.management_account_id, org.id
    )
}

fn unit_json(org: &Organization, u: &Unit) -> Value {
    let kind = if u.parent.is_none() { "root" } else { "ou" };
    let mut v = json!({"id": u.id, "urn": urn(org, kind, &u.id), "name": u.name,
        "created_at": format_time(u.created_at)});
    if u.parent.is_none() {
        v["policy_types"] = json!([]);
    }
    v
}

fn account_json(org: &Organization, m: &Member) -> Value {
    let join_method = if m.id == org.management_account_id {
        "created"
    } else {
        "invited"
    };
    json!({"id": m.id, "urn": urn(org, "account", &m.id), "name": m.name,
        "join_method": join_method, "status": "active", "joined_at": format_time(m.joined_at)})
}

/// One page of `items` under `key`, from the item whose id is `marker`.
fn page(ctx: &Ctx, key: &str, items: Vec<(String, Value)>) -> Result<Reply, ApiError> {
    let limit = match ctx.query.get("limit") {
        None => MAX_LIMIT,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::bad(
                    "Organizations.0400",
                    format!("Invalid limit: {v:?}; expected an integer from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let start = match ctx.query.get("marker") {
        None => 0,
        Some(m) => items
            .iter()
            .position(|(id, _)| id == m)
            .ok_or_else(|| ApiError::bad("Organizations.0400", format!("Invalid marker: {m:?}")))?,
    };
    let next = items.get(start + limit).map(|(id, _)| id.clone());
    let shown: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|(_, v)| v)
        .collect();
    Ok(Reply::ok(json!({
        key: shown,
        "page_info": {"next_marker": next, "current_count": shown.len()},
    })))
}

/// The root or unit `parent_id` names, when given; an unknown one is 404.
fn parent<'a>(org: &'a Organization, ctx: &Ctx) -> Result<Option<&'a Unit>, ApiError> {
    match ctx.query.get("parent_id") {
        None => Ok(None),
        Some(id) => org.unit(id).map(Some).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "Organizations.0404",
                format!("The parent {id:?} does not exist."),
            )
        }),
    }
}

/// `GET /v1/organizations` (ShowOrganization).
pub(super) fn show(state: &State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = membership(state, ctx)?;
    Ok(Reply::ok(json!({"organization": {
        "id": org.id,
        "urn": format!("organizations::{}:organization:{}", org.management_account_id, org.id),
        "management_account_id": org.management_account_id,
        "management_account_name": org.management_account_name,
        "created_at": format_time(org.created_at),
    }})))
}

/// `GET /v1/organizations/roots` (ListRoots).
pub(super) fn roots(state: &State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = readable(state, ctx)?;
    let items = org
        .units
        .iter()
        .filter(|u| u.parent.is_none())
        .map(|u| (u.id.clone(), unit_json(org, u)))
        .collect();
    page(ctx, "roots", items)
}

/// `GET /v1/organizations/organizational-units` (ListOrganizationalUnits):
/// every unit, or the direct units of `parent_id`.
pub(super) fn units(state: &State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = readable(state, ctx)?;
    let parent = parent(org, ctx)?;
    let items = org
        .units
        .iter()
        .filter(|u| u.parent.is_some())
        .filter(|u| parent.is_none_or(|p| u.parent.as_deref() == Some(p.id.as_str())))
        .map(|u| (u.id.clone(), unit_json(org, u)))
        .collect();
    page(ctx, "organizational_units", items)
}

/// `GET /v1/organizations/accounts` (ListAccounts): every member, or the
/// direct members of `parent_id`.
pub(super) fn accounts(state: &State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = readable(state, ctx)?;
    let parent = parent(org, ctx)?;
    let items = org
        .members
        .iter()
        .filter(|m| parent.is_none_or(|p| m.parent == p.id))
        .map(|m| (m.id.clone(), account_json(org, m)))
        .collect();
    page(ctx, "accounts", items)
}

/// `GET /v1/organizations/accounts/{account_id}` (ShowAccount).
pub(super) fn account(state: &State, ctx: &Ctx, id: &str) -> Result<Reply, ApiError> {
    let org = readable(state, ctx)?;
    let member = org.member(id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "Organizations.0404",
            format!("The account {id:?} is not in the organization."),
        )
    })?;
    Ok(Reply::ok(json!({"account": account_json(org, member)})))
}

/// `GET /v1/organizations/entities` (ListEntities).
pub(super) fn entities(state: &State, ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = readable(state, ctx)?;
    let parent = parent(org, ctx)?;
    let child = ctx.query.get("child_id");
    let unit_entities = org.units.iter().map(|u| {
        let parent = u.parent.clone();
        (
            u.id.clone(),
            parent,
            json!({"id": u.id, "name": u.name, "type": u.kind()}),
        )
    });
    let account_entities = org.members.iter().map(|m| {
        (
            m.id.clone(),
            Some(m.parent.clone()),
            json!({"id": m.id, "name": m.name, "type": "account"}),
        )
    });
    let items = unit_entities
        .chain(account_entities)
        .filter(|(_, of, _)| parent.is_none_or(|p| of.as_deref() == Some(p.id.as_str())))
        .filter(|(id, _, _)| child.is_none_or(|c| c == id))
        .map(|(id, _, v)| (id, v))
        .collect();
    page(ctx, "entities", items)
}
