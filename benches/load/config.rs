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
    pub peak_connections: usize,
    pub peak_secs: f64,
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
            peak_connections: env_num("LOAD_BENCH_PEAK_CONNECTIONS", 64.0).max(1.0) as usize,
            peak_secs: env_num("LOAD_BENCH_PEAK_SECS", pick(3.0, 1.0)),
            soak_secs: env_num("LOAD_BENCH_SOAK_SECS", pick(300.0, 5.0)),
            workers: env_num("LOAD_BENCH_WORKERS", 1.0).max(1.0) as usize,
        }
    }

    /// The first progress line: the mode and its main knobs.
    pub fn summary(&self) -> String {
        format!(
            "{} mode: {} req/s, {} s per path in {} round(s), soak {} s; service WORKERS={}",
            if self.quick { "smoke" } else { "full" },
            self.rate,
            self.secs,
            self.rounds,
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

    /// The closed-loop peak runs' warm-up (at most half a second).
    pub fn peak_warmup(&self) -> Duration {
        seconds(self.warmup.min(0.5))
    }

    /// The closed-loop peak runs' measured time, per round.
    pub fn peak_duration(&self) -> Duration {
        seconds(self.peak_secs)
    }
}
