//! The load benchmark: what the service adds to a call and how much it can carry, against nginx
//! as a plain reverse proxy, all on loopback. It starts the release binaries
//! (`target/release/openrouter-simulator` with 350 models and SSE chunks paced 5 ms apart,
//! `target/release/openrouter-connector`; `CARGO_TARGET_DIR` is honoured), nginx (`proxy_pass`
//! to the same simulator) and a canned upstream (nginx answering `return 200` with the
//! simulator's own chat answer, fetched once at the start), and prints markdown tables:
//!
//! - latency at an open-loop constant rate (counted from each request's scheduled start) and
//!   what each path adds over calling the simulator directly, List Models included;
//! - streaming time to first byte, directly, through nginx and through the pass-through;
//! - throughput: wrk's closed loop (`wrk -t1 -c16`, one key, a Lua script in the run's
//!   directory) against the canned upstream directly (the generator's ceiling), through nginx
//!   `proxy_pass` (`worker_processes auto`), and through the service's pass-through and Chat
//!   Completion action (default `WORKERS`), in interleaved rounds;
//! - memory at 2,000 connections at once (wrk, answers given 10 s), service and nginx, idle,
//!   peak and after, with each one's listen backlog;
//! - memory of the service (idle, under the constant-rate runs, a soak), where its time goes
//!   (its own `/metrics`), the limiter's own cost (`cargo bench --bench limiter`, run as a
//!   subprocess), and every target of the issue in one final table.
//!
//! Run: `.ci/bench-load` (builds the release binaries first). `LOAD_BENCH_QUICK=1` is the smoke
//! mode CI runs (every table, seconds each). Knobs (environment; full / smoke defaults):
//!
//! - latency: `LOAD_BENCH_RATE` (req/s, 2000 / 200), `LOAD_BENCH_SECS` (per path, 10 / 2),
//!   `LOAD_BENCH_ROUNDS` (interleaved rounds of the latency, streaming and throughput tables,
//!   3 / 1), `LOAD_BENCH_MODELS_RATE` (50 / 10), `LOAD_BENCH_STREAM_RATE` (50 / 20),
//!   `LOAD_BENCH_WORKERS` (the latency instance's `WORKERS`, 1 like nginx's one worker there);
//! - throughput: `LOAD_BENCH_WRK` (wrk's path, or `none`; under `CI=true` a missing wrk fails
//!   the run), `LOAD_BENCH_WRK_CONNECTIONS` (16), `LOAD_BENCH_WRK_THREADS` (1),
//!   `LOAD_BENCH_PEAK_SECS` (per round, whole seconds, 5 / 1; each after a 0.5 s warm-up);
//! - many connections: `LOAD_BENCH_MEMORY_CONNECTIONS` (2000), `LOAD_BENCH_MEMORY_SECS`
//!   (5 / 1), `LOAD_BENCH_MEMORY_SETTLE_SECS` (RSS read again this long after, 10 / 2);
//! - the rest: `LOAD_BENCH_SOAK_SECS` (120 / 5; 0 skips), `LOAD_BENCH_LIMITER_BIN` (else
//!   `cargo bench --bench limiter` runs), `LOAD_BENCH_NGINX` (a path, or `none`),
//!   `LOAD_BENCH_NICE` (default −10), `LOAD_BENCH_RUST_LOG` (the latency instance's `RUST_LOG`,
//!   default `info`; the throughput and memory instances run `warn`).
//!
//! Numbers are printed, never asserted: the machine is shared and noisy. A path that stops
//! working (errors, unexpected statuses, no answer; for wrk any non-2xx answer or socket error)
//! fails the run, which is what the smoke mode in CI checks.

#[path = "load/client.rs"]
mod client;
#[path = "load/config.rs"]
mod config;
#[path = "load/connections.rs"]
mod connections;
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
#[path = "load/targets.rs"]
mod targets;
#[path = "load/verdict.rs"]
mod verdict;
#[path = "load/wrk.rs"]
mod wrk;

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
    let wrk = wrk::binary()?;
    if wrk.is_none() {
        progress(
            "SKIPPED: wrk not found, so the throughput and many-connection tables are skipped",
        );
    }
    let lab = Lab::start(&temp.0, &cfg).await?;

    let latency = latency::measure(&cfg, &lab).await;
    let refused = latency::measure_refusals(&cfg, &lab).await;
    let streams = streaming::measure(&cfg, &lab).await;
    let throughput = peak::measure(&cfg, &lab, wrk.as_deref()).await?;
    let many = connections::measure(&cfg, &lab, wrk.as_deref()).await?;
    let soak = memory::soak(&cfg, &lab).await;
    let end_rss = procs::rss_kib(lab.service.pid()).unwrap_or(0);
    progress("limiter benchmark");
    let limiter = limiter::rows(cfg.quick);
    let results = Results {
        latency,
        refused,
        streams,
        throughput,
        many,
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
