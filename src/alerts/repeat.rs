//! Repeat control for sinks that do not deduplicate (chat webhooks, SMN):
//! an alert is sent at once when it is new to this process (or its level
//! changed: the level is part of its `dedup_key`), and again only in the
//! first scheduled run of each `WARDEN_ALERT_REPEAT_HOURS` window (windows
//! start at multiples of that many hours since the Unix epoch, UTC; the first
//! run is the one less than one schedule period after the start). What was
//! sent is remembered only by the running process (a warm Lambda or
//! FunctionGraph instance, a `serve` process): a fresh instance sends every
//! alert once more, and a run that is late by more than a period misses a
//! window's repeat. Alertmanager and the log get every run.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

use super::Alert;

/// Kinds sent each time they are raised: they are once-only already.
const ALWAYS: &[&str] = &["pending_connection", "test"];

/// What was sent, by `dedup_key`: the job that raised it.
#[derive(Debug)]
pub struct Repeat {
    every: Duration,
    /// The schedule period of the quota job, and of the others (approve, gc).
    quota_period: Duration,
    other_period: Duration,
    sent: Mutex<HashMap<String, String>>,
}

impl Repeat {
    /// Repeats every `every`, the quota job running every `quota_period`,
    /// approve and gc every `other_period`.
    pub fn new(every: Duration, quota_period: Duration, other_period: Duration) -> Self {
        Self {
            every,
            quota_period,
            other_period,
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `now` falls in the first run of a repeat window, for a job
    /// running every `period`.
    fn first_run_of_window(&self, now: OffsetDateTime, period: Duration) -> bool {
        let every = self.every.whole_seconds().max(1);
        let since_start = now.unix_timestamp().rem_euclid(every);
        since_start < period.whole_seconds()
    }

    /// Which of `alerts` (raised by `job`) are due now at a sink that does
    /// not deduplicate, remembering them as sent. Alerts of `job` not raised
    /// this time are forgotten, so when one comes back it is new.
    pub fn due(&self, job: &str, alerts: &[Alert], now: OffsetDateTime) -> Vec<bool> {
        let period = if job == "quota" {
            self.quota_period
        } else {
            self.other_period
        };
        let repeat_now = self.first_run_of_window(now, period);
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.retain(|key, raised_by| {
            raised_by != job || alerts.iter().any(|a| &a.dedup_key == key)
        });
        alerts
            .iter()
            .map(|a| {
                let new = !sent.contains_key(&a.dedup_key);
                sent.insert(a.dedup_key.clone(), job.to_owned());
                ALWAYS.contains(&a.kind.as_str()) || new || repeat_now
            })
            .collect()
    }
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

    fn repeat() -> Repeat {
        Repeat::new(
            Duration::hours(24),
            Duration::hours(1),
            Duration::minutes(5),
        )
    }

    #[test]
    fn an_unchanged_level_is_sent_again_only_in_the_first_run_of_each_window() {
        let r = repeat();
        let alert = [quota(Level::Warning)];
        let sent_at = |hour: u8| {
            r.due(
                "quota",
                &alert,
                datetime!(2026-11-24 00:30 UTC).replace_hour(hour).unwrap(),
            )[0]
        };
        assert!(sent_at(10), "new: sent at once");
        assert!(!sent_at(11));
        assert!(!sent_at(23));
        assert!(sent_at(0), "the first hourly run of the next day's window");
        assert!(!sent_at(1));
    }

    #[test]
    fn a_changed_level_or_one_that_comes_back_is_sent_at_once() {
        let r = repeat();
        let at = datetime!(2026-11-24 10:30 UTC);
        assert!(r.due("quota", &[quota(Level::Warning)], at)[0]);
        assert!(!r.due("quota", &[quota(Level::Warning)], at + Duration::hours(1))[0]);
        assert!(r.due("quota", &[quota(Level::Critical)], at + Duration::hours(2))[0]);
        assert!(r.due("quota", &[], at + Duration::hours(3)).is_empty());
        assert!(
            r.due("quota", &[quota(Level::Critical)], at + Duration::hours(4))[0],
            "resolved, then crossed again: new"
        );
    }

    #[test]
    fn another_jobs_alerts_are_not_forgotten_by_this_one() {
        let r = repeat();
        let at = datetime!(2026-11-24 10:30 UTC);
        assert!(r.due("quota", &[quota(Level::Warning)], at)[0]);
        r.due("gc", &[], at);
        assert!(!r.due("quota", &[quota(Level::Warning)], at + Duration::hours(1))[0]);
    }
}
