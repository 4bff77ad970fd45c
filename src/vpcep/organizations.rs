//! Reading the organization through the Huawei Organizations API: its id,
//! its roots, and under each root and unit its units, then its accounts,
//! level by level (the parents of a level side by side, under the one
//! concurrency limit), into an [`OrgTree`].
//!
//! What this relies on (Organizations API reference and the official
//! `huaweicloudsdkorganizations` SDK, whose models give the exact shapes):
//! - a global service (the SDK builds its client with `GlobalCredentials`):
//!   AK/SK requests sign `X-Domain-Id`, as IAM's do ([`super::iam`]); the
//!   endpoint is `https://organizations.myhuaweicloud.com`;
//! - `GET /v1/organizations` (ShowOrganization): `{"organization": {"id",
//!   "management_account_id", ...}}`; any account of the organization may call it;
//! - `GET /v1/organizations/roots` (ListRoots), `GET
//!   /v1/organizations/organizational-units?parent_id=` (ListOrganizationalUnits:
//!   the parent's direct child units), `GET
//!   /v1/organizations/accounts?parent_id=` (ListAccounts: the parent's
//!   direct accounts, each with `id` and `name`): callable only from the
//!   management account or a delegated administrator;
//! - paging by marker: `limit` (default 1,000, sent explicitly) and
//!   `marker`; each answer's `page_info.next_marker` is absent or `null` on
//!   the last page.
//!
//! A walk cannot run forever: a marker the server already gave (a server
//! ignoring the marker) is an error, as are more than 10,000 pages of one
//! list or more than 200,000 units in all. A list answer without its list is
//! an error, never an empty list.
//!
//! The tree is kept in the client across warm invocations for
//! [`ORGANIZATION_KEPT_FOR`]: a unit or an account moved is seen within five
//! minutes, and a run over a hundred services reads the organization once.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::error::{ApiError, ApiErrorKind};
use super::paging::{MAX_LIST_ITEMS, MAX_PAGES};
use super::Client;
use crate::organization::OrgTree;

/// `GET /v1/organizations` (ShowOrganization).
pub(crate) const ORGANIZATION_PATH: &str = "/v1/organizations";
/// `GET /v1/organizations/roots` (ListRoots).
pub(crate) const ROOTS_PATH: &str = "/v1/organizations/roots";
/// `GET /v1/organizations/organizational-units` (ListOrganizationalUnits).
pub(crate) const UNITS_PATH: &str = "/v1/organizations/organizational-units";
/// `GET /v1/organizations/accounts` (ListAccounts).
pub(crate) const ACCOUNTS_PATH: &str = "/v1/organizations/accounts";

/// Items asked for per page: the documented default, sent explicitly.
const PAGE_LIMIT: &str = "1000";

/// How long a tree read is kept across warm invocations.
pub const ORGANIZATION_KEPT_FOR: Duration = Duration::from_secs(5 * 60);

/// A tree read, with where and when.
pub(super) struct KeptTree {
    endpoint: String,
    read_at: Instant,
    tree: Arc<OrgTree>,
}

/// The tree kept by a client (and its clones) across invocations.
pub(super) type Kept = tokio::sync::Mutex<Option<KeptTree>>;

#[derive(Deserialize)]
struct Organization {
    id: String,
    #[serde(default)]
    management_account_id: Option<String>,
}

/// A root, a unit or an account: what the tree needs of each.
#[derive(Deserialize)]
struct Node {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

impl Client {
    /// The organization the client's account belongs to, with all its units
    /// and accounts, through the Organizations API at `endpoint` (the account
    /// for `X-Domain-Id` found at `iam_endpoint` when not known). A tree read
    /// less than [`ORGANIZATION_KEPT_FOR`] ago at the same endpoint is
    /// reused; a failed read is not kept.
    pub async fn organization(
        &self,
        endpoint: &str,
        iam_endpoint: &str,
    ) -> Result<Arc<OrgTree>, ApiError> {
        let mut kept = self.inner.organization.lock().await;
        if let Some(fresh) = kept
            .as_ref()
            .filter(|k| k.endpoint == endpoint && k.read_at.elapsed() < ORGANIZATION_KEPT_FOR)
        {
            return Ok(fresh.tree.clone());
        }
        let tree = Arc::new(self.read_organization(endpoint, iam_endpoint).await?);
        tracing::info!(
            organization_id = %tree.id,
            accounts = tree.accounts(),
            units = tree.units,
            "read the organization"
        );
        *kept = Some(KeptTree {
            endpoint: endpoint.to_owned(),
            read_at: Instant::now(),
            tree: tree.clone(),
        });
        Ok(tree)
    }

    /// Reads the whole tree: the organization, its roots, then level by level
    /// each parent's units and accounts.
    async fn read_organization(
        &self,
        endpoint: &str,
        iam_endpoint: &str,
    ) -> Result<OrgTree, ApiError> {
        #[derive(Deserialize)]
        struct Answer {
            organization: Organization,
        }
        let action = "read the organization";
        let url = org_url(action, "", endpoint, ORGANIZATION_PATH)?;
        let answer = self
            .global_call(action, "", Method::GET, url, None, iam_endpoint)
            .await?;
        let Answer { organization } = self.decode(action, "", &answer)?;
        let mut tree = OrgTree::new(organization.id, organization.management_account_id);
        let roots: Vec<Node> = self
            .marker_list(
                "list the roots of the organization",
                "",
                endpoint,
                ROOTS_PATH,
                None,
                "roots",
                iam_endpoint,
            )
            .await?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut level: Vec<(String, String)> = roots
            .into_iter()
            .filter(|r| seen.insert(r.id.clone()))
            .map(|r| {
                let path = tree.root_path(&r.id);
                (r.id, path)
            })
            .collect();
        while !level.is_empty() {
            let reads = level.iter().map(|(parent, _)| async move {
                let target = format!("parent {parent}");
                let units = self
                    .marker_list::<Node>(
                        "list the organizational units of",
                        &target,
                        endpoint,
                        UNITS_PATH,
                        Some(parent),
                        "organizational_units",
                        iam_endpoint,
                    )
                    .await?;
                let accounts = self
                    .marker_list::<Node>(
                        "list the accounts of",
                        &target,
                        endpoint,
                        ACCOUNTS_PATH,
                        Some(parent),
                        "accounts",
                        iam_endpoint,
                    )
                    .await?;
                Ok::<_, ApiError>((units, accounts))
            });
            let children = try_join_all(reads).await?;
            let mut next = Vec::new();
            for ((_, path), (units, accounts)) in level.iter().zip(children) {
                for account in accounts {
                    tree.add_account(&account.id, account.name.as_deref().unwrap_or(""), path);
                }
                for unit in units {
                    if seen.insert(unit.id.clone()) {
                        next.push((unit.id.clone(), format!("{path}{}/", unit.id)));
                    }
                }
            }
            tree.units += next.len();
            if tree.units as u64 > MAX_LIST_ITEMS {
                return Err(ApiError::new(
                    "read the organization",
                    tree.id.clone(),
                    ApiErrorKind::Invalid {
                        detail: format!("more than {MAX_LIST_ITEMS} organizational units: larger than one run reads"),
                    },
                ));
            }
            level = next;
        }
        Ok(tree)
    }

    /// Every item of a list paged by marker, under `key` in each answer.
    #[allow(clippy::too_many_arguments)]
    async fn marker_list<T: DeserializeOwned>(
        &self,
        action: &'static str,
        target: &str,
        endpoint: &str,
        path: &str,
        parent: Option<&str>,
        key: &str,
        iam_endpoint: &str,
    ) -> Result<Vec<T>, ApiError> {
        let invalid = |detail: String| {
            ApiError::new(action, target.to_owned(), ApiErrorKind::Invalid { detail })
        };
        let mut items = Vec::new();
        let mut marker: Option<String> = None;
        let mut markers = HashSet::new();
        loop {
            let mut url = org_url(action, target, endpoint, path)?;
            {
                let mut query = url.query_pairs_mut();
                if let Some(parent) = parent {
                    query.append_pair("parent_id", parent);
                }
                query.append_pair("limit", PAGE_LIMIT);
                if let Some(marker) = &marker {
                    query.append_pair("marker", marker);
                }
            }
            let answer = self
                .global_call(action, target, Method::GET, url, None, iam_endpoint)
                .await?;
            let mut page: Value = self.decode(action, target, &answer)?;
            let Some(Value::Array(list)) = page.get_mut(key).map(Value::take) else {
                return Err(invalid(format!(
                    "the answer has no `{key}` list (a page without its list is not an empty list)"
                )));
            };
            for item in list {
                let item = serde_json::from_value(item).map_err(|e| {
                    invalid(format!("an item of `{key}` is not what was expected: {e}"))
                })?;
                items.push(item);
            }
            if items.len() as u64 > MAX_LIST_ITEMS {
                return Err(invalid(format!(
                    "more than {MAX_LIST_ITEMS} items: the list is larger than one run reads"
                )));
            }
            let next = page
                .pointer("/page_info/next_marker")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty());
            let Some(next) = next else {
                return Ok(items);
            };
            if !markers.insert(next.to_owned()) {
                return Err(invalid(format!(
                    "the API gave the page marker {next:?} twice: it does not page by marker"
                )));
            }
            if markers.len() as u64 >= MAX_PAGES {
                return Err(invalid(format!("more than {MAX_PAGES} pages")));
            }
            marker = Some(next.to_owned());
        }
    }
}

/// `{endpoint}{path}`, refused unless an http(s) URL.
fn org_url(
    action: &'static str,
    target: &str,
    endpoint: &str,
    path: &str,
) -> Result<Url, ApiError> {
    let text = format!("{}{path}", endpoint.trim_end_matches('/'));
    Url::parse(&text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            ApiError::new(
                action,
                target,
                ApiErrorKind::Invalid {
                    detail: format!(
                        "the Organizations endpoint {endpoint:?} is not an http(s) URL (WARDEN_ORGANIZATIONS_ENDPOINT)"
                    ),
                },
            )
        })
}
