//! Prometheus metrics of contract section 6, kept per App and rendered as text at `/metrics`:
//! requests by operation and status, latency histograms, upstream latency and status, limiter
//! rejections, async jobs running, and the adapter's own overhead (time spent in the service
//! outside upstream calls). No label ever carries a key, a prompt or a connection.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};

use crate::error::ApiError;
use crate::openrouter::{UpstreamAnswer, UpstreamStats};
use crate::routes::{self, McpMessage};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 17] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0, 30.0, 120.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Tables {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    upstream: BTreeMap<u16, u64>,
    upstream_latency: Histogram,
    overhead: BTreeMap<&'static str, Histogram>,
    mcp_messages: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    mcp_tools: BTreeMap<&'static str, Histogram>,
}

impl Tables {
    fn upstream_answers(&mut self, upstream: &[UpstreamAnswer]) {
        for answer in upstream {
            *self.upstream.entry(answer.status).or_default() += 1;
            self.upstream_latency.observe(answer.elapsed.as_secs_f64());
        }
    }
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
    limiter_rejections: AtomicU64,
    jobs_running: AtomicI64,
}

impl Metrics {
    /// Counts an async job starting (`+1`) or ending (`-1`).
    pub fn job_running(&self, change: i64) {
        self.jobs_running.fetch_add(change, Ordering::Relaxed);
    }

    fn record(
        &self,
        operation: &'static str,
        status: u16,
        total: Duration,
        upstream: &[UpstreamAnswer],
        limited: bool,
    ) {
        if limited {
            self.limiter_rejections.fetch_add(1, Ordering::Relaxed);
        }
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        *tables.requests.entry((operation, status)).or_default() += 1;
        tables
            .latency
            .entry(operation)
            .or_default()
            .observe(total.as_secs_f64());
        tables.upstream_answers(upstream);
        if !upstream.is_empty() {
            let upstream_time = upstream.iter().fold(Duration::ZERO, |sum, answer| {
                sum.saturating_add(answer.elapsed)
            });
            let overhead = total.saturating_sub(upstream_time);
            tables
                .overhead
                .entry(operation)
                .or_default()
                .observe(overhead.as_secs_f64());
        }
    }

    /// Counts an MCP message (contract section 9), and times a tool call.
    pub fn mcp_message(&self, message: &McpMessage, elapsed: Duration) {
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        let tool = message.tool.unwrap_or("");
        *tables
            .mcp_messages
            .entry((message.method, tool, message.outcome.as_str()))
            .or_default() += 1;
        if let Some(tool) = message.tool {
            tables
                .mcp_tools
                .entry(tool)
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    /// Counts a call the per-connection limit refused without the request being a `429` (an
    /// MCP tool call, refused as a tool error).
    pub fn limiter_rejection(&self) {
        self.limiter_rejections.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the upstream answers of an async job, read after its request was answered.
    pub fn record_upstream(&self, upstream: &[UpstreamAnswer]) {
        if let Ok(mut tables) = self.tables.lock() {
            tables.upstream_answers(upstream);
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(tables) = self.tables.lock() else {
            return out;
        };
        out.push_str("# HELP openrouter_connector_requests_total Requests answered, by operation and status.\n");
        out.push_str("# TYPE openrouter_connector_requests_total counter\n");
        for ((operation, status), count) in &tables.requests {
            let _ = writeln!(
                out,
                "openrouter_connector_requests_total{{operation=\"{operation}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP openrouter_connector_request_duration_seconds Time to answer a request, by operation.\n");
        out.push_str("# TYPE openrouter_connector_request_duration_seconds histogram\n");
        for (operation, histogram) in &tables.latency {
            histogram.render(
                &mut out,
                "openrouter_connector_request_duration_seconds",
                &format!("operation=\"{operation}\""),
            );
        }
        out.push_str("# HELP openrouter_connector_upstream_requests_total Answers read from OpenRouter, by status.\n");
        out.push_str("# TYPE openrouter_connector_upstream_requests_total counter\n");
        for (status, count) in &tables.upstream {
            let _ = writeln!(
                out,
                "openrouter_connector_upstream_requests_total{{status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP openrouter_connector_upstream_duration_seconds Time OpenRouter took to answer.\n");
        out.push_str("# TYPE openrouter_connector_upstream_duration_seconds histogram\n");
        tables.upstream_latency.render(
            &mut out,
            "openrouter_connector_upstream_duration_seconds",
            "",
        );
        out.push_str("# HELP openrouter_connector_overhead_seconds Time a request spent in the service outside upstream calls.\n");
        out.push_str("# TYPE openrouter_connector_overhead_seconds histogram\n");
        for (operation, histogram) in &tables.overhead {
            histogram.render(
                &mut out,
                "openrouter_connector_overhead_seconds",
                &format!("operation=\"{operation}\""),
            );
        }
        out.push_str("# HELP openrouter_connector_mcp_messages_total MCP messages answered, by method, tool and outcome.\n");
        out.push_str("# TYPE openrouter_connector_mcp_messages_total counter\n");
        for ((method, tool, outcome), count) in &tables.mcp_messages {
            let _ = writeln!(
                out,
                "openrouter_connector_mcp_messages_total{{method=\"{method}\",tool=\"{tool}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        out.push_str("# HELP openrouter_connector_mcp_tool_duration_seconds Time an MCP tool call took, by tool.\n");
        out.push_str("# TYPE openrouter_connector_mcp_tool_duration_seconds histogram\n");
        for (tool, histogram) in &tables.mcp_tools {
            histogram.render(
                &mut out,
                "openrouter_connector_mcp_tool_duration_seconds",
                &format!("tool=\"{tool}\""),
            );
        }
        out.push_str("# HELP openrouter_connector_rate_limit_rejections_total Calls refused by the per-connection limit.\n");
        out.push_str("# TYPE openrouter_connector_rate_limit_rejections_total counter\n");
        let _ = writeln!(
            out,
            "openrouter_connector_rate_limit_rejections_total {}",
            self.limiter_rejections.load(Ordering::Relaxed)
        );
        out.push_str("# HELP openrouter_connector_async_jobs_running Asynchronous generations running now.\n");
        out.push_str("# TYPE openrouter_connector_async_jobs_running gauge\n");
        let _ = writeln!(
            out,
            "openrouter_connector_async_jobs_running {}",
            self.jobs_running.load(Ordering::Relaxed)
        );
        out
    }
}

/// Middleware body: times the request, gathers its upstream calls, and records both.
pub async fn measure(
    metrics: Arc<Metrics>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let stats = UpstreamStats::default();
    req.extensions_mut().insert(stats.clone());
    let response = next.call(req).await?;
    {
        let limited = response
            .response()
            .error()
            .and_then(|error| error.as_error::<ApiError>())
            .is_some_and(|error| matches!(error, ApiError::RateLimited { .. }));
        metrics.record(
            routes::operation_of(response.request()),
            response.status().as_u16(),
            started.elapsed(),
            &stats.take(),
            limited,
        );
    }
    Ok(response)
}

/// Where the upstream answers of this request are counted: the list the metrics middleware put
/// on every request. A handler run without that middleware (a unit test) gets a list of its
/// own, which nobody reads.
pub fn upstream_stats(req: &HttpRequest) -> UpstreamStats {
    req.extensions()
        .get::<UpstreamStats>()
        .cloned()
        .unwrap_or_default()
}
