//! What `GET /metrics` shows: the numbers of the runs this process made, in
//! the OpenMetrics text format (which Prometheus reads), written by the
//! `prometheus-client` crate.
//!
//! Every series about an estate carries the label `target`: the target's
//! name from `WARDEN_TARGETS`, so that 149 of 150 endpoints used in one
//! target and 1 of 150 in another are two series, never one overwriting the
//! other. Without `WARDEN_TARGETS` (and for what a run did outside any
//! target, such as a fan-out's own errors) the label is `default`, the name
//! the top-level project takes among targets, so a deployment that adds
//! targets later keeps its series. The series about the process (runs,
//! ticks, API calls, the last tick's time) have no label.

use std::sync::atomic::{AtomicI64, AtomicU64};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::config::Settings;
use crate::events::{Job, Trigger};
use crate::report::Report;

/// The content type of [`Metrics::render`]'s text.
pub(super) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label of a series about one target.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

/// The labels of a quota series: the target and the quota type.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuotaLabels {
    target: String,
    r#type: String,
}

type PerTarget = Family<TargetLabel, Counter>;

/// The numbers `/metrics` shows, from the reports of the runs this process
/// made. Every number is atomic: recording needs no lock.
pub(super) struct Metrics {
    registry: Registry,
    /// The `target` label of what belongs to no target of `WARDEN_TARGETS`.
    fallback: String,
    quota_used: Family<QuotaLabels, Gauge<u64, AtomicU64>>,
    quota_limit: Family<QuotaLabels, Gauge<u64, AtomicU64>>,
    /// Connections left pending by the last tick that swept them, per target.
    pending: Family<TargetLabel, Gauge<u64, AtomicU64>>,
    approved: PerTarget,
    rejected: PerTarget,
    deleted: PerTarget,
    errors: PerTarget,
    api_calls: Counter,
    runs: Counter,
    ticks: Counter,
    ticks_skipped: Counter,
    ticks_joined: Counter,
    /// When the last tick finished, unix seconds (0: none yet).
    last_tick: Gauge<i64, AtomicI64>,
}

impl Metrics {
    /// The families, registered, with every target of `settings` at zero so
    /// that a scrape before the first tick already names them all.
    pub(super) fn new(settings: &Settings) -> Self {
        let fallback = crate::config::TOP_LEVEL.to_owned();
        let mut metrics = Metrics {
            registry: Registry::default(),
            fallback,
            quota_used: Family::default(),
            quota_limit: Family::default(),
            pending: Family::default(),
            approved: Family::default(),
            rejected: Family::default(),
            deleted: Family::default(),
            errors: Family::default(),
            api_calls: Counter::default(),
            runs: Counter::default(),
            ticks: Counter::default(),
            ticks_skipped: Counter::default(),
            ticks_joined: Counter::default(),
            last_tick: Gauge::default(),
        };
        metrics.register();
        let names: Vec<String> = if settings.targets.is_empty() {
            vec![metrics.fallback.clone()]
        } else {
            settings.targets.iter().map(|t| t.name.clone()).collect()
        };
        for name in names {
            let label = TargetLabel { target: name };
            for family in metrics.per_target() {
                family.get_or_create(&label).inc_by(0);
            }
            metrics.pending.get_or_create(&label).set(0);
        }
        metrics
    }

    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "vpcep_warden_quota_used",
            "VPCEP resources in use, per target and quota type, as of the last run that read that target's quotas",
            self.quota_used.clone(),
        );
        r.register(
            "vpcep_warden_quota_limit",
            "VPCEP quota, per target and quota type, as of the last run that read that target's quotas",
            self.quota_limit.clone(),
        );
        r.register(
            "vpcep_warden_pending_connections",
            "Connections left pending in each target by the last tick that ran the approve job there",
            self.pending.clone(),
        );
        for (name, help, family) in [
            (
                "vpcep_warden_approved",
                "Connections accepted per target (in a dry run: that would have been)",
                &self.approved,
            ),
            (
                "vpcep_warden_rejected",
                "Connections rejected per target (in a dry run: that would have been)",
                &self.rejected,
            ),
            (
                "vpcep_warden_deleted",
                "Failed endpoints deleted per target (in a dry run: that would have been)",
                &self.deleted,
            ),
            (
                "vpcep_warden_errors",
                "Errors reported by runs (the reports' errors entries), per target",
                &self.errors,
            ),
        ] {
            r.register(name, help, family.clone());
        }
        for (name, help, counter) in [
            (
                "vpcep_warden_api_calls",
                "API requests made by runs",
                &self.api_calls,
            ),
            (
                "vpcep_warden_runs",
                "Runs made: ticks and requests that ran an event",
                &self.runs,
            ),
            ("vpcep_warden_ticks", "Ticks run", &self.ticks),
            (
                "vpcep_warden_ticks_skipped",
                "Scheduled ticks skipped because one still ran",
                &self.ticks_skipped,
            ),
            (
                "vpcep_warden_ticks_joined",
                "Posted ticks answered 202 because a running tick covered them",
                &self.ticks_joined,
            ),
        ] {
            r.register(name, help, counter.clone());
        }
        r.register(
            "vpcep_warden_last_tick_timestamp_seconds",
            "When the last tick finished, unix seconds (0: none yet)",
            self.last_tick.clone(),
        );
    }

    fn per_target(&self) -> [&PerTarget; 4] {
        [&self.approved, &self.rejected, &self.deleted, &self.errors]
    }

    fn label(&self, target: Option<&String>) -> TargetLabel {
        TargetLabel {
            target: target.unwrap_or(&self.fallback).clone(),
        }
    }

    /// Adds a finished run's numbers; `finished_at` is in unix seconds.
    pub(super) fn record(&self, trigger: &Trigger, report: &Report, finished_at: i64) {
        self.runs.inc();
        self.api_calls.inc_by(report.api_calls);
        for e in &report.approved {
            self.approved
                .get_or_create(&self.label(e.target.as_ref()))
                .inc();
        }
        for e in &report.rejected {
            self.rejected
                .get_or_create(&self.label(e.target.as_ref()))
                .inc();
        }
        for e in &report.deleted {
            self.deleted
                .get_or_create(&self.label(e.target.as_ref()))
                .inc();
        }
        for e in &report.errors {
            self.errors
                .get_or_create(&self.label(e.target_name.as_ref()))
                .inc();
        }
        for q in &report.quotas {
            let labels = QuotaLabels {
                target: self.label(q.target.as_ref()).target,
                r#type: q.kind.clone(),
            };
            self.quota_used.get_or_create(&labels).set(q.used);
            self.quota_limit.get_or_create(&labels).set(q.quota);
        }
        if let Trigger::Tick { jobs, .. } = trigger {
            self.ticks.inc();
            self.last_tick.set(finished_at);
            if jobs.is_empty() || jobs.contains(&Job::Approve) {
                self.record_pending(report);
            }
        }
    }

    /// Sets the pending gauge of every target the tick swept (the run's own
    /// target when there are none), zero where none was left pending.
    fn record_pending(&self, report: &Report) {
        let swept: Vec<TargetLabel> = if report.targets.is_empty() {
            vec![self.label(None)]
        } else {
            report
                .targets
                .iter()
                .map(|t| self.label(Some(&t.name)))
                .collect()
        };
        for label in &swept {
            let left = report
                .left_pending
                .iter()
                .filter(|e| self.label(e.target.as_ref()) == *label)
                .count();
            self.pending
                .get_or_create(label)
                .set(u64::try_from(left).unwrap_or(u64::MAX));
        }
    }

    /// One scheduled tick skipped because one still ran.
    pub(super) fn tick_skipped(&self) {
        self.ticks_skipped.inc();
    }

    /// One posted tick joined to a running tick that covers it.
    pub(super) fn tick_joined(&self) {
        self.ticks_joined.inc();
    }

    /// The OpenMetrics text of every family ([`CONTENT_TYPE`]).
    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail; an error would only be the encoder's own.
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot write the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ConnectionEntry, Level, QuotaEntry, TargetReport};

    fn entry(id: &str, target: Option<&str>) -> ConnectionEntry {
        ConnectionEntry {
            service_id: "s".into(),
            endpoint_id: id.into(),
            domain_id: "d".into(),
            reason: String::new(),
            target: target.map(str::to_owned),
        }
    }

    fn quota(used: u64, target: Option<&str>) -> QuotaEntry {
        QuotaEntry {
            kind: "endpoint".into(),
            used,
            quota: 150,
            percent: 0.0,
            level: Level::Ok,
            target: target.map(str::to_owned),
        }
    }

    fn tick() -> Trigger {
        Trigger::Tick {
            jobs: Job::ALL.to_vec(),
            targets: Vec::new(),
        }
    }

    fn settings() -> Settings {
        Settings::for_tests("http://127.0.0.1:9", "p0", "ak", "sk")
    }

    /// The value of the sample written exactly as `series` in `text`.
    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn metrics_add_up_runs_and_keep_the_last_ticks_gauges() {
        let metrics = Metrics::new(&settings());
        let mut report = Report::new("tick", false);
        report.approved = vec![entry("a", None), entry("b", None)];
        report.api_calls = 7;
        report.quotas = vec![quota(3, None)];
        metrics.record(&tick(), &report, 1_800_000_000);
        let mut one = Report::new("connection", false);
        one.approved = vec![entry("c", None)];
        metrics.record(&Trigger::Connections(Vec::new()), &one, 1_800_000_100);
        let text = metrics.render();
        assert!(
            text.contains("# TYPE vpcep_warden_quota_used gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE vpcep_warden_approved counter\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        for (series, value) in [
            (
                "vpcep_warden_quota_used{target=\"default\",type=\"endpoint\"}",
                3.0,
            ),
            (
                "vpcep_warden_quota_limit{target=\"default\",type=\"endpoint\"}",
                150.0,
            ),
            ("vpcep_warden_approved_total{target=\"default\"}", 3.0),
            ("vpcep_warden_rejected_total{target=\"default\"}", 0.0),
            ("vpcep_warden_api_calls_total", 7.0),
            ("vpcep_warden_runs_total", 2.0),
            ("vpcep_warden_ticks_total", 1.0),
            ("vpcep_warden_last_tick_timestamp_seconds", 1_800_000_000.0),
        ] {
            assert_eq!(sample(&text, series), Some(value), "{series}: {text}");
        }
    }

    #[test]
    fn each_target_has_series_of_its_own() {
        let targets = r#"[{"name": "north", "region": "cn-north-4", "project_id": "p1"},
                          {"name": "south", "region": "cn-south-1", "project_id": "p2"}]"#;
        let settings = Settings::from_vars(
            [
                ("HUAWEICLOUD_SDK_AK", "ak"),
                ("HUAWEICLOUD_SDK_SK", "sk"),
                ("WARDEN_TARGETS", targets),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .expect("the settings load");
        let metrics = Metrics::new(&settings);
        let before = metrics.render();
        assert_eq!(
            sample(&before, "vpcep_warden_approved_total{target=\"south\"}"),
            Some(0.0),
            "every target is named before the first tick: {before}"
        );
        let part = |name: &str, used: u64, pending: usize| {
            let mut report = Report::new("tick", false);
            report.quotas = vec![quota(used, None)];
            report.left_pending = (0..pending)
                .map(|i| crate::report::PendingEntry {
                    service_id: "s".into(),
                    endpoint_id: format!("e{i}"),
                    domain_id: "d".into(),
                    reason: "r".into(),
                    target: None,
                })
                .collect();
            report.approved = vec![entry("a", None)];
            report.stamp_target(name);
            TargetReport {
                name: name.to_owned(),
                finished: 1,
                report,
            }
        };
        let mut report = Report::new("tick", false);
        for target in [part("north", 149, 2), part("south", 1, 0)] {
            report.merge(target.report.clone());
            report.targets.push(target);
        }
        metrics.record(&tick(), &report, 1);
        let text = metrics.render();
        for (series, value) in [
            (
                "vpcep_warden_quota_used{target=\"north\",type=\"endpoint\"}",
                149.0,
            ),
            (
                "vpcep_warden_quota_used{target=\"south\",type=\"endpoint\"}",
                1.0,
            ),
            ("vpcep_warden_pending_connections{target=\"north\"}", 2.0),
            ("vpcep_warden_pending_connections{target=\"south\"}", 0.0),
            ("vpcep_warden_approved_total{target=\"north\"}", 1.0),
            ("vpcep_warden_approved_total{target=\"south\"}", 1.0),
        ] {
            assert_eq!(sample(&text, series), Some(value), "{series}: {text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::new(&settings());
        let mut report = Report::new("tick", false);
        report.quotas = vec![quota(1, Some("a\"b\\c\nd"))];
        metrics.record(&tick(), &report, 1);
        let text = metrics.render();
        assert!(
            text.contains("{target=\"a\\\"b\\\\c\\nd\",type=\"endpoint\"} 1\n"),
            "{text}"
        );
    }
}
