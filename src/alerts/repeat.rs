//! Repeat control from the state document, for each sink that does not
//! deduplicate (chat webhooks, `json` receivers, SMN):
//!
//! - an alert goes at once when the sink was never sent it, or was sent it
//!   with another level or kind (its fingerprint), and again only once
//!   `WARDEN_ALERT_REPEAT_HOURS` have passed since it was last sent, whatever
//!   the schedule;
//! - what is due is claimed in the document before it is sent (see
//!   [`crate::state::Run::claim`]), so a concurrent run finds it claimed and
//!   sends nothing; a claim is confirmed when the sink took it and dropped
//!   when it did not (the next run tries again);
//! - a resolved alert goes once to a sink that was sent the firing one, and
//!   the record goes with it; not when an alert of the same subject at
//!   another level fires in the same delivery (a level that changed is news
//!   enough).
//!
//! One-off kinds (`pending_connection`, `revoke_scheduled`, `test`) are sent
//! each time they are raised: their jobs raise them once.

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::remembered::remember;
use super::Alert;
use crate::state::{Doc, Run, Sent, CLAIM_HOLDS};

/// The name under which the webhook sink's sendings are kept.
pub const WEBHOOK: &str = "webhook";
/// The name under which the SMN sink's sendings are kept.
pub const SMN: &str = "smn";

/// Kinds sent each time they are raised, and never kept.
const ONE_OFF: &[&str] = &["pending_connection", "revoke_scheduled", "test"];

/// Whether sendings of `alert` are kept.
pub fn is_kept(alert: &Alert) -> bool {
    !ONE_OFF.contains(&alert.kind.as_str())
}

/// What tells one alert under a key from a changed one.
fn fingerprint(a: &Alert) -> String {
    let digest = Sha256::digest(format!("{}|{}|{}", a.kind, a.level.name(), a.dedup_key));
    hex::encode(&digest[..8])
}

/// The key without a trailing level: what stays the same when a level changes.
fn subject(key: &str) -> &str {
    ["/warning", "/critical"]
        .iter()
        .find_map(|level| key.strip_suffix(level))
        .unwrap_or(key)
}

fn record(a: &Alert, job: &str, now: OffsetDateTime, claimed: bool) -> Sent {
    Sent {
        fingerprint: fingerprint(a),
        sent_at: now,
        job: job.to_owned(),
        claimed,
        alert: remember(a),
    }
}

/// What goes to one sink.
#[derive(Debug, Default, Clone)]
pub struct Due {
    /// For each firing alert, whether it goes.
    pub firing: Vec<bool>,
    /// For each resolved alert, whether it goes.
    pub resolved: Vec<bool>,
    /// Records removed to send a resolved alert: put back if it fails.
    removed: Vec<(String, Sent)>,
}

/// Decides what `sink` gets and claims it in `doc`.
fn decide(
    doc: &mut Doc,
    sink: &str,
    job: &str,
    firing: &[Alert],
    resolved: &[Alert],
    now: OffsetDateTime,
    every: Duration,
) -> Due {
    let kept = doc.sent.entry(sink.to_owned()).or_default();
    let firing_due = firing
        .iter()
        .map(|a| {
            if !is_kept(a) {
                return true;
            }
            let due = match kept.get(&a.dedup_key) {
                None => true,
                Some(s) if s.fingerprint != fingerprint(a) => true,
                Some(s) if s.claimed => now - s.sent_at >= CLAIM_HOLDS,
                Some(s) => now - s.sent_at >= every,
            };
            if due {
                kept.insert(a.dedup_key.clone(), record(a, job, now, true));
            }
            due
        })
        .collect();
    let mut removed = Vec::new();
    let resolved_due = resolved
        .iter()
        .map(|r| {
            if !is_kept(r) {
                return true;
            }
            let Some(was) = kept.remove(&r.dedup_key) else {
                return false;
            };
            let changed_level = firing
                .iter()
                .any(|f| subject(&f.dedup_key) == subject(&r.dedup_key));
            if !changed_level {
                removed.push((r.dedup_key.clone(), was));
            }
            !changed_level
        })
        .collect();
    if kept.is_empty() {
        doc.sent.remove(sink);
    }
    Due {
        firing: firing_due,
        resolved: resolved_due,
        removed,
    }
}

/// The alerts of one job in a delivery.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub job: &'a str,
    pub firing: &'a [Alert],
    pub resolved: &'a [Alert],
}

/// What `sink` gets of each part, claimed in the run's document (in one
/// write) before anything is sent.
pub async fn claim(run: &Run, sink: &str, parts: &[Part<'_>], every: Duration) -> Vec<Due> {
    let now = OffsetDateTime::now_utc();
    run.claim(|doc| {
        parts
            .iter()
            .map(|p| decide(doc, sink, p.job, p.firing, p.resolved, now, every))
            .collect()
    })
    .await
}

/// After a delivery to `sink`: confirms the claims when it took the
/// alerts, else drops them (and puts back what a resolved alert removed),
/// so the next run tries again.
pub async fn settle(run: &Run, sink: &str, parts: &[Part<'_>], dues: &[Due], delivered: bool) {
    run.update(|doc| {
        let kept = doc.sent.entry(sink.to_owned()).or_default();
        for (part, due) in parts.iter().zip(dues) {
            for (a, _) in part
                .firing
                .iter()
                .zip(&due.firing)
                .filter(|(a, d)| **d && is_kept(a))
            {
                if delivered {
                    if let Some(s) = kept.get_mut(&a.dedup_key) {
                        s.claimed = false;
                    }
                } else {
                    kept.remove(&a.dedup_key);
                }
            }
            if !delivered {
                for (key, was) in &due.removed {
                    kept.insert(key.clone(), was.clone());
                }
            }
        }
        if kept.is_empty() {
            doc.sent.remove(sink);
        }
    })
    .await;
}

/// For a sink that deduplicates itself (Alertmanager gets every firing
/// alert each run): keeps what it was sent, so it can be told once it clears.
pub async fn note(run: &Run, sink: &str, parts: &[Part<'_>]) {
    let now = OffsetDateTime::now_utc();
    run.update(|doc| {
        let kept = doc.sent.entry(sink.to_owned()).or_default();
        for part in parts {
            for a in part.firing.iter().filter(|a| is_kept(a)) {
                kept.insert(a.dedup_key.clone(), record(a, part.job, now, false));
            }
            for r in part.resolved {
                kept.remove(&r.dedup_key);
            }
        }
        if kept.is_empty() {
            doc.sent.remove(sink);
        }
    })
    .await;
}

/// The alerts `job` sent before whose keys are not among `firing` now: cleared,
/// each once, resolved (only a run that looked at everything `job` raises
/// asks).
pub async fn cleared(run: &Run, job: &str, firing: &[&str]) -> Vec<Alert> {
    run.view(|doc| {
        let mut out: Vec<Alert> = Vec::new();
        for kept in doc.sent.values() {
            for (key, sent) in kept {
                let gone = sent.job == job && !firing.contains(&key.as_str());
                if gone && out.iter().all(|a| &a.dedup_key != key) {
                    out.extend(super::remembered::resolved(&sent.alert));
                }
            }
        }
        out
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, QuotaEntry};
    use time::macros::datetime;

    fn quota(level: Level) -> Alert {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level,
            target: None,
        };
        Alert::quota(&entry, "p", "why".into())
    }

    const DAY: Duration = Duration::hours(24);
    const T0: OffsetDateTime = datetime!(2026-11-24 00:30 UTC);

    fn sent_at(doc: &mut Doc, alert: &Alert, at: OffsetDateTime) -> bool {
        let due = decide(
            doc,
            WEBHOOK,
            "quota",
            std::slice::from_ref(alert),
            &[],
            at,
            DAY,
        );
        if let Some(s) = doc
            .sent
            .get_mut(WEBHOOK)
            .and_then(|k| k.get_mut(&alert.dedup_key))
        {
            s.claimed = false;
        }
        due.firing[0]
    }

    #[test]
    fn an_unchanged_alert_goes_again_only_once_the_repeat_hours_have_passed() {
        let mut doc = Doc::new();
        let alert = quota(Level::Warning);
        assert!(sent_at(&mut doc, &alert, T0), "new: sent at once");
        for hours in [1, 5, 23] {
            assert!(!sent_at(&mut doc, &alert, T0 + Duration::hours(hours)));
        }
        // Whatever the hour of day: 24 hours after it was last sent.
        assert!(sent_at(&mut doc, &alert, T0 + DAY));
        assert!(!sent_at(&mut doc, &alert, T0 + DAY + Duration::hours(1)));
    }

    #[test]
    fn a_changed_level_goes_at_once_and_the_lower_one_is_not_resolved_in_chat() {
        let mut doc = Doc::new();
        assert!(sent_at(&mut doc, &quota(Level::Warning), T0));
        let critical = quota(Level::Critical);
        let mut warning_resolved = quota(Level::Warning);
        warning_resolved.resolved = true;
        let due = decide(
            &mut doc,
            WEBHOOK,
            "quota",
            std::slice::from_ref(&critical),
            &[warning_resolved],
            T0 + Duration::hours(1),
            DAY,
        );
        assert_eq!((due.firing, due.resolved), (vec![true], vec![false]));
    }

    #[test]
    fn a_resolved_alert_goes_once_and_only_where_the_firing_one_went() {
        let mut doc = Doc::new();
        let alert = Alert::finding("whitelist_open", "p", "s", "open".into());
        assert!(sent_at(&mut doc, &alert, T0));
        let mut resolved = alert.clone();
        resolved.resolved = true;
        let once = |doc: &mut Doc| {
            decide(
                doc,
                WEBHOOK,
                "quota",
                &[],
                std::slice::from_ref(&resolved),
                T0,
                DAY,
            )
            .resolved[0]
        };
        assert!(once(&mut doc));
        assert!(!once(&mut doc), "told once");
        let mut elsewhere = Doc::new();
        assert!(
            !once(&mut elsewhere),
            "never sent there: nothing to resolve"
        );
    }

    #[test]
    fn a_claim_of_another_run_holds_until_it_is_stale() {
        let mut doc = Doc::new();
        let alert = quota(Level::Warning);
        let claimed = |doc: &mut Doc, at| {
            decide(
                doc,
                SMN,
                "quota",
                std::slice::from_ref(&alert),
                &[],
                at,
                DAY,
            )
            .firing[0]
        };
        assert!(claimed(&mut doc, T0));
        assert!(
            !claimed(&mut doc, T0 + Duration::minutes(1)),
            "claimed by a run still sending"
        );
        assert!(
            claimed(&mut doc, T0 + CLAIM_HOLDS),
            "its run ended before confirming"
        );
    }

    #[tokio::test]
    async fn a_failed_delivery_drops_its_claims_so_the_next_run_sends_again() {
        let run = Run::detached();
        let alert = [quota(Level::Critical)];
        let part = [Part {
            job: "quota",
            firing: &alert,
            resolved: &[],
        }];
        let due = claim(&run, SMN, &part, DAY).await;
        assert_eq!(due[0].firing, [true]);
        settle(&run, SMN, &part, &due, false).await;
        let again = claim(&run, SMN, &part, DAY).await;
        assert_eq!(again[0].firing, [true]);
        settle(&run, SMN, &part, &again, true).await;
        assert_eq!(claim(&run, SMN, &part, DAY).await[0].firing, [false]);
        assert!(cleared(&run, "quota", &[alert[0].dedup_key.as_str()])
            .await
            .is_empty());
        assert!(
            cleared(&run, "gc", &[]).await.is_empty(),
            "another job's alert is not its to clear"
        );
        let gone = cleared(&run, "quota", &[]).await;
        assert_eq!(gone.len(), 1);
        assert!(gone[0].resolved);
    }
}
