//! An in-memory VPCEP estate served over HTTP, for the safety tests: it
//! answers exactly what it is given (connections without `domain_id`,
//! whitelist records in any form, lists that fail; an organization, or a
//! refusal to show it) and records every change the warden makes, per project.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::scripted::{Reply, Seen, TestServer};

/// One endpoint service of the estate.
#[derive(Debug, Clone, Default)]
pub struct Service {
    pub id: String,
    /// Connections as the API will send them (any field may be missing).
    pub connections: Vec<Value>,
    /// Whitelist records as the API will send them.
    pub permissions: Vec<Value>,
    /// The whitelist answer lacks its `permissions` list and count.
    pub permissions_missing: bool,
    /// Listing its connections answers 500.
    pub connections_fail: bool,
    /// Listing its whitelist answers 500.
    pub permissions_fail: bool,
}

/// One project's estate.
#[derive(Debug, Clone, Default)]
pub struct Estate {
    pub services: Vec<Service>,
    pub endpoints: Vec<Value>,
    /// What reading one endpoint answers, when not what the list said.
    pub reread: BTreeMap<String, Value>,
}

/// The organization `o-1` (root `r-1`, units `ou-1` and `ou-2` under it),
/// as the Organizations API shows it.
#[derive(Debug, Clone, Default)]
pub enum Org {
    /// The account is in no organization (404).
    #[default]
    None,
    /// The account is a plain member: the tree is refused (401 `Organizations.1002`).
    Refused,
    /// Readable, with these members: (account id, name, parent `r-1`, `ou-1` or `ou-2`).
    Members(Vec<(String, String, String)>),
}

/// A change the warden made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// (project, service, endpoint, `receive` or `reject`).
    Action(String, String, String, String),
    /// (project, service, endpoint, the description before, after).
    Described(String, String, String, Option<String>, String),
    /// (project, endpoint).
    Deleted(String, String),
}

#[derive(Default)]
struct World {
    estates: BTreeMap<String, Estate>,
    changes: Vec<Change>,
    organization: Org,
}

/// The estate's server.
pub struct Model {
    world: Arc<Mutex<World>>,
    pub server: TestServer,
}

impl Model {
    /// Serves `estates`, by project id.
    pub async fn start(estates: BTreeMap<String, Estate>) -> Self {
        Self::start_in(estates, Org::None).await
    }

    /// Serves `estates` and, at the same address, `organization` (and IAM's
    /// `GET /v3/auth/domains`).
    pub async fn start_in(estates: BTreeMap<String, Estate>, organization: Org) -> Self {
        let world = Arc::new(Mutex::new(World {
            estates,
            changes: Vec::new(),
            organization,
        }));
        let shared = world.clone();
        let server = TestServer::start(move |seen| {
            let mut w = shared.lock().unwrap();
            answer(&mut w, seen)
        })
        .await;
        Self { world, server }
    }

    /// Every change made so far, in order.
    pub fn changes(&self) -> Vec<Change> {
        self.world.lock().unwrap().changes.clone()
    }

    /// A connection as it is now.
    pub fn connection(&self, project: &str, service: &str, endpoint: &str) -> Option<Value> {
        let w = self.world.lock().unwrap();
        w.estates[project]
            .services
            .iter()
            .find(|s| s.id == service)?
            .connections
            .iter()
            .find(|c| c["id"] == endpoint)
            .cloned()
    }
}

fn page(key: &str, items: Vec<Value>) -> Reply {
    Reply::ok(json!({ key: items.clone(), "total_count": items.len() }))
}

/// The Organizations API over `org` (one page per list).
fn organization(org: &Org, seen: &Seen, rest: &[&str]) -> Reply {
    let members = match org {
        Org::None => return Reply::error(404, "Organizations.0404", "not in an organization"),
        Org::Refused if !rest.is_empty() => {
            return Reply::error(
                401,
                "Organizations.1002",
                "only the management account or a delegated administrator",
            )
        }
        Org::Refused => &Vec::new(),
        Org::Members(m) => m,
    };
    let parent = seen.query_value("parent_id").unwrap_or_default();
    let list = |key: &str, items: Vec<Value>| {
        Reply::ok(json!({ key: items, "page_info": {"next_marker": null} }))
    };
    match rest {
        [] => Reply::ok(json!({"organization": {"id": "o-1", "management_account_id": "m"}})),
        ["roots"] => list("roots", vec![json!({"id": "r-1", "name": "Root"})]),
        ["organizational-units"] if parent == "r-1" => list(
            "organizational_units",
            vec![
                json!({"id": "ou-1", "name": "one"}),
                json!({"id": "ou-2", "name": "two"}),
            ],
        ),
        ["organizational-units"] => list("organizational_units", Vec::new()),
        ["accounts"] => list(
            "accounts",
            members
                .iter()
                .filter(|(_, _, p)| *p == parent)
                .map(|(id, name, _)| json!({"id": id, "name": name}))
                .collect(),
        ),
        _ => Reply::error(404, "Organizations.0404", "no such API"),
    }
}

fn answer(w: &mut World, seen: &Seen) -> Reply {
    let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["v3", "auth", "domains"] => {
            return Reply::ok(
                json!({"domains": [{"id": "dddddddddddddddddddddddddddddddd", "name": "provider"}]}),
            )
        }
        ["v1", "organizations", rest @ ..] => return organization(&w.organization, seen, rest),
        _ => {}
    }
    let ["v1", project, rest @ ..] = parts.as_slice() else {
        return Reply::error(404, "APIGW.0101", "no such API");
    };
    let project = project.to_string();
    let Some(estate) = w.estates.get_mut(&project) else {
        return Reply::error(404, "APIGW.0101", "no such project");
    };
    let method = seen.method.as_str();
    let mut change = None;
    let reply = match (method, rest) {
        ("GET", ["quotas"]) => Reply::ok(json!({"quotas": {"resources": []}})),
        ("GET", ["vpc-endpoint-services"]) => page(
            "endpoint_services",
            estate
                .services
                .iter()
                .map(|s| json!({"id": s.id, "service_name": s.id, "status": "available", "approval_enabled": true}))
                .collect(),
        ),
        ("GET", ["vpc-endpoint-services", id, "connections"]) => {
            match estate.services.iter().find(|s| s.id == *id) {
                None => Reply::error(404, "EndPoint.0005", "no such service"),
                Some(s) if s.connections_fail => Reply::error(500, "EndPoint.0001", "internal error"),
                Some(s) => {
                    let status = seen.query_value("status");
                    let only = seen.query_value("id");
                    page(
                        "connections",
                        s.connections
                            .iter()
                            .filter(|c| status.as_ref().is_none_or(|st| c["status"] == *st.as_str()))
                            .filter(|c| only.as_ref().is_none_or(|e| c["id"] == *e.as_str()))
                            .cloned()
                            .collect(),
                    )
                }
            }
        }
        ("POST", ["vpc-endpoint-services", id, "connections", "action"]) => {
            let body = seen.json();
            let action = body["action"].as_str().unwrap_or_default().to_owned();
            let endpoint = body["endpoints"][0].as_str().unwrap_or_default().to_owned();
            let service = estate.services.iter_mut().find(|s| s.id == *id);
            match service.and_then(|s| s.connections.iter_mut().find(|c| c["id"] == endpoint.as_str())) {
                None => Reply::error(400, "EndPoint.0003", "no such connection"),
                Some(c) => {
                    c["status"] = json!(if action == "receive" { "accepted" } else { "rejected" });
                    change = Some(Change::Action(project.clone(), id.to_string(), endpoint, action));
                    Reply::ok(json!({"connections": [c.clone()]}))
                }
            }
        }
        ("PUT", ["vpc-endpoint-services", id, "connections", "description"]) => {
            let body = seen.json();
            let mut changes = Vec::new();
            if let Some(s) = estate.services.iter_mut().find(|s| s.id == *id) {
                for item in body["connections"].as_array().cloned().unwrap_or_default() {
                    let endpoint = item["id"].as_str().unwrap_or_default();
                    if let Some(c) = s.connections.iter_mut().find(|c| c["id"] == endpoint) {
                        let before = c["description"].as_str().map(str::to_owned);
                        let after = item["description"].as_str().unwrap_or_default().to_owned();
                        c["description"] = json!(after);
                        changes.push(Change::Described(project.clone(), id.to_string(), endpoint.to_owned(), before, after));
                    }
                }
            }
            w.changes.extend(changes);
            return Reply::ok(json!({}));
        }
        ("GET", ["vpc-endpoint-services", id, "permissions"]) => {
            match estate.services.iter().find(|s| s.id == *id) {
                None => Reply::error(404, "EndPoint.0005", "no such service"),
                Some(s) if s.permissions_fail => Reply::error(500, "EndPoint.0001", "internal error"),
                Some(s) if s.permissions_missing => Reply::ok(json!({"request_id": "x"})),
                Some(s) => page("permissions", s.permissions.clone()),
            }
        }
        ("GET", ["vpc-endpoints"]) => page("endpoints", estate.endpoints.clone()),
        ("GET", ["vpc-endpoints", id]) => match estate
            .reread
            .get(*id)
            .or_else(|| estate.endpoints.iter().find(|e| e["id"] == *id))
        {
            Some(e) => Reply::ok(e.clone()),
            None => Reply::error(404, "EndPoint.0005", "no such endpoint"),
        },
        ("DELETE", ["vpc-endpoints", id]) => {
            let before = estate.endpoints.len();
            estate.endpoints.retain(|e| e["id"] != *id);
            if estate.endpoints.len() == before {
                Reply::error(404, "EndPoint.0005", "no such endpoint")
            } else {
                change = Some(Change::Deleted(project.clone(), id.to_string()));
                Reply::raw(204, "")
            }
        }
        _ => Reply::error(404, "APIGW.0101", "no such API"),
    };
    w.changes.extend(change);
    reply
}
