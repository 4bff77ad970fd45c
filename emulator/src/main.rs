//! `vpcep-emulator`: serves the VPCEP emulator until killed.
//!
//! The first line on stdout is `listening on http://HOST:PORT`; logs go to stderr.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing::Level;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use vpcep_emulator::{Options, Scenario};

/// A local stand-in for the Huawei Cloud VPC Endpoint (VPCEP) v1 API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Scenario file (JSON): accounts, quotas, services, endpoints, generate.
    #[arg(long)]
    scenario: PathBuf,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of API requests (0..=1) answered 500 EndPoint.0001.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Requests per second above which the API answers 400 EndPoint.0022.
    #[arg(long)]
    rate_limit: Option<f64>,
    /// How long creating, accepting and deleting take, in milliseconds.
    #[arg(long, default_value_t = 0)]
    transition_ms: u64,
    /// Send the documented string variants of numbers and booleans.
    #[arg(long)]
    quirks: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    // RUST_LOG: a level, or target=level directives (`vpcep_emulator=debug,warn`).
    let filter: tracing_subscriber::filter::Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(Level::INFO));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .finish()
        .with(filter)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("vpcep-emulator: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let text = std::fs::read_to_string(&cli.scenario)
        .map_err(|e| format!("cannot read the scenario {}: {e}", cli.scenario.display()))?;
    let scenario =
        Scenario::from_json(&text).map_err(|e| format!("{}: {e}", cli.scenario.display()))?;
    let options = Options {
        latency_ms: cli.latency_ms,
        fault_rate: cli.fault_rate,
        rate_limit: cli.rate_limit,
        transition_ms: cli.transition_ms,
        quirks: cli.quirks,
    };
    let emulator = vpcep_emulator::start_on(cli.listen, scenario, options)
        .await
        .map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", emulator.base_url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for a signal: {e}"))?;
    emulator.stop().await;
    Ok(())
}
