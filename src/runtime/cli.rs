//! The command line: `invoke`, `tick`, `check`, `demo`, `alert-test`, `serve`, each with `--dry-run`.
//!
//! The report alone goes to stdout; progress and logs go to stderr.
//! Exit codes: 0 all done; 1 ran, but some action failed; 2 bad input or bad
//! settings, nothing was done.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::events::{Job, Trigger};
use crate::jobs::Ctx;

use super::EXIT_BAD_INPUT;

/// Keeps a Huawei Cloud VPC Endpoint estate tidy: approves allowlisted
/// connections, alerts on quotas, deletes failed endpoints.
#[derive(Debug, Parser)]
#[command(name = "vpcep-warden", version)]
pub struct Cli {
    /// Plan everything, change nothing (also WARDEN_DRY_RUN=true).
    #[arg(long, global = true)]
    pub dry_run: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode one event file exactly as Lambda would receive it, run it, print the report.
    Invoke {
        /// The event file; `-` reads standard input.
        file: String,
    },
    /// Run a schedule tick now.
    Tick {
        /// The jobs to run, comma-separated (default: all).
        #[arg(long, value_delimiter = ',', value_parser = parse_job)]
        jobs: Vec<Job>,
        /// The targets of WARDEN_TARGETS to run, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        targets: Vec<String>,
    },
    /// Check settings and credentials: read quotas and the managed services.
    Check,
    /// Run the sample events against the embedded emulator; needs no cloud account.
    Demo,
    /// Send one sample alert through every configured sink and say which took it.
    AlertTest,
    /// Serve HTTP: POST / and /webhook run events, GET /healthz and /metrics
    /// (not in the Lambda bootstrap, built without the `serve` feature).
    Serve {
        /// The address to listen on (port 0: any free port, printed on stderr).
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// Also run a tick this often, e.g. 30s, 5m, 1h (up to 10% jitter; never two at once).
        #[arg(long, value_parser = super::parse_period)]
        every: Option<std::time::Duration>,
        /// Connections open at once, at most (more wait until one closes).
        #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..))]
        max_connections: u16,
        /// The time a client has to send a request's headers (also the idle
        /// time of a kept-alive connection), and again its body.
        #[arg(long, default_value = "10s", value_parser = super::parse_period)]
        read_timeout: std::time::Duration,
        /// At shutdown, how long open connections may take to finish (the
        /// running tick and runs always finish).
        #[arg(long, default_value = "10s", value_parser = super::parse_period)]
        shutdown_grace: std::time::Duration,
    },
}

fn parse_job(s: &str) -> Result<Job, String> {
    s.parse()
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let dry_run = cli.dry_run;
    match cli.command {
        Command::Demo => demo().await,
        Command::Check => match load(dry_run) {
            Ok(settings) => check(&settings).await,
            Err(code) => code,
        },
        Command::Invoke { file } => match load(dry_run).and_then(context) {
            Ok(ctx) => invoke(&ctx, &file).await,
            Err(code) => code,
        },
        Command::Tick { jobs, targets } => match load(dry_run).and_then(context) {
            Ok(ctx) => tick(&ctx, jobs, targets).await,
            Err(code) => code,
        },
        Command::AlertTest => match load(dry_run).and_then(context) {
            Ok(ctx) => alert_test(&ctx).await,
            Err(code) => code,
        },
        #[cfg(feature = "serve")]
        Command::Serve {
            listen,
            every,
            max_connections,
            read_timeout,
            shutdown_grace,
        } => match load_for_serve(dry_run).and_then(context) {
            Ok(ctx) => {
                let limits = super::serve::Limits {
                    max_connections: usize::from(max_connections),
                    read_timeout,
                    shutdown_grace,
                };
                let options = super::serve::Options {
                    listen,
                    every,
                    limits,
                };
                super::serve::run(ctx, options).await
            }
            Err(code) => code,
        },
        #[cfg(not(feature = "serve"))]
        Command::Serve { .. } => {
            eprintln!(
                "error: this build has no HTTP server (the Lambda bootstrap leaves it out); use the container image or the FunctionGraph package, or rebuild with the default `serve` feature"
            );
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// The address `serve` listens on unless `--listen` says otherwise: what
/// FunctionGraph HTTP functions and containers expect.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8000";

/// Sends one sample alert through every sink; prints the sinks configured,
/// those that took it and the failures (exit 1 when any failed).
async fn alert_test(ctx: &Ctx) -> ExitCode {
    let alert = crate::alerts::Alert::test(ctx.client.project_id());
    let delivered = ctx
        .sinks
        .deliver("alert-test", vec![alert], ctx.dry_run())
        .await;
    let reached = delivered
        .alerts
        .first()
        .map(|a| a.sinks.clone())
        .unwrap_or_default();
    let result = serde_json::json!({
        "configured": ctx.sinks.names(),
        "reached": reached,
        "errors": delivered.errors,
        "dry_run": ctx.dry_run(),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&result).expect("a result always serializes")
    );
    if delivered.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The settings from the environment (`--dry-run` added), or exit code 2
/// after saying what is wrong.
fn load(dry_run: bool) -> Result<Settings, ExitCode> {
    let host = crate::config::HostDefaults {
        default_state: user_state_dir(),
        ..crate::config::HostDefaults::default()
    };
    load_with(dry_run, &host)
}

/// Where the command line keeps state when `WARDEN_STATE` is not set, so
/// runs from cron remember what the previous one sent:
/// `$XDG_STATE_HOME/vpcep-warden`, else `$HOME/.local/state/vpcep-warden`
/// (the XDG base directory convention); without either, `memory`.
fn user_state_dir() -> Option<String> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let dir = absolute("XDG_STATE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".local/state")))?
        .join("vpcep-warden");
    url::Url::from_file_path(dir).ok().map(String::from)
}

/// [`load`] with what the host supplies for missing values.
fn load_with(dry_run: bool, host: &crate::config::HostDefaults) -> Result<Settings, ExitCode> {
    let mut settings = Settings::from_env_with(host).map_err(bad_input)?;
    settings.dry_run |= dry_run;
    Ok(settings)
}

/// The settings for `serve`. On a FunctionGraph HTTP function
/// (`RUNTIME_PROJECT_ID` set) no credentials need be configured: each
/// request brings its agency's (the "include keys" headers), and the
/// project defaults to the function's.
#[cfg(feature = "serve")]
fn load_for_serve(dry_run: bool) -> Result<Settings, ExitCode> {
    let project = std::env::var("RUNTIME_PROJECT_ID")
        .ok()
        .filter(|p| !p.trim().is_empty());
    // A FunctionGraph HTTP function has no disk of its own: memory there.
    let host = crate::config::HostDefaults {
        per_invocation_credentials: project.is_some(),
        default_state: project.is_none().then(user_state_dir).flatten(),
        project_id: project,
        secrets: Vec::new(),
    };
    load_with(dry_run, &host)
}

/// The jobs' context for `settings`, or exit code 2 after saying why not.
fn context(settings: Settings) -> Result<Ctx, ExitCode> {
    Ctx::new(settings).map_err(bad_input)
}

fn bad_input(error: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}

async fn invoke(ctx: &Ctx, file: &str) -> ExitCode {
    let payload = match read_input(file) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read event file {file:?}: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match super::run_event(ctx, &payload).await {
        Ok((_, outcome)) => print_report(&outcome.report),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

async fn tick(ctx: &Ctx, jobs: Vec<Job>, targets: Vec<String>) -> ExitCode {
    let known: Vec<&str> = ctx
        .settings
        .targets
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    if let Some(unknown) = targets.iter().find(|t| !known.contains(&t.as_str())) {
        if known.is_empty() {
            eprintln!("error: --targets names {unknown:?}, but WARDEN_TARGETS is not set");
        } else {
            eprintln!(
                "error: --targets names {unknown:?}, which WARDEN_TARGETS does not; it names {}",
                known.join(", ")
            );
        }
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let outcome = crate::dispatch::dispatch(ctx, Trigger::Tick { jobs, targets }).await;
    crate::logs::summary(&outcome.report);
    print_report(&outcome.report)
}

fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(file)
    }
}

/// Prints the report on stdout as it serializes, never whole in memory (a
/// tick announcing thousands of connections makes a report of megabytes).
fn print_report(report: &crate::report::Report) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let printed = serde_json::to_writer_pretty(&mut out, report)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    if let Err(e) = printed {
        eprintln!("error: the report could not be printed: {e}");
        return ExitCode::FAILURE;
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn check(settings: &Settings) -> ExitCode {
    eprintln!("{}", settings.summary());
    let (mut found, vpcep_ok) = if settings.targets.is_empty() {
        match crate::vpcep::check(settings).await {
            Ok(found) => (
                serde_json::to_value(&found).expect("a check report always serializes"),
                true,
            ),
            Err(e) => {
                eprintln!("error: {e}");
                (serde_json::json!({"error": e.to_string()}), false)
            }
        }
    } else {
        check_targets(settings).await
    };
    let state_ok = check_state(settings, &mut found).await;
    println!(
        "{}",
        serde_json::to_string_pretty(&found).expect("a check report always serializes")
    );
    if vpcep_ok && state_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `check` of the state store (`WARDEN_STATE`): readable and writable, and
/// how each target's document reads; added to `found` as `state`.
async fn check_state(settings: &Settings, found: &mut serde_json::Value) -> bool {
    let store = crate::state::Store::from_settings(settings);
    let keys: Vec<String> = if settings.targets.is_empty() {
        vec![crate::state::Store::project_key(&settings.project_id)]
    } else {
        settings
            .targets
            .iter()
            .map(|t| crate::state::Store::target_key(&t.name))
            .collect()
    };
    let state = crate::state::check(&store, &keys).await;
    match &state.error {
        Some(e) => eprintln!("error: state: {e}"),
        None if !state.durable => eprintln!(
            "state: {} is readable and writable, but kept in this process only: set WARDEN_STATE to a file:// directory or an s3:// bucket so runs remember what was sent",
            state.location
        ),
        None => eprintln!("state: {} is readable and writable", state.location),
    }
    for doc in state.documents.iter().filter(|d| d.detail.is_some()) {
        eprintln!(
            "warning: state document {} is {}: {} (the next run rebuilds a corrupt one)",
            doc.key,
            doc.status,
            doc.detail.as_deref().unwrap_or_default()
        );
    }
    found["state"] = serde_json::to_value(&state).expect("a state check always serializes");
    state.writable
}

/// `check` of every target: one entry each, `found` or `error` (with its
/// hint); whether all succeeded.
async fn check_targets(settings: &Settings) -> (serde_json::Value, bool) {
    let mut failed = false;
    let entries: Vec<serde_json::Value> = crate::targets::check(settings)
        .await
        .into_iter()
        .map(|(name, result)| match result {
            Ok(found) => serde_json::json!({"name": name, "found": found}),
            Err(e) => {
                failed = true;
                eprintln!("error: target {name}: {e}");
                serde_json::json!({"name": name, "error": e.to_string()})
            }
        })
        .collect();
    (serde_json::json!({ "targets": entries }), !failed)
}

#[cfg(feature = "emulator")]
async fn demo() -> ExitCode {
    super::demo::run().await
}

#[cfg(not(feature = "emulator"))]
async fn demo() -> ExitCode {
    eprintln!(
        "error: this build has no embedded emulator; rebuild with the default `emulator` feature"
    );
    ExitCode::from(EXIT_BAD_INPUT)
}
