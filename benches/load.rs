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
#[path = "load/generator.rs"]
mod generator;
#[path = "load/procs.rs"]
mod procs;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use generator::{Keys, Peak, Plan, Samples, Template};
use procs::{Proc, TempDir};

const MIB: u64 = 1024;

/// What to run, from the environment.
#[derive(Clone, Debug)]
struct Config {
    quick: bool,
    rate: f64,
    secs: f64,
    rounds: usize,
    warmup: f64,
    models_rate: f64,
    stream_rate: f64,
    peak_connections: usize,
    peak_secs: f64,
    soak_secs: f64,
    workers: usize,
}

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Config {
    fn from_env() -> Config {
        let quick = std::env::var_os("LOAD_BENCH_QUICK").is_some_and(|v| v != "0" && !v.is_empty());
        let pick = |full: f64, smoke: f64| if quick { smoke } else { full };
        Config {
            quick,
            rate: env_num("LOAD_BENCH_RATE", pick(2000.0, 200.0)),
            secs: env_num("LOAD_BENCH_SECS", pick(10.0, 2.0)),
            rounds: env_num("LOAD_BENCH_ROUNDS", pick(3.0, 1.0)).max(1.0) as usize,
            warmup: pick(1.0, 0.3),
            models_rate: env_num("LOAD_BENCH_MODELS_RATE", pick(50.0, 10.0)),
            stream_rate: env_num("LOAD_BENCH_STREAM_RATE", pick(50.0, 20.0)),
            peak_connections: env_num("LOAD_BENCH_PEAK_CONNECTIONS", 64.0).max(1.0) as usize,
            peak_secs: env_num("LOAD_BENCH_PEAK_SECS", pick(3.0, 1.0)),
            soak_secs: env_num("LOAD_BENCH_SOAK_SECS", pick(300.0, 5.0)),
            workers: env_num("LOAD_BENCH_WORKERS", 1.0).max(1.0) as usize,
        }
    }

    fn plan(&self, rate: f64, secs: f64) -> Plan {
        Plan {
            rate,
            warmup: Duration::from_secs_f64(self.warmup),
            duration: Duration::from_secs_f64(secs),
            cap: 512,
            timeout: Duration::from_secs(10),
        }
    }
}

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

// ---------------------------------------------------------------------------------------------
// The processes under test.

struct Simulator {
    proc: Proc,
    addr: SocketAddr,
}

async fn start_simulator(dir: &Path) -> Result<Simulator, String> {
    let addr = procs::free_addr()?;
    let mut command = Command::new(procs::binary("openrouter-simulator")?);
    command
        .args(["--bind", &addr.to_string(), "--models", "300", "--no-auth"])
        .args(["--sse-chunk-delay-ms", "5"])
        // One runtime thread, like nginx's one worker and the service's one.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(log_file(dir, "simulator.log")?);
    let mut proc = Proc::spawn("openrouter-simulator", command)?;
    procs::wait_ready(&mut proc, addr, "/api/v1/credits").await?;
    Ok(Simulator { proc, addr })
}

fn log_file(dir: &Path, name: &str) -> Result<std::fs::File, String> {
    std::fs::File::create(dir.join(name)).map_err(|e| format!("cannot create {name}: {e}"))
}

struct Service {
    proc: Proc,
    addr: SocketAddr,
    log: std::path::PathBuf,
    idle_rss_kib: u64,
}

impl Service {
    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    fn log_bytes(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }
}

async fn start_service(
    dir: &Path,
    name: &str,
    upstream: SocketAddr,
    per_minute: u64,
    burst: u64,
    workers: Option<usize>,
) -> Result<Service, String> {
    let addr = procs::free_addr()?;
    let log = dir.join(format!("{name}.log"));
    let out = log_file(dir, &format!("{name}.log"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(procs::binary("openrouter-connector")?);
    command
        .env_clear()
        .env("BIND", addr.to_string())
        .env("OPENROUTER_BASE_URL", format!("http://{upstream}/api/v1"))
        .env("RATE_LIMIT_PER_MINUTE", per_minute.to_string())
        .env("RATE_LIMIT_BURST", burst.to_string())
        .env("SHUTDOWN_GRACE_SECS", "1")
        .env("LOG_FORMAT", "json")
        .env(
            "RUST_LOG",
            std::env::var("LOAD_BENCH_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        )
        .stdout(out)
        .stderr(err);
    if let Some(workers) = workers {
        command.env("WORKERS", workers.to_string());
    }
    let mut proc = Proc::spawn(name, command)?;
    procs::wait_ready(&mut proc, addr, "/health/live").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kib = procs::rss_kib(proc.pid()).unwrap_or(0);
    Ok(Service {
        proc,
        addr,
        log,
        idle_rss_kib,
    })
}

struct Nginx {
    proc: Proc,
    addr: SocketAddr,
}

impl Nginx {
    /// The worker's pid (the process that proxies), else the master's.
    fn worker(&self) -> u32 {
        procs::children(self.proc.pid())
            .first()
            .copied()
            .unwrap_or(self.proc.pid())
    }
}

async fn start_nginx(dir: &Path, upstream: SocketAddr) -> Result<Option<Nginx>, String> {
    let Some(binary) = procs::nginx_binary() else {
        return Ok(None);
    };
    let addr = procs::free_addr()?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, procs::nginx_config(dir, addr, upstream)).map_err(|e| e.to_string())?;
    let mut command = Command::new(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log_file(dir, "nginx-stderr.log")?);
    let mut proc = Proc::spawn("nginx", command)?;
    procs::wait_ready(&mut proc, addr, "/api/v1/credits").await?;
    Ok(Some(Nginx { proc, addr }))
}

// ---------------------------------------------------------------------------------------------
// Requests.

const PROMPT: &str = "Summarise this note for the weekly Power Automate digest, in two sentences. ";
const NOTE: &str = "The quarterly report lists revenue, costs and open risks for each region. ";

/// About 1 KB of text.
fn long_text() -> String {
    let mut text = PROMPT.to_owned();
    while text.len() < 880 {
        text.push_str(NOTE);
    }
    text
}

/// OpenRouter's chat body, about 1 KB.
fn chat_body(stream: bool) -> Vec<u8> {
    let content = if stream {
        "Say hello to the benchmark in a few short words".to_owned()
    } else {
        long_text()
    };
    serde_json::json!({
        "model": "openai/gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": content}
        ],
        "temperature": 0.3,
        "max_tokens": 200,
        "stream": stream
    })
    .to_string()
    .into_bytes()
}

/// The ChatCompletion action's body, about 1 KB.
fn action_body() -> Vec<u8> {
    serde_json::json!({
        "model": "openai/gpt-4o-mini",
        "system": "Answer briefly.",
        "content": long_text(),
        "temperature": 0.3,
        "max_tokens": 200
    })
    .to_string()
    .into_bytes()
}

fn template(method: &'static str, path: &str, body: Option<Vec<u8>>, keys: Keys) -> Template {
    Template {
        method,
        path: path.to_owned(),
        body,
        keys,
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting.

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// p50, p99, p99.9 of `values` (sorted in place).
fn quantiles(values: &mut [u64]) -> [Option<u64>; 3] {
    values.sort_unstable();
    [
        percentile(values, 0.5),
        percentile(values, 0.99),
        percentile(values, 0.999),
    ]
}

fn us(ns: Option<u64>) -> String {
    match ns {
        None => "—".to_owned(),
        Some(ns) => signed_us(ns as i64, false),
    }
}

fn signed_us(ns: i64, sign: bool) -> String {
    let plus = if sign && ns >= 0 { "+" } else { "" };
    let abs = ns.unsigned_abs();
    let minus = if ns < 0 { "−" } else { "" };
    if abs >= 1_000_000 {
        format!("{plus}{minus}{:.2} ms", abs as f64 / 1e6)
    } else if abs >= 10_000 {
        format!("{plus}{minus}{:.0} µs", abs as f64 / 1e3)
    } else {
        format!("{plus}{minus}{:.1} µs", abs as f64 / 1e3)
    }
}

fn added(path: Option<u64>, base: Option<u64>) -> Option<i64> {
    Some(path? as i64 - base? as i64)
}

fn added_text(value: Option<i64>) -> String {
    value.map_or_else(|| "—".to_owned(), |ns| signed_us(ns, true))
}

fn mib(kib: u64) -> String {
    if kib == 0 {
        "—".to_owned()
    } else {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

// ---------------------------------------------------------------------------------------------
// One path of the latency table, measured over several rounds.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Direct,
    Nginx,
    Service(&'static str),
}

struct PathRun {
    name: &'static str,
    who: Who,
    addr: SocketAddr,
    templates: Vec<Template>,
    rate: f64,
    samples: Samples,
    round_p50: Vec<Option<u64>>,
    peak_kib: u64,
    metrics: MetricDelta,
    log_bytes: u64,
    other_cpu: procs::OtherCpu,
}

impl PathRun {
    fn new(
        name: &'static str,
        who: Who,
        addr: SocketAddr,
        templates: Vec<Template>,
        rate: f64,
    ) -> PathRun {
        PathRun {
            name,
            who,
            addr,
            templates,
            rate,
            samples: Samples::default(),
            round_p50: Vec::new(),
            peak_kib: 0,
            metrics: MetricDelta::default(),
            log_bytes: 0,
            other_cpu: procs::OtherCpu::default(),
        }
    }
}

/// Sums and counts from the service's `/metrics`, for one operation.
#[derive(Clone, Copy, Debug, Default)]
struct MetricDelta {
    duration_sum: f64,
    overhead_sum: f64,
    overhead_count: f64,
    count: f64,
}

async fn scrape(addr: SocketAddr, operation: &str) -> MetricDelta {
    let Ok((200, body)) = client::get(addr, "/metrics").await else {
        return MetricDelta::default();
    };
    let text = String::from_utf8_lossy(&body);
    let value = |name: &str| -> f64 {
        let prefix = format!("{name}{{operation=\"{operation}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    MetricDelta {
        duration_sum: value("openrouter_connector_request_duration_seconds_sum"),
        count: value("openrouter_connector_request_duration_seconds_count"),
        overhead_sum: value("openrouter_connector_overhead_seconds_sum"),
        overhead_count: value("openrouter_connector_overhead_seconds_count"),
    }
}

impl MetricDelta {
    fn add_delta(&mut self, before: MetricDelta, after: MetricDelta) {
        self.duration_sum += after.duration_sum - before.duration_sum;
        self.count += after.count - before.count;
        self.overhead_sum += after.overhead_sum - before.overhead_sum;
        self.overhead_count += after.overhead_count - before.overhead_count;
    }
}

/// The pid whose memory a path's row shows.
fn watched_pid(who: Who, service: &Service, nginx: Option<&Nginx>) -> Option<u32> {
    match who {
        Who::Direct => None,
        Who::Nginx => nginx.map(Nginx::worker),
        Who::Service(_) => Some(service.pid()),
    }
}

async fn measure(
    path: &mut PathRun,
    plan: Plan,
    service: &Service,
    nginx: Option<&Nginx>,
    ours: &[u32],
) {
    let pid = watched_pid(path.who, service, nginx);
    let peak_reset = pid.is_some_and(procs::reset_peak);
    let sampler = pid.map(RssSampler::start);
    let operation = match path.who {
        Who::Service(op) => Some(op),
        _ => None,
    };
    let before = match operation {
        Some(op) => scrape(service.addr, op).await,
        None => MetricDelta::default(),
    };
    let log_before = service.log_bytes();
    let cpu = procs::CpuWatch::start(ours.to_vec());
    let samples = generator::open_loop(path.addr, &path.templates, plan).await;
    path.other_cpu.add(cpu.finish());
    if let Some(op) = operation {
        let after = scrape(service.addr, op).await;
        path.metrics.add_delta(before, after);
        path.log_bytes += service.log_bytes().saturating_sub(log_before);
    }
    if let Some(pid) = pid {
        let sampled = sampler.map_or(0, RssSampler::stop);
        let hwm = if peak_reset {
            procs::peak_kib(pid).unwrap_or(0)
        } else {
            0
        };
        path.peak_kib = path.peak_kib.max(sampled).max(hwm);
    }
    let mut round = samples.latency.get(&200).cloned().unwrap_or_default();
    path.round_p50.push(quantiles(&mut round)[0]);
    path.samples.merge(samples);
}

/// Samples a process's RSS every 50 ms on its own thread.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(f64, u64)>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        RssSampler::every(pid, Duration::from_millis(50))
    }

    fn every(pid: u32, period: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Some(kib) = procs::rss_kib(pid) {
                    samples.push((started.elapsed().as_secs_f64(), kib));
                }
                std::thread::sleep(period);
            }
            samples
        });
        RssSampler { stop, handle }
    }

    fn timeline(self) -> Vec<(f64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }

    /// The largest RSS seen, in KiB.
    fn stop(self) -> u64 {
        self.timeline()
            .iter()
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("MemTotal:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        });
    format!(
        "{cores} cores ({cpu}), {} GiB, Linux {}",
        memory.map_or(0, |kib| kib / (1024 * 1024)),
        kernel.trim()
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

async fn run(cfg: Config, slack: bool, nice: Option<i32>) -> Result<(), String> {
    let started = *STARTED.get_or_init(Instant::now);
    let temp = TempDir::new()?;
    let dir = temp.0.clone();
    let mut out = String::new();
    let load_before = load_average();
    progress(&format!(
        "{} mode: {} req/s, {} s per path in {} round(s), soak {} s; service WORKERS={}",
        if cfg.quick { "smoke" } else { "full" },
        cfg.rate,
        cfg.secs,
        cfg.rounds,
        cfg.soak_secs,
        cfg.workers
    ));

    // Idle memory with the default worker count (one per core), then the instance under test.
    let sim = start_simulator(&dir).await?;
    progress(&format!("simulator on {}", sim.addr));
    let default_workers =
        start_service(&dir, "service-default-workers", sim.addr, 100, 100, None).await?;
    let idle_default_workers = default_workers.idle_rss_kib;
    drop(default_workers);
    let service = start_service(&dir, "service", sim.addr, 100, 100, Some(cfg.workers)).await?;
    progress(&format!(
        "service on {} (RATE_LIMIT_PER_MINUTE=100)",
        service.addr
    ));
    let nginx = start_nginx(&dir, sim.addr).await?;
    match &nginx {
        Some(n) => progress(&format!("nginx on {}", n.addr)),
        None if std::env::var("CI").is_ok_and(|v| v == "true")
            && std::env::var("LOAD_BENCH_NGINX").map_or(true, |v| v != "none") =>
        {
            return Err(
                "nginx not found, and under CI=true a skipped comparison is a failure".into(),
            );
        }
        None => progress("SKIPPED: nginx not found, so its rows are skipped"),
    }
    // The benchmark's own processes, to tell their CPU use from the rest of the machine's.
    let mut ours = vec![sim.proc.pid(), service.pid()];
    if let Some(n) = &nginx {
        ours.push(n.proc.pid());
        ours.extend(procs::children(n.proc.pid()));
    }

    // --- Latency at a constant rate, many keys, interleaved rounds.
    let chat = template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(false)),
        Keys::Pool,
    );
    let action = template(
        "POST",
        "/connector/v1/chat/completions",
        Some(action_body()),
        Keys::Pool,
    );
    let models = template("GET", "/api/v1/models", None, Keys::Pool);
    let list_models = template("GET", "/connector/v1/models", None, Keys::Pool);
    let mut fast = vec![PathRun::new(
        "direct (simulator)",
        Who::Direct,
        sim.addr,
        vec![chat.clone()],
        cfg.rate,
    )];
    if let Some(n) = &nginx {
        fast.push(PathRun::new(
            "nginx `proxy_pass`",
            Who::Nginx,
            n.addr,
            vec![chat.clone()],
            cfg.rate,
        ));
    }
    fast.push(PathRun::new(
        "service pass-through",
        Who::Service("PassThrough"),
        service.addr,
        vec![chat.clone()],
        cfg.rate,
    ));
    fast.push(PathRun::new(
        "service ChatCompletion action",
        Who::Service("ChatCompletion"),
        service.addr,
        vec![action.clone()],
        cfg.rate,
    ));
    let mut slow = vec![
        PathRun::new(
            "direct `GET /models` (300 models, 314 KB)",
            Who::Direct,
            sim.addr,
            vec![models],
            cfg.models_rate,
        ),
        PathRun::new(
            "service ListModels (300 models)",
            Who::Service("ListModels"),
            service.addr,
            vec![list_models],
            cfg.models_rate,
        ),
    ];
    let per_round = cfg.secs / cfg.rounds as f64;
    for round in 0..cfg.rounds {
        for group in [&mut fast, &mut slow] {
            let n = group.len();
            for k in 0..n {
                let path = &mut group[(k + round) % n];
                progress(&format!(
                    "round {}/{}: {} at {} req/s",
                    round + 1,
                    cfg.rounds,
                    path.name,
                    path.rate
                ));
                let plan = cfg.plan(path.rate, per_round);
                measure(path, plan, &service, nginx.as_ref(), &ours).await;
            }
        }
    }

    // --- Refusals: one key at the same rate; all but the burst and one call per 600 ms get 429.
    let one_key = template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(false)),
        Keys::One("sk-or-v1-load-one-key".to_owned()),
    );
    let mut refused = PathRun::new(
        "service pass-through, **one key** (429s)",
        Who::Service("PassThrough"),
        service.addr,
        vec![one_key],
        cfg.rate,
    );
    progress("one key: refusals");
    measure(
        &mut refused,
        cfg.plan(cfg.rate, (cfg.secs / 2.0).max(1.0)),
        &service,
        nginx.as_ref(),
        &ours,
    )
    .await;

    // --- Streaming: time to first byte, direct vs through the pass-through.
    let stream = template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(true)),
        Keys::Pool,
    );
    let mut streams = [
        PathRun::new(
            "direct (simulator)",
            Who::Direct,
            sim.addr,
            vec![stream.clone()],
            cfg.stream_rate,
        ),
        PathRun::new(
            "service pass-through",
            Who::Service("PassThrough"),
            service.addr,
            vec![stream],
            cfg.stream_rate,
        ),
    ];
    for round in 0..cfg.rounds {
        for k in 0..streams.len() {
            let path = &mut streams[(k + round) % 2];
            progress(&format!(
                "round {}/{}: streaming via {}",
                round + 1,
                cfg.rounds,
                path.name
            ));
            measure(
                path,
                cfg.plan(path.rate, per_round),
                &service,
                nginx.as_ref(),
                &ours,
            )
            .await;
        }
    }

    // --- Peak throughput: closed loop, limits out of the way.
    let unlimited = start_service(
        &dir,
        "service-unlimited",
        sim.addr,
        60_000_000,
        1_000_000,
        Some(cfg.workers),
    )
    .await?;
    let one = Keys::One("sk-or-v1-load-peak".to_owned());
    let peak_chat = template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(false)),
        one,
    );
    let mut peak_targets: Vec<PeakRun> = vec![PeakRun::new("direct (simulator)", sim.addr)];
    if let Some(n) = &nginx {
        peak_targets.push(PeakRun::new("nginx `proxy_pass`", n.addr));
    }
    peak_targets.push(PeakRun::new("service pass-through", unlimited.addr));
    let mut peak_pids = ours.clone();
    peak_pids.push(unlimited.pid());
    procs::reset_peak(unlimited.pid());
    let unlimited_sampler = RssSampler::start(unlimited.pid());
    for round in 0..cfg.rounds {
        let n = peak_targets.len();
        for k in 0..n {
            let target = &mut peak_targets[(k + round) % n];
            progress(&format!(
                "round {}/{}: peak throughput of {}",
                round + 1,
                cfg.rounds,
                target.name
            ));
            let cpu = procs::CpuWatch::start(peak_pids.clone());
            let peak = generator::closed_loop(
                target.addr,
                &peak_chat,
                cfg.peak_connections,
                Duration::from_secs_f64(cfg.warmup.min(0.5)),
                Duration::from_secs_f64(cfg.peak_secs),
            )
            .await;
            target.other_cpu.add(cpu.finish());
            target.results.push(peak);
        }
    }
    let unlimited_peak = unlimited_sampler
        .stop()
        .max(procs::peak_kib(unlimited.pid()).unwrap_or(0));
    drop(unlimited);

    // --- Soak: pass-through and ChatCompletion alternating, many keys, RSS every second.
    let mut soak_cpu = procs::OtherCpu::default();
    let soak = if cfg.soak_secs > 0.0 {
        progress(&format!("soak: {} s at {} req/s", cfg.soak_secs, cfg.rate));
        let sampler = RssSampler::every(service.pid(), Duration::from_secs(1));
        let plan = Plan {
            warmup: Duration::ZERO,
            ..cfg.plan(cfg.rate, cfg.soak_secs)
        };
        let soak_templates = vec![chat.clone(), action.clone()];
        let cpu = procs::CpuWatch::start(ours.clone());
        let samples = generator::open_loop(service.addr, &soak_templates, plan).await;
        soak_cpu.add(cpu.finish());
        Some((samples, sampler.timeline()))
    } else {
        None
    };
    let end_rss = procs::rss_kib(service.pid()).unwrap_or(0);

    // --- The limiter's own cost, from its benchmark.
    progress("limiter benchmark");
    let limiter = limiter_rows(cfg.quick);

    // --- Report.
    let load_after = load_average();
    let _ = writeln!(
        out,
        "\n## Load benchmark ({})\n",
        if cfg.quick {
            "smoke mode: numbers are not meaningful"
        } else {
            "full mode"
        }
    );
    let _ = writeln!(out, "- date: {}; machine: {}", today(), machine());
    let _ = writeln!(
        out,
        "- load average before/after: {load_before} / {load_after} (other work on the machine skews every number)"
    );
    let _ = writeln!(
        out,
        "- cores: not pinned; the generator (one tokio thread + a timer thread), the simulator (1 tokio worker), nginx (1 worker) and the service (`WORKERS={}`) share the {} cores; {}",
        cfg.workers,
        std::thread::available_parallelism().map_or(0, usize::from),
        match nice {
            Some(0) => "normal priority (`LOAD_BENCH_NICE=0`)".to_owned(),
            Some(n) => format!("all of them at nice {n}, ahead of other work on the machine"),
            None => "normal priority (renice was refused)".to_owned(),
        }
    );
    let _ = writeln!(
        out,
        "- open loop: {} req/s ({} req/s for `/models`), {:.1} s per path after {:.1} s warm-up, {} interleaved round(s) in rotating order, samples pooled; latency from each request's scheduled start; at most 512 in flight (more are dropped); {} distinct keys round robin",
        cfg.rate,
        cfg.models_rate,
        cfg.secs,
        cfg.warmup,
        cfg.rounds,
        generator::KEY_POOL
    );
    if nginx.is_none() {
        let _ = writeln!(
            out,
            "- nginx: not found (or `LOAD_BENCH_NGINX=none`), so its rows and the targets relative to it were skipped"
        );
    }
    let mut others = soak_cpu;
    for path in fast
        .iter()
        .chain(slow.iter())
        .chain(std::iter::once(&refused))
        .chain(streams.iter())
    {
        others.add(path.other_cpu);
    }
    for target in &peak_targets {
        others.add(target.other_cpu);
    }
    let _ = writeln!(
        out,
        "- CPU used by processes outside the benchmark while it measured: {:.2} cores on average (hypervisor steal {:.2}); per path in the *others' CPU* columns",
        others.cores(),
        others.steal_cores()
    );
    let _ = writeln!(
        out,
        "- *added* = the path's percentile minus the direct path's percentile in the same run\n"
    );

    report_latency(&mut out, &fast, &slow, &refused);
    report_streaming(&mut out, &streams);
    report_peak(&mut out, &peak_targets, &cfg);
    report_memory(
        &mut out,
        MemoryReport {
            idle: service.idle_rss_kib,
            idle_default_workers,
            under_load: fast
                .iter()
                .chain(slow.iter())
                .chain(std::iter::once(&refused))
                .chain(streams.iter())
                .filter(|p| matches!(p.who, Who::Service(_)))
                .map(|p| p.peak_kib)
                .max()
                .unwrap_or(0),
            at_peak: unlimited_peak,
            nginx: fast
                .iter()
                .find(|p| p.who == Who::Nginx)
                .map(|p| p.peak_kib),
            end: end_rss,
            workers: cfg.workers,
        },
        soak.as_ref(),
        cfg.rate,
    );
    report_time(&mut out, &fast, &slow, &refused);
    let mut lag: Vec<u64> = fast
        .iter()
        .chain(slow.iter())
        .flat_map(|p| p.samples.lag.iter().copied())
        .collect();
    let [lag50, lag99, _] = quantiles(&mut lag);
    let reconnects: u64 = fast
        .iter()
        .chain(slow.iter())
        .map(|p| p.samples.reconnects)
        .sum();
    let _ = writeln!(
        out,
        "Generator: requests were written {} (p50) / {} (p99) after their scheduled time (timer slack 1 ns: {}); this is in every path's latency, direct included. {} stale keep-alive connections replaced.\n",
        us(lag50),
        us(lag99),
        if slack { "yes" } else { "no, default 50 µs" },
        reconnects
    );
    let _ = writeln!(
        out,
        "### Limiter (`cargo bench --bench limiter`, run as a subprocess)\n"
    );
    let _ = writeln!(out, "{limiter}");
    let _ = writeln!(
        out,
        "Whole benchmark: {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    println!("{out}");
    drop(nginx);
    drop(service);
    drop(sim);

    // Numbers are never asserted, but a path that stopped working fails the run, so the smoke
    // mode in CI notices a broken harness or a route that changed.
    let mut broken = Vec::new();
    for path in fast.iter().chain(slow.iter()).chain(streams.iter()) {
        let s = &path.samples;
        if s.answered() == 0 || s.error_count() > 0 || s.unexpected(&[200]) > 0 {
            broken.push(format!("{}: {}", path.name, answers_or_errors(s)));
        }
    }
    let r = &refused.samples;
    if r.latency.get(&429).is_none_or(Vec::is_empty)
        || r.error_count() > 0
        || r.unexpected(&[200, 429]) > 0
    {
        broken.push(format!("{}: {}", refused.name, answers_or_errors(r)));
    }
    for target in &peak_targets {
        if target.results.iter().all(|p| p.answered == 0) {
            broken.push(format!("{}: no answer in the peak runs", target.name));
        }
    }
    if let Some((samples, _)) = &soak
        && (samples.error_count() > 0 || samples.unexpected(&[200]) > 0)
    {
        broken.push(format!("soak: {}", answers_or_errors(samples)));
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "paths that did not work:\n  {}",
            broken.join("\n  ")
        ))
    }
}

fn answers_or_errors(samples: &Samples) -> String {
    let mut parts = vec![answers_text(samples)];
    parts.extend(samples.errors.iter().map(|(kind, n)| format!("{n} {kind}")));
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        "no answer".to_owned()
    } else {
        parts.join(", ")
    }
}

fn report_latency(out: &mut String, fast: &[PathRun], slow: &[PathRun], refused: &PathRun) {
    let _ = writeln!(
        out,
        "### Latency at a constant rate (200 answers; the one-key row: 429 answers)\n"
    );
    let _ = writeln!(
        out,
        "| path | offered req/s | achieved req/s | p50 | p99 | p99.9 | added p50 | added p99 | answers | errors / drops | peak RSS | p50 by round | others' CPU | target | met? |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let direct_q = direct_quantiles(fast);
    let nginx_added = fast.iter().find(|p| p.who == Who::Nginx).map(|p| {
        let q = ok_quantiles(&p.samples, 200);
        (added(q[0], direct_q[0]), added(q[1], direct_q[1]))
    });
    for path in fast {
        let q = ok_quantiles(&path.samples, 200);
        let add = (added(q[0], direct_q[0]), added(q[1], direct_q[1]));
        let (target, ok) = match path.who {
            Who::Service("PassThrough") => match nginx_added {
                Some((Some(n50), Some(n99))) => {
                    let (t50, t99) = (n50 as f64 * 1.5, n99 as f64 * 1.5);
                    let ok = add.0.is_some_and(|a| a as f64 <= t50)
                        && add.1.is_some_and(|a| a as f64 <= t99);
                    (
                        format!(
                            "added ≤ 1.5× nginx's: p50 ≤ {}, p99 ≤ {}",
                            signed_us(t50 as i64, false),
                            signed_us(t99 as i64, false)
                        ),
                        met(ok).to_owned(),
                    )
                }
                _ => (
                    "added ≤ 1.5× nginx's (nginx not measured)".to_owned(),
                    "—".to_owned(),
                ),
            },
            Who::Service("ChatCompletion") => {
                let ok =
                    add.0.is_some_and(|a| a <= 150_000) && add.1.is_some_and(|a| a <= 1_000_000);
                (
                    "added p50 ≤ 150 µs, p99 ≤ 1 ms".to_owned(),
                    met(ok).to_owned(),
                )
            }
            _ => (String::new(), String::new()),
        };
        row(out, path, q, add, &target, &ok, 200);
    }
    let base = slow
        .iter()
        .find(|p| p.who == Who::Direct)
        .map(|p| ok_quantiles(&p.samples, 200));
    for path in slow {
        let q = ok_quantiles(&path.samples, 200);
        let add = match (path.who, base) {
            (Who::Service(_), Some(b)) => (added(q[0], b[0]), added(q[1], b[1])),
            _ => (None, None),
        };
        row(out, path, q, add, "", "", 200);
    }
    let q = ok_quantiles(&refused.samples, 429);
    row(out, refused, q, (None, None), "", "", 429);
    out.push('\n');
}

fn direct_quantiles(paths: &[PathRun]) -> [Option<u64>; 3] {
    paths
        .iter()
        .find(|p| p.who == Who::Direct)
        .map_or([None; 3], |p| ok_quantiles(&p.samples, 200))
}

fn ok_quantiles(samples: &Samples, status: u16) -> [Option<u64>; 3] {
    let mut values = samples.latency.get(&status).cloned().unwrap_or_default();
    quantiles(&mut values)
}

fn answers_text(samples: &Samples) -> String {
    samples
        .latency
        .iter()
        .map(|(status, v)| format!("{}×{status}", v.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn errors_text(samples: &Samples, expected: &[u16]) -> String {
    let unexpected = samples.unexpected(expected);
    let mut text = format!("{} / {}", samples.error_count() + unexpected, samples.drops);
    if samples.error_count() > 0 {
        let kinds: Vec<String> = samples
            .errors
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = write!(text, " ({})", kinds.join(", "));
    }
    text
}

fn row(
    out: &mut String,
    path: &PathRun,
    q: [Option<u64>; 3],
    add: (Option<i64>, Option<i64>),
    target: &str,
    ok: &str,
    status: u16,
) {
    let expected: &[u16] = if status == 429 { &[200, 429] } else { &[200] };
    let rounds: Vec<String> = path.round_p50.iter().map(|p| us(*p)).collect();
    let rounds = if status == 429 {
        "—".to_owned()
    } else {
        rounds.join(", ")
    };
    let (add50, add99) = if path.who == Who::Direct {
        ("baseline".to_owned(), "baseline".to_owned())
    } else {
        (added_text(add.0), added_text(add.1))
    };
    let _ = writeln!(
        out,
        "| {} | {:.0} | {:.0} | {} | {} | {} | {add50} | {add99} | {} | {} | {} | {} | {:.2} | {} | {} |",
        path.name,
        path.rate,
        path.samples.achieved(),
        us(q[0]),
        us(q[1]),
        us(q[2]),
        answers_text(&path.samples),
        errors_text(&path.samples, expected),
        if path.who == Who::Direct {
            "—".to_owned()
        } else {
            mib(path.peak_kib)
        },
        rounds,
        path.other_cpu.cores(),
        target,
        ok
    );
}

fn report_streaming(out: &mut String, streams: &[PathRun]) {
    let _ = writeln!(
        out,
        "### Streaming (`stream: true`, 18 SSE chunks 5 ms apart): time to first body byte\n"
    );
    let _ = writeln!(
        out,
        "| path | streams/s | TTFB p50 | TTFB p99 | added p50 | added p99 | last byte p50 | added p50 (last byte) | errors / drops |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    let mut firsts = Vec::new();
    for path in streams {
        let mut first = path.samples.first_byte.clone();
        let f = quantiles(&mut first);
        let last = ok_quantiles(&path.samples, 200);
        firsts.push((f, last));
    }
    let (base_first, base_last) = firsts.first().copied().unwrap_or(([None; 3], [None; 3]));
    for (path, (f, last)) in streams.iter().zip(firsts) {
        let direct = path.who == Who::Direct;
        let show = |v: Option<i64>| {
            if direct {
                "—".to_owned()
            } else {
                added_text(v)
            }
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            path.name,
            path.rate,
            us(f[0]),
            us(f[1]),
            show(added(f[0], base_first[0])),
            show(added(f[1], base_first[1])),
            us(last[0]),
            show(added(last[0], base_last[0])),
            errors_text(&path.samples, &[200])
        );
    }
    out.push('\n');
}

/// One path of the peak-throughput table.
struct PeakRun {
    name: &'static str,
    addr: SocketAddr,
    results: Vec<Peak>,
    other_cpu: procs::OtherCpu,
}

impl PeakRun {
    fn new(name: &'static str, addr: SocketAddr) -> PeakRun {
        PeakRun {
            name,
            addr,
            results: Vec::new(),
            other_cpu: procs::OtherCpu::default(),
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn report_peak(out: &mut String, targets: &[PeakRun], cfg: &Config) {
    let _ = writeln!(
        out,
        "### Peak throughput (closed loop, {} connections, {} s per round, median of rounds)\n",
        cfg.peak_connections, cfg.peak_secs
    );
    let _ = writeln!(
        out,
        "| path | req/s | rounds | errors | others' CPU | ratio to nginx | target | met? |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    let nginx = targets
        .iter()
        .find(|t| t.name.starts_with("nginx"))
        .map(|t| median(t.results.iter().map(Peak::rate).collect()));
    for PeakRun {
        name,
        results,
        other_cpu,
        ..
    } in targets
    {
        let rate = median(results.iter().map(Peak::rate).collect());
        let rounds: Vec<String> = results.iter().map(|p| format!("{:.0}", p.rate())).collect();
        let errors: u64 = results.iter().map(|p| p.errors).sum();
        let ratio = nginx.filter(|n| *n > 0.0).map(|n| rate / n);
        let (target, ok) = if name.starts_with("service") {
            match ratio {
                Some(r) => ("≥ 70% of nginx", met(r >= 0.70)),
                None => ("≥ 70% of nginx (nginx not measured)", "—"),
            }
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "| {name} | {rate:.0} | {} | {errors} | {:.2} | {} | {target} | {ok} |",
            rounds.join(", "),
            other_cpu.cores(),
            ratio.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0))
        );
    }
    out.push('\n');
}

struct MemoryReport {
    idle: u64,
    idle_default_workers: u64,
    under_load: u64,
    at_peak: u64,
    nginx: Option<u64>,
    end: u64,
    workers: usize,
}

fn report_memory(
    out: &mut String,
    m: MemoryReport,
    soak: Option<&(Samples, Vec<(f64, u64)>)>,
    rate: f64,
) {
    let _ = writeln!(out, "### Memory of the service (RSS)\n");
    let _ = writeln!(out, "| measure | value | target | met? |");
    let _ = writeln!(out, "|---|---|---|---|");
    let _ = writeln!(
        out,
        "| idle, 1 s after start (`WORKERS={}`) | {} | ≤ 20 MiB | {} |",
        m.workers,
        mib(m.idle),
        met(m.idle > 0 && m.idle <= 20 * MIB)
    );
    let _ = writeln!(
        out,
        "| idle, 1 s after start (default `WORKERS`: one per core) | {} | ≤ 20 MiB | {} |",
        mib(m.idle_default_workers),
        met(m.idle_default_workers > 0 && m.idle_default_workers <= 20 * MIB)
    );
    let _ = writeln!(
        out,
        "| peak under the constant-rate runs (all service rows) | {} | ≤ 64 MiB | {} |",
        mib(m.under_load),
        met(m.under_load > 0 && m.under_load <= 64 * MIB)
    );
    let _ = writeln!(
        out,
        "| peak during the closed-loop peak runs | {} | ≤ 64 MiB | {} |",
        mib(m.at_peak),
        met(m.at_peak > 0 && m.at_peak <= 64 * MIB)
    );
    if let Some(nginx) = m.nginx {
        let _ = writeln!(
            out,
            "| for comparison: nginx's worker, peak at the same rate | {} | | |",
            mib(nginx)
        );
    }
    if let Some((samples, timeline)) = soak {
        let seconds = timeline.last().map_or(0.0, |(t, _)| *t);
        let first_fifth: Vec<u64> = timeline
            .iter()
            .filter(|(t, _)| *t <= seconds / 5.0)
            .map(|(_, kib)| *kib)
            .collect();
        let settled = first_fifth.iter().copied().max().unwrap_or(0);
        let end = timeline.last().map_or(m.end, |(_, kib)| *kib);
        let peak = timeline.iter().map(|(_, kib)| *kib).max().unwrap_or(0);
        let growth = end as i64 - settled as i64;
        let marks: Vec<String> = (0..=5)
            .filter_map(|i| {
                let at = seconds * f64::from(i) / 5.0;
                timeline
                    .iter()
                    .min_by(|a, b| (a.0 - at).abs().total_cmp(&(b.0 - at).abs()))
                    .map(|(t, kib)| format!("{t:.0} s: {}", mib(*kib)))
            })
            .collect();
        let mut soak_ok = samples.latency.get(&200).cloned().unwrap_or_default();
        let q = quantiles(&mut soak_ok);
        let _ = writeln!(
            out,
            "| soak: {seconds:.0} s at {rate:.0} req/s (pass-through and ChatCompletion alternating, {} answers, {} errors, {} drops; p50 {}, p99 {}) | {} | | |",
            samples.answered(),
            samples.error_count() + samples.unexpected(&[200]),
            samples.drops,
            us(q[0]),
            us(q[1]),
            marks.join("; ")
        );
        let _ = writeln!(
            out,
            "| soak: growth from the largest RSS in its first fifth to its end (peak {}) | {:+.1} MiB | no growth (≤ 2 MiB) | {} |",
            mib(peak),
            growth as f64 / 1024.0,
            met(growth <= 2 * MIB as i64)
        );
    } else {
        let _ = writeln!(
            out,
            "| soak | not run (`LOAD_BENCH_SOAK_SECS=0`) | no growth | — |"
        );
    }
    out.push('\n');
}

fn report_time(out: &mut String, fast: &[PathRun], slow: &[PathRun], refused: &PathRun) {
    let _ = writeln!(
        out,
        "### Where the service's time goes (its own `/metrics`, and its log)\n"
    );
    let _ = writeln!(
        out,
        "| path | mean time in the service per call | mean time outside upstream calls, of the calls that went upstream | log bytes per call |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for path in fast
        .iter()
        .chain(slow.iter())
        .chain(std::iter::once(refused))
    {
        if !matches!(path.who, Who::Service(_)) {
            continue;
        }
        let m = path.metrics;
        let mean = |sum: f64, count: f64| {
            if count > 0.0 {
                signed_us((sum / count * 1e9) as i64, false)
            } else {
                "—".to_owned()
            }
        };
        let calls = path.samples.answered() + path.samples.drops;
        let per_call = if m.count > 0.0 {
            format!("{:.0}", path.log_bytes as f64 / m.count)
        } else {
            format!("{:.0}", path.log_bytes as f64 / calls.max(1) as f64)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {per_call} |",
            path.name,
            mean(m.duration_sum, m.count),
            mean(m.overhead_sum, m.overhead_count)
        );
    }
    out.push('\n');
}

/// Runs the limiter benchmark's binary (`LOAD_BENCH_LIMITER_BIN`, which `.ci/bench-load`
/// sets) or else `cargo bench --bench limiter`, and returns its table.
fn limiter_rows(quick: bool) -> String {
    let mut command = match std::env::var_os("LOAD_BENCH_LIMITER_BIN") {
        Some(bin) => Command::new(bin),
        None => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut c = Command::new(cargo);
            c.args(["bench", "--quiet", "--bench", "limiter"]);
            c.current_dir(env!("CARGO_MANIFEST_DIR"));
            c
        }
    };
    if quick {
        command.env("LIMITER_BENCH_QUICK", "1");
    }
    match command.stderr(Stdio::null()).output() {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
            if rows.is_empty() {
                "(the limiter benchmark printed no table)\n".to_owned()
            } else {
                rows.join("\n") + "\n"
            }
        }
        Ok(output) => format!("(the limiter benchmark failed: {})\n", output.status),
        Err(e) => format!("(the limiter benchmark could not run: {e})\n"),
    }
}
