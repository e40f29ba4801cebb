//! The run's verdict: numbers are never asserted, but a path that stopped working (no answer,
//! errors, unexpected statuses) fails the run, so the smoke mode in CI notices a broken harness
//! or a route that changed.

use crate::connections::Many;
use crate::peak::Throughput;
use crate::report::Results;
use crate::stats::answers_or_errors;

/// `Ok` when every path worked, else the paths that did not and what they got.
pub fn check(results: &Results) -> Result<(), String> {
    let Results {
        latency,
        refused,
        streams,
        throughput,
        many,
        soak,
        ..
    } = results;
    let mut broken = Vec::new();
    for path in latency.fast.iter().chain(&latency.slow).chain(streams) {
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
    if let Throughput::Measured(m) = throughput {
        for path in &m.paths {
            for (round, run) in path.runs.iter().enumerate() {
                if !run.worked() {
                    broken.push(format!(
                        "{} (throughput round {}): {} requests, non-2xx / socket errors {}",
                        path.name,
                        round + 1,
                        run.requests,
                        run.errors_text()
                    ));
                }
            }
        }
    }
    if let Many::Measured(m) = many {
        for (who, run) in [("service", &m.service.wrk), ("nginx", &m.nginx.wrk)] {
            if !run.worked() {
                broken.push(format!(
                    "{who} at many connections: {} requests, non-2xx / socket errors {}",
                    run.requests,
                    run.errors_text()
                ));
            }
        }
    }
    if let Some(soak) = soak
        && (soak.samples.error_count() > 0 || soak.samples.unexpected(&[200]) > 0)
    {
        broken.push(format!("soak: {}", answers_or_errors(&soak.samples)));
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
