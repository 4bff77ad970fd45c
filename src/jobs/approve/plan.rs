//! The one place that decides: a pure function from a service's connections
//! as read, the allowlist, the rules and what could not be read, to a
//! decision for each connection with its reason. Approve, reconcile, the
//! notices and the dry run all act on this plan and on nothing else.

use std::collections::HashMap;

use super::notices::{announces, Notices};
use super::rules::{Allowlist, Verdict};
use crate::config::NotAllowed;
use crate::jobs::marks;
use crate::vpcep::Connection;

/// The status of a connection waiting for the provider's decision.
pub const PENDING: &str = "pendingAcceptance";

/// Statuses that hold a place against the per-account limit.
const HOLDING: &[&str] = &["accepted", "creating"];

/// What to do with one pending connection, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept(String),
    Reject(String),
    Leave(String),
}

/// One planned decision for a pending connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub endpoint_id: String,
    pub domain_id: String,
    pub decision: Decision,
    /// The connection's description as read (to tell whose it is).
    pub description: Option<String>,
    /// Whether a connection left pending is announced now (see [`Notices`]).
    pub announce: bool,
}

/// An accepted connection whose account is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub service_id: String,
    pub endpoint_id: String,
    pub domain_id: String,
    pub description: Option<String>,
}

/// The rules of one approve run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub not_allowed: NotAllowed,
    /// Whether accepted connections are checked against the allowlist.
    pub reconcile: bool,
    /// `WARDEN_MAX_CONNECTIONS_PER_ACCOUNT`.
    pub max_per_account: Option<usize>,
    pub notices: Notices,
}

/// What an approve run over one service's connections will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One decision per pending connection, oldest first.
    pub decisions: Vec<Planned>,
    /// Accepted connections of accounts not allowed (only when reconciling).
    pub revoke: Vec<Candidate>,
    /// Set when revoking was refused for this service, with the reason.
    pub revoke_refused: Option<String>,
    /// Accepted connections reconcile did not judge, with the reason (no
    /// account in the answer, or an undecidable account).
    pub not_judged: Vec<(Candidate, String)>,
    /// Accepted connections allowed again whose description still records a
    /// first sighting: the mark is replaced, so a later sighting starts the
    /// grace period afresh.
    pub cleared: Vec<String>,
}

/// The account of a connection, or `None` when the answer names none
/// (missing, `null`, empty or blank `domain_id`): such a connection is never judged.
pub fn account(c: &Connection) -> Option<&str> {
    Some(c.domain_id.trim()).filter(|d| !d.is_empty())
}

/// Why a connection without an account is not judged.
pub const NO_ACCOUNT: &str =
    "the API's answer names no account (domain_id missing or empty): not judged, left as it is";

/// Plans the decisions for a service's connections: the pending ones (all,
/// or only `only`) are accepted, rejected or left; with `rules.reconcile`,
/// accepted connections of accounts not allowed become revoke candidates.
pub fn plan(
    service_id: &str,
    connections: &[Connection],
    allow: &Allowlist,
    rules: &Rules,
    only: Option<&str>,
) -> Plan {
    let mut plan = Plan::default();
    let mut held: HashMap<&str, usize> = HashMap::new();
    for c in connections {
        if let Some(account) = account(c).filter(|_| HOLDING.contains(&c.status.as_str())) {
            *held.entry(account).or_default() += 1;
        }
    }
    let mut pending: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.status == PENDING && only.is_none_or(|id| c.id == id))
        .collect();
    // Oldest first: when an account is at its limit, its earliest requests get the places.
    pending.sort_by(|a, b| {
        let at = |c: &Connection| crate::vpcep::parse_time(&c.created_at);
        at(a).cmp(&at(b)).then_with(|| a.id.cmp(&b.id))
    });
    let not_allowed = |reason: String| match rules.not_allowed {
        NotAllowed::Reject => Decision::Reject(reason),
        NotAllowed::Leave => Decision::Leave(reason),
    };
    for c in pending {
        let decision = match account(c) {
            None => Decision::Leave(NO_ACCOUNT.to_owned()),
            Some(account) => match allow.judge(account) {
                Verdict::Undecidable(why) => Decision::Leave(why),
                Verdict::NotAllowed if allow.whitelist_on && allow.whitelist.is_empty() => {
                    Decision::Leave(format!(
                        "account {account:?} is not allowlisted, but the whitelist of service {service_id} has no records: left pending (a whitelist that empties is more often a glitch than a decision)"
                    ))
                }
                Verdict::NotAllowed => not_allowed(format!(
                    "account {account:?} is not allowlisted (WARDEN_NOT_ALLOWED={})",
                    not_allowed_name(rules.not_allowed)
                )),
                Verdict::Allowed(why) => {
                    let holding = held.entry(account).or_default();
                    match rules.max_per_account {
                        Some(max) if *holding >= max => not_allowed(format!(
                            "account {account:?} already has {holding} accepted or creating connection(s) to service {service_id}, WARDEN_MAX_CONNECTIONS_PER_ACCOUNT={max} (WARDEN_NOT_ALLOWED={})",
                            not_allowed_name(rules.not_allowed)
                        )),
                        _ => {
                            *holding += 1;
                            Decision::Accept(why.to_owned())
                        }
                    }
                }
            },
        };
        let announce = matches!(decision, Decision::Leave(_)) && announces(c, rules.notices);
        plan.decisions.push(Planned {
            endpoint_id: c.id.clone(),
            domain_id: c.domain_id.clone(),
            decision,
            description: c.description.clone(),
            announce,
        });
    }
    if rules.reconcile && only.is_none() {
        plan_revocations(service_id, connections, allow, &mut plan);
    }
    plan
}

/// Reconcile's part of the plan: the accepted connections of accounts that
/// no rule allows, unless the allowlist itself looks wrong.
fn plan_revocations(
    service_id: &str,
    connections: &[Connection],
    allow: &Allowlist,
    plan: &mut Plan,
) {
    for c in connections.iter().filter(|c| c.status == "accepted") {
        let candidate = Candidate {
            service_id: service_id.to_owned(),
            endpoint_id: c.id.clone(),
            domain_id: c.domain_id.clone(),
            description: c.description.clone(),
        };
        match account(c).map(|a| allow.judge(a)) {
            None => plan.not_judged.push((candidate, NO_ACCOUNT.to_owned())),
            Some(Verdict::Undecidable(why)) => plan.not_judged.push((candidate, why)),
            Some(Verdict::Allowed(_)) => {
                if marks::first_sighting(c.description.as_deref()).is_some() {
                    plan.cleared.push(c.id.clone());
                }
            }
            Some(Verdict::NotAllowed) => plan.revoke.push(candidate),
        }
    }
    if plan.revoke.is_empty() {
        return;
    }
    if allow.is_empty() {
        plan.revoke_refused = Some(format!(
            "the allowlist of service {service_id} is empty: nothing is revoked (WARDEN_ALLOWED_DOMAINS and the service's whitelist name no account)"
        ));
    } else if allow.whitelist_on && allow.whitelist.is_empty() {
        plan.revoke_refused = Some(format!(
            "the whitelist of service {service_id} has no records: nothing is revoked on it (a whitelist that empties is more often a glitch or a mistake than a decision)"
        ));
    }
}

fn not_allowed_name(n: NotAllowed) -> &'static str {
    match n {
        NotAllowed::Leave => "leave",
        NotAllowed::Reject => "reject",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::approve::rules::Record;

    pub(crate) fn conn_at(
        id: &str,
        domain: &str,
        status: &str,
        created: &str,
        description: Option<&str>,
    ) -> Connection {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain_id": domain, "status": status, "description": description,
            "created_at": created, "updated_at": created
        }))
        .unwrap()
    }

    fn conn(id: &str, domain: &str, status: &str) -> Connection {
        conn_at(id, domain, status, "2026-01-01T00:00:00Z", None)
    }

    fn rules(not_allowed: NotAllowed) -> Rules {
        Rules {
            not_allowed,
            reconcile: false,
            max_per_account: None,
            notices: Notices::Off,
        }
    }

    fn plan_of(conns: &[Connection], allow: &Allowlist, rules: &Rules) -> Vec<Planned> {
        plan("svc", conns, allow, rules, None).decisions
    }

    fn allow(domains: &[&str]) -> Allowlist {
        Allowlist::of_domains(&domains.iter().map(|d| d.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn approve_accepts_allowlisted_and_leaves_unknown_domains_pending() {
        let conns = [conn("e1", "good", PENDING), conn("e2", "stranger", PENDING)];
        let planned = plan_of(&conns, &allow(&["good"]), &rules(NotAllowed::Leave));
        assert!(
            matches!(&planned[0].decision, Decision::Accept(r) if r.contains("WARDEN_ALLOWED_DOMAINS"))
        );
        assert!(matches!(&planned[1].decision, Decision::Leave(r) if r.contains("stranger")));
    }

    #[test]
    fn approve_rejects_unknown_domains_when_configured() {
        let planned = plan_of(
            &[conn("e2", "stranger", PENDING)],
            &allow(&["good"]),
            &rules(NotAllowed::Reject),
        );
        assert!(
            matches!(&planned[0].decision, Decision::Reject(r) if r.contains("not allowlisted"))
        );
    }

    #[test]
    fn approve_ignores_connections_that_are_not_pending() {
        let conns = [
            conn("e1", "good", "accepted"),
            conn("e2", "good", "rejected"),
        ];
        assert!(plan_of(&conns, &allow(&["good"]), &rules(NotAllowed::Reject)).is_empty());
    }

    #[test]
    fn a_connection_without_an_account_is_never_judged() {
        let mut missing: Connection = serde_json::from_value(serde_json::json!({
            "id": "none", "status": PENDING
        }))
        .unwrap();
        let blank = conn("blank", "  ", PENDING);
        let gone = conn("gone", "", "accepted");
        let conns = [missing.clone(), blank, gone];
        let r = Rules {
            reconcile: true,
            ..rules(NotAllowed::Reject)
        };
        let p = plan("svc", &conns, &allow(&["good"]), &r, None);
        assert!(p
            .decisions
            .iter()
            .all(|d| matches!(&d.decision, Decision::Leave(r) if r == NO_ACCOUNT)));
        assert!(p.revoke.is_empty());
        assert_eq!(p.not_judged.len(), 1);
        missing.domain_id = "good".into();
        let p = plan("svc", &[missing], &allow(&["good"]), &r, None);
        assert!(matches!(p.decisions[0].decision, Decision::Accept(_)));
    }

    #[test]
    fn the_per_account_limit_admits_the_oldest_requests_first() {
        let conns = [
            conn("held", "acct", "accepted"),
            conn("other", "acct", "rejected"),
            conn_at("late", "acct", PENDING, "2026-01-03T00:00:00Z", None),
            conn_at("early", "acct", PENDING, "2026-01-02T00:00:00Z", None),
        ];
        let r = Rules {
            max_per_account: Some(2),
            ..rules(NotAllowed::Leave)
        };
        let planned = plan_of(&conns, &allow(&["acct"]), &r);
        assert_eq!(planned[0].endpoint_id, "early");
        assert!(matches!(planned[0].decision, Decision::Accept(_)));
        assert!(
            matches!(&planned[1].decision, Decision::Leave(why) if why.contains("WARDEN_MAX_CONNECTIONS_PER_ACCOUNT=2"))
        );
    }

    #[test]
    fn reconciling_names_accepted_connections_of_accounts_not_allowed() {
        let conns = [
            conn("kept", "good", "accepted"),
            conn("gone", "removed", "accepted"),
            conn("waiting", "removed", PENDING),
        ];
        let r = Rules {
            reconcile: true,
            ..rules(NotAllowed::Leave)
        };
        let p = plan("svc", &conns, &allow(&["good"]), &r, None);
        let ids: Vec<_> = p.revoke.iter().map(|c| c.endpoint_id.as_str()).collect();
        assert_eq!(ids, ["gone"]);
        assert_eq!(p.revoke_refused, None);
        let empty = plan("svc", &conns, &allow(&[]), &r, None);
        assert!(empty.revoke_refused.unwrap().contains("empty"));
    }

    #[test]
    fn an_empty_whitelist_or_an_undecidable_record_revokes_nothing() {
        let conns = [conn("gone", "removed", "accepted")];
        let r = Rules {
            reconcile: true,
            ..rules(NotAllowed::Reject)
        };
        let mut a = allow(&["good"]);
        a.whitelist_on = true;
        let p = plan("svc", &conns, &a, &r, None);
        assert!(p.revoke_refused.unwrap().contains("no records"));
        a.whitelist = vec![Record::OrgPath(
            crate::organization::PathPattern::parse("o-1/r-1/ou-1").unwrap(),
        )];
        let p = plan("svc", &conns, &a, &r, None);
        assert!(p.revoke.is_empty());
        assert!(p.not_judged[0].1.contains("organizational unit"));
    }
}
