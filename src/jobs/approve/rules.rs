//! Who may connect: the allowlist of one service and the one function that
//! judges an account against it.
//!
//! A service's whitelist records come in every form the API documents:
//! `iam:domain::ID` (an account), `iam:domainName::PATTERN` (accounts by
//! name), `organizations:orgPath::PATH` (organizational units), `*`
//! (everyone), and, with `permission_type`, the bare id or path. Prefixes are
//! matched ignoring ASCII case, as the API's own fuzzy search does. Name and
//! path records, and `WARDEN_ALLOWED_ORG_PATHS`, are judged against the
//! organization read through the Organizations API, with the semantics of
//! [`crate::organization::patterns`]. An account that a rule might allow but
//! the warden cannot tell (`*`, an id differing only in case, a record it
//! cannot read, a name or path record while the organization cannot be read,
//! a pattern that matches it only under another reading) is **undecidable**:
//! it is never accepted on that rule's strength, and never rejected or revoked.

use std::collections::HashSet;

use crate::organization::{Match, NamePattern, OrgView, PathPattern};
use crate::vpcep::Permission;

/// One whitelist record, as understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `iam:domain::ID`: one account.
    Account(String),
    /// `iam:domainName::PATTERN`: accounts whose name matches.
    AccountName(NamePattern),
    /// `organizations:orgPath::PATH`: accounts in organizational units.
    OrgPath(PathPattern),
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
        let unreadable = || Record::Unreadable(raw.to_owned());
        match (prefix.as_str(), typed) {
            ("iam:domain", _) | ("", Some("domainId")) => match rest {
                "*" => Record::Everyone,
                "" => unreadable(),
                id if id.contains('*') || id.contains('?') => unreadable(),
                id => Record::Account(id.to_owned()),
            },
            ("iam:domainname", _) | ("", Some("domainName")) => NamePattern::parse(rest)
                .map(Record::AccountName)
                .unwrap_or_else(|_| unreadable()),
            ("organizations:orgpath", _) | ("", Some("orgPath")) => PathPattern::parse(rest)
                .map(Record::OrgPath)
                .unwrap_or_else(|_| unreadable()),
            _ => unreadable(),
        }
    }

    /// Whether judging by it needs the organization (names and paths).
    pub fn needs_organization(&self) -> bool {
        matches!(self, Record::AccountName(_) | Record::OrgPath(_))
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
    /// `WARDEN_ALLOWED_ORG_PATHS` (with a target's override).
    pub org_paths: Vec<PathPattern>,
    /// The organization, when a rule needed it.
    pub organization: OrgView,
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
            ..Self::default()
        }
    }

    /// Whether it names no account, no unit and holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.whitelist.is_empty() && self.org_paths.is_empty()
    }

    /// Whether some rule is judged against the organization: a unit of the
    /// settings, or a name or path record of the whitelist.
    pub fn needs_organization(&self) -> bool {
        !self.org_paths.is_empty() || self.whitelist.iter().any(Record::needs_organization)
    }

    /// Judges `domain_id` (never empty: a connection without an account is
    /// not judged at all). Account ids match exactly: no prefix, substring
    /// or case folding. Any rule that allows the account wins; else the
    /// first rule that might allow it makes it undecidable.
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
        for path in &self.org_paths {
            match self.by_path(path, domain_id) {
                Match::Yes => {
                    return Verdict::Allowed(
                        "account in an organizational unit of WARDEN_ALLOWED_ORG_PATHS",
                    )
                }
                Match::No => {}
                Match::Maybe(why) => {
                    undecidable.get_or_insert(format!(
                        "WARDEN_ALLOWED_ORG_PATHS allows organizational unit {:?}, but {why}",
                        path.as_str()
                    ));
                }
            }
        }
        for record in &self.whitelist {
            let maybe = match record {
                Record::Account(id) if id == domain_id => {
                    return Verdict::Allowed("account in the service's whitelist")
                }
                Record::Account(id) if id.eq_ignore_ascii_case(domain_id) => format!(
                    "the service's whitelist names account {id:?}, which differs from {domain_id:?} only in case"
                ),
                Record::Account(_) => continue,
                Record::AccountName(pattern) => match self.by_name(pattern, domain_id) {
                    Match::Yes => {
                        return Verdict::Allowed("account name matches the service's whitelist")
                    }
                    Match::No => continue,
                    Match::Maybe(why) => format!(
                        "the service's whitelist allows accounts named {:?}, but {why}",
                        pattern.as_str()
                    ),
                },
                Record::OrgPath(path) => match self.by_path(path, domain_id) {
                    Match::Yes => {
                        return Verdict::Allowed(
                            "account in an organizational unit of the service's whitelist",
                        )
                    }
                    Match::No => continue,
                    Match::Maybe(why) => format!(
                        "the service's whitelist allows organizational unit {:?}, but {why}",
                        path.as_str()
                    ),
                },
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

    /// Whether the organization puts `account` under `path`.
    fn by_path(&self, path: &PathPattern, account: &str) -> Match {
        match &self.organization {
            OrgView::Read(tree) => path.judge(tree, account),
            OrgView::Unreadable(why) => {
                Match::Maybe(format!("the organization cannot be read ({why})"))
            }
            OrgView::NotRead => Match::Maybe("the organization was not read".into()),
        }
    }

    /// Whether `account`'s name, as the organization gives it, matches `pattern`.
    fn by_name(&self, pattern: &NamePattern, account: &str) -> Match {
        match &self.organization {
            OrgView::Read(tree) => match tree.member(account) {
                Some(member) => pattern.judge(&member.name),
                None => Match::Maybe(format!(
                    "account {account:?} is not in organization {}, so its name cannot be read",
                    tree.id
                )),
            },
            OrgView::Unreadable(why) => Match::Maybe(format!(
                "account names come from the organization, which cannot be read ({why})"
            )),
            OrgView::NotRead => Match::Maybe("the organization was not read".into()),
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
            ..Allowlist::default()
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
            read("iam:domainName::team-.*", None),
            Record::AccountName(NamePattern::parse("team-.*").unwrap())
        );
        assert_eq!(
            read("team-.*", Some("domainName")),
            Record::AccountName(NamePattern::parse("team-.*").unwrap())
        );
        assert_eq!(
            read("organizations:orgPath::o-1/r-2/ou-3", None),
            Record::OrgPath(PathPattern::parse("o-1/r-2/ou-3").unwrap())
        );
        assert_eq!(
            read("o-1/r-2/*", Some("orgPath")),
            Record::OrgPath(PathPattern::parse("o-1/r-2/*").unwrap())
        );
        assert!(matches!(read("iam:domain::", None), Record::Unreadable(_)));
        // Outside the documented signs: read, but not understood.
        assert!(matches!(
            read("iam:domainName::team[1]", None),
            Record::Unreadable(_)
        ));
        assert!(matches!(
            read("organizations:orgPath::o-1/r_2", None),
            Record::Unreadable(_)
        ));
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

    /// An organization: `inside` in ou-3 (named shop-01), `beside` in ou-4
    /// (named ops), `top` under the root (named shop-root).
    fn organization() -> OrgView {
        let mut tree = crate::organization::OrgTree::new("o-1", None);
        tree.add_account("inside", "shop-01", "o-1/r-2/ou-3/");
        tree.add_account("beside", "ops", "o-1/r-2/ou-4/");
        tree.add_account("top", "shop-root", "o-1/r-2/");
        OrgView::Read(std::sync::Arc::new(tree))
    }

    #[test]
    fn org_path_records_allow_the_accounts_of_their_unit_and_no_other() {
        let mut a = allow(&[], &[("organizations:orgPath::o-1/r-2/ou-3", None)]);
        a.organization = organization();
        assert_eq!(
            a.judge("inside"),
            Verdict::Allowed("account in an organizational unit of the service's whitelist")
        );
        assert_eq!(a.judge("beside"), Verdict::NotAllowed);
        assert_eq!(a.judge("top"), Verdict::NotAllowed);
        // Not in the organization the record names: no unit of it holds the account.
        assert_eq!(a.judge("stranger"), Verdict::NotAllowed);
    }

    #[test]
    fn name_records_judge_the_name_the_organization_gives() {
        let mut a = allow(&[], &[("iam:domainName::shop-.*", None)]);
        a.organization = organization();
        assert_eq!(
            a.judge("inside"),
            Verdict::Allowed("account name matches the service's whitelist")
        );
        assert_eq!(a.judge("beside"), Verdict::NotAllowed);
        // An account outside the organization: its name cannot be known.
        let Verdict::Undecidable(why) = a.judge("stranger") else {
            panic!("a stranger's name is unknown")
        };
        assert!(why.contains("cannot be read"), "{why}");
    }

    #[test]
    fn the_settings_org_paths_allow_without_any_whitelist() {
        let mut a = Allowlist::of_domains(&[]);
        a.org_paths = vec![PathPattern::parse("o-1/r-2/*").unwrap()];
        a.organization = organization();
        assert!(!a.is_empty() && a.needs_organization());
        assert_eq!(
            a.judge("beside"),
            Verdict::Allowed("account in an organizational unit of WARDEN_ALLOWED_ORG_PATHS")
        );
        assert_eq!(a.judge("stranger"), Verdict::NotAllowed);
    }

    #[test]
    fn an_unreadable_organization_leaves_every_account_a_name_or_path_might_allow_undecided() {
        for record in [
            "organizations:orgPath::o-1/r-2/ou-3",
            "iam:domainName::shop-.*",
        ] {
            let mut a = allow(&["good"], &[(record, None), ("iam:domain::listed", None)]);
            a.organization =
                OrgView::Unreadable("403 Forbidden: grant organizations:accounts:list".into());
            for account in ["inside", "beside", "stranger"] {
                let Verdict::Undecidable(why) = a.judge(account) else {
                    panic!("{record}: {account} must be undecidable")
                };
                assert!(why.contains("organizations:accounts:list"), "{why}");
            }
            assert!(matches!(a.judge("good"), Verdict::Allowed(_)));
            assert!(matches!(a.judge("listed"), Verdict::Allowed(_)));
        }
    }

    #[test]
    fn a_rule_that_allows_wins_over_one_that_only_might() {
        let mut a = allow(
            &[],
            &[("*", None), ("organizations:orgPath::o-1/r-2/ou-3/", None)],
        );
        a.organization = organization();
        assert!(matches!(a.judge("inside"), Verdict::Allowed(_)));
        assert!(matches!(a.judge("beside"), Verdict::Undecidable(_)));
    }
}
