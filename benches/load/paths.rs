//! A measured path (direct, nginx, or one of the service's operations) at a constant rate: its
//! samples pooled over interleaved rounds, with the memory, `/metrics`, log and other CPU seen
//! while it ran.

use std::net::SocketAddr;

use crate::config::Config;
use crate::generator::{self, Plan, Samples, Template};
use crate::memory::RssSampler;
use crate::metrics::{self, MetricDelta};
use crate::procs;
use crate::progress;
use crate::servers::{Lab, Nginx, Service};
use crate::stats::quantiles;

/// Who answers a path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Who {
    Direct,
    Nginx,
    /// The service, with the operation its `/metrics` name.
    Service(&'static str),
}

/// One path of a constant-rate table, measured over several rounds.
pub struct PathRun {
    pub name: &'static str,
    pub who: Who,
    pub addr: SocketAddr,
    pub templates: Vec<Template>,
    pub rate: f64,
    pub samples: Samples,
    pub round_p50: Vec<Option<u64>>,
    pub peak_kib: u64,
    pub metrics: MetricDelta,
    pub log_bytes: u64,
    pub other_cpu: procs::OtherCpu,
}

impl PathRun {
    pub fn new(
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

/// The pid whose memory a path's row shows.
fn watched_pid(who: Who, service: &Service, nginx: Option<&Nginx>) -> Option<u32> {
    match who {
        Who::Direct => None,
        Who::Nginx => nginx.map(Nginx::worker),
        Who::Service(_) => Some(service.pid()),
    }
}

/// One round of `path` by `plan`, added to what it recorded before.
pub async fn measure(path: &mut PathRun, plan: Plan, lab: &Lab) {
    let service = &lab.service;
    let pid = watched_pid(path.who, service, lab.nginx.as_ref().map(|n| &n.nginx));
    let peak_reset = pid.is_some_and(procs::reset_peak);
    let sampler = pid.map(RssSampler::start);
    let operation = match path.who {
        Who::Service(op) => Some(op),
        _ => None,
    };
    let before = match operation {
        Some(op) => metrics::scrape(service.addr, op).await,
        None => MetricDelta::default(),
    };
    let log_before = service.log_bytes();
    let cpu = procs::CpuWatch::start(lab.ours.clone());
    let samples = generator::open_loop(path.addr, &path.templates, plan).await;
    path.other_cpu.add(cpu.finish());
    if let Some(op) = operation {
        let after = metrics::scrape(service.addr, op).await;
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

/// `cfg.rounds` interleaved rounds: in each, every group's paths run in turn, each group
/// rotated by the round's number so that no path always goes first. `describe` says what a
/// path's progress line shows after "round i/n: ".
pub async fn measure_rounds(
    cfg: &Config,
    lab: &Lab,
    groups: &mut [&mut [PathRun]],
    describe: impl Fn(&PathRun) -> String,
) {
    for round in 0..cfg.rounds {
        for group in groups.iter_mut() {
            let n = group.len();
            for k in 0..n {
                let path = &mut group[(k + round) % n];
                progress(&format!(
                    "round {}/{}: {}",
                    round + 1,
                    cfg.rounds,
                    describe(path)
                ));
                measure(path, cfg.plan(path.rate, cfg.per_round()), lab).await;
            }
        }
    }
}
