//! Who may connect: the allowlist of one service and the one function that
//! judges an account against it.
//!
//! A service's whitelist records come in every form the API documents:
//! `iam:domain::ID` (an account), `iam:domainName::PATTERN` (accounts by
//! name), `organizations:orgPath::PATH` (an organizational unit), `*`
//! (everyone), and, with `permission_type`, the bare id or path. Prefixes are
//! matched ignoring ASCII case, as the API's own fuzzy search does. The
//! warden evaluates account records only; an account that a record it cannot
//! evaluate might allow (a name pattern, an org path, `*`, an id differing
//! only in case, a record it cannot read) is **undecidable**: it is never
//! accepted on that record's strength, and never rejected or revoked.

use std::collections::HashSet;

use crate::vpcep::Permission;

/// One whitelist record, as understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `iam:domain::ID`: one account.
    Account(String),
    /// `iam:domainName::PATTERN`: accounts whose name matches.
    AccountName(String),
    /// `organizations:orgPath::PATH`: accounts in an organizational unit.
    OrgPath(String),
    /// `*` or `iam:domain::*`: every account.
    Everyone,
    /// A record in no form the API documents.
    Unreadable(String),
}

impl Record {
    /// Reads one whitelist record.
    pub fn parse(p: &Permission) -> Self {
        let raw = p.permission.trim();
        let typed = p.permission_type.as_deref().map(str::trim);
        if raw == "*" {
            return Record::Everyone;
        }
        let (prefix, rest) = match raw.find("::") {
            Some(at) => (&raw[..at], raw[at + 2..].trim()),
            None => ("", raw),
        };
        let prefix = prefix.to_ascii_lowercase();
        match (prefix.as_str(), typed) {
            ("iam:domain", _) | ("", Some("domainId")) => match rest {
                "*" => Record::Everyone,
                "" => Record::Unreadable(raw.to_owned()),
                id if id.contains('*') || id.contains('?') => Record::Unreadable(raw.to_owned()),
                id => Record::Account(id.to_owned()),
            },
            ("iam:domainname", _) | ("", Some("domainName")) => {
                Record::AccountName(rest.to_owned())
            }
            ("organizations:orgpath", _) | ("", Some("orgPath")) => {
                Record::OrgPath(rest.to_owned())
            }
            _ => Record::Unreadable(raw.to_owned()),
        }
    }
}

/// Who may connect to one service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    /// `WARDEN_ALLOWED_DOMAINS` (with a target's override).
    pub domains: HashSet<String>,
    /// Whether `service-whitelist` is on (the service's records count).
    pub whitelist_on: bool,
    /// The service's own whitelist records, when `service-whitelist` is on
    /// and they were read.
    pub whitelist: Vec<Record>,
    /// The service owner's own account, when known: in the whitelist of its
    /// own services by default (VPCEP API reference, "Batch Adding or
    /// Deleting Whitelist Records"), so allowed with `service-whitelist`.
    pub owner: Option<String>,
}

/// What the allowlist says of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed, and by which rule.
    Allowed(&'static str),
    /// No rule allows it, and none might.
    NotAllowed,
    /// A rule the warden cannot evaluate might allow it: never accepted on
    /// that rule, never rejected or revoked.
    Undecidable(String),
}

impl Allowlist {
    /// The allowlist of the settings alone.
    pub fn of_domains<'a>(domains: impl IntoIterator<Item = &'a String>) -> Self {
        Self {
            domains: domains.into_iter().cloned().collect(),
            whitelist_on: false,
            whitelist: Vec::new(),
            owner: None,
        }
    }

    /// Whether it names no account and holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.whitelist.is_empty()
    }

    /// Judges `domain_id` (never empty: a connection without an account is
    /// not judged at all). Account ids match exactly: no prefix, substring
    /// or case folding.
    pub fn judge(&self, domain_id: &str) -> Verdict {
        if self.domains.contains(domain_id) {
            return Verdict::Allowed("account in WARDEN_ALLOWED_DOMAINS");
        }
        if self.whitelist_on && self.owner.as_deref() == Some(domain_id) {
            return Verdict::Allowed(
                "the service owner's own account, in its whitelist by default",
            );
        }
        let mut undecidable = None;
        for record in &self.whitelist {
            let maybe = match record {
                Record::Account(id) if id == domain_id => {
                    return Verdict::Allowed("account in the service's whitelist")
                }
                Record::Account(id) if id.eq_ignore_ascii_case(domain_id) => format!(
                    "the service's whitelist names account {id:?}, which differs from {domain_id:?} only in case"
                ),
                Record::Account(_) => continue,
                Record::AccountName(pattern) => format!(
                    "the service's whitelist allows accounts named {pattern:?}, which the warden cannot evaluate"
                ),
                Record::OrgPath(path) => format!(
                    "the service's whitelist allows organizational unit {path:?}, which the warden cannot evaluate"
                ),
                Record::Everyone => {
                    "the service's whitelist allows every account (*), which is never taken as approval".to_owned()
                }
                Record::Unreadable(raw) => format!(
                    "the service's whitelist holds a record the warden cannot read ({raw:?})"
                ),
            };
            undecidable.get_or_insert(maybe);
        }
        match undecidable {
            Some(why) => Verdict::Undecidable(format!("{why}: left as it is")),
            None => Verdict::NotAllowed,
        }
    }
}

/// The records of a whitelist answer.
pub fn records(permissions: &[Permission]) -> Vec<Record> {
    permissions.iter().map(Record::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perm(permission: &str, permission_type: Option<&str>) -> Permission {
        serde_json::from_value(serde_json::json!({
            "id": "r", "permission": permission, "permission_type": permission_type
        }))
        .unwrap()
    }

    fn allow(domains: &[&str], records: &[(&str, Option<&str>)]) -> Allowlist {
        Allowlist {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            whitelist_on: true,
            owner: None,
            whitelist: records
                .iter()
                .map(|(p, t)| Record::parse(&perm(p, *t)))
                .collect(),
        }
    }

    #[test]
    fn every_documented_record_form_is_read() {
        let read = |p: &str, t: Option<&str>| Record::parse(&perm(p, t));
        assert_eq!(read("iam:domain::abc", None), Record::Account("abc".into()));
        assert_eq!(read("IAM:DOMAIN::abc", None), Record::Account("abc".into()));
        assert_eq!(
            read(" abc ", Some("domainId")),
            Record::Account("abc".into())
        );
        assert_eq!(read("*", None), Record::Everyone);
        assert_eq!(read("iam:domain::*", None), Record::Everyone);
        assert_eq!(
            read("iam:domainName::team-*", None),
            Record::AccountName("team-*".into())
        );
        assert_eq!(
            read("organizations:orgPath::o-1/r-2/ou-3", None),
            Record::OrgPath("o-1/r-2/ou-3".into())
        );
        assert_eq!(
            read("o-1/r-2/*", Some("orgPath")),
            Record::OrgPath("o-1/r-2/*".into())
        );
        assert!(matches!(read("iam:domain::", None), Record::Unreadable(_)));
        assert!(matches!(read("acct:xyz", None), Record::Unreadable(_)));
    }

    #[test]
    fn account_ids_match_exactly_and_case_only_differences_are_undecidable() {
        let a = allow(&["abc123"], &[("iam:domain::Def456", None)]);
        assert!(matches!(a.judge("abc123"), Verdict::Allowed(_)));
        assert!(matches!(a.judge("Def456"), Verdict::Allowed(_)));
        for near in ["abc12", "abc1234", "ABC123", " abc123", "xabc123"] {
            assert_eq!(
                a.judge(near),
                Verdict::NotAllowed,
                "{near:?} must not match"
            );
        }
        assert!(matches!(a.judge("def456"), Verdict::Undecidable(_)));
    }

    #[test]
    fn the_owners_own_account_is_in_its_whitelist_by_default() {
        let mut a = allow(&[], &[]);
        a.owner = Some("own".into());
        assert!(matches!(a.judge("own"), Verdict::Allowed(_)));
        a.whitelist_on = false;
        assert_eq!(
            a.judge("own"),
            Verdict::NotAllowed,
            "only with service-whitelist"
        );
    }

    #[test]
    fn records_the_warden_cannot_evaluate_make_every_other_account_undecidable() {
        for record in [
            ("*", None),
            ("iam:domain::*", None),
            ("iam:domainName::shop-*", None),
            ("organizations:orgPath::o-1/r-1/ou-1", None),
            ("o-1/r-1", Some("orgPath")),
            ("something-new::x", None),
        ] {
            let a = allow(&["good"], &[record, ("iam:domain::other", None)]);
            assert!(
                matches!(a.judge("stranger"), Verdict::Undecidable(_)),
                "{record:?}"
            );
            assert!(matches!(a.judge("good"), Verdict::Allowed(_)));
        }
        assert_eq!(
            allow(&["good"], &[("iam:domain::other", None)]).judge("stranger"),
            Verdict::NotAllowed
        );
    }
}
