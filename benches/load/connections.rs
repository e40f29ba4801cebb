//! Memory at many connections: a fresh instance of the service with its default settings (rate
//! limit out of the way, `RUST_LOG=warn`) and, for comparison, a fresh nginx `proxy_pass`
//! (`worker_processes auto`), both to the canned upstream. Each: idle RSS 1 s after it is
//! ready, wrk opening 2,000 connections at once on the pass-through with RSS every 50 ms, then
//! RSS again some seconds after the load stopped.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::config::{Config, seconds};
use crate::generator::Keys;
use crate::memory::RssSampler;
use crate::procs;
use crate::progress;
use crate::requests;
use crate::servers::{self, Lab, ServiceSpec};
use crate::stats::{MIB, mib, thousands};
use crate::targets::Target;
use crate::wrk::{self, WrkRun};

/// One process's figures, in KiB.
pub struct ManyRun {
    pub idle: u64,
    pub peak: u64,
    pub after: u64,
    pub wrk: WrkRun,
    /// Its workers: the service's default (one per core), nginx's `auto`.
    pub workers: usize,
    /// Its listen backlog, and connections the kernel dropped for full listen queues during
    /// the run (machine-wide: other work's listeners included).
    pub backlog: Option<u64>,
    pub overflows: Option<u64>,
}

/// What the many-connection runs measured.
pub struct Measured {
    pub service: ManyRun,
    pub nginx: ManyRun,
    pub fd_limit: Option<u64>,
}

/// The many-connection table, or why it was skipped.
pub enum Many {
    Skipped(String),
    Measured(Box<Measured>),
}

/// wrk's `--timeout` here: connections opened all at once can overflow a listen queue, and
/// the kernel then retries them after a second or more, which wrk's 2 s would count as errors
/// rather than as the latency they are. An answer later than this is still an error.
const TIMEOUT_SECS: u64 = 10;

/// The load: wrk (two threads) with `cfg.many_connections` connections at once on `url`; the
/// largest RSS `sampler` saw meanwhile, and the listen-queue overflows counted meanwhile.
async fn load(
    cfg: &Config,
    wrk: &Path,
    script: &Path,
    url: &str,
    sampler: RssSampler,
) -> (WrkRun, u64, Option<u64>) {
    let load = wrk::Load {
        threads: 2,
        connections: cfg.many_connections,
        secs: cfg.many_secs,
        timeout_secs: Some(TIMEOUT_SECS),
    };
    let overflows = procs::listen_overflows();
    let run = wrk::run(wrk, load, script, url).await;
    let overflows = procs::listen_overflows()
        .zip(overflows)
        .map(|(after, before)| after.saturating_sub(before));
    (run, sampler.stop(), overflows)
}

/// Runs the service's instance, then nginx's.
pub async fn measure(cfg: &Config, lab: &Lab, wrk: Option<&Path>) -> Result<Many, String> {
    let Some(wrk) = wrk else {
        return Ok(Many::Skipped(
            "wrk not found (or `LOAD_BENCH_WRK=none`)".into(),
        ));
    };
    let (Some(canned), Some(binary)) = (&lab.canned, &lab.nginx_binary) else {
        return Ok(Many::Skipped(
            "nginx not found, so there is no canned upstream".into(),
        ));
    };
    let upstream = canned.nginx.addr;
    let chat = requests::chat(Keys::One(crate::peak::KEY.to_owned()));
    let script = wrk::script(&lab.dir, "connections-chat", &chat, crate::peak::KEY)?;
    let settle = seconds(cfg.settle_secs);

    let service = servers::start_service(
        &lab.dir,
        &ServiceSpec::unlimited("service-connections", upstream),
    )
    .await?;
    progress(&format!(
        "{} connections: the service (default settings) on {}",
        thousands(cfg.many_connections),
        service.addr
    ));
    let pid = service.pid();
    let idle = service.idle_rss_kib;
    let reset = procs::reset_peak(pid);
    let url = format!("http://{}{}", service.addr, chat.path);
    let backlog = procs::listen_backlog(service.addr);
    let (run, sampled, overflows) = load(cfg, wrk, &script, &url, RssSampler::start(pid)).await;
    let hwm = if reset {
        procs::peak_kib(pid).unwrap_or(0)
    } else {
        0
    };
    progress(&format!(
        "{} connections: the service, RSS {} s after",
        thousands(cfg.many_connections),
        cfg.settle_secs
    ));
    tokio::time::sleep(settle).await;
    let service_run = ManyRun {
        idle,
        peak: sampled.max(hwm),
        after: procs::rss_kib(pid).unwrap_or(0),
        wrk: run,
        workers: std::thread::available_parallelism().map_or(0, usize::from),
        backlog,
        overflows,
    };
    drop(service);

    let nginx = servers::start_proxy(
        &lab.dir,
        binary,
        "nginx-connections",
        "auto",
        upstream,
        cfg.many_connections,
    )
    .await?;
    progress(&format!(
        "{} connections: nginx `proxy_pass` ({} workers) on {}",
        thousands(cfg.many_connections),
        nginx.workers(),
        nginx.addr
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = nginx.rss_kib();
    let url = format!("http://{}{}", nginx.addr, chat.path);
    let backlog = procs::listen_backlog(nginx.addr);
    let sampler = RssSampler::start_sum(nginx.pids());
    let (run, peak, overflows) = load(cfg, wrk, &script, &url, sampler).await;
    tokio::time::sleep(settle).await;
    let nginx_run = ManyRun {
        idle,
        peak,
        after: nginx.rss_kib(),
        wrk: run,
        workers: nginx.workers(),
        backlog,
        overflows,
    };
    drop(nginx);
    Ok(Many::Measured(Box::new(Measured {
        service: service_run,
        nginx: nginx_run,
        fd_limit: procs::fd_limit(),
    })))
}

const IDLE: &str = "idle RSS, 1 s after ready (default settings)";
const PEAK: &str = "RSS at 2,000 connections";
const AFTER: &str = "RSS 10 s after the 2,000 connections";

/// The table's targets, for the service: idle ≤ 20 MiB, peak ≤ 64 MiB, back within 8 MiB of idle.
pub fn targets(many: &Many, cfg: &Config) -> Vec<Target> {
    let m = match many {
        Many::Measured(m) => m,
        Many::Skipped(why) => {
            return vec![
                Target::unmeasured(IDLE, "≤ 20 MiB", why),
                Target::unmeasured(PEAK, "≤ 64 MiB", why),
                Target::unmeasured(AFTER, "within 8 MiB of idle", why),
            ];
        }
    };
    let s = &m.service;
    let known = |kib: u64| (kib > 0).then_some(kib);
    let after_what = if (cfg.settle_secs - 10.0).abs() < f64::EPSILON {
        AFTER.to_owned()
    } else {
        format!(
            "RSS {} s after the {} connections (the target says 10 s)",
            cfg.settle_secs,
            thousands(cfg.many_connections)
        )
    };
    let peak_what = if cfg.many_connections == 2000 {
        PEAK.to_owned()
    } else {
        format!(
            "RSS at {} connections (the target says 2,000)",
            thousands(cfg.many_connections)
        )
    };
    vec![
        Target::new(
            IDLE,
            "≤ 20 MiB",
            mib(s.idle),
            known(s.idle).map(|k| k <= 20 * MIB),
        ),
        Target::new(
            &peak_what,
            "≤ 64 MiB",
            mib(s.peak),
            known(s.peak).map(|k| k <= 64 * MIB),
        ),
        Target::new(
            &after_what,
            "within 8 MiB of idle",
            format!("{} ({})", mib(s.after), over_idle(s)),
            known(s.after)
                .zip(known(s.idle))
                .map(|(after, idle)| after <= idle + 8 * MIB),
        ),
    ]
}

/// "+N MiB over idle".
fn over_idle(run: &ManyRun) -> String {
    let delta = run.after as f64 - run.idle as f64;
    format!("{:+.1} MiB over idle", delta / 1024.0)
}

/// The table: idle, peak, after, for the service and nginx, with the service's targets.
pub fn report(out: &mut String, many: &Many, cfg: &Config) {
    let _ = writeln!(
        out,
        "### Memory at {} connections at once (wrk -t2 -c{} -d{}s --timeout {TIMEOUT_SECS}s, one key, on the pass-through → canned upstream; RSS every 50 ms)\n",
        thousands(cfg.many_connections),
        cfg.many_connections,
        cfg.many_secs
    );
    let m = match many {
        Many::Skipped(why) => {
            let _ = writeln!(out, "SKIPPED: {why}.\n");
            return;
        }
        Many::Measured(m) => m,
    };
    let _ = writeln!(
        out,
        "Each fresh: the service with its default settings (`WORKERS` one per core: {}), rate limit out of the way, `RUST_LOG=warn`; nginx `proxy_pass` with `worker_processes auto` ({} workers; the RSS of the master and the workers summed, so pages they share count once per process), up to {} idle upstream connections and {} connections per worker. Open-file limit of wrk, the service and nginx: {}.\n",
        m.service.workers,
        m.nginx.workers,
        cfg.many_connections.max(128),
        procs::nginx_worker_connections(cfg.many_connections),
        m.fd_limit
            .map_or_else(|| "unknown".to_owned(), |n| n.to_string())
    );
    let targets = targets(many, cfg);
    let _ = writeln!(
        out,
        "| measure | service | nginx | target (service) | met? |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    let rows = [
        (
            "idle, 1 s after ready".to_owned(),
            mib(m.service.idle),
            mib(m.nginx.idle),
        ),
        (
            format!(
                "peak during the {} connections",
                thousands(cfg.many_connections)
            ),
            mib(m.service.peak),
            mib(m.nginx.peak),
        ),
        (
            format!("{} s after the load stopped", cfg.settle_secs),
            format!("{} ({})", mib(m.service.after), over_idle(&m.service)),
            format!("{} ({})", mib(m.nginx.after), over_idle(&m.nginx)),
        ),
    ];
    for ((what, service, nginx), target) in rows.iter().zip(&targets) {
        let _ = writeln!(
            out,
            "| {what} | {service} | {nginx} | {} | {} |",
            target.target,
            target.met_text()
        );
    }
    let wrk_text = |run: &WrkRun| {
        format!(
            "{:.0} req/s; {}; {}",
            run.rate,
            if run.max_latency.is_empty() {
                "—"
            } else {
                &run.max_latency
            },
            run.errors_text()
        )
    };
    let _ = writeln!(
        out,
        "| wrk (`--timeout {TIMEOUT_SECS}s`): req/s; slowest answer; non-2xx / socket errors | {} | {} | | |",
        wrk_text(&m.service.wrk),
        wrk_text(&m.nginx.wrk)
    );
    let queue = |run: &ManyRun| {
        format!(
            "{}; {}",
            run.backlog
                .map_or_else(|| "—".to_owned(), |b| b.to_string()),
            run.overflows
                .map_or_else(|| "—".to_owned(), |o| o.to_string())
        )
    };
    let _ = writeln!(
        out,
        "| listen backlog; connections dropped for a full listen queue during the run (kernel's count, machine-wide) | {} | {} | | |",
        queue(&m.service),
        queue(&m.nginx)
    );
    out.push('\n');
}
