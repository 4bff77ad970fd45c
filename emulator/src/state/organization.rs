//! The organization (Huawei Organizations) the scenario's accounts belong
//! to: roots and organizational units in a tree, member accounts in them,
//! the management account and the delegated administrators; and whether a
//! whitelist record by org path or account name admits an account.

use rand::{Rng, RngExt};
use time::OffsetDateTime;

use super::Account;
use crate::scenario::{OrganizationSpec, UnitSpec};
use crate::Error;

/// A root or an organizational unit.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub id: String,
    pub name: String,
    /// `None` for a root.
    pub parent: Option<String>,
    /// Its path: the organization's id and the ids down to it, each followed by `/`.
    pub path: String,
    pub created_at: OffsetDateTime,
}

impl Unit {
    /// `root` or `organizational_unit`, as `ListEntities` names them.
    pub fn kind(&self) -> &'static str {
        match self.parent {
            None => "root",
            Some(_) => "organizational_unit",
        }
    }
}

/// A member account.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub id: String,
    pub name: String,
    pub parent: String,
    pub joined_at: OffsetDateTime,
}

/// The organization.
#[derive(Debug, Clone)]
pub(crate) struct Organization {
    pub id: String,
    pub management_account_id: String,
    pub management_account_name: String,
    /// Account ids registered as delegated administrators.
    pub delegated: Vec<String>,
    /// Roots and units, roots first, each unit after its parent.
    pub units: Vec<Unit>,
    pub members: Vec<Member>,
    pub created_at: OffsetDateTime,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Scenario(msg.into())
}

/// `prefix` and 32 random lower-case letters and digits.
fn new_id(prefix: &str, rng: &mut impl Rng) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..32)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect();
    format!("{prefix}{tail}")
}

impl Organization {
    /// Builds the organization `spec` describes over `accounts`.
    pub fn load(
        spec: &OrganizationSpec,
        accounts: &[Account],
        now: OffsetDateTime,
        rng: &mut impl Rng,
    ) -> Result<Self, Error> {
        let by_name = |name: &str, at: &str| {
            accounts
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| bad(format!("{at}: no account is named {name:?}")))
        };
        let manager = match &spec.management_account {
            Some(name) => by_name(name, "organization.management_account")?,
            None => accounts.first().ok_or_else(|| bad("no accounts"))?,
        };
        let delegated = spec
            .delegated_administrators
            .iter()
            .map(|n| {
                by_name(n, "organization.delegated_administrators").map(|a| a.domain_id.clone())
            })
            .collect::<Result<_, _>>()?;
        let mut org = Organization {
            id: spec.id.clone().unwrap_or_else(|| new_id("o-", rng)),
            management_account_id: manager.domain_id.clone(),
            management_account_name: manager.name.clone(),
            delegated,
            units: Vec::new(),
            members: Vec::new(),
            created_at: now,
        };
        let default_root = [UnitSpec {
            name: Some("Root".into()),
            ..UnitSpec::default()
        }];
        let roots = match spec.roots.is_empty() {
            true => &default_root[..],
            false => &spec.roots[..],
        };
        for (i, root) in roots.iter().enumerate() {
            org.load_unit(
                root,
                None,
                &format!("organization.roots[{i}]"),
                accounts,
                now,
                rng,
            )?;
        }
        if !org
            .members
            .iter()
            .any(|m| m.id == org.management_account_id)
        {
            org.members.push(Member {
                id: org.management_account_id.clone(),
                name: org.management_account_name.clone(),
                parent: org.units[0].id.clone(),
                joined_at: now,
            });
        }
        Ok(org)
    }

    fn load_unit(
        &mut self,
        spec: &UnitSpec,
        parent: Option<&Unit>,
        at: &str,
        accounts: &[Account],
        now: OffsetDateTime,
        rng: &mut impl Rng,
    ) -> Result<(), Error> {
        let prefix = if parent.is_none() { "r-" } else { "ou-" };
        let id = spec.id.clone().unwrap_or_else(|| new_id(prefix, rng));
        if id.is_empty() || id.contains('/') || self.units.iter().any(|u| u.id == id) {
            return Err(bad(format!(
                "{at}.id: {id:?} is empty, holds a / or is used twice"
            )));
        }
        let path = match parent {
            None => format!("{}/{id}/", self.id),
            Some(p) => format!("{}{id}/", p.path),
        };
        let unit = Unit {
            name: spec.name.clone().unwrap_or_else(|| id.clone()),
            parent: parent.map(|p| p.id.clone()),
            id,
            path,
            created_at: now,
        };
        for (j, member) in spec.accounts.iter().enumerate() {
            let at = format!("{at}.accounts[{j}]");
            if member.domain_id.is_empty() || self.members.iter().any(|m| m.id == member.domain_id)
            {
                return Err(bad(format!(
                    "{at}.domain_id: {:?} is empty or in the organization twice",
                    member.domain_id
                )));
            }
            let known = accounts.iter().find(|a| a.domain_id == member.domain_id);
            self.members.push(Member {
                id: member.domain_id.clone(),
                name: member
                    .name
                    .clone()
                    .or_else(|| known.map(|a| a.name.clone()))
                    .unwrap_or_else(|| member.domain_id.clone()),
                parent: unit.id.clone(),
                joined_at: now,
            });
        }
        self.units.push(unit.clone());
        for (j, child) in spec.units.iter().enumerate() {
            self.load_unit(
                child,
                Some(&unit),
                &format!("{at}.units[{j}]"),
                accounts,
                now,
                rng,
            )?;
        }
        Ok(())
    }

    /// Whether the account may read the whole tree: the management account
    /// or a delegated administrator.
    pub fn may_read_all(&self, domain_id: &str) -> bool {
        domain_id == self.management_account_id || self.delegated.iter().any(|d| d == domain_id)
    }

    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// The root or unit with this id.
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    /// A member's path: its parent's.
    pub fn path_of(&self, member: &Member) -> &str {
        self.unit(&member.parent).map_or("", |u| u.path.as_str())
    }

    /// Whether a whitelist record by org path or account name admits the
    /// member account `domain_id`, read as the warden documents it: a path
    /// without a trailing `/` or `*` gets one, `*` matches any run of
    /// characters (`/` too), `?` one; a name pattern is a regular expression
    /// over the whole name.
    pub fn admits(&self, entry: &str, domain_id: &str) -> bool {
        let Some(member) = self.member(domain_id) else {
            return false;
        };
        if let Some(path) = entry.strip_prefix("organizations:orgPath::") {
            let path = match path.ends_with('/') || path.ends_with('*') {
                true => path.to_owned(),
                false => format!("{path}/"),
            };
            return glob(&path, self.path_of(member));
        }
        if let Some(pattern) = entry.strip_prefix("iam:domainName::") {
            return regex_lite::Regex::new(&format!("^(?:{pattern})$"))
                .is_ok_and(|r| r.is_match(&member.name));
        }
        false
    }
}

/// Whether `pattern` matches the whole of `text`: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star) = (0, 0, None);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
