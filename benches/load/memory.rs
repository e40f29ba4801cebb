//! The service's memory: an RSS sampler thread, the soak (a long run at the main rate with RSS
//! every second, to see growth), and the memory table against its targets.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::generator::{self, Keys, Plan, Samples};
use crate::procs;
use crate::progress;
use crate::requests;
use crate::servers::Lab;
use crate::stats::{MIB, met, mib, quantiles, us};

/// Samples a process's RSS (or the sum of several processes') every 50 ms on its own thread.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<(f64, u64)>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        RssSampler::every(pid, Duration::from_millis(50))
    }

    pub fn every(pid: u32, period: Duration) -> RssSampler {
        RssSampler::sum_every(vec![pid], period)
    }

    /// The sum of `pids`' RSS every 50 ms (nginx's master and workers).
    pub fn start_sum(pids: Vec<u32>) -> RssSampler {
        RssSampler::sum_every(pids, Duration::from_millis(50))
    }

    fn sum_every(pids: Vec<u32>, period: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                let kib: Option<u64> = pids.iter().map(|pid| procs::rss_kib(*pid)).sum();
                if let Some(kib) = kib {
                    samples.push((started.elapsed().as_secs_f64(), kib));
                }
                std::thread::sleep(period);
            }
            samples
        });
        RssSampler { stop, handle }
    }

    /// Every sample taken: seconds since the start, and RSS in KiB.
    pub fn timeline(self) -> Vec<(f64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or_default()
    }

    /// The largest RSS seen, in KiB.
    pub fn stop(self) -> u64 {
        self.timeline()
            .iter()
            .map(|(_, kib)| *kib)
            .max()
            .unwrap_or(0)
    }
}

/// What the soak recorded.
pub struct Soak {
    pub samples: Samples,
    /// The service's RSS every second: seconds since the start, KiB.
    pub timeline: Vec<(f64, u64)>,
    pub other_cpu: procs::OtherCpu,
}

/// Pass-through and ChatCompletion alternating, many keys, at the main rate for
/// `LOAD_BENCH_SOAK_SECS` (none when 0), with the service's RSS every second.
pub async fn soak(cfg: &Config, lab: &Lab) -> Option<Soak> {
    if cfg.soak_secs > 0.0 {
        Some(run_soak(cfg, lab).await)
    } else {
        None
    }
}

async fn run_soak(cfg: &Config, lab: &Lab) -> Soak {
    progress(&format!("soak: {} s at {} req/s", cfg.soak_secs, cfg.rate));
    let sampler = RssSampler::every(lab.service.pid(), Duration::from_secs(1));
    let plan = Plan {
        warmup: Duration::ZERO,
        ..cfg.plan(cfg.rate, cfg.soak_secs)
    };
    let templates = vec![requests::chat(Keys::Pool), requests::action(Keys::Pool)];
    let cpu = procs::CpuWatch::start(lab.ours.clone());
    let samples = generator::open_loop(lab.service.addr, &templates, plan).await;
    let other_cpu = cpu.finish();
    Soak {
        samples,
        timeline: sampler.timeline(),
        other_cpu,
    }
}

/// The memory table's figures, in KiB (0 when unknown; `at_peak` 0: no throughput runs).
pub struct MemoryReport {
    pub idle: u64,
    pub under_load: u64,
    pub at_peak: u64,
    pub nginx: Option<u64>,
    pub end: u64,
    pub workers: usize,
}

/// The memory table: idle, under the constant-rate runs, during the throughput runs, and the
/// soak's growth. (Idle with the default settings and 2,000 connections: `connections`.)
pub fn report(out: &mut String, m: MemoryReport, soak: Option<&Soak>, rate: f64) {
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
        "| peak under the constant-rate runs (all service rows) | {} | ≤ 64 MiB | {} |",
        mib(m.under_load),
        met(m.under_load > 0 && m.under_load <= 64 * MIB)
    );
    if m.at_peak > 0 {
        let _ = writeln!(
            out,
            "| peak during the wrk throughput runs (their instance: default `WORKERS`, `RUST_LOG=warn`) | {} | ≤ 64 MiB | {} |",
            mib(m.at_peak),
            met(m.at_peak <= 64 * MIB)
        );
    }
    if let Some(nginx) = m.nginx {
        let _ = writeln!(
            out,
            "| for comparison: nginx's worker, peak at the same rate | {} | | |",
            mib(nginx)
        );
    }
    match soak {
        Some(soak) => report_soak(out, soak, m.end, rate),
        None => {
            let _ = writeln!(
                out,
                "| soak | not run (`LOAD_BENCH_SOAK_SECS=0`) | no growth | — |"
            );
        }
    }
    out.push('\n');
}

/// The soak's two rows: RSS at each fifth with the soak's answers, and the growth.
fn report_soak(out: &mut String, soak: &Soak, end_rss: u64, rate: f64) {
    let Soak {
        samples, timeline, ..
    } = soak;
    let seconds = timeline.last().map_or(0.0, |(t, _)| *t);
    let first_fifth: Vec<u64> = timeline
        .iter()
        .filter(|(t, _)| *t <= seconds / 5.0)
        .map(|(_, kib)| *kib)
        .collect();
    let settled = first_fifth.iter().copied().max().unwrap_or(0);
    let end = timeline.last().map_or(end_rss, |(_, kib)| *kib);
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
}
