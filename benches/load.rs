//! The load benchmark: what the service adds to a call, against nginx as a plain reverse proxy,
//! all on loopback. It starts the release binaries (`target/release/openrouter-simulator` with 300
//! models and SSE chunks paced 5 ms apart, `target/release/openrouter-connector`) and nginx
//! (`proxy_pass` to the same simulator), drives each path with an open-loop constant rate
//! (latency counted from each request's scheduled start), and prints markdown tables: latency
//! and what each path adds over calling the simulator directly, streaming time to first byte,
//! peak throughput (closed loop), memory (idle, under load, a soak), where the service's time
//! goes (its own `/metrics`), and the limiter's own cost (`cargo bench --bench limiter`, run as a
//! subprocess).
//!
//! Run: `.ci/bench-load` (builds the release binaries first). `LOAD_BENCH_QUICK=1` is the
//! seconds-long smoke mode CI runs. Knobs (environment): `LOAD_BENCH_RATE` (req/s, default
//! 2000), `LOAD_BENCH_SECS` (per path, default 10), `LOAD_BENCH_ROUNDS` (default 3),
//! `LOAD_BENCH_SOAK_SECS` (default 300; 0 skips), `LOAD_BENCH_WORKERS` (the service's
//! `WORKERS`, default 1 like nginx's one worker), `LOAD_BENCH_MODELS_RATE`,
//! `LOAD_BENCH_STREAM_RATE`, `LOAD_BENCH_PEAK_CONNECTIONS`, `LOAD_BENCH_PEAK_SECS`,
//! `LOAD_BENCH_LIMITER_BIN` (else `cargo bench --bench limiter` runs), `LOAD_BENCH_NGINX`
//! (a path, or `none`), `LOAD_BENCH_NICE` (default −10), `LOAD_BENCH_RUST_LOG` (the service's
//! `RUST_LOG`, default `info`).
//!
//! Numbers are printed, never asserted: the machine is shared and noisy. A path that stops
//! working (errors, unexpected statuses, no answer) fails the run, which is what the smoke mode
//! in CI checks.

#[path = "load/client.rs"]
mod client;
#[path = "load/config.rs"]
mod config;
#[path = "load/generator.rs"]
mod generator;
#[path = "load/latency.rs"]
mod latency;
#[path = "load/limiter.rs"]
mod limiter;
#[path = "load/memory.rs"]
mod memory;
#[path = "load/metrics.rs"]
mod metrics;
#[path = "load/paths.rs"]
mod paths;
#[path = "load/peak.rs"]
mod peak;
#[path = "load/procs.rs"]
mod procs;
#[path = "load/report.rs"]
mod report;
#[path = "load/requests.rs"]
mod requests;
#[path = "load/servers.rs"]
mod servers;
#[path = "load/stats.rs"]
mod stats;
#[path = "load/streaming.rs"]
mod streaming;
#[path = "load/verdict.rs"]
mod verdict;

use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use config::{Config, env_num};
use procs::TempDir;
use report::{Results, RunInfo};
use servers::Lab;

/// Sets this thread's timer slack to 1 ns; threads started later inherit it, so the
/// generator's ticker wakes within microseconds rather than the default 50 µs slack.
fn tighten_timer_slack() -> bool {
    std::fs::write("/proc/self/timerslack_ns", "1").is_ok()
}

/// Raises this process's priority (`LOAD_BENCH_NICE`, default −10) before any thread starts, so
/// that every thread and child (simulator, service, nginx) inherits it: on a shared machine the
/// benchmark then takes the CPU it needs before other work. Returns the nice value in force.
fn raise_priority() -> Option<i32> {
    let nice: i32 = env_num("LOAD_BENCH_NICE", -10.0) as i32;
    if nice == 0 {
        return Some(0);
    }
    let pid = std::process::id().to_string();
    let status = Command::new("renice")
        .args(["-n", &nice.to_string(), "-p", &pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    status.is_ok_and(|s| s.success()).then_some(nice)
}

fn main() -> ExitCode {
    let nice = raise_priority();
    let slack = tighten_timer_slack();
    procs::install_signal_thread();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        eprintln!("no tokio runtime");
        return ExitCode::FAILURE;
    };
    let local = tokio::task::LocalSet::new();
    match local.block_on(&rt, run(Config::from_env(), slack, nice)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("load benchmark failed: {message}");
            ExitCode::FAILURE
        }
    }
}

static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// A progress line on stderr, with the seconds since the start.
fn progress(text: &str) {
    let since = STARTED.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("[load {since:5.1} s] {text}");
}

/// The benchmark, step by step: start the servers, measure each table's paths in turn, print
/// the report, stop the servers, and fail if a path stopped working.
async fn run(cfg: Config, slack: bool, nice: Option<i32>) -> Result<(), String> {
    let started = *STARTED.get_or_init(Instant::now);
    let temp = TempDir::new()?;
    let load_before = report::load_average();
    progress(&cfg.summary());
    let lab = Lab::start(&temp.0, &cfg).await?;

    let latency = latency::measure(&cfg, &lab).await;
    let refused = latency::measure_refusals(&cfg, &lab).await;
    let streams = streaming::measure(&cfg, &lab).await;
    let peak = peak::measure(&cfg, &lab).await?;
    let soak = memory::soak(&cfg, &lab).await;
    let end_rss = procs::rss_kib(lab.service.pid()).unwrap_or(0);
    progress("limiter benchmark");
    let limiter = limiter::rows(cfg.quick);
    let results = Results {
        latency,
        refused,
        streams,
        peak,
        soak,
        end_rss,
        limiter,
    };

    let info = RunInfo {
        started,
        load_before,
        slack,
        nice,
    };
    println!("{}", report::write(&cfg, &lab, &results, &info));
    lab.stop();
    verdict::check(&results)
}
