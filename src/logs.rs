//! Logs that cost little: one summary line per invocation, one line per
//! action taken (accepted, rejected, revoked, deleted, alerted: written
//! where the action happens), at most [`MAX_ERROR_LINES`] error lines; the
//! full report goes only to the caller. Fields are flat JSON values (numbers,
//! short strings), so with JSON logs (`WARDEN_LOG_FORMAT=json`, or
//! `AWS_LAMBDA_LOG_FORMAT=JSON` on Lambda) every field is a JSON value of
//! the line itself, never JSON text inside a string.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::report::Report;

/// Error lines logged per invocation; the summary counts the rest.
pub const MAX_ERROR_LINES: usize = 20;

/// Ids named in the summary for long lists (`left_pending`, `gc_skipped`).
pub const FIRST_IDS: usize = 5;

/// The time on every line, in every mode: RFC 3339 in UTC with milliseconds
/// (`2026-12-02T01:42:53.279Z`), under the key `timestamp` in JSON lines,
/// which Lambda's advanced logging controls need to file a line by its level.
type Clock = tracing_subscriber::fmt::time::UtcTime<
    &'static [time::format_description::BorrowedFormatItem<'static>],
>;

fn clock() -> Clock {
    tracing_subscriber::fmt::time::UtcTime::new(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
}

/// Whether text logs may be coloured: only on a terminal, and never when
/// `NO_COLOR` is set to anything but an empty string (no-color.org).
pub fn colour(terminal: bool, no_color: Option<&str>) -> bool {
    terminal && no_color.is_none_or(str::is_empty)
}

/// The subscriber writing to `writer`: JSON lines (every field at the top
/// level, one `level` key) when `json`, else human text, coloured when
/// `ansi`; a `timestamp` on every line either way. `filter` says what is logged.
pub fn subscriber<W>(
    writer: W,
    json: bool,
    filter: Targets,
    ansi: bool,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_timer(clock())
        // The module path adds length, not meaning, to every line.
        .with_target(false);
    if json {
        Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish()
                .with(filter),
        )
    } else {
        Box::new(builder.with_ansi(ansi).finish().with(filter))
    }
}

/// What is logged: `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging
/// controls: `TRACE` … `ERROR`, `FATAL` read as `error`), else `RUST_LOG`,
/// else `default`. `RUST_LOG` holds comma-separated `target=level`
/// directives and at most one bare level for every other target
/// (`vpcep_warden=debug,warn`); span and field filters (`[span]{field}`) are
/// not read. A value that does not read so is set aside for `default`, and
/// the second value says why (logged once logging is up).
pub fn filter(
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
    default: &str,
) -> (Targets, Option<String>) {
    let fallback = || default.parse().unwrap_or_default();
    let level = lambda_level.map(str::trim).filter(|l| !l.is_empty());
    let (variable, value) = match (level, rust_log.map(str::trim)) {
        (Some(level), _) if level.eq_ignore_ascii_case("fatal") => {
            ("AWS_LAMBDA_LOG_LEVEL", "error".to_owned())
        }
        (Some(level), _) => ("AWS_LAMBDA_LOG_LEVEL", level.to_ascii_lowercase()),
        (None, Some(directives)) if !directives.is_empty() => ("RUST_LOG", directives.to_owned()),
        _ => return (fallback(), None),
    };
    let parsed = match value.contains(['[', '{']) {
        true => Err("span and field filters are not read".to_owned()),
        false => value.parse::<Targets>().map_err(|e| e.to_string()),
    };
    match parsed {
        Ok(targets) => (targets, None),
        Err(e) => (
            fallback(),
            Some(format!(
                "{variable}={value:?} is not understood ({e}): expected a level (error, warn, info, debug, trace) or target=level directives such as vpcep_warden=debug,warn; logging at {default:?}"
            )),
        ),
    }
}

/// Starts logging to `writer` (see [`subscriber`]); `terminal`: whether
/// `writer` is a terminal (colour only then, and not with `NO_COLOR`). The
/// level comes from `RUST_LOG` (or `AWS_LAMBDA_LOG_LEVEL` on Lambda), else
/// `default_filter`.
pub fn init<W>(writer: W, json: bool, default_filter: &str, terminal: bool)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (filter, refused) = filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
        default_filter,
    );
    let ansi = colour(terminal, std::env::var("NO_COLOR").ok().as_deref());
    // A second init (tests) is ignored rather than a panic.
    let _ = tracing::subscriber::set_global_default(subscriber(writer, json, filter, ansi));
    if let Some(why) = refused {
        tracing::warn!("{why}");
    }
}

/// The first few ids of a list, comma-separated, with how many were left out.
fn first_ids<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = ids.len();
    let mut shown: Vec<&str> = ids.take(FIRST_IDS).collect();
    shown.dedup();
    let mut out = shown.join(",");
    if total > FIRST_IDS {
        out.push_str(&format!(" (+{} more)", total - FIRST_IDS));
    }
    out
}

/// Logs one summary line for a finished invocation, and its first errors.
pub fn summary(report: &Report) {
    for e in report.errors.iter().take(MAX_ERROR_LINES) {
        tracing::warn!(job = %e.job, on = %e.target, retryable = e.retryable, error = %e.message, "action failed");
    }
    tracing::info!(
        trigger = %report.trigger,
        dry_run = report.dry_run,
        approved = report.approved.len(),
        rejected = report.rejected.len(),
        left_pending = report.left_pending.len(),
        left_pending_first = %first_ids(report.left_pending.iter().map(|e| e.endpoint_id.as_str())),
        revoked = report.revoked.len(),
        deleted = report.deleted.len(),
        gc_skipped = report.gc_skipped.len(),
        gc_skipped_first = %first_ids(report.gc_skipped.iter().map(|e| e.endpoint_id.as_str())),
        alerts = report.alerts.len(),
        errors = report.errors.len(),
        errors_not_logged = report.errors.len().saturating_sub(MAX_ERROR_LINES),
        api_calls = report.api_calls,
        duration_ms = report.duration_ms,
        "run summary"
    );
}

/// The CloudWatch namespace of the warden's metrics.
pub const EMF_NAMESPACE: &str = "VpcepWarden";

/// The CloudWatch Embedded Metric Format lines of a finished invocation,
/// printed on stdout, where CloudWatch turns them into metrics without any
/// API call.
///
/// The first line holds the counts of the whole run (`Approved`, `Rejected`,
/// `LeftPending`, `Revoked`, `Deleted`, `Alerts`, `Errors`, `ApiCalls`) and
/// its `DurationMs`, with the dimension `FunctionName`. With `WARDEN_TARGETS`,
/// each target then gets a line of its own with the dimensions `FunctionName`
/// and `Target`: its counts and the percent used of each quota read
/// (`QuotaPercent_{type}`), so that no target's numbers overwrite another's.
/// Without targets the quota percents are on the first line. One line per
/// target keeps every line within EMF's limits (at most 100 metrics and 30
/// dimensions a directive) whatever the number of targets.
pub fn emf(report: &Report, function_name: &str, timestamp_ms: u64) -> Vec<serde_json::Value> {
    let mut lines = vec![emf_line(
        report,
        &[("FunctionName", function_name)],
        report.targets.is_empty(),
        timestamp_ms,
    )];
    for target in &report.targets {
        lines.push(emf_line(
            &target.report,
            &[("FunctionName", function_name), ("Target", &target.name)],
            true,
            timestamp_ms,
        ));
    }
    lines
}

/// One EMF line of `report`'s counts (and quota percents, with `quotas`)
/// under the dimensions `dimensions`.
fn emf_line(
    report: &Report,
    dimensions: &[(&str, &str)],
    quotas: bool,
    timestamp_ms: u64,
) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut metrics = Vec::new();
    let mut root = Map::new();
    let mut put = |name: String, unit: &str, value: Value| {
        metrics.push(json!({"Name": name, "Unit": unit}));
        root.insert(name, value);
    };
    for (name, n) in [
        ("Approved", report.approved.len()),
        ("Rejected", report.rejected.len()),
        ("LeftPending", report.left_pending.len()),
        (
            "Revoked",
            report.revoked.iter().filter(|r| r.rejected).count(),
        ),
        ("Deleted", report.deleted.len()),
        ("Alerts", report.alerts.len()),
        ("Errors", report.errors.len()),
    ] {
        put(name.to_owned(), "Count", json!(n));
    }
    put("ApiCalls".into(), "Count", json!(report.api_calls));
    put(
        "DurationMs".into(),
        "Milliseconds",
        json!(report.duration_ms),
    );
    // Quota types are few (the API knows two); the cap keeps a line within
    // EMF's 100 metrics whatever an answer holds.
    for q in report.quotas.iter().filter(|_| quotas).take(90) {
        let kind: String = q
            .kind
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        put(format!("QuotaPercent_{kind}"), "Percent", json!(q.percent));
    }
    for (name, value) in dimensions {
        root.insert((*name).into(), json!(value));
    }
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": EMF_NAMESPACE,
                "Dimensions": [names],
                "Metrics": metrics,
            }]
        }),
    );
    Value::Object(root)
}

#[cfg(test)]
mod tests {

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("")), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some("1")));
        assert!(!colour(false, None));
    }

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_level_comes_from_lambda_then_rust_log_then_the_default() {
        use tracing::Level;
        let default = "vpcep_warden=info,warn";
        let (f, why) = filter(None, Some("vpcep_warden=debug,error"), default);
        assert!(why.is_none());
        assert!(f.would_enable("vpcep_warden::jobs", &Level::DEBUG));
        assert!(!f.would_enable("hyper", &Level::WARN));
        assert!(f.would_enable("hyper", &Level::ERROR));
        let (f, _) = filter(Some("DEBUG"), Some("error"), default);
        assert!(f.would_enable("lambda_runtime", &Level::DEBUG));
        let (f, _) = filter(Some("FATAL"), None, default);
        assert!(f.would_enable("vpcep_warden", &Level::ERROR));
        assert!(!f.would_enable("vpcep_warden", &Level::WARN));
        let (f, why) = filter(None, Some(" "), default);
        assert!(why.is_none());
        assert!(f.would_enable("vpcep_warden::x", &Level::INFO));
        assert!(!f.would_enable("reqwest", &Level::INFO));
    }

    #[test]
    fn a_rust_log_not_understood_falls_back_to_the_default_saying_why() {
        let (f, why) = filter(None, Some("vpcep_warden[run]=debug"), "warn");
        assert!(f.would_enable("vpcep_warden", &tracing::Level::WARN));
        assert!(!f.would_enable("vpcep_warden", &tracing::Level::DEBUG));
        let why = why.expect("a reason");
        assert!(
            why.contains("RUST_LOG") && why.contains("target=level"),
            "{why}"
        );
    }

    #[test]
    fn every_json_line_has_a_timestamp_as_lambda_mode_writes_them() {
        // The subscriber Lambda mode uses (`init(stdout, json, "info", false)`).
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(move || writer.clone(), true, "info".parse().unwrap(), false);
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(alert_level = "critical", "alert");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["alert_level"], "critical");
        let stamp = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{stamp}"
        );
    }
    use super::*;

    #[test]
    fn long_lists_are_summarised_with_a_count() {
        let ids = ["a", "b", "c", "d", "e", "f", "g"];
        assert_eq!(first_ids(ids.iter().copied()), "a,b,c,d,e (+2 more)");
        assert_eq!(first_ids(["a"].iter().copied()), "a");
        assert_eq!(first_ids([].iter().copied()), "");
    }

    /// The rules of the EMF specification (CloudWatch "Specification:
    /// Embedded metric format"): `_aws.Timestamp` a number of ms, each
    /// directive's namespace, dimension sets naming root string members
    /// (at most 30), at most 100 metrics each naming a root number, units
    /// from the documented list.
    fn assert_valid_emf(v: &serde_json::Value) {
        const UNITS: &[&str] = &[
            "Seconds",
            "Microseconds",
            "Milliseconds",
            "Bytes",
            "Kilobytes",
            "Megabytes",
            "Gigabytes",
            "Terabytes",
            "Bits",
            "Kilobits",
            "Megabits",
            "Gigabits",
            "Terabits",
            "Percent",
            "Count",
            "Bytes/Second",
            "Kilobytes/Second",
            "Megabytes/Second",
            "Gigabytes/Second",
            "Terabytes/Second",
            "Bits/Second",
            "Kilobits/Second",
            "Megabits/Second",
            "Gigabits/Second",
            "Terabits/Second",
            "Count/Second",
            "None",
        ];
        let root = v.as_object().expect("an object");
        let aws = root["_aws"].as_object().expect("_aws");
        assert!(aws["Timestamp"].is_u64());
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert!(!directives.is_empty());
        for d in directives {
            let ns = d["Namespace"].as_str().unwrap();
            assert!(!ns.is_empty() && ns.len() <= 255);
            for set in d["Dimensions"].as_array().unwrap() {
                let set = set.as_array().unwrap();
                assert!(set.len() <= 30);
                for dim in set {
                    assert!(root[dim.as_str().unwrap()].is_string(), "{dim}");
                }
            }
            let metrics = d["Metrics"].as_array().unwrap();
            assert!(metrics.len() <= 100);
            for m in metrics {
                let name = m["Name"].as_str().unwrap();
                assert!(!name.is_empty() && name.len() <= 255);
                assert!(UNITS.contains(&m["Unit"].as_str().unwrap()), "{m}");
                assert!(root[name].is_number(), "{name} is a root number");
            }
        }
    }

    #[test]
    fn the_emf_line_follows_the_specification() {
        let mut report = Report::new("tick", false);
        report.api_calls = 12;
        report.quotas.push(crate::report::QuotaEntry {
            kind: "endpoint_service".into(),
            used: 19,
            quota: 20,
            percent: 95.0,
            level: crate::report::Level::Critical,
            target: None,
        });
        let lines = emf(&report, "vpcep-warden", 1_795_000_000_000);
        assert_eq!(lines.len(), 1, "one line without targets");
        let line = &lines[0];
        assert_valid_emf(line);
        assert_eq!(line["QuotaPercent_endpoint_service"], 95.0);
        assert_eq!(line["ApiCalls"], 12);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "VpcepWarden"
        );
        assert!(!line.to_string().contains('\n'), "one line");
    }

    #[test]
    fn each_target_has_an_emf_line_of_its_own_with_its_quota_percents() {
        let quota = |target: &str, used: u64| crate::report::QuotaEntry {
            kind: "endpoint".into(),
            used,
            quota: 150,
            percent: used as f64 * 100.0 / 150.0,
            level: crate::report::Level::Ok,
            target: Some(target.into()),
        };
        let mut report = Report::new("tick", false);
        for (rank, (name, used)) in [("prod", 149), ("test", 1)].into_iter().enumerate() {
            let mut own = Report::new("tick", false);
            own.quotas.push(quota(name, used));
            own.api_calls = 7;
            report.quotas.push(quota(name, used));
            report.api_calls += 7;
            report.targets.push(crate::report::TargetReport {
                name: name.into(),
                finished: rank as u32 + 1,
                report: own,
            });
        }
        let lines = emf(&report, "vpcep-warden", 1_795_000_000_000);
        assert_eq!(lines.len(), 3, "the run, then each target");
        for line in &lines {
            assert_valid_emf(line);
        }
        assert_eq!(lines[0]["ApiCalls"], 14);
        assert!(
            lines[0].get("QuotaPercent_endpoint").is_none(),
            "no target's percent stands for the run"
        );
        let by_target: Vec<(&str, f64)> = lines[1..]
            .iter()
            .map(|l| {
                assert_eq!(
                    l["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
                    serde_json::json!([["FunctionName", "Target"]])
                );
                (
                    l["Target"].as_str().unwrap(),
                    l["QuotaPercent_endpoint"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            by_target,
            [("prod", 149.0 * 100.0 / 150.0), ("test", 100.0 / 150.0)]
        );
    }
}
