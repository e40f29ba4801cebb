//! Prometheus metrics of contract section 6, kept per App and rendered as text at `/metrics`:
//! requests by operation and status, latency histograms, upstream latency and status, limiter
//! rejections, async jobs running, and the adapter's own overhead (time spent in the service
//! outside upstream calls). No label ever carries a key, a prompt or a connection.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use crate::error::ApiError;

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
}

/// The service's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    tables: Mutex<Tables>,
    limiter_rejections: AtomicU64,
    jobs_running: AtomicI64,
}

/// What one request did upstream, gathered while it runs.
#[derive(Debug, Default)]
struct RequestStats {
    upstream_time: Cell<Duration>,
    upstream: RefCell<Vec<(u16, Duration)>>,
}

impl RequestStats {
    fn drain(&self) -> RequestStats {
        RequestStats {
            upstream_time: Cell::new(self.upstream_time.get()),
            upstream: RefCell::new(self.upstream.take()),
        }
    }
}

tokio::task_local! {
    static STATS: RequestStats;
}

/// Called by the upstream client for every answer it reads: counted for the request running
/// on this task, if any.
pub fn upstream_answered(status: u16, elapsed: Duration) {
    let _ = STATS.try_with(|stats| {
        stats.upstream_time.set(stats.upstream_time.get() + elapsed);
        stats.upstream.borrow_mut().push((status, elapsed));
    });
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
        stats: &RequestStats,
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
        let upstream = stats.upstream.borrow();
        for (status, elapsed) in upstream.iter() {
            *tables.upstream.entry(*status).or_default() += 1;
            tables.upstream_latency.observe(elapsed.as_secs_f64());
        }
        if !upstream.is_empty() {
            let overhead = total.saturating_sub(stats.upstream_time.get());
            tables
                .overhead
                .entry(operation)
                .or_default()
                .observe(overhead.as_secs_f64());
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

/// The operation a matched route serves, as a metric label.
fn operation(pattern: Option<&str>) -> &'static str {
    match pattern {
        Some("/connector/v1/completions") => "Completion",
        Some("/connector/v1/chat/completions") => "ChatCompletion",
        Some("/connector/v1/models") => "ListModels",
        Some("/connector/v1/models/{author}/{slug}/endpoints") => "ListModelEndpoints",
        Some("/connector/v1/credits") => "GetCredits",
        Some("/connector/v1/generation") => "GetGeneration",
        Some(pattern) if pattern.starts_with("/connector/v1/jobs") => "GetJob",
        Some(pattern) if pattern.starts_with("/api/v1") => "PassThrough",
        Some(pattern) if pattern.starts_with("/health") => "Health",
        Some("/metrics") => "Metrics",
        Some(pattern) if pattern.starts_with("/connector/") => "ConnectorDefinition",
        Some(_) => "Docs",
        None => "Unmatched",
    }
}

/// Middleware body: times the request, gathers its upstream calls, and records both.
pub async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let started = Instant::now();
    let stats = RequestStats::default();
    let (outcome, stats) = STATS
        .scope(stats, async {
            let outcome = next.call(req).await;
            (outcome, STATS.with(RequestStats::drain))
        })
        .await;
    let response = outcome?;
    if let Some(metrics) = metrics {
        let limited = response
            .response()
            .error()
            .and_then(|error| error.as_error::<ApiError>())
            .is_some_and(|error| matches!(error, ApiError::RateLimited { .. }));
        let pattern = response.request().match_pattern();
        metrics.record(
            operation(pattern.as_deref()),
            response.status().as_u16(),
            started.elapsed(),
            &stats,
            limited,
        );
    }
    Ok(response)
}

/// `GET /metrics`: the metrics in Prometheus text format.
pub async fn serve(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
