//! One delivery of the alerts of one or more jobs: one request per sink
//! (the webhook gets one POST, SMN one publish within its limits), the
//! repeat claims of every job written at once, and for each job what its
//! alerts reached.

use tracing::warn;

use super::repeat::{self, Part};
use super::{Alert, Delivered, Sinks};
use crate::config::AlertFormat;
use crate::report::{AlertEntry, ErrorEntry};

/// Which alerts of a job a request holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Some: nothing is taken as cleared.
    Some,
    /// Every alert the job raises now: one it sent before and does not
    /// raise now has cleared.
    All,
}

/// The alerts one job hands over.
#[derive(Debug)]
pub(super) struct Request {
    pub job: String,
    pub alerts: Vec<Alert>,
    pub scope: Scope,
}

/// A request's alerts, sorted for the sinks.
struct Sorted {
    job: String,
    /// The highest level of each subject: every sink gets these.
    firing: Vec<Alert>,
    /// The lower levels also crossed: Alertmanager gets them beside
    /// `firing`, and they are raised now (never counted as cleared).
    lower: Vec<Alert>,
    resolved: Vec<Alert>,
}

impl Sorted {
    fn part(&self) -> Part<'_> {
        Part {
            job: &self.job,
            firing: &self.firing,
            resolved: &self.resolved,
        }
    }

    /// What is raised now: the firing alerts and the lower levels.
    fn raised(&self) -> impl Iterator<Item = &Alert> {
        self.firing.iter().chain(&self.lower)
    }
}

async fn sort(sinks: &Sinks, request: Request) -> Sorted {
    let Request { job, alerts, scope } = request;
    let alerts: Vec<Alert> = match &sinks.target {
        Some(name) => alerts.into_iter().map(|a| a.in_target(name)).collect(),
        None => alerts,
    };
    // Firing first, then resolved: the order Alertmanager receives them in.
    // The few resolved and lower-level alerts are moved out; the firing ones
    // stay where they are (thousands of waiting connections are not copied).
    let mut firing = alerts;
    let mut resolved: Vec<Alert> = firing.extract_if(.., |a| a.resolved).collect();
    // Lower levels also crossed go to Alertmanager only; they are raised
    // now all the same, so never counted as cleared.
    let lower: Vec<Alert> = firing.extract_if(.., |a| a.lower_level).collect();
    if scope == Scope::All {
        let raised: Vec<&str> = firing
            .iter()
            .chain(&lower)
            .map(|a| a.dedup_key.as_str())
            .collect();
        for gone in repeat::cleared(&sinks.run, &job, &raised).await {
            if resolved.iter().all(|r| r.dedup_key != gone.dedup_key) {
                resolved.push(gone);
            }
        }
    }
    Sorted {
        job,
        firing,
        lower,
        resolved,
    }
}

/// What went to one sink from each request, and whether it took it.
struct Sent {
    /// Per request: what repeat control let through (`None`: everything).
    due: Option<Vec<repeat::Due>>,
    /// Per request: whether any of its alerts were in the request.
    carried: Vec<bool>,
    result: Option<Result<(), ErrorEntry>>,
}

impl Sent {
    /// To a sink that is not configured.
    fn nothing(requests: usize) -> Self {
        Sent {
            due: None,
            carried: vec![false; requests],
            result: None,
        }
    }

    fn took(&self) -> bool {
        matches!(self.result, Some(Ok(())))
    }

    /// Whether the sink took firing alert `k` of request `i`.
    fn took_alert(&self, i: usize, k: usize) -> bool {
        self.took() && self.due.as_ref().is_none_or(|due| due[i].firing[k])
    }
}

/// Picks what is due of each request: its firing alerts, then its resolved.
fn pick<'a>(sorted: &'a [Sorted], due: &[repeat::Due]) -> (Vec<&'a Alert>, Vec<bool>) {
    let take = |alerts: &'a [Alert], due: &[bool]| -> Vec<&'a Alert> {
        alerts
            .iter()
            .zip(due)
            .filter(|(_, due)| **due)
            .map(|(a, _)| a)
            .collect()
    };
    let firing: Vec<Vec<&Alert>> = sorted
        .iter()
        .zip(due)
        .map(|(s, d)| take(&s.firing, &d.firing))
        .collect();
    let resolved: Vec<Vec<&Alert>> = sorted
        .iter()
        .zip(due)
        .map(|(s, d)| take(&s.resolved, &d.resolved))
        .collect();
    let carried = firing
        .iter()
        .zip(&resolved)
        .map(|(f, r)| !f.is_empty() || !r.is_empty())
        .collect();
    let alerts = firing
        .into_iter()
        .flatten()
        .chain(resolved.into_iter().flatten());
    (alerts.collect(), carried)
}

/// The jobs whose alerts a request carried, for its error.
fn jobs_of(sorted: &[Sorted], carried: &[bool]) -> String {
    let mut jobs: Vec<&str> = Vec::new();
    for (s, _) in sorted.iter().zip(carried).filter(|(_, c)| **c) {
        if !jobs.contains(&s.job.as_str()) {
            jobs.push(&s.job);
        }
    }
    jobs.join(",")
}

/// Delivers the alerts of every request together: one request per sink.
/// A dry run logs only. Each request gets back the sinks its firing
/// alerts reached; a failed sink is an error of the first request whose
/// alerts it carried (naming every job it carried), so a merged report has
/// it once, and every request it carried is not `reached`.
pub(super) async fn send(sinks: &Sinks, requests: Vec<Request>, dry_run: bool) -> Vec<Delivered> {
    let mut sorted = Vec::with_capacity(requests.len());
    for request in requests {
        sorted.push(sort(sinks, request).await);
    }
    let mut out: Vec<Delivered> = sorted
        .iter()
        .map(|_| Delivered {
            reached: true,
            ..Delivered::default()
        })
        .collect();
    if sorted
        .iter()
        .all(|s| s.firing.is_empty() && s.resolved.is_empty())
    {
        return out;
    }
    for alert in sorted.iter().flat_map(|s| &s.firing) {
        // One short line; the alert's own level is `alert_level`, so a
        // JSON line has one `level` (the line's). The whole alert is in the report.
        let reason: String = alert.reason.chars().take(80).collect();
        warn!(alert_level = alert.level.name(), kind = %alert.kind, on = %alert.subject(), %reason, "alert");
    }
    if dry_run {
        for (o, s) in out.iter_mut().zip(sorted) {
            o.alerts = entries(s.firing, |_| vec!["log".to_owned()]);
        }
        return out;
    }
    let (webhook, smn) = tokio::join!(to_webhook(sinks, &sorted), to_smn(sinks, &sorted));
    for sent in [&webhook, &smn] {
        for (i, o) in out.iter_mut().enumerate() {
            if sent.carried[i] && !sent.took() {
                o.reached = false;
            }
        }
        if let (Some(Err(error)), Some(first)) =
            (&sent.result, sent.carried.iter().position(|c| *c))
        {
            out[first].errors.push(error.clone());
        }
    }
    for (i, (o, s)) in out.iter_mut().zip(sorted).enumerate() {
        o.alerts = entries(s.firing, |k| {
            let mut reached = vec!["log".to_owned()];
            if webhook.took_alert(i, k) {
                reached.push("webhook".to_owned());
            }
            if smn.took_alert(i, k) {
                reached.push("smn".to_owned());
            }
            reached
        });
    }
    out
}

/// Chat and `json` receivers get what repeat control lets through,
/// resolved alerts once where the firing one went; Alertmanager gets every
/// raised and resolved alert.
async fn to_webhook(sinks: &Sinks, sorted: &[Sorted]) -> Sent {
    let Some(hook) = &sinks.webhook else {
        return Sent::nothing(sorted.len());
    };
    let (run, sink) = (&sinks.run, repeat::WEBHOOK);
    if hook.format() == AlertFormat::Alertmanager {
        let alerts: Vec<&Alert> = sorted
            .iter()
            .flat_map(Sorted::raised)
            .chain(sorted.iter().flat_map(|s| &s.resolved))
            .collect();
        let carried: Vec<bool> = sorted
            .iter()
            .map(|s| s.raised().next().is_some() || !s.resolved.is_empty())
            .collect();
        let result = post(sinks, &alerts, sorted, &carried).await;
        if matches!(result, Some(Ok(()))) {
            // The lower levels are kept as sent too (a part with no resolved).
            let parts: Vec<Part> = sorted
                .iter()
                .flat_map(|s| {
                    let lower = Part {
                        job: &s.job,
                        firing: &s.lower,
                        resolved: &[],
                    };
                    [s.part(), lower]
                })
                .collect();
            repeat::note(run, sink, &parts).await;
        }
        return Sent {
            due: None,
            carried,
            result,
        };
    }
    let parts: Vec<Part> = sorted.iter().map(Sorted::part).collect();
    let due = repeat::claim(run, sink, &parts, sinks.every).await;
    let (alerts, carried) = pick(sorted, &due);
    let result = post(sinks, &alerts, sorted, &carried).await;
    repeat::settle(run, sink, &parts, &due, matches!(result, Some(Ok(())))).await;
    Sent {
        due: Some(due),
        carried,
        result,
    }
}

async fn post(
    sinks: &Sinks,
    alerts: &[&Alert],
    sorted: &[Sorted],
    carried: &[bool],
) -> Option<Result<(), ErrorEntry>> {
    let hook = sinks.webhook.as_ref()?;
    if alerts.is_empty() {
        return None;
    }
    Some(hook.post(alerts).await.map_err(|e| ErrorEntry {
        job: jobs_of(sorted, carried),
        target: "alert webhook".into(),
        message: e.to_string(),
        retryable: true,
        target_name: None,
    }))
}

/// SMN gets what repeat control lets through.
async fn to_smn(sinks: &Sinks, sorted: &[Sorted]) -> Sent {
    let Some(smn) = &sinks.smn else {
        return Sent::nothing(sorted.len());
    };
    let (run, sink) = (&sinks.run, repeat::SMN);
    let parts: Vec<Part> = sorted.iter().map(Sorted::part).collect();
    let due = repeat::claim(run, sink, &parts, sinks.every).await;
    let (alerts, carried) = pick(sorted, &due);
    let result = smn.publish(&jobs_of(sorted, &carried), &alerts).await;
    repeat::settle(run, sink, &parts, &due, matches!(result, Some(Ok(())))).await;
    Sent {
        due: Some(due),
        carried,
        result,
    }
}

/// The report's entries of the firing alerts, each with the sinks it
/// reached; each alert gives its kind and key up as its entry is made.
fn entries(firing: Vec<Alert>, sinks: impl Fn(usize) -> Vec<String>) -> Vec<AlertEntry> {
    firing
        .into_iter()
        .enumerate()
        .map(|(i, a)| AlertEntry {
            kind: a.kind,
            level: a.level,
            dedup_key: a.dedup_key,
            sinks: sinks(i),
            target: None,
        })
        .collect()
}
