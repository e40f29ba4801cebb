//! The throughput table: wrk's closed loop (`-t1 -c16` by default, one key) against the canned
//! upstream directly, through nginx `proxy_pass`, and through the service's pass-through and
//! Chat Completion action, in interleaved rounds. The direct rate is the generator's ceiling:
//! a proxy's rate says something about the proxy only while it stays well below that.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::generator::{self, Keys, Template};
use crate::memory::RssSampler;
use crate::procs;
use crate::progress;
use crate::requests;
use crate::servers::{self, Lab, ServiceSpec};
use crate::stats::{median, met};
use crate::targets::Target;
use crate::wrk::{self, WrkRun};

/// The one key every throughput request carries.
pub const KEY: &str = "sk-or-v1-load-peak";

/// Which path a row is, for the ratios and the targets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Direct,
    Nginx,
    PassThrough,
    Action,
}

/// One path of the throughput table.
pub struct PeakRun {
    pub name: &'static str,
    pub kind: Kind,
    addr: SocketAddr,
    /// The request, for the warm-up; wrk sends the same from `script`.
    template: Template,
    script: PathBuf,
    pub runs: Vec<WrkRun>,
    pub other_cpu: procs::OtherCpu,
    /// Where the CPU went during its wrk runs.
    pub split: CpuSplit,
}

/// CPU ticks (1/100 s) of wrk, of the canned upstream and of the proxy under test during a
/// path's wrk runs, and the runs' seconds: what limits the path.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuSplit {
    pub wrk: u64,
    pub upstream: u64,
    pub proxy: u64,
    pub seconds: f64,
}

impl CpuSplit {
    fn cores(&self, ticks: u64) -> f64 {
        if self.seconds > 0.0 {
            ticks as f64 / 100.0 / self.seconds
        } else {
            0.0
        }
    }

    /// "wrk / canned / proxy" in cores, the proxy "—" for the direct path.
    fn text(&self, direct: bool) -> String {
        let proxy = if direct {
            "—".to_owned()
        } else {
            format!("{:.2}", self.cores(self.proxy))
        };
        format!(
            "{:.2} / {:.2} / {proxy}",
            self.cores(self.wrk),
            self.cores(self.upstream)
        )
    }

    /// "canned / proxy" CPU time per answered request, in µs: unlike a rate, hardly changed by
    /// how much CPU other work on the machine took.
    fn per_request(&self, requests: u64, direct: bool) -> String {
        let us = |ticks: u64| {
            if requests > 0 {
                format!("{:.1}", ticks as f64 * 10_000.0 / requests as f64)
            } else {
                "—".to_owned()
            }
        };
        let proxy = if direct {
            "—".to_owned()
        } else {
            us(self.proxy)
        };
        format!("{} / {proxy}", us(self.upstream))
    }
}

impl PeakRun {
    /// The median of the rounds' rates (a failed round counts as 0).
    pub fn median(&self) -> f64 {
        median(self.runs.iter().map(|r| r.rate).collect())
    }

    fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.template.path)
    }
}

/// What the throughput table measured.
pub struct Measured {
    pub paths: Vec<PeakRun>,
    pub wrk_version: String,
    /// The service's workers (its default: one per core) and nginx's (`auto`).
    pub service_workers: usize,
    pub nginx_workers: usize,
    /// The largest RSS of the service's instance during the runs, in KiB.
    pub service_kib: u64,
    /// The canned answer's length in bytes.
    pub canned_bytes: usize,
}

/// The throughput table, or why it was skipped.
pub enum Throughput {
    Skipped(String),
    Measured(Measured),
}

/// Writes the scripts for the chat call and the action (one key).
fn scripts(dir: &Path) -> Result<(Template, PathBuf, Template, PathBuf), String> {
    let chat = requests::chat(Keys::One(KEY.to_owned()));
    let action = requests::action(Keys::One(KEY.to_owned()));
    let chat_script = wrk::script(dir, "throughput-chat", &chat, KEY)?;
    let action_script = wrk::script(dir, "throughput-action", &action, KEY)?;
    Ok((chat, chat_script, action, action_script))
}

/// Starts nginx (`worker_processes auto`) and an instance of the service (its default workers,
/// rate limit out of the way, `RUST_LOG=warn`), both to the canned upstream, runs every path's
/// rounds, and stops them.
pub async fn measure(cfg: &Config, lab: &Lab, wrk: Option<&Path>) -> Result<Throughput, String> {
    let Some(wrk) = wrk else {
        return Ok(Throughput::Skipped(
            "wrk not found (or `LOAD_BENCH_WRK=none`)".into(),
        ));
    };
    let (Some(canned), Some(binary)) = (&lab.canned, &lab.nginx_binary) else {
        return Ok(Throughput::Skipped(
            "nginx not found, so there is no canned upstream and no nginx to compare with".into(),
        ));
    };
    let upstream = canned.nginx.addr;
    let nginx = servers::start_proxy(
        &lab.dir,
        binary,
        "nginx-throughput",
        "auto",
        upstream,
        cfg.wrk_connections,
    )
    .await?;
    let service = servers::start_service(
        &lab.dir,
        &ServiceSpec::unlimited("service-throughput", upstream),
    )
    .await?;
    progress(&format!(
        "throughput: nginx on {} ({} workers), service on {} (default WORKERS), both to the canned upstream",
        nginx.addr,
        nginx.workers(),
        service.addr
    ));
    let (chat, chat_script, action, action_script) = scripts(&lab.dir)?;
    let path = |name, kind, addr, template: &Template, script: &PathBuf| PeakRun {
        name,
        kind,
        addr,
        template: template.clone(),
        script: script.clone(),
        runs: Vec::new(),
        other_cpu: procs::OtherCpu::default(),
        split: CpuSplit::default(),
    };
    let mut paths = vec![
        path(
            "direct (wrk → canned nginx): the generator's ceiling",
            Kind::Direct,
            upstream,
            &chat,
            &chat_script,
        ),
        path(
            "nginx `proxy_pass` → canned",
            Kind::Nginx,
            nginx.addr,
            &chat,
            &chat_script,
        ),
        path(
            "service pass-through → canned",
            Kind::PassThrough,
            service.addr,
            &chat,
            &chat_script,
        ),
        path(
            "service Chat Completion action → canned",
            Kind::Action,
            service.addr,
            &action,
            &action_script,
        ),
    ];
    let mut pids = lab.ours.clone();
    pids.extend(nginx.pids());
    pids.push(service.pid());
    let upstream_pids = canned.nginx.pids();
    let proxy_pids = |kind: Kind| match kind {
        Kind::Direct => Vec::new(),
        Kind::Nginx => nginx.pids(),
        Kind::PassThrough | Kind::Action => vec![service.pid()],
    };
    procs::reset_peak(service.pid());
    let sampler = RssSampler::start(service.pid());
    for round in 0..cfg.rounds {
        let n = paths.len();
        for k in 0..n {
            let path = &mut paths[(k + round) % n];
            progress(&format!(
                "round {}/{}: throughput of {} (wrk -t{} -c{} -d{}s)",
                round + 1,
                cfg.rounds,
                path.name,
                cfg.wrk_threads,
                cfg.wrk_connections,
                cfg.peak_secs
            ));
            generator::closed_loop(
                path.addr,
                &path.template,
                cfg.wrk_connections,
                std::time::Duration::ZERO,
                cfg.peak_warmup(),
            )
            .await;
            let cpu = procs::CpuWatch::start(pids.clone());
            let proxy = proxy_pids(path.kind);
            let before = (
                procs::waited_children_ticks(),
                procs::ticks(&upstream_pids),
                procs::ticks(&proxy),
                std::time::Instant::now(),
            );
            let load = wrk::Load {
                threads: cfg.wrk_threads,
                connections: cfg.wrk_connections,
                secs: cfg.peak_secs,
                timeout_secs: None,
            };
            let run = wrk::run(wrk, load, &path.script, &path.url()).await;
            path.split.wrk += procs::waited_children_ticks().saturating_sub(before.0);
            path.split.upstream += procs::ticks(&upstream_pids).saturating_sub(before.1);
            path.split.proxy += procs::ticks(&proxy).saturating_sub(before.2);
            path.split.seconds += before.3.elapsed().as_secs_f64();
            path.other_cpu.add(cpu.finish());
            path.runs.push(run);
        }
    }
    let service_kib = sampler
        .stop()
        .max(procs::peak_kib(service.pid()).unwrap_or(0));
    let measured = Measured {
        paths,
        wrk_version: wrk::version(wrk),
        service_workers: std::thread::available_parallelism().map_or(0, usize::from),
        nginx_workers: nginx.workers(),
        service_kib,
        canned_bytes: canned.bytes,
    };
    drop(service);
    drop(nginx);
    Ok(Throughput::Measured(measured))
}

/// The median of the path of `kind`.
fn median_of(paths: &[PeakRun], kind: Kind) -> Option<f64> {
    paths.iter().find(|p| p.kind == kind).map(PeakRun::median)
}

/// The service's ratio to nginx for `kind`, against `floor`.
fn ratio_target(m: &Measured, kind: Kind, what: &str, floor: f64, target: &str) -> Target {
    let nginx = median_of(&m.paths, Kind::Nginx).filter(|n| *n > 0.0);
    match (median_of(&m.paths, kind), nginx) {
        (Some(rate), Some(nginx)) => Target::new(
            what,
            target,
            format!("{:.2} × nginx ({rate:.0} / {nginx:.0} req/s)", rate / nginx),
            Some(rate / nginx >= floor),
        ),
        _ => Target::unmeasured(what, target, "nginx's rate is missing"),
    }
}

/// Direct ÷ the fastest proxy: whether the generator (wrk and the canned upstream) could go at
/// least twice as fast as anything it measured.
fn headroom(m: &Measured) -> Option<(f64, f64, &'static str)> {
    let direct = median_of(&m.paths, Kind::Direct)?;
    let fastest = m
        .paths
        .iter()
        .filter(|p| p.kind != Kind::Direct)
        .max_by(|a, b| a.median().total_cmp(&b.median()))?;
    let rate = fastest.median();
    (rate > 0.0).then_some((direct / rate, rate, fastest.name))
}

const HEADROOM: &str = "generator headroom: direct ÷ fastest proxy";
const PASS_THROUGH: &str = "pass-through throughput";
const ACTION: &str = "Chat Completion action throughput";

/// The table's targets: pass-through ≥ 0.9 × nginx, the action ≥ 0.75 × nginx, headroom ≥ 2×.
pub fn targets(throughput: &Throughput) -> Vec<Target> {
    let m = match throughput {
        Throughput::Measured(m) => m,
        Throughput::Skipped(why) => {
            return vec![
                Target::unmeasured(PASS_THROUGH, "≥ 0.9 × nginx", why),
                Target::unmeasured(ACTION, "≥ 0.75 × nginx", why),
                Target::unmeasured(HEADROOM, "≥ 2×", why),
            ];
        }
    };
    let headroom = match headroom(m) {
        Some((n, rate, name)) => Target::new(
            HEADROOM,
            "≥ 2×",
            format!(
                "{n:.2}× ({:.0} / {rate:.0} req/s, {name})",
                median_of(&m.paths, Kind::Direct).unwrap_or(0.0)
            ),
            Some(n >= 2.0),
        ),
        None => Target::unmeasured(HEADROOM, "≥ 2×", "no rate measured"),
    };
    vec![
        ratio_target(
            m,
            Kind::PassThrough,
            PASS_THROUGH,
            0.9,
            "≥ 0.9 × nginx (aim: parity)",
        ),
        ratio_target(m, Kind::Action, ACTION, 0.75, "≥ 0.75 × nginx"),
        headroom,
    ]
}

/// The table: every round's rate, the median, its ratio to nginx, errors, and the targets.
pub fn report(out: &mut String, throughput: &Throughput, cfg: &Config) {
    let workers = match throughput {
        Throughput::Measured(m) => format!(
            "; service `WORKERS` default ({}), nginx `worker_processes auto` ({})",
            m.service_workers, m.nginx_workers
        ),
        Throughput::Skipped(_) => String::new(),
    };
    let _ = writeln!(
        out,
        "### Throughput (closed loop: wrk -t{} -c{}, one key; {} interleaved round(s) of {} s after a {:.1} s warm-up; median{workers})\n",
        cfg.wrk_threads,
        cfg.wrk_connections,
        cfg.rounds,
        cfg.peak_secs,
        cfg.peak_warmup().as_secs_f64()
    );
    let m = match throughput {
        Throughput::Skipped(why) => {
            let _ = writeln!(out, "SKIPPED: {why}.\n");
            return;
        }
        Throughput::Measured(m) => m,
    };
    let _ = writeln!(
        out,
        "Upstream: the canned nginx (`return 200` with the simulator's own {}-byte chat answer, `worker_processes auto`). Service: default `WORKERS` (one per core: {}), `RUST_LOG=warn`, `LOG_FORMAT=json`, rate limit out of the way. nginx: `worker_processes auto` ({} workers), upstream keep-alive. Generator: {}; its warm-up is the benchmark's own client. wrk, the canned upstream and the proxy under test share the machine's cores.\n",
        m.canned_bytes, m.service_workers, m.nginx_workers, m.wrk_version
    );
    let _ = writeln!(
        out,
        "| path | median req/s | every round (req/s) | ratio to nginx | non-2xx / socket errors | CPU cores: wrk / canned / proxy | CPU µs per request: canned / proxy | others' CPU | target | met? |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let nginx = median_of(&m.paths, Kind::Nginx).filter(|n| *n > 0.0);
    let targets = targets(throughput);
    for path in &m.paths {
        let rate = path.median();
        let rounds: Vec<String> = path.runs.iter().map(|r| format!("{:.0}", r.rate)).collect();
        let errors: Vec<String> = path.runs.iter().map(WrkRun::errors_text).collect();
        let errors = if path.runs.iter().all(|r| r.failure.is_none()) {
            let non: u64 = path.runs.iter().map(|r| r.non_2xx).sum();
            let socket: u64 = path.runs.iter().map(|r| r.socket_errors).sum();
            format!("{non} / {socket}")
        } else {
            errors.join("; ")
        };
        let ratio = nginx.map_or_else(|| "—".to_owned(), |n| format!("{:.2}×", rate / n));
        let target = match path.kind {
            Kind::PassThrough => targets.first(),
            Kind::Action => targets.get(1),
            _ => None,
        };
        let _ = writeln!(
            out,
            "| {} | {rate:.0} | {} | {ratio} | {errors} | {} | {} | {:.2} | {} | {} |",
            path.name,
            rounds.join(", "),
            path.split.text(path.kind == Kind::Direct),
            path.split.per_request(
                path.runs.iter().map(|r| r.requests).sum(),
                path.kind == Kind::Direct
            ),
            path.other_cpu.cores(),
            target.map_or("", |t| t.target.as_str()),
            target.map_or("", Target::met_text)
        );
    }
    match headroom(m) {
        Some((n, _, name)) => {
            let _ = writeln!(
                out,
                "\n**Generator headroom**: direct ÷ fastest proxy ({name}) = {n:.2}× (needs ≥ 2×): {}.",
                met(n >= 2.0)
            );
            if n < 2.0 {
                let _ = writeln!(
                    out,
                    "Below 2×, the proxies' rates are partly the generator's and the canned upstream's limits: wrk, the canned nginx and the proxy under test share the same cores, so a proxy's share of the CPU is taken from them."
                );
            }
            let _ = writeln!(
                out,
                "The CPU columns say what limits each path: wrk has {} thread(s), so a wrk figure near {} means wrk itself is saturated; the three figures and others' CPU together cannot exceed the machine's {} cores. CPU per request (ticks of 10 ms over every round's requests) compares the proxies even when other work took part of the machine.",
                cfg.wrk_threads,
                cfg.wrk_threads,
                std::thread::available_parallelism().map_or(0, usize::from)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\n**Generator headroom**: not measured (no proxy answered)."
            );
        }
    }
    out.push('\n');
}
