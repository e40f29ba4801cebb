//! The peak-throughput table: a closed loop of many connections with one key against the
//! simulator, nginx and an instance of the service whose limits are out of the way, in
//! interleaved rounds, with that instance's memory meanwhile.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::config::Config;
use crate::generator::{self, Keys, Peak};
use crate::memory::RssSampler;
use crate::procs;
use crate::progress;
use crate::requests;
use crate::servers::{self, Lab};
use crate::stats::{median, met};

/// One path of the peak-throughput table.
pub struct PeakRun {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub results: Vec<Peak>,
    pub other_cpu: procs::OtherCpu,
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

/// The peak runs, and the largest RSS of the unlimited instance during them.
pub struct PeakResults {
    pub targets: Vec<PeakRun>,
    pub unlimited_kib: u64,
}

/// Starts the unlimited instance, runs every target's rounds, and stops it.
pub async fn measure(cfg: &Config, lab: &Lab) -> Result<PeakResults, String> {
    let unlimited = servers::start_service(
        &lab.dir,
        "service-unlimited",
        lab.sim.addr,
        60_000_000,
        1_000_000,
        Some(cfg.workers),
    )
    .await?;
    let peak_chat = requests::chat(Keys::One("sk-or-v1-load-peak".to_owned()));
    let mut targets: Vec<PeakRun> = vec![PeakRun::new("direct (simulator)", lab.sim.addr)];
    if let Some(n) = &lab.nginx {
        targets.push(PeakRun::new("nginx `proxy_pass`", n.addr));
    }
    targets.push(PeakRun::new("service pass-through", unlimited.addr));
    let mut peak_pids = lab.ours.clone();
    peak_pids.push(unlimited.pid());
    procs::reset_peak(unlimited.pid());
    let unlimited_sampler = RssSampler::start(unlimited.pid());
    for round in 0..cfg.rounds {
        let n = targets.len();
        for k in 0..n {
            let target = &mut targets[(k + round) % n];
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
                cfg.peak_warmup(),
                cfg.peak_duration(),
            )
            .await;
            target.other_cpu.add(cpu.finish());
            target.results.push(peak);
        }
    }
    let unlimited_kib = unlimited_sampler
        .stop()
        .max(procs::peak_kib(unlimited.pid()).unwrap_or(0));
    drop(unlimited);
    Ok(PeakResults {
        targets,
        unlimited_kib,
    })
}

/// The table: the median rate of the rounds, and the service's ratio to nginx.
pub fn report(out: &mut String, targets: &[PeakRun], cfg: &Config) {
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
