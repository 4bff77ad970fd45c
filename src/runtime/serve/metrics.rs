//! What `GET /metrics` shows: the numbers of the runs this process made, in
//! the Prometheus text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::events::{Job, Trigger};
use crate::report::Report;

/// The numbers `/metrics` shows, from the reports of the runs this process made.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Metrics {
    /// Used and limit per quota type, as of the last run that read the quotas.
    quotas: BTreeMap<String, (u64, u64)>,
    /// Connections left pending by the last run that swept them (a tick with approve).
    pending: u64,
    approved: u64,
    rejected: u64,
    deleted: u64,
    errors: u64,
    api_calls: u64,
    runs: u64,
    ticks: u64,
    pub(super) ticks_skipped: u64,
    /// When the last tick finished, unix seconds (0: none yet).
    last_tick: i64,
}

impl Metrics {
    pub(super) fn record(&mut self, trigger: &Trigger, report: &Report, finished_at: i64) {
        let count = |items: usize| u64::try_from(items).unwrap_or(u64::MAX);
        self.runs += 1;
        self.approved += count(report.approved.len());
        self.rejected += count(report.rejected.len());
        self.deleted += count(report.deleted.len());
        self.errors += count(report.errors.len());
        self.api_calls += report.api_calls;
        if !report.quotas.is_empty() {
            self.quotas = report
                .quotas
                .iter()
                .map(|q| (q.kind.clone(), (q.used, q.quota)))
                .collect();
        }
        if let Trigger::Tick { jobs, .. } = trigger {
            self.ticks += 1;
            self.last_tick = finished_at;
            if jobs.is_empty() || jobs.contains(&Job::Approve) {
                self.pending = count(report.left_pending.len());
            }
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_type = |pick: fn(&(u64, u64)) -> u64| -> Vec<(String, String)> {
            self.quotas
                .iter()
                .map(|(kind, numbers)| {
                    (
                        format!("{{type=\"{}\"}}", escape_label(kind)),
                        pick(numbers).to_string(),
                    )
                })
                .collect()
        };
        let one = |value: String| vec![(String::new(), value)];
        family(
            "vpcep_warden_quota_used",
            "gauge",
            "VPCEP resources in use, per quota type, as of the last run that read the quotas.",
            &per_type(|n| n.0),
        );
        family(
            "vpcep_warden_quota_limit",
            "gauge",
            "VPCEP quota, per quota type, as of the last run that read the quotas.",
            &per_type(|n| n.1),
        );
        family(
            "vpcep_warden_pending_connections",
            "gauge",
            "Connections left pending by the last tick that ran the approve job.",
            &one(self.pending.to_string()),
        );
        for (name, help, value) in [
            (
                "vpcep_warden_approved_total",
                "Connections accepted (in a dry run: that would have been).",
                self.approved,
            ),
            (
                "vpcep_warden_rejected_total",
                "Connections rejected (in a dry run: that would have been).",
                self.rejected,
            ),
            (
                "vpcep_warden_deleted_total",
                "Failed endpoints deleted (in a dry run: that would have been).",
                self.deleted,
            ),
            (
                "vpcep_warden_errors_total",
                "Errors reported by runs (the reports' errors entries).",
                self.errors,
            ),
            (
                "vpcep_warden_api_calls_total",
                "VPCEP API requests made by runs.",
                self.api_calls,
            ),
            (
                "vpcep_warden_runs_total",
                "Runs made: ticks and requests that ran an event.",
                self.runs,
            ),
            ("vpcep_warden_ticks_total", "Ticks run.", self.ticks),
            (
                "vpcep_warden_ticks_skipped_total",
                "Scheduled ticks skipped because the last one still ran.",
                self.ticks_skipped,
            ),
        ] {
            family(name, "counter", help, &one(value.to_string()));
        }
        family(
            "vpcep_warden_last_tick_timestamp_seconds",
            "gauge",
            "When the last tick finished, unix seconds (0: none yet).",
            &one(self.last_tick.to_string()),
        );
        out
    }
}

/// A label value escaped as the text format wants: `\`, `"` and newlines.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ConnectionEntry, Level, QuotaEntry};

    fn entry(id: &str) -> ConnectionEntry {
        ConnectionEntry {
            service_id: "s".into(),
            endpoint_id: id.into(),
            domain_id: "d".into(),
            reason: String::new(),
            target: None,
        }
    }

    #[test]
    fn metrics_add_up_runs_and_keep_the_last_ticks_gauges() {
        let mut metrics = Metrics::default();
        let mut report = Report::new("tick", false);
        report.approved = vec![entry("a"), entry("b")];
        report.api_calls = 7;
        report.quotas = vec![QuotaEntry {
            kind: "endpoint".into(),
            used: 3,
            quota: 150,
            percent: 2.0,
            level: Level::Ok,
            target: None,
        }];
        let tick = Trigger::Tick {
            jobs: Job::ALL.to_vec(),
            targets: Vec::new(),
        };
        metrics.record(&tick, &report, 1_800_000_000);
        let notice = Trigger::Connections(Vec::new());
        let mut one = Report::new("connection", false);
        one.approved = vec![entry("c")];
        metrics.record(&notice, &one, 1_800_000_100);
        assert_eq!(metrics.approved, 3);
        assert_eq!(metrics.api_calls, 7);
        assert_eq!(metrics.ticks, 1);
        assert_eq!(metrics.runs, 2);
        assert_eq!(metrics.last_tick, 1_800_000_000);
        assert_eq!(metrics.quotas["endpoint"], (3, 150));
        let text = metrics.render();
        assert!(text.contains("# TYPE vpcep_warden_quota_used gauge\n"));
        assert!(text.contains("vpcep_warden_quota_used{type=\"endpoint\"} 3\n"));
        assert!(text.contains("vpcep_warden_quota_limit{type=\"endpoint\"} 150\n"));
        assert!(text.contains("# TYPE vpcep_warden_approved_total counter\n"));
        assert!(text.contains("vpcep_warden_approved_total 3\n"));
        assert!(text.contains("vpcep_warden_last_tick_timestamp_seconds 1800000000\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
