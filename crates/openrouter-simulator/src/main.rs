//! `openrouter-simulator`: runs the local OpenRouter API simulator until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use openrouter_simulator::{Simulator, SimulatorOptions};

/// Command-line options of the simulator.
#[derive(Debug, Parser)]
#[command(
    name = "openrouter-simulator",
    about = "Local OpenRouter API simulator"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SIM_BIND", default_value = "127.0.0.1:9999")]
    bind: SocketAddr,
    /// Number of models `GET /api/v1/models` lists.
    #[arg(long = "models", default_value_t = 5)]
    models: usize,
    /// Pause between streamed chunks, in milliseconds.
    #[arg(long, default_value_t = 0)]
    sse_chunk_delay_ms: u64,
    /// Answer without requiring an `Authorization: Bearer` header.
    #[arg(long)]
    no_auth: bool,
    /// Accept only this key (repeatable); any other gets OpenRouter's 401.
    #[arg(long = "key")]
    keys: Vec<String>,
    /// Answer any model id instead of refusing those outside the catalogue as OpenRouter does.
    #[arg(long)]
    any_model: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = SimulatorOptions {
        bind: args.bind,
        model_count: args.models,
        sse_chunk_delay: Duration::from_millis(args.sse_chunk_delay_ms),
        require_auth: !args.no_auth,
        valid_keys: args.keys,
        known_models_only: !args.any_model,
    };
    let simulator = match Simulator::start_with(options).await {
        Ok(simulator) => simulator,
        Err(err) => {
            eprintln!("cannot listen on {}: {err}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    // Nobody can inspect recorded requests of a separate process: keep memory flat.
    simulator.set_recording(false);
    println!("listening on {}", simulator.base_url());
    stopped().await;
    drop(simulator);
    ExitCode::SUCCESS
}

/// Waits for SIGTERM or Ctrl-C.
async fn stopped() {
    #[cfg(unix)]
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}
