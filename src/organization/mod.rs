//! The Huawei Cloud organization the warden's accounts belong to, as the
//! Organizations API describes it: its id, and for each member account its
//! name and its path (the organization, root and organizational units above
//! it). Whitelist records by org path and by account name are judged against
//! it ([`patterns`]); the client reads it (`crate::vpcep`).
//!
//! Pure data: nothing here calls anything.

pub mod patterns;

use std::collections::HashMap;
use std::sync::Arc;

pub use patterns::{Match, NamePattern, PathPattern};

/// One member account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account's name (what `iam:domainName::` records match).
    pub name: String,
    /// The ids from the organization down to the account's parent, each
    /// followed by `/`: `o-1/r-2/ou-3/` for an account directly in `ou-3`.
    pub path: String,
}

/// The organization as read: its id and its member accounts by account id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgTree {
    /// The organization's id (`o-…`).
    pub id: String,
    /// The management account's id, when the API named it.
    pub management_account: Option<String>,
    /// The organizational units read (roots not counted).
    pub units: usize,
    members: HashMap<String, Member>,
}

impl OrgTree {
    /// An organization without members yet.
    pub fn new(id: impl Into<String>, management_account: Option<String>) -> Self {
        Self {
            id: id.into(),
            management_account,
            units: 0,
            members: HashMap::new(),
        }
    }

    /// The path of a root (`o-1/r-2/`), where its accounts and units hang.
    pub fn root_path(&self, root_id: &str) -> String {
        format!("{}/{root_id}/", self.id)
    }

    /// Adds the account `id` named `name` directly under the root or unit
    /// whose path is `parent_path`. An account listed twice keeps its first place.
    pub fn add_account(&mut self, id: &str, name: &str, parent_path: &str) {
        self.members.entry(id.to_owned()).or_insert_with(|| Member {
            name: name.to_owned(),
            path: parent_path.to_owned(),
        });
    }

    /// The member account `id`, or `None` when it is not in the organization.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.get(id)
    }

    /// How many member accounts it has.
    pub fn accounts(&self) -> usize {
        self.members.len()
    }
}

/// What one run knows of the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OrgView {
    /// Not read: no rule needed it.
    #[default]
    NotRead,
    /// Read.
    Read(Arc<OrgTree>),
    /// It could not be read: why, and what to do about it. Accounts that a
    /// rule by org path or account name might allow are then undecidable.
    Unreadable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_hangs_under_its_parents_path() {
        let mut tree = OrgTree::new("o-1", Some("m".into()));
        let root = tree.root_path("r-2");
        assert_eq!(root, "o-1/r-2/");
        tree.add_account("a", "shop", &format!("{root}ou-3/"));
        tree.add_account("a", "again", &root);
        assert_eq!(tree.member("a").unwrap().path, "o-1/r-2/ou-3/");
        assert_eq!(tree.member("a").unwrap().name, "shop");
        assert_eq!(tree.member("b"), None);
        assert_eq!(tree.accounts(), 1);
    }
}
