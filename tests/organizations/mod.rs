//! Approval by organization: the Organizations API read as the official SDK
//! shapes it ([`client`]), and org-path and account-name rules judged
//! through it against the emulator ([`approve`]), per target ([`targets`]),
//! and `check` saying what the organization needs ([`check`]).

mod approve;
mod check;
mod client;
mod targets;

use serde_json::{json, Value};

use crate::scripted::{Reply, Seen};

/// The organization of the scripted server: `o-1`, root `r-1`; under the
/// root the unit `ou-a` (accounts `a1` to `a3`, and the unit `ou-a1` holding
/// `deep`) and the unit `ou-b` (account `b1`); `top` directly under the root.
pub const ORG: &str = "o-1";

fn children(parent: &str) -> (Vec<Value>, Vec<Value>) {
    let unit = |id: &str| json!({"id": id, "urn": format!("organizations::0:ou:{id}"), "name": format!("unit {id}"), "created_at": "2026-01-01T00:00:00Z"});
    let account = |id: &str| json!({"id": id, "urn": format!("organizations::0:account:{id}"), "name": format!("name-{id}"), "join_method": "invited", "status": "active", "joined_at": "2026-01-01T00:00:00Z"});
    match parent {
        "r-1" => (vec![unit("ou-a"), unit("ou-b")], vec![account("top")]),
        "ou-a" => (
            vec![unit("ou-a1")],
            vec![account("a1"), account("a2"), account("a3")],
        ),
        "ou-a1" => (vec![], vec![account("deep")]),
        "ou-b" => (vec![], vec![account("b1")]),
        _ => (vec![], vec![]),
    }
}

/// Two items a page, by marker `p{index}`.
fn paged(key: &str, items: Vec<Value>, seen: &Seen) -> Reply {
    let start: usize = seen
        .query_value("marker")
        .and_then(|m| m.strip_prefix('p').and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(start).take(2).cloned().collect();
    let next = (start + 2 < items.len()).then(|| format!("p{}", start + 2));
    Reply::ok(json!({key: page, "page_info": {"next_marker": next, "current_count": page.len()}}))
}

/// The scripted Organizations API (and IAM's `GET /v3/auth/domains`).
pub fn organizations(seen: &Seen) -> Reply {
    let parent = seen.query_value("parent_id").unwrap_or_default();
    match seen.path.as_str() {
        "/v3/auth/domains" => Reply::ok(json!({"domains": [{"id": "0a1b2c3d", "name": "acme"}]})),
        "/v1/organizations" => Reply::ok(json!({"organization": {
            "id": ORG, "urn": "organizations::0:organization:o-1",
            "management_account_id": "top", "management_account_name": "name-top",
            "created_at": "2026-01-01T00:00:00Z"}})),
        "/v1/organizations/roots" => paged(
            "roots",
            vec![
                json!({"id": "r-1", "urn": "x", "name": "Root", "policy_types": [], "created_at": "2026-01-01T00:00:00Z"}),
            ],
            seen,
        ),
        "/v1/organizations/organizational-units" => {
            paged("organizational_units", children(&parent).0, seen)
        }
        "/v1/organizations/accounts" => paged("accounts", children(&parent).1, seen),
        _ => Reply::error(404, "Organizations.1001", "no such API"),
    }
}
