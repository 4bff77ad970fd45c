//! The CloudWatch Embedded Metric Format lines of a finished invocation.

use crate::report::Report;

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
    use super::*;

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
