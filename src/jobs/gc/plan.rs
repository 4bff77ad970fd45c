//! The gc job's rules and plan, pure: which failed endpoints may be
//! deleted, which are kept and why, and the cap (`WARDEN_GC_MAX_DELETES`).

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime};

use crate::config::GcOverLimit;
use crate::report::{DeletedEntry, SkippedEntry};
use crate::vpcep::Endpoint;

/// The status of an endpoint that failed to be created.
pub const FAILED: &str = "failed";

/// The rules an endpoint must pass to be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub now: OffsetDateTime,
    pub min_age: Duration,
    pub keep_tag: String,
    pub max_deletes: usize,
    pub over_limit: GcOverLimit,
}

/// The decision for the failed endpoints of one listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// To delete, oldest first.
    pub delete: Vec<Endpoint>,
    pub skip: Vec<SkippedEntry>,
    /// How many qualified when the run refused for being over the cap.
    pub refused: Option<usize>,
}

/// Why `endpoint` must not be deleted now, or `None` when it may be (the cap aside).
pub fn refusal(endpoint: &Endpoint, rules: &Rules) -> Option<String> {
    if matches!(endpoint.id.trim(), "" | "." | "..") {
        return Some(format!(
            "id {:?} cannot name one endpoint (it would address the whole collection); left alone",
            endpoint.id
        ));
    }
    if endpoint.status != FAILED {
        return Some(format!("status is {:?}, not failed", endpoint.status));
    }
    // Tag keys match ignoring case and surrounding spaces: `Warden-Keep` or
    // ` warden-keep` is surely meant to protect.
    if endpoint
        .tags
        .iter()
        .any(|t| t.key.trim().eq_ignore_ascii_case(rules.keep_tag.trim()))
    {
        return Some(format!("tagged {}", rules.keep_tag));
    }
    let until_key = format!("{}-until", rules.keep_tag.trim());
    // Every keep-until tag counts (keys differing only in case are all
    // read): any value that is not a time keeps the endpoint, else the
    // latest time does.
    let mut latest: Option<(OffsetDateTime, &str)> = None;
    for tag in endpoint
        .tags
        .iter()
        .filter(|t| t.key.trim().eq_ignore_ascii_case(&until_key))
    {
        match keep_until(&tag.value) {
            None => {
                return Some(format!(
                    "tagged {until_key}={:?}, which is not an RFC 3339 time (2026-12-31T00:00:00Z) or date (2026-12-31); left alone to be safe",
                    tag.value
                ))
            }
            Some(until) if latest.is_none_or(|(l, _)| until > l) => {
                latest = Some((until, tag.value.trim()))
            }
            Some(_) => {}
        }
    }
    if let Some((_, value)) = latest.filter(|(until, _)| rules.now < *until) {
        return Some(format!("tagged {until_key}: kept until {value}"));
    }
    let Some(updated) = crate::vpcep::parse_time(&endpoint.updated_at) else {
        return Some(format!(
            "updated_at {:?} is not a time; left alone to be safe",
            endpoint.updated_at
        ));
    };
    let age = rules.now - updated;
    if age < rules.min_age {
        return Some(format!(
            "failed {} minutes ago, younger than WARDEN_GC_MIN_AGE_MINUTES={}",
            age.whole_minutes().max(0),
            rules.min_age.whole_minutes()
        ));
    }
    None
}

/// The end of a keep-until tag's protection: an RFC 3339 time, or a date
/// (protected through that whole day, UTC).
fn keep_until(value: &str) -> Option<OffsetDateTime> {
    let value = value.trim();
    if let Ok(at) = OffsetDateTime::parse(value, &Rfc3339) {
        return Some(at);
    }
    let day = Date::parse(
        value,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    // The last day there is (9999-12-31) has no next day: kept for good.
    Some(
        day.next_day()
            .map_or(time::PrimitiveDateTime::MAX, |next| next.midnight())
            .assume_utc(),
    )
}

/// Plans a run over the listed endpoints, as a run of this listing alone
/// (the cap counting these endpoints only). Only failed ones are
/// considered; the others are not listed in the plan at all.
pub fn plan(endpoints: impl IntoIterator<Item = Endpoint>, rules: &Rules) -> Plan {
    let listed = eligible(endpoints, rules);
    let count = listed.delete.len();
    cap(listed, count, rules.max_deletes, rules)
}

/// Every listed endpoint that qualifies, in `delete`, oldest first; the
/// cap not yet applied.
pub fn eligible(endpoints: impl IntoIterator<Item = Endpoint>, rules: &Rules) -> Plan {
    let mut plan = Plan::default();
    let mut eligible: Vec<(OffsetDateTime, Endpoint)> = Vec::new();
    for e in endpoints.into_iter().filter(|e| e.status == FAILED) {
        match refusal(&e, rules) {
            Some(reason) => plan.skip.push(SkippedEntry {
                endpoint_id: e.id,
                reason,
                target: None,
            }),
            None => {
                let at = crate::vpcep::parse_time(&e.updated_at).unwrap_or(rules.now);
                eligible.push((at, e));
            }
        }
    }
    eligible.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    plan.delete = eligible.into_iter().map(|(_, e)| e).collect();
    plan
}

/// Applies `WARDEN_GC_MAX_DELETES` to a plan, given the `total` that
/// qualify across the whole run (every target) and the `room` this plan may
/// still use: over the cap, `refuse` deletes none; `partial` deletes up to
/// `room`, oldest first.
pub fn cap(mut plan: Plan, total: usize, room: usize, rules: &Rules) -> Plan {
    let max = rules.max_deletes;
    if total > max && rules.over_limit == GcOverLimit::Refuse {
        plan.refused = Some(total);
        let reason = format!(
            "{total} endpoints qualify in this run, more than WARDEN_GC_MAX_DELETES={max}: none is deleted (WARDEN_GC_OVER_LIMIT=refuse)"
        );
        plan.skip.extend(
            std::mem::take(&mut plan.delete)
                .into_iter()
                .map(|e| SkippedEntry {
                    endpoint_id: e.id,
                    reason: reason.clone(),
                    target: None,
                }),
        );
        return plan;
    }
    let keep = plan.delete.len().min(room);
    let rest = plan.delete.split_off(keep);
    plan.skip.extend(rest.into_iter().map(|e| SkippedEntry {
        endpoint_id: e.id,
        reason: format!("over WARDEN_GC_MAX_DELETES={max} for this run; left for the next"),
        target: None,
    }));
    plan
}

/// The report entry for a deleted endpoint, with the failure the API reported.
pub fn deleted_entry(e: &Endpoint) -> DeletedEntry {
    let first = e.error.first();
    DeletedEntry {
        endpoint_id: e.id.clone(),
        endpoint_service_id: e.endpoint_service_id.clone(),
        updated_at: e.updated_at.clone(),
        error_code: first.map(|x| x.error_code.clone()).unwrap_or_default(),
        error_message: first.map(|x| x.error_message.clone()).unwrap_or_default(),
        target: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ep(id: &str, status: &str, updated_at: &str, tags: &[&str]) -> Endpoint {
        let tags: Vec<_> = tags
            .iter()
            .map(|k| {
                let (key, value) = k.split_once('=').unwrap_or((k, ""));
                serde_json::json!({"key": key, "value": value})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": id, "status": status, "endpoint_service_id": "svc",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": updated_at, "tags": tags,
            "error": [{"error_code": "EndPoint.2022", "error_message": "Failed to create an endpoint."}]
        }))
        .unwrap()
    }

    fn rules(max: usize) -> Rules {
        Rules {
            now: datetime!(2026-11-23 12:00 UTC),
            min_age: Duration::minutes(60),
            keep_tag: "warden-keep".into(),
            max_deletes: max,
            over_limit: GcOverLimit::Partial,
        }
    }

    #[test]
    fn gc_deletes_old_failed_endpoints_only() {
        let plan = plan(
            [
                ep("old", FAILED, "2026-11-23T10:00:00Z", &[]),
                ep("young", FAILED, "2026-11-23T11:30:00Z", &[]),
                ep("kept", FAILED, "2026-11-20T00:00:00Z", &["warden-keep"]),
                ep("fine", "accepted", "2026-01-01T00:00:00Z", &[]),
                ep("odd", FAILED, "yesterday", &[]),
            ],
            &rules(20),
        );
        let deleted: Vec<_> = plan.delete.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(deleted, ["old"]);
        let skipped: Vec<_> = plan
            .skip
            .iter()
            .map(|s| (s.endpoint_id.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 3);
        assert!(skipped
            .iter()
            .any(|(id, r)| *id == "young" && r.contains("30 minutes")));
        assert!(skipped
            .iter()
            .any(|(id, r)| *id == "kept" && r.contains("warden-keep")));
        assert!(skipped
            .iter()
            .any(|(id, r)| *id == "odd" && r.contains("not a time")));
    }

    #[test]
    fn gc_caps_deletions_oldest_first() {
        let plan = plan(
            [
                ep("b", FAILED, "2026-11-02T00:00:00Z", &[]),
                ep("a", FAILED, "2026-11-01T00:00:00Z", &[]),
                ep("c", FAILED, "2026-11-03T00:00:00Z", &[]),
            ],
            &rules(2),
        );
        let deleted: Vec<_> = plan.delete.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(deleted, ["a", "b"]);
        assert_eq!(plan.skip[0].endpoint_id, "c");
        assert!(plan.skip[0].reason.contains("WARDEN_GC_MAX_DELETES=2"));
    }

    #[test]
    fn the_failure_reason_travels_to_the_report() {
        let entry = deleted_entry(&ep("x", FAILED, "2026-11-01T00:00:00Z", &[]));
        assert_eq!(entry.error_code, "EndPoint.2022");
        assert_eq!(entry.error_message, "Failed to create an endpoint.");
    }

    #[test]
    fn the_keep_tag_matches_whatever_its_case_and_spaces() {
        let r = rules(10);
        for key in [
            "warden-keep",
            "Warden-Keep",
            " warden-keep",
            "WARDEN-KEEP\t",
        ] {
            let e = ep("e1", "failed", "2026-01-01T00:00:00Z", &[key]);
            assert!(
                refusal(&e, &r).is_some_and(|why| why.contains("tagged")),
                "{key:?}"
            );
        }
        let other = ep("e2", "failed", "2026-01-01T00:00:00Z", &["warden-keeper"]);
        assert_eq!(refusal(&other, &r), None);
    }

    #[test]
    fn over_the_cap_a_refusing_run_deletes_none() {
        let endpoints = || {
            [
                ep("a", FAILED, "2026-11-01T00:00:00Z", &[]),
                ep("b", FAILED, "2026-11-02T00:00:00Z", &[]),
                ep("c", FAILED, "2026-11-03T00:00:00Z", &[]),
            ]
        };
        let refusing = Rules {
            over_limit: GcOverLimit::Refuse,
            ..rules(2)
        };
        let p = plan(endpoints(), &refusing);
        assert!(p.delete.is_empty());
        assert_eq!(p.refused, Some(3));
        assert_eq!(p.skip.len(), 3);
        assert!(p.skip[0].reason.contains("3 endpoints qualify"));
        let at_cap = plan(
            endpoints(),
            &Rules {
                max_deletes: 3,
                ..refusing
            },
        );
        assert_eq!(at_cap.delete.len(), 3);
        assert_eq!(at_cap.refused, None);
    }

    #[test]
    fn a_keep_until_tag_protects_until_its_time() {
        let r = rules(10);
        let kept = |value: &str| {
            let tag = format!("Warden-Keep-Until={value}");
            refusal(&ep("e", FAILED, "2026-01-01T00:00:00Z", &[&tag]), &r)
        };
        assert!(kept("2026-11-23T12:00:01Z").is_some_and(|w| w.contains("kept until")));
        assert_eq!(kept("2026-11-23T11:59:59Z"), None);
        assert!(
            kept("2026-11-23").is_some(),
            "a date protects through that day"
        );
        assert_eq!(kept("2026-11-22"), None);
        assert!(kept("next week").is_some_and(|w| w.contains("not an RFC 3339")));
    }

    #[test]
    fn with_several_keep_until_tags_the_latest_or_an_unreadable_one_wins() {
        let r = rules(10);
        let kept = |tags: &[&str]| refusal(&ep("e", FAILED, "2026-01-01T00:00:00Z", tags), &r);
        // The first tag found has passed; the second, whose key differs in case, has not.
        let both = kept(&[
            "warden-keep-until=2026-01-01",
            "WARDEN-KEEP-UNTIL=2026-12-31",
        ]);
        assert!(both.is_some_and(|w| w.contains("kept until 2026-12-31")));
        let unreadable = kept(&["warden-keep-until=2026-01-01", "Warden-Keep-Until=soon"]);
        assert!(unreadable.is_some_and(|w| w.contains("not an RFC 3339")));
        assert!(
            kept(&["warden-keep-until=9999-12-31"]).is_some_and(|w| w.contains("kept until")),
            "the last date there is, is a date"
        );
    }
}
