//! Many targets (`WARDEN_TARGETS`): one tick looks after several estates
//! (projects, regions, accounts reached through an agency) side by side.
//!
//! Sits above the jobs: dispatch hands it the work of one target as a
//! closure over a [`Ctx`]; this module builds that context for each target
//! (its settings, its own client sharing the one process-wide concurrency
//! limit, its sinks) and runs the targets on a [`JoinSet`]. Tokio's
//! semaphore is fair (first come, first served) and every job submits its
//! requests a page or an action at a time, so a huge target cannot starve
//! small ones: their requests queue between the huge one's.
//!
//! A target with an `agency` is worked with temporary credentials of that
//! account, obtained with the warden's own identity (see
//! [`Client::assume_agency`]) and kept until 5 minutes before they end. A
//! failed hand-off is an error of that target alone.
//!
//! What is kept across warm invocations (clients with their IAM tokens,
//! temporary credentials, what each target's sinks sent) lives in the
//! base context ([`Ctx::kept`]).

mod fanout;
mod route;

pub use fanout::fan_out;
pub use route::{connections, Routed};

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tracing::{info_span, Instrument};

use crate::alerts::Sinks;
use crate::config::{Credentials, Settings, Target};
use crate::jobs::caps::{RunCaps, Seat};
use crate::jobs::Ctx;
use crate::report::{Report, TargetReport};
use crate::vpcep::{
    iam_endpoint, ApiError, CheckError, CheckReport, Client, TemporaryCredentials,
    AGENCY_DURATION_SECS,
};

/// What is kept of one target across invocations.
struct TargetState {
    target: Target,
    settings: Settings,
    /// Its client, or why none could be made (a bad endpoint).
    client: Result<Client, String>,
    /// Its sinks: alerts named after it, repeats remembered apart.
    sinks: Sinks,
    /// The agency's temporary credentials, while fresh.
    agency: Mutex<Option<TemporaryCredentials>>,
    /// The ids of its endpoint services, as last listed (to route events).
    services: Mutex<Option<std::collections::HashSet<String>>>,
}

/// Every target of the settings, in their order.
struct Targets(Vec<Arc<TargetState>>);

impl Targets {
    fn new(ctx: &Ctx) -> Self {
        let base = &ctx.settings;
        let states = base
            .targets
            .iter()
            .map(|target| {
                let settings = target.settings(base);
                Arc::new(TargetState {
                    client: ctx
                        .client
                        .for_target(
                            &target.vpcep_endpoint,
                            &target.project_id,
                            &base.credentials,
                        )
                        .map_err(|e| e.to_string()),
                    sinks: ctx.sinks.for_target(&target.name, &settings),
                    target: target.clone(),
                    settings,
                    agency: Mutex::new(None),
                    services: Mutex::new(None),
                })
            })
            .collect();
        Self(states)
    }
}

/// Whether `WARDEN_TARGETS` names targets (else the settings are the one target).
pub fn configured(ctx: &Ctx) -> bool {
    !ctx.settings.targets.is_empty()
}

/// Runs `work` in every target (or those named in `only`) side by side and
/// merges their reports: each entry names its target, and `targets` holds
/// each target's own report, in the order of `WARDEN_TARGETS`, with
/// `finished` its rank in completion.
pub async fn run<F, Fut>(ctx: &Ctx, trigger: &str, only: &[String], work: F) -> Report
where
    F: Fn(Ctx) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Report> + Send + 'static,
{
    let targets = ctx
        .kept(|| Targets::new(ctx))
        .unwrap_or_else(|| Arc::new(Targets::new(ctx)));
    let mut set = JoinSet::new();
    let mut names = std::collections::HashMap::new();
    let chosen: Vec<(usize, &Arc<TargetState>)> = targets
        .0
        .iter()
        .enumerate()
        .filter(|(_, state)| only.is_empty() || only.contains(&state.target.name))
        .collect();
    // The revoke and delete caps count across every target of this run.
    let caps = RunCaps::new(chosen.len());
    for (index, state) in chosen {
        let name = state.target.name.clone();
        let seat = Seat::new(caps.clone(), &name);
        let (base, state, work) = (ctx.clone(), state.clone(), work.clone());
        let span = info_span!("target", name = %name);
        let handle = set.spawn(
            async move { (index, run_one(&base, &state, seat, work).await) }.instrument(span),
        );
        names.insert(handle.id(), (index, name));
    }
    let mut done: Vec<(usize, TargetReport)> = Vec::new();
    while let Some(joined) = set.join_next_with_id().await {
        let finished = done.len() as u32 + 1;
        let (index, mut report) = match joined {
            Ok((_, (index, report))) => (index, report),
            Err(e) => {
                let (index, name) = names.get(&e.id()).cloned().unwrap_or_default();
                let mut report = Report::new(trigger, ctx.dry_run());
                report.error(
                    "target",
                    &name,
                    format!("the run of target {name} stopped: {e}"),
                    true,
                );
                report.stamp_target(&name);
                (
                    index,
                    TargetReport {
                        name,
                        finished: 0,
                        report,
                    },
                )
            }
        };
        report.finished = finished;
        done.push((index, report));
    }
    done.sort_by_key(|(index, _)| *index);
    let mut merged = Report::new(trigger, ctx.dry_run());
    for (_, part) in &done {
        merged.merge(part.report.clone());
        merged.api_calls += part.report.api_calls;
    }
    merged.targets = done.into_iter().map(|(_, part)| part).collect();
    merged
}

/// One target's run: its context (credentials handed over first when it
/// has an agency), the work, its entries stamped with its name.
async fn run_one<F, Fut>(base: &Ctx, state: &TargetState, seat: Arc<Seat>, work: F) -> TargetReport
where
    F: Fn(Ctx) -> Fut,
    Fut: Future<Output = Report>,
{
    let started = Instant::now();
    let name = state.target.name.clone();
    // Without a context the seat is dropped here: the target counts as not read.
    let mut report = match context(base, state).await {
        Ok(ctx) => {
            let ctx = ctx.with_seat(seat);
            let calls_before = ctx.client.api_calls();
            let key = crate::state::Store::target_key(&name);
            let mut report = crate::jobs::remember::around(&ctx, key, work).await;
            report.api_calls = ctx.client.api_calls().saturating_sub(calls_before);
            report
        }
        Err(failed) => {
            drop(seat);
            let mut report = Report::new("tick", base.dry_run());
            report.error(failed.job, &failed.what, failed.message, failed.retryable);
            report
        }
    };
    report.duration_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    report.stamp_target(&name);
    TargetReport {
        name,
        finished: 0,
        report,
    }
}

/// Why a target's run could not start.
struct Failed {
    /// `target` (no client could be made) or `auth` (the agency hand-off).
    job: &'static str,
    what: String,
    message: String,
    retryable: bool,
}

/// The context one run of the target works in, or what failed and why.
async fn context(base: &Ctx, state: &TargetState) -> Result<Ctx, Failed> {
    let client = state
        .client
        .as_ref()
        .map_err(|message| Failed {
            job: "target",
            what: format!("target {}", state.target.name),
            message: message.clone(),
            retryable: false,
        })?
        .with_invocation_of(&base.client)
        // Another run may work this target at the same time: count apart.
        .counting_afresh();
    let client = match state.target.agency() {
        None => client,
        Some(agency) => {
            let credentials = credentials(base, state).await.map_err(|e| Failed {
                job: "auth",
                what: format!("agency {} of account {}", agency.name, agency.domain),
                message: e.to_string(),
                retryable: e.is_retryable(),
            })?;
            client.with_credentials(&credentials)
        }
    };
    // Alerts go out as the warden (its SMN topic, its own credentials).
    let sinks = state.sinks.with_client(&base.client);
    Ok(Ctx::from_parts(state.settings.clone(), client, sinks)
        .with_store(base.store.clone())
        .with_deadline(base.deadline))
}

/// The target's agency credentials: the kept ones while fresh, else new ones.
async fn credentials(base: &Ctx, state: &TargetState) -> Result<Credentials, ApiError> {
    let Some(agency) = state.target.agency() else {
        return Ok(base.settings.credentials.clone());
    };
    let mut kept = state.agency.lock().await;
    if let Some(fresh) = kept
        .as_ref()
        .filter(|c| c.is_fresh(OffsetDateTime::now_utc()))
    {
        return Ok(fresh.credentials().clone());
    }
    let got = base
        .client
        .assume_agency(iam_endpoint(&base.settings), agency, AGENCY_DURATION_SECS)
        .await?;
    tracing::info!(
        target_name = %state.target.name,
        agency = agency.name,
        expires_at = %got.expires_at,
        "assumed the agency"
    );
    let credentials = got.credentials().clone();
    *kept = Some(got);
    Ok(credentials)
}

/// `check` of each target in the order of `WARDEN_TARGETS`: its quotas and
/// services read as `check` reads one project, with the agency's
/// credentials when it has one (assumed with the warden's own).
pub async fn check(settings: &Settings) -> Vec<(String, Result<CheckReport, CheckError>)> {
    let mut found = Vec::with_capacity(settings.targets.len());
    for target in &settings.targets {
        let mut one = target.settings(settings);
        let result = async {
            if let Some(agency) = target.agency() {
                let warden = Client::from_settings(settings)?;
                let got = warden
                    .assume_agency(iam_endpoint(settings), agency, AGENCY_DURATION_SECS)
                    .await?;
                one.credentials = got.credentials().clone();
            }
            crate::vpcep::check(&one).await
        }
        .await;
        found.push((target.name.clone(), result));
    }
    found
}
