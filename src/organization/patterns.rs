//! Organization paths and account-name patterns, as VPCEP whitelists and
//! `WARDEN_ALLOWED_ORG_PATHS` write them, and how one judges an account.
//!
//! What Huawei documents:
//! - `organizations:orgPath::ORG_PATH` allows "the organization path of the
//!   accounts that may connect" (whitelist type `orgPath`: "by the
//!   organization path the account is in"). ORG_PATH holds letters, digits,
//!   `/`, `-`, `?` and `*`, at most 1,024 characters; the example is
//!   `organizations:orgPath::o-3j59d1231uprgk9yuvlidra7zbzfi578/r-rldbu1vmxdw5ahdkknxnvd5rgag77m2z/ou-7tuddd8nh99rebxltawsm6qct5z7rklv/*`.
//!   Sources: VPCEP API Reference, "Batch Adding or Deleting Whitelist
//!   Records of a VPC Endpoint Service" (vpcep_06_0209) and
//!   "BatchAddEndpointServicePermissions", and the `permission` field of the
//!   official SDKs' `AddOrRemoveServicePermissionsRequestBody` and
//!   `EpsPermission` models.
//! - `iam:domainName::DOMAIN_NAME_REG` allows accounts by name: "the account
//!   name of the accounts that may connect", letters, digits and
//!   `_ + * . - ? { } ,`, at most 80 characters; the example is
//!   `iam:domainName::op_svc_vpcep.*`. Source: the `permission` field of the
//!   official SDKs' VPCEP `PermissionItem` model.
//! - `*` lets every account connect (never taken as approval here).
//!
//! What the documentation leaves open, and how the warden reads it (its
//! decision, written down here and in README.md):
//! - An account's path is the ids from its organization down to its parent,
//!   each followed by `/`, as the example writes them: `o-1/r-2/ou-3/` for
//!   an account directly in `ou-3`, `o-1/r-2/` for one directly under the root.
//! - A path that does not end in `/` or `*` gets a `/`: `o-1/r-2/ou-3` and
//!   `o-1/r-2/ou-3/` both name the unit `ou-3`, whose direct accounts they allow.
//! - `*` matches any run of characters, `/` included, and `?` exactly one,
//!   over the whole path, case included: the example's `…/ou-7tud…/*` allows
//!   the accounts of that unit and of every unit below it.
//! - An account-name pattern is a regular expression (the API calls it
//!   `domain_name_reg`, and allows its signs) that must match the whole name,
//!   case included: `op_svc_vpcep.*` allows `op_svc_vpcep` and
//!   `op_svc_vpcep.shop`, not `shop_op_svc_vpcep`.
//!
//! An account that a pattern does not match so, but would under another
//! plausible reading (ignoring case; a name pattern matched anywhere in the
//! name, or as a wildcard pattern; the account's own id as the last part of
//! its path), is [`Match::Maybe`]: never accepted on that pattern, never
//! rejected or revoked.

use regex_lite::{Regex, RegexBuilder};

use super::OrgTree;

/// How a pattern judges one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The pattern allows it.
    Yes,
    /// The pattern does not allow it, under any reading.
    No,
    /// Only another reading of the pattern would allow it: why.
    Maybe(String),
}

/// The longest organization path VPCEP takes.
const MAX_PATH: usize = 1024;

/// The longest account-name pattern VPCEP takes.
const MAX_NAME: usize = 80;

/// The most memory one compiled name pattern may take.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// An organization path, perhaps with `*` and `?` (see the module's doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    /// As written (trimmed).
    text: String,
    /// As matched: ending in `/` or `*`.
    glob: String,
}

impl PathPattern {
    /// Reads a path: letters, digits, `/`, `-`, `*` and `?`, 1 to 1,024 characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an organization path must not be empty".into());
        }
        if text.len() > MAX_PATH {
            return Err(format!(
                "an organization path holds at most {MAX_PATH} characters, {text:.40}… has {}",
                text.len()
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '*' | '?')))
        {
            return Err(format!(
                "{bad:?} is not allowed in the organization path {text:?} (letters, digits, /, -, * and ? only)"
            ));
        }
        let glob = match text.ends_with('/') || text.ends_with('*') {
            true => text.to_owned(),
            false => format!("{text}/"),
        };
        Ok(Self {
            text: text.to_owned(),
            glob,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The organization the path names, when its first part has no wildcard.
    fn organization(&self) -> Option<&str> {
        self.text
            .split('/')
            .next()
            .filter(|first| !first.contains(['*', '?']))
    }

    /// Whether the path allows `account`, a member of `tree` or not.
    pub fn judge(&self, tree: &OrgTree, account: &str) -> Match {
        let Some(member) = tree.member(account) else {
            return match self.organization() {
                Some(org) if org == tree.id => Match::No,
                _ => Match::Maybe(format!(
                    "account {account:?} is not in organization {}, and {:?} may name another organization",
                    tree.id, self.text
                )),
            };
        };
        let path = member.path.as_str();
        if glob(&self.glob, path) {
            return Match::Yes;
        }
        let entity = format!("{path}{account}");
        let readings = [
            (glob_folded(&self.glob, path), "ignoring case"),
            (
                glob(&self.text, &entity)
                    || glob(&self.glob, &format!("{entity}/"))
                    || glob_folded(&self.text, &entity),
                "with the account's own id as the last part of its path",
            ),
        ];
        match readings.iter().find(|(matched, _)| *matched) {
            Some((_, how)) => Match::Maybe(format!(
                "account {account:?} is at {path:?}, which {:?} matches only {how}",
                self.text
            )),
            None => Match::No,
        }
    }
}

/// An account-name pattern: a regular expression over the whole name (see
/// the module's doc).
#[derive(Debug, Clone)]
pub struct NamePattern {
    /// As written (trimmed).
    text: String,
    /// The reading: the whole name, case included.
    whole: Regex,
    /// Other readings: anywhere in the name; the whole name ignoring case.
    anywhere: Regex,
    folded: Regex,
}

impl PartialEq for NamePattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for NamePattern {}

impl NamePattern {
    /// Reads a pattern: letters, digits and `_ + * . - ? { } ,`, 1 to 80
    /// characters, forming a regular expression.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an account-name pattern must not be empty".into());
        }
        if text.len() > MAX_NAME {
            return Err(format!(
                "an account-name pattern holds at most {MAX_NAME} characters, {text:?} has {}",
                text.len()
            ));
        }
        if let Some(bad) = text.chars().find(|c| {
            !(c.is_ascii_alphanumeric()
                || matches!(c, '_' | '+' | '*' | '.' | '-' | '?' | '{' | '}' | ','))
        }) {
            return Err(format!(
                "{bad:?} is not allowed in the account-name pattern {text:?} (letters, digits and _+*.-?{{}}, only)"
            ));
        }
        let compile = |source: String| {
            RegexBuilder::new(&source)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| {
                    let first = e.to_string();
                    let first = first.lines().last().unwrap_or_default().trim().to_owned();
                    format!("{text:?} is not a regular expression ({first})")
                })
        };
        Ok(Self {
            whole: compile(format!("^(?:{text})$"))?,
            anywhere: compile(text.to_owned())?,
            folded: compile(format!("^(?:{})$", text.to_ascii_lowercase()))?,
            text: text.to_owned(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern allows an account named `name`.
    pub fn judge(&self, name: &str) -> Match {
        if self.whole.is_match(name) {
            return Match::Yes;
        }
        let folded = name.to_lowercase();
        let readings = [
            (self.anywhere.is_match(name), "somewhere inside it"),
            (self.folded.is_match(&folded), "ignoring case"),
            (
                glob(&self.text, name) || glob(&self.text.to_ascii_lowercase(), &folded),
                "as a wildcard pattern (* any characters, ? one)",
            ),
        ];
        match readings.iter().find(|(matched, _)| *matched) {
            Some((_, how)) => Match::Maybe(format!(
                "account name {name:?} matches {:?} only {how}",
                self.text
            )),
            None => Match::No,
        }
    }
}

/// Whether `pattern` matches the whole of `text`: `*` any run of
/// characters (`/` included), `?` exactly one, anything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text it now stops.
    let mut star: Option<(usize, usize)> = None;
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

/// [`glob`] ignoring ASCII case.
fn glob_folded(pattern: &str, text: &str) -> bool {
    glob(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The organization of the documented example, with a unit below its
    /// unit and a sibling unit.
    const ORG: &str = "o-3j59d1231uprgk9yuvlidra7zbzfi578";
    const ROOT: &str = "r-rldbu1vmxdw5ahdkknxnvd5rgag77m2z";
    const OU: &str = "ou-7tuddd8nh99rebxltawsm6qct5z7rklv";

    fn tree() -> OrgTree {
        let mut t = OrgTree::new(ORG, None);
        let root = t.root_path(ROOT);
        let ou = format!("{root}{OU}/");
        t.add_account("direct", "op_svc_vpcep.shop", &ou);
        t.add_account("nested", "op_svc_vpcep", &format!("{ou}ou-child/"));
        t.add_account("sibling", "shop_op_svc_vpcep", &format!("{root}ou-other/"));
        t.add_account("at-root", "Op_Svc_Vpcep", &root);
        t
    }

    fn path(p: &str) -> PathPattern {
        PathPattern::parse(p).unwrap()
    }

    #[test]
    fn the_documented_org_path_example_allows_its_unit_and_every_unit_below() {
        let record = path(&format!("{ORG}/{ROOT}/{OU}/*"));
        let t = tree();
        assert_eq!(record.judge(&t, "direct"), Match::Yes);
        assert_eq!(record.judge(&t, "nested"), Match::Yes);
        assert_eq!(record.judge(&t, "sibling"), Match::No);
        assert_eq!(record.judge(&t, "at-root"), Match::No);
        // Outside the organization the record names: no path of it can hold the account.
        assert_eq!(record.judge(&t, "stranger"), Match::No);
    }

    #[test]
    fn a_path_without_a_wildcard_allows_the_direct_accounts_of_its_unit() {
        let t = tree();
        for written in [format!("{ORG}/{ROOT}/{OU}"), format!("{ORG}/{ROOT}/{OU}/")] {
            let record = path(&written);
            assert_eq!(record.judge(&t, "direct"), Match::Yes, "{written}");
            assert_eq!(record.judge(&t, "nested"), Match::No, "{written}");
            assert_eq!(record.judge(&t, "sibling"), Match::No, "{written}");
        }
        let root_only = path(&format!("{ORG}/{ROOT}"));
        assert_eq!(root_only.judge(&t, "at-root"), Match::Yes);
        assert_eq!(root_only.judge(&t, "direct"), Match::No);
        assert_eq!(path(&format!("{ORG}/*")).judge(&t, "sibling"), Match::Yes);
    }

    #[test]
    fn a_question_mark_stands_for_one_character() {
        let t = tree();
        let one = path(&format!("{ORG}/{ROOT}/ou-othe?"));
        assert_eq!(one.judge(&t, "sibling"), Match::Yes);
        assert_eq!(one.judge(&t, "direct"), Match::No);
        assert_eq!(
            path(&format!("{ORG}/{ROOT}/ou-oth?")).judge(&t, "sibling"),
            Match::No
        );
    }

    #[test]
    fn other_readings_of_a_path_leave_the_account_undecided() {
        let t = tree();
        let upper = path(&format!("{}/{ROOT}/{OU}", ORG.to_uppercase()));
        assert!(matches!(upper.judge(&t, "direct"), Match::Maybe(_)));
        // A path naming the account itself.
        let own = path(&format!("{ORG}/{ROOT}/{OU}/direct"));
        assert!(matches!(own.judge(&t, "direct"), Match::Maybe(_)));
        // Another organization, or any: an account outside ours may be in it.
        for other in ["o-other/r-1/ou-1", "*/ou-1", "o-?"] {
            assert!(
                matches!(path(other).judge(&t, "stranger"), Match::Maybe(_)),
                "{other}"
            );
            assert_eq!(path(other).judge(&t, "direct"), Match::No, "{other}");
        }
    }

    #[test]
    fn paths_outside_the_documented_form_are_refused() {
        for bad in ["", "  ", "o-1/r-2/ou_3", "o-1 r-2", "o-1/r-2/ou-3/**"] {
            let parsed = PathPattern::parse(bad);
            assert_eq!(parsed.is_err(), bad != "o-1/r-2/ou-3/**", "{bad:?}");
        }
        assert!(PathPattern::parse(&"o".repeat(1025)).is_err());
        assert!(PathPattern::parse(&"o".repeat(1024)).is_ok());
    }

    fn name(p: &str) -> NamePattern {
        NamePattern::parse(p).unwrap()
    }

    #[test]
    fn the_documented_name_example_matches_whole_names() {
        let record = name("op_svc_vpcep.*");
        assert_eq!(record.judge("op_svc_vpcep"), Match::Yes);
        assert_eq!(record.judge("op_svc_vpcep.shop"), Match::Yes);
        assert_eq!(record.judge("op_svc_vpcepX"), Match::Yes);
        assert_eq!(record.judge("team-a"), Match::No);
        // Matched only somewhere inside, or ignoring case: undecided.
        assert!(matches!(record.judge("shop_op_svc_vpcep"), Match::Maybe(_)));
        assert!(matches!(record.judge("Op_Svc_Vpcep"), Match::Maybe(_)));
    }

    #[test]
    fn name_patterns_are_regular_expressions_and_a_wildcard_reading_stays_undecided() {
        let twice = name("shop-.{2}");
        assert_eq!(twice.judge("shop-01"), Match::Yes);
        assert_eq!(twice.judge("shop-1"), Match::No);
        assert_eq!(twice.judge("ops"), Match::No);
        let more = name("team-a+");
        assert_eq!(more.judge("team-aaa"), Match::Yes);
        assert_eq!(more.judge("team-b"), Match::No);
        // Written as a wildcard: as a regular expression it matches "team",
        // "team--"; "team-a" matches only the other readings.
        let star = name("team-*");
        assert_eq!(star.judge("team--"), Match::Yes);
        assert!(matches!(star.judge("team-a"), Match::Maybe(_)));
        assert_eq!(star.judge("shop"), Match::No);
    }

    #[test]
    fn name_patterns_outside_the_documented_form_are_refused() {
        for bad in ["", "team[1]", "team a", "?shop", "a{2", &"a".repeat(81)] {
            assert!(NamePattern::parse(bad).is_err(), "{bad:?}");
        }
        assert!(NamePattern::parse(&"a".repeat(80)).is_ok());
        assert!(NamePattern::parse(" op_svc_vpcep.* ").is_ok());
    }
}
