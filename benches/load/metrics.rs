//! Where the service's time goes, from its own `/metrics` (time per call, time outside the
//! upstream call) and its log (bytes per call): the scrape before and after each round, and the
//! table.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::client;
use crate::paths::{PathRun, Who};
use crate::stats::signed_us;

/// Sums and counts from the service's `/metrics`, for one operation.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricDelta {
    pub duration_sum: f64,
    pub overhead_sum: f64,
    pub overhead_count: f64,
    pub count: f64,
}

/// The service's sums and counts for `operation` now (all zero if `/metrics` did not answer).
pub async fn scrape(addr: SocketAddr, operation: &str) -> MetricDelta {
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
    pub fn add_delta(&mut self, before: MetricDelta, after: MetricDelta) {
        self.duration_sum += after.duration_sum - before.duration_sum;
        self.count += after.count - before.count;
        self.overhead_sum += after.overhead_sum - before.overhead_sum;
        self.overhead_count += after.overhead_count - before.overhead_count;
    }
}

/// The table, one row per service path among `paths`.
pub fn report<'a>(out: &mut String, paths: impl IntoIterator<Item = &'a PathRun>) {
    let _ = writeln!(
        out,
        "### Where the service's time goes (its own `/metrics`, and its log)\n"
    );
    let _ = writeln!(
        out,
        "| path | mean time in the service per call | mean time outside upstream calls, of the calls that went upstream | log bytes per call |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for path in paths {
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
