//! vpcep-warden: serves Lambda invocations when `AWS_LAMBDA_RUNTIME_API` is
//! set, FunctionGraph invocations (custom runtime) when `RUNTIME_API_ADDR` is
//! set, otherwise runs the command line.

use std::process::ExitCode;

use clap::Parser;
use vpcep_warden::config::{HostDefaults, Settings};
use vpcep_warden::jobs::Ctx;
use vpcep_warden::runtime::{arena, cli, functiongraph, lambda, EXIT_BAD_INPUT};

fn main() -> ExitCode {
    arena::one_arena();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: the async runtime could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return serve_lambda().await;
    }
    if std::env::var_os(functiongraph::API_ADDR_VAR).is_some() {
        return serve_functiongraph().await;
    }
    let cli = cli::Cli::parse();
    // The demo prints its own summary; its logs stay quiet unless asked for.
    let default_filter = match cli.command {
        cli::Command::Demo => "warn,vpcep_emulator=error",
        _ => "vpcep_warden=info,warn",
    };
    // WARDEN_LOG_FORMAT is checked with the other settings; here only `json` matters.
    let json = std::env::var("WARDEN_LOG_FORMAT").is_ok_and(|f| f.trim() == "json");
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    vpcep_warden::logs::init(std::io::stderr, json, default_filter, terminal);
    cli::run(cli).await
}

async fn serve_lambda() -> ExitCode {
    // As Lambda's advanced logging controls say: JSON lines when
    // AWS_LAMBDA_LOG_FORMAT=JSON, each with its `timestamp` and one `level`
    // (without them Lambda files a line as INFO and drops it under WARN).
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    vpcep_warden::logs::init(std::io::stdout, json, "info", false);
    // With WARDEN_SECRETS_ARN, the secrets come from Secrets Manager at start
    // instead of the environment (where the console would show them).
    let mut host = HostDefaults::default();
    if let Some(arn) = std::env::var("WARDEN_SECRETS_ARN")
        .ok()
        .filter(|a| !a.trim().is_empty())
    {
        let token = std::env::var("AWS_SESSION_TOKEN").unwrap_or_default();
        match lambda::secrets_from_extension(arn.trim(), lambda::extension_port(), &token).await {
            Ok(secrets) => {
                let names: Vec<&str> = secrets.iter().map(|(n, _)| n.as_str()).collect();
                tracing::info!(settings = %names.join(","), "settings read from Secrets Manager");
                host.secrets = secrets;
            }
            Err(e) => {
                tracing::error!(error = %e, "the secrets could not be read");
                return ExitCode::from(EXIT_BAD_INPUT);
            }
        }
    }
    let ctx = match Settings::from_env_with(&host)
        .map_err(|e| e.to_string())
        .and_then(|s| Ctx::new(s).map_err(|e| e.to_string()))
    {
        Ok(ctx) => ctx,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match lambda::serve(ctx).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

async fn serve_functiongraph() -> ExitCode {
    // Captured by the platform: never coloured; JSON with WARDEN_LOG_FORMAT=json.
    let json = std::env::var("WARDEN_LOG_FORMAT").is_ok_and(|f| f.trim() == "json");
    vpcep_warden::logs::init(std::io::stderr, json, "vpcep_warden=info,warn", false);
    let ctx = functiongraph::Env::from_env()
        .map_err(|e| e.to_string())
        .and_then(|env| {
            let settings =
                Settings::from_env_with(&env.host_defaults()).map_err(|e| e.to_string())?;
            Ok((Ctx::new(settings).map_err(|e| e.to_string())?, env))
        });
    let (ctx, env) = match ctx {
        Ok(found) => found,
        Err(e) => {
            tracing::error!(error = %e, "invalid settings");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match functiongraph::serve(ctx, env).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the FunctionGraph runtime stopped");
            ExitCode::FAILURE
        }
    }
}
