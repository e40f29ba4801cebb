//! The report printed on stdout: what the run measured (`Results`), the header that says on
//! what machine and how, each table in turn, the generator's own lag, and the limiter's table.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use crate::config::Config;
use crate::connections::{self, Many};
use crate::generator;
use crate::latency::{self, Latency};
use crate::memory::{self, MemoryReport, Soak};
use crate::metrics;
use crate::paths::{PathRun, Who};
use crate::peak::{self, Throughput};
use crate::procs::OtherCpu;
use crate::servers::{self, Lab};
use crate::stats::{quantiles, us};
use crate::streaming;
use crate::targets;

/// Everything the run measured.
pub struct Results {
    pub latency: Latency,
    /// The pass-through with one key: its 429s.
    pub refused: PathRun,
    pub streams: Vec<PathRun>,
    pub throughput: Throughput,
    /// The many-connection memory runs.
    pub many: Many,
    pub soak: Option<Soak>,
    /// The service's RSS after the soak, in KiB.
    pub end_rss: u64,
    /// The limiter benchmark's table.
    pub limiter: String,
}

impl Results {
    /// Every constant-rate path: the latency table's, the one-key row, the streaming ones.
    fn constant_rate(&self) -> impl Iterator<Item = &PathRun> {
        self.latency
            .fast
            .iter()
            .chain(&self.latency.slow)
            .chain(std::iter::once(&self.refused))
            .chain(&self.streams)
    }

    /// CPU used outside the benchmark during every measurement.
    fn others_cpu(&self) -> OtherCpu {
        let mut others = self.soak.as_ref().map(|s| s.other_cpu).unwrap_or_default();
        for path in self.constant_rate() {
            others.add(path.other_cpu);
        }
        if let Throughput::Measured(m) = &self.throughput {
            for path in &m.paths {
                others.add(path.other_cpu);
            }
        }
        others
    }
}

/// How the run went, besides what it measured.
pub struct RunInfo {
    pub started: Instant,
    /// The load average before the run.
    pub load_before: String,
    /// Whether the timer slack is 1 ns.
    pub slack: bool,
    /// The nice value in force, if renice worked.
    pub nice: Option<i32>,
}

/// The whole report, markdown.
pub fn write(cfg: &Config, lab: &Lab, results: &Results, info: &RunInfo) -> String {
    let mut out = String::new();
    write_header(&mut out, cfg, lab, results, info);
    latency::report(&mut out, &results.latency, &results.refused);
    streaming::report(&mut out, &results.streams);
    peak::report(&mut out, &results.throughput, cfg);
    connections::report(&mut out, &results.many, cfg);
    memory::report(
        &mut out,
        memory_figures(cfg, lab, results),
        results.soak.as_ref(),
        cfg.rate,
    );
    let Latency { fast, slow } = &results.latency;
    metrics::report(
        &mut out,
        fast.iter()
            .chain(slow)
            .chain(std::iter::once(&results.refused)),
    );
    write_generator(&mut out, &results.latency, info.slack);
    let _ = writeln!(
        out,
        "### Limiter (`cargo bench --bench limiter`, run as a subprocess)\n"
    );
    let _ = writeln!(out, "{}", results.limiter);
    let mut all = peak::targets(&results.throughput);
    all.push(latency::list_models_target(&results.latency));
    all.extend(connections::targets(&results.many, cfg));
    all.push(streaming::ttfb_target(&results.streams));
    let context = format!(
        "{}, {}; load average before the run {} ({} mode).",
        today(),
        machine(),
        info.load_before,
        if cfg.quick { "smoke" } else { "full" }
    );
    targets::report(&mut out, &all, &context);
    let _ = writeln!(
        out,
        "Whole benchmark: {:.0} s.",
        info.started.elapsed().as_secs_f64()
    );
    out
}

fn write_header(out: &mut String, cfg: &Config, lab: &Lab, results: &Results, info: &RunInfo) {
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
        "- load average before/after: {} / {load_after} (other work on the machine skews every number)",
        info.load_before
    );
    let _ = writeln!(
        out,
        "- cores: not pinned; in the latency tables the generator (one tokio thread + a timer thread), the simulator (1 tokio worker), nginx (1 worker) and the service (`WORKERS={}`), in the throughput and many-connection tables wrk, the canned nginx and the proxy under test, share the {} cores; {}",
        cfg.workers,
        std::thread::available_parallelism().map_or(0, usize::from),
        match info.nice {
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
    let _ = writeln!(
        out,
        "- simulator: {} models (`GET /models` {:.0} KB), SSE chunks 5 ms apart; throughput and many-connection runs: a canned upstream (nginx `return 200` with the simulator's own answer)",
        servers::MODELS,
        lab.models_bytes as f64 / 1000.0
    );
    if lab.nginx.is_none() {
        let _ = writeln!(
            out,
            "- nginx: not found (or `LOAD_BENCH_NGINX=none`), so its rows and the targets relative to it were skipped"
        );
    }
    let others = results.others_cpu();
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
}

/// The memory table's figures from the lab and the runs.
fn memory_figures(cfg: &Config, lab: &Lab, results: &Results) -> MemoryReport {
    MemoryReport {
        idle: lab.service.idle_rss_kib,
        under_load: results
            .constant_rate()
            .filter(|p| matches!(p.who, Who::Service(_)))
            .map(|p| p.peak_kib)
            .max()
            .unwrap_or(0),
        at_peak: match &results.throughput {
            Throughput::Measured(m) => m.service_kib,
            Throughput::Skipped(_) => 0,
        },
        nginx: results
            .latency
            .fast
            .iter()
            .find(|p| p.who == Who::Nginx)
            .map(|p| p.peak_kib),
        end: results.end_rss,
        workers: cfg.workers,
    }
}

/// How late the generator wrote its requests, and the keep-alive connections it replaced.
fn write_generator(out: &mut String, latency: &Latency, slack: bool) {
    let Latency { fast, slow } = latency;
    let mut lag: Vec<u64> = fast
        .iter()
        .chain(slow)
        .flat_map(|p| p.samples.lag.iter().copied())
        .collect();
    let [lag50, lag99, _] = quantiles(&mut lag);
    let reconnects: u64 = fast.iter().chain(slow).map(|p| p.samples.reconnects).sum();
    let _ = writeln!(
        out,
        "Generator: requests were written {} (p50) / {} (p99) after their scheduled time (timer slack 1 ns: {}); this is in every path's latency, direct included. {} stale keep-alive connections replaced.\n",
        us(lag50),
        us(lag99),
        if slack { "yes" } else { "no, default 50 µs" },
        reconnects
    );
}

/// The machine in one line: cores, CPU model, memory, kernel.
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

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
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
