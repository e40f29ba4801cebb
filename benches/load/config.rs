//! What the load benchmark runs, read from the environment (`LOAD_BENCH_*`, listed in
//! `benches/load.rs`), and how its seconds become the generator's plans.

use std::time::Duration;

use crate::generator::Plan;

/// What to run, from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub quick: bool,
    pub rate: f64,
    pub secs: f64,
    pub rounds: usize,
    pub warmup: f64,
    pub models_rate: f64,
    pub stream_rate: f64,
    /// wrk's connections and threads in the throughput table.
    pub wrk_connections: usize,
    pub wrk_threads: usize,
    /// Seconds of each throughput round (wrk takes whole seconds).
    pub peak_secs: u64,
    /// Connections at once in the memory run, for how many seconds, and how long after it the
    /// RSS is read again.
    pub many_connections: usize,
    pub many_secs: u64,
    pub settle_secs: f64,
    pub soak_secs: f64,
    pub workers: usize,
}

/// A number from the environment, or `default` when unset or not a number.
pub fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The longest run a knob may ask for: the generator adds its durations to `Instant`s, which a
/// far larger one would overflow.
const LONGEST_SECS: f64 = 86_400.0;

/// Whole seconds of at least one, for wrk's `-d` (which takes no fractions).
fn whole_secs(secs: f64) -> u64 {
    secs.clamp(1.0, LONGEST_SECS).ceil() as u64
}

/// `secs` seconds as a `Duration`: a negative knob is no time at all, NaN too, and anything
/// beyond a day is a day (`Duration::from_secs_f64` would panic on the first two).
pub fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.clamp(0.0, LONGEST_SECS)).unwrap_or(Duration::ZERO)
}

impl Config {
    pub fn from_env() -> Config {
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
            wrk_connections: env_num("LOAD_BENCH_WRK_CONNECTIONS", 16.0).max(1.0) as usize,
            wrk_threads: env_num("LOAD_BENCH_WRK_THREADS", 1.0).max(1.0) as usize,
            peak_secs: whole_secs(env_num("LOAD_BENCH_PEAK_SECS", pick(5.0, 1.0))),
            many_connections: env_num("LOAD_BENCH_MEMORY_CONNECTIONS", 2000.0).max(1.0) as usize,
            many_secs: whole_secs(env_num("LOAD_BENCH_MEMORY_SECS", pick(5.0, 1.0))),
            settle_secs: env_num("LOAD_BENCH_MEMORY_SETTLE_SECS", pick(10.0, 2.0)).max(0.0),
            soak_secs: env_num("LOAD_BENCH_SOAK_SECS", pick(120.0, 5.0)),
            workers: env_num("LOAD_BENCH_WORKERS", 1.0).max(1.0) as usize,
        }
    }

    /// The first progress line: the mode and its main knobs.
    pub fn summary(&self) -> String {
        format!(
            "{} mode: {} req/s, {} s per path in {} round(s), throughput {} s per round, {} connections for {} s, soak {} s; service WORKERS={}",
            if self.quick { "smoke" } else { "full" },
            self.rate,
            self.secs,
            self.rounds,
            self.peak_secs,
            self.many_connections,
            self.many_secs,
            self.soak_secs,
            self.workers
        )
    }

    /// An open-loop plan: `rate` req/s for `secs` after the warm-up.
    pub fn plan(&self, rate: f64, secs: f64) -> Plan {
        Plan {
            rate,
            warmup: seconds(self.warmup),
            duration: seconds(secs),
            cap: 512,
            timeout: Duration::from_secs(10),
        }
    }

    /// Seconds of one path's share in each interleaved round.
    pub fn per_round(&self) -> f64 {
        self.secs / self.rounds as f64
    }

    /// The warm-up before each wrk run (half a second, by the benchmark's own client: wrk's
    /// `-d` takes whole seconds).
    pub fn peak_warmup(&self) -> Duration {
        Duration::from_millis(500)
    }
}
