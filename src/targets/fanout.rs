//! Fan-out on FunctionGraph: a tick handed to each target as an invocation
//! of its own, as the Step Functions Map does on AWS.
//!
//! A timer fires the function with `{"warden": "fanout", "jobs": [...]}`;
//! this run invokes the function of `WARDEN_FUNCTION_URN` asynchronously
//! once per target (`POST /v2/{project_id}/fgs/functions/{urn}/invocations-async`,
//! answered `202` with a `request_id`) with `{"warden": "tick", "jobs":
//! [...], "targets": [name], "answer": "summary"}`. FunctionGraph queues
//! asynchronous invocations and retries failed ones (the function's
//! asynchronous configuration sets how often and for how long), so each
//! target gets its own time limit, retries and logs. Chosen over function
//! flows, which run in only two regions; asynchronous invocation is
//! available wherever FunctionGraph is. Documented in the API reference:
//! "Executing a Function Asynchronously" (FunctionGraph API, function
//! invocation).

use reqwest::Method;
use serde_json::json;
use tokio::task::JoinSet;

use crate::events::Job;
use crate::jobs::Ctx;
use crate::report::{HandOffEntry, Report};

/// Hands each target (or those in `only`) a tick of `jobs` as its own
/// asynchronous invocation; the report lists each hand-off, and an error
/// for each that failed.
pub async fn fan_out(ctx: &Ctx, jobs: &[Job], only: &[String]) -> Report {
    let mut report = Report::new("fanout", ctx.dry_run());
    let Some(fan) = &ctx.settings.fan_out else {
        report.error(
            "fanout",
            "WARDEN_FUNCTION_URN",
            "a fan-out tick needs WARDEN_FUNCTION_URN, the function to invoke once per target"
                .into(),
            false,
        );
        return report;
    };
    if ctx.settings.targets.is_empty() {
        report.error(
            "fanout",
            "WARDEN_TARGETS",
            "a fan-out tick needs WARDEN_TARGETS: there is nothing to hand out".into(),
            false,
        );
        return report;
    }
    let client =
        match ctx
            .client
            .for_target(&fan.endpoint, &fan.project_id, &ctx.settings.credentials)
        {
            Ok(c) => c.with_invocation_of(&ctx.client),
            Err(e) => {
                report.error(
                    "fanout",
                    "WARDEN_FUNCTIONGRAPH_ENDPOINT",
                    e.to_string(),
                    false,
                );
                return report;
            }
        };
    let mut url = match url::Url::parse(&fan.endpoint) {
        Ok(u) => u,
        Err(e) => {
            report.error(
                "fanout",
                "WARDEN_FUNCTIONGRAPH_ENDPOINT",
                e.to_string(),
                false,
            );
            return report;
        }
    };
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend([
            "v2",
            &fan.project_id,
            "fgs",
            "functions",
            &fan.function_urn,
            "invocations-async",
        ]);
    }
    let names: Vec<&str> = jobs.iter().map(|j| j.name()).collect();
    let mut set = JoinSet::new();
    for target in &ctx.settings.targets {
        if !only.is_empty() && !only.contains(&target.name) {
            continue;
        }
        let name = target.name.clone();
        let payload =
            json!({"warden": "tick", "jobs": names, "targets": [name], "answer": "summary"});
        if ctx.dry_run() {
            report.handed_off.push(HandOffEntry {
                target: name,
                request_id: String::new(),
            });
            continue;
        }
        let (client, url) = (client.clone(), url.to_string());
        set.spawn(async move {
            let answer = client.send_json(Method::POST, &url, Some(&payload)).await;
            (name, answer)
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((target, Ok(answer))) => {
                let request_id = answer["request_id"].as_str().unwrap_or_default().to_owned();
                tracing::info!(target_name = %target, %request_id, "target handed its tick");
                report.handed_off.push(HandOffEntry { target, request_id });
            }
            Ok((target, Err(e))) => {
                report.error(
                    "fanout",
                    &format!("target {target}"),
                    e.to_string(),
                    e.is_retryable(),
                );
            }
            Err(_) => report.error(
                "fanout",
                "targets",
                "a hand-off ended abnormally".into(),
                true,
            ),
        }
    }
    report.handed_off.sort_by(|a, b| a.target.cmp(&b.target));
    report
}
