//! Typed settings, from environment variables or the equivalent command-line flags, checked at
//! start-up so that a bad value stops the service with a message naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use reqwest::Url;

use crate::domain::PublicUrl;

mod parse;

pub use parse::MAX_SECS;

const HOUR: u64 = 60 * 60;
const DAY: u64 = 24 * HOUR;
const GIB: u64 = 1024 * 1024 * 1024;

/// The default OpenRouter API base URL.
pub const DEFAULT_OPENROUTER_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable, coloured lines for a terminal.
    Pretty,
}

/// The service's settings. Every flag can also be given as the environment variable of the same
/// name in capitals (`--max-body-bytes` is `MAX_BODY_BYTES`). Each value is parsed into its type
/// here, with its range: a bad one stops start-up with a message naming the variable.
#[derive(Clone, Debug, Parser)]
#[command(name = "openrouter-connector", version, about)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "BIND",
        value_name = "BIND",
        default_value = "0.0.0.0:8080",
        help_heading = "Serving",
        value_parser = parse::socket_address
    )]
    pub bind: SocketAddr,

    /// The public URL of this deployment (e.g. `https://connector.example.com`), used in the
    /// connector definition and in `Location` headers; without it the request's host is used.
    #[arg(
        long,
        env = "PUBLIC_BASE_URL",
        value_name = "PUBLIC_BASE_URL",
        help_heading = "Serving"
    )]
    pub public_base_url: Option<PublicUrl>,

    /// Worker threads serving requests (1 to 512, actix-web's own limit); default: one per
    /// CPU core.
    #[arg(long, env = "WORKERS", value_name = "WORKERS", help_heading = "Serving",
        value_parser = parse::count("WORKERS", "threads", 1, 512))]
    pub workers: Option<usize>,

    /// The largest request body accepted on a connector action, in bytes (1 to 1 GiB; 32 MiB by
    /// default, for files); larger ones get `413`.
    #[arg(long = "max-body-bytes", env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES",
        default_value = "33554432", help_heading = "Serving",
        value_parser = parse::count("MAX_BODY_BYTES", "bytes", 1, GIB))]
    pub max_body_bytes: usize,

    /// The memory the connector actions' request bodies may hold at once, in bytes (1 to
    /// 16 GiB; at least `MAX_BODY_BYTES`); default: twice `MAX_BODY_BYTES` (64 MiB). A call
    /// holds about twice its body while it runs; a body that finds no room within a second gets
    /// `503` with `Retry-After`.
    #[arg(long = "body-memory-bytes", env = "BODY_MEMORY_BYTES", value_name = "BODY_MEMORY_BYTES",
        help_heading = "Serving",
        value_parser = parse::count("BODY_MEMORY_BYTES", "bytes", 1, 16 * GIB))]
    pub body_memory_bytes: Option<usize>,

    /// The largest request body of the OpenRouter-compatible pass-through (`/api/v1/*`), in
    /// bytes (1 to 4 GiB), for images and files.
    #[arg(long = "passthrough-max-body-bytes", env = "PASSTHROUGH_MAX_BODY_BYTES",
        value_name = "PASSTHROUGH_MAX_BODY_BYTES", default_value = "33554432",
        help_heading = "Serving",
        value_parser = parse::count("PASSTHROUGH_MAX_BODY_BYTES", "bytes", 1, 4 * GIB))]
    pub passthrough_max_body_bytes: usize,

    /// OpenRouter's API base URL; every upstream call goes below it.
    #[arg(long, env = "OPENROUTER_BASE_URL", value_name = "OPENROUTER_BASE_URL",
        default_value = DEFAULT_OPENROUTER_BASE_URL, help_heading = "OpenRouter",
        value_parser = parse::http_url("OPENROUTER_BASE_URL"))]
    pub openrouter_base_url: Url,

    /// Seconds to wait for OpenRouter's whole answer before answering `504` (1 to 86400).
    #[arg(long = "upstream-timeout-secs", env = "UPSTREAM_TIMEOUT_SECS",
        value_name = "UPSTREAM_TIMEOUT_SECS", default_value = "110", help_heading = "OpenRouter",
        value_parser = parse::seconds("UPSTREAM_TIMEOUT_SECS", 1, DAY))]
    pub upstream_timeout: Duration,

    /// Seconds to wait for a connection to OpenRouter (1 to 3600).
    #[arg(long = "upstream-connect-timeout-secs", env = "UPSTREAM_CONNECT_TIMEOUT_SECS",
        value_name = "UPSTREAM_CONNECT_TIMEOUT_SECS", default_value = "5",
        help_heading = "OpenRouter",
        value_parser = parse::seconds("UPSTREAM_CONNECT_TIMEOUT_SECS", 1, HOUR))]
    pub upstream_connect_timeout: Duration,

    /// Upstream calls allowed in flight at once (1 to 1000000); beyond them a call waits up to a
    /// second for a slot, then gets `503`.
    #[arg(long = "max-concurrent-upstream", env = "MAX_CONCURRENT_UPSTREAM",
        value_name = "MAX_CONCURRENT_UPSTREAM", default_value = "1024",
        help_heading = "OpenRouter",
        value_parser = parse::count("MAX_CONCURRENT_UPSTREAM", "calls", 1, 1_000_000))]
    pub max_concurrent_upstream: usize,

    /// Seconds Get Generation keeps asking while OpenRouter answers `404` (it writes a
    /// generation's record a few seconds after the generation); 0 passes the first `404` on
    /// (0 to 600).
    #[arg(long = "generation-wait-secs", env = "GENERATION_WAIT_SECS",
        value_name = "GENERATION_WAIT_SECS", default_value = "3", help_heading = "OpenRouter",
        value_parser = parse::seconds("GENERATION_WAIT_SECS", 0, 600))]
    pub generation_wait: Duration,

    /// Seconds a streamed answer may stay silent before the pass-through ends it with an SSE
    /// error event (1 to 86400).
    #[arg(long = "stream-idle-timeout-secs", env = "STREAM_IDLE_TIMEOUT_SECS",
        value_name = "STREAM_IDLE_TIMEOUT_SECS", default_value = "60",
        help_heading = "OpenRouter",
        value_parser = parse::seconds("STREAM_IDLE_TIMEOUT_SECS", 1, DAY))]
    pub stream_idle_timeout: Duration,

    /// Sent upstream as `HTTP-Referer`, for OpenRouter's app attribution.
    #[arg(long, env = "APP_REFERER", value_name = "APP_REFERER", help_heading = "OpenRouter",
        value_parser = parse::header_text("APP_REFERER"))]
    pub app_referer: Option<String>,

    /// Sent upstream as `X-Title`, for OpenRouter's app attribution.
    #[arg(long, env = "APP_TITLE", value_name = "APP_TITLE", help_heading = "OpenRouter",
        value_parser = parse::header_text("APP_TITLE"))]
    pub app_title: Option<String>,

    /// Calls each connection (API key) may make per 60 seconds on average (1 to 60000000: one
    /// a microsecond, the finest step the Redis limiter counts).
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", value_name = "RATE_LIMIT_PER_MINUTE",
        default_value = "100", help_heading = "Rate limit",
        value_parser = parse::calls("RATE_LIMIT_PER_MINUTE", 60_000_000))]
    pub rate_limit_per_minute: u32,

    /// Calls each connection may make at once before the per-minute pace applies (1 to
    /// 1000000).
    #[arg(long, env = "RATE_LIMIT_BURST", value_name = "RATE_LIMIT_BURST",
        default_value = "100", help_heading = "Rate limit",
        value_parser = parse::calls("RATE_LIMIT_BURST", 1_000_000))]
    pub rate_limit_burst: u32,

    /// A Redis to share the rate limit and async jobs across replicas (e.g.
    /// `redis://redis:6379/0`); without it each process keeps its own.
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL", help_heading = "Redis",
        value_parser = parse::redis_url)]
    pub redis_url: Option<String>,

    /// Milliseconds to wait for Redis before treating it as unreachable (1 to 60000).
    #[arg(long = "redis-timeout-ms", env = "REDIS_TIMEOUT_MS", value_name = "REDIS_TIMEOUT_MS",
        default_value = "50", help_heading = "Redis",
        value_parser = parse::millis("REDIS_TIMEOUT_MS", 1, 60_000))]
    pub redis_timeout: Duration,

    /// When Redis is unreachable: let calls through unlimited (`true`), or refuse them with
    /// `503` and report not ready (`false`, the default).
    #[arg(long, env = "REDIS_FAIL_OPEN", value_name = "REDIS_FAIL_OPEN",
        default_value_t = false, action = clap::ArgAction::Set, help_heading = "Redis")]
    pub redis_fail_open: bool,

    /// Seconds a Completion or Chat Completion sent with `Prefer: respond-async` may take before
    /// the caller gets `202 Accepted` and a job to poll (under Copilot Studio's 100 s; 1 to
    /// 86400).
    #[arg(long = "async-after-secs", env = "ASYNC_AFTER_SECS", value_name = "ASYNC_AFTER_SECS",
        default_value = "90", help_heading = "Long generations",
        value_parser = parse::seconds("ASYNC_AFTER_SECS", 1, DAY))]
    pub async_after: Duration,

    /// Seconds an asynchronous generation may run in all (1 to 604800, a week).
    #[arg(long = "job-timeout-secs", env = "JOB_TIMEOUT_SECS", value_name = "JOB_TIMEOUT_SECS",
        default_value = "900", help_heading = "Long generations",
        value_parser = parse::seconds("JOB_TIMEOUT_SECS", 1, 7 * DAY))]
    pub job_timeout: Duration,

    /// Calls of one connection carrying `Prefer: respond-async` in flight at once, in this
    /// process (1 to 100000); the next gets `429` before any upstream call.
    #[arg(long = "max-jobs-per-connection", env = "MAX_JOBS_PER_CONNECTION",
        value_name = "MAX_JOBS_PER_CONNECTION", default_value = "16",
        help_heading = "Long generations",
        value_parser = parse::count("MAX_JOBS_PER_CONNECTION", "calls", 1, 100_000))]
    pub max_jobs_per_connection: usize,

    /// Seconds a finished job's answer is kept for polling (1 to 2592000, 30 days).
    #[arg(long = "job-ttl-secs", env = "JOB_TTL_SECS", value_name = "JOB_TTL_SECS",
        default_value = "3600", help_heading = "Long generations",
        value_parser = parse::seconds("JOB_TTL_SECS", 1, 30 * DAY))]
    pub job_ttl: Duration,

    /// Seconds that calls in flight get to finish after SIGTERM or SIGINT, before the process
    /// exits (0 to 3600).
    #[arg(long = "shutdown-grace-secs", env = "SHUTDOWN_GRACE_SECS",
        value_name = "SHUTDOWN_GRACE_SECS", default_value = "30", help_heading = "Shutdown",
        value_parser = parse::seconds("SHUTDOWN_GRACE_SECS", 0, HOUR))]
    pub shutdown_grace: Duration,

    /// Seconds after SIGTERM or SIGINT during which new calls and readiness get `503` with
    /// `Retry-After` while the listener stays open, so load balancers stop sending (0 to 3600).
    #[arg(long = "shutdown-drain-secs", env = "SHUTDOWN_DRAIN_SECS",
        value_name = "SHUTDOWN_DRAIN_SECS", default_value = "5", help_heading = "Shutdown",
        value_parser = parse::seconds("SHUTDOWN_DRAIN_SECS", 0, HOUR))]
    pub shutdown_drain: Duration,

    /// Test-only: milliseconds that replace `UPSTREAM_TIMEOUT_SECS`,
    /// `STREAM_IDLE_TIMEOUT_SECS` and `GENERATION_WAIT_SECS`, so tests of timeouts take a
    /// fraction of a second (1 to 600000). Hidden from `--help`.
    #[arg(long = "test-timeout-ms", env = "OPENROUTER_CONNECTOR_TEST_TIMEOUT_MS",
        value_name = "OPENROUTER_CONNECTOR_TEST_TIMEOUT_MS", hide = true,
        value_parser = parse::millis("OPENROUTER_CONNECTOR_TEST_TIMEOUT_MS", 1, 600_000))]
    pub test_timeout: Option<Duration>,

    /// Log line format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        value_enum,
        default_value = "json",
        help_heading = "Logging"
    )]
    pub log_format: LogFormat,

    /// What to log, in `tracing` filter syntax (e.g. `info`, `openrouter_connector=debug`).
    #[arg(long, env = "RUST_LOG", value_name = "RUST_LOG", default_value = "info",
        help_heading = "Logging", value_parser = parse::log_filter)]
    pub rust_log: String,

    /// A one-off task instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// One-off tasks of the binary.
#[derive(Clone, Debug, Subcommand)]
pub enum Command {
    /// Write the OpenAPI 3.1 document of the service to a file and exit.
    WriteOpenapi {
        /// Where to write it.
        #[arg(default_value = "openapi/openapi.json")]
        path: PathBuf,
    },
    /// Write the Power Platform connector folder (apiDefinition.swagger.json, apiProperties.json,
    /// settings.json, icon.png, readme.md) for a deployment and exit.
    WriteConnector {
        /// The deployment's public URL, e.g. `https://connector.example.com`; without it the
        /// placeholder host `openrouter-connector.example.com` is written.
        #[arg(long, value_name = "URL")]
        public_url: Option<PublicUrl>,
        /// The folder to write. Default: `connector` (the committed files) without
        /// `--public-url`, and `connector-<host>` with it, so a deployment's files never
        /// overwrite the committed ones unless asked.
        dir: Option<PathBuf>,
    },
}

impl Command {
    /// The folder `write-connector` writes: the one given, else `connector` for the placeholder
    /// files and `connector-<host>` for a deployment's.
    pub fn connector_dir(public_url: Option<&PublicUrl>, dir: Option<&PathBuf>) -> PathBuf {
        match (dir, public_url) {
            (Some(dir), _) => dir.clone(),
            (None, None) => PathBuf::from("connector"),
            (None, Some(url)) => {
                let host: String = url
                    .host()
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect();
                PathBuf::from(format!("connector-{host}"))
            }
        }
    }
}

impl Settings {
    /// Settings for tests and embedding: every default, upstream at `base_url`, bound to a free
    /// loopback port.
    pub fn for_upstream(base_url: &str) -> Result<Settings, clap::Error> {
        Settings::try_parse_from([
            "openrouter-connector",
            "--bind=127.0.0.1:0",
            &format!("--openrouter-base-url={base_url}"),
        ])
    }

    /// The settings the service runs with: the test-only timeout, where given, replaces the
    /// upstream, stream-idle and generation-wait durations.
    pub fn effective(mut self) -> Settings {
        if let Some(timeout) = self.test_timeout {
            self.upstream_timeout = timeout;
            self.stream_idle_timeout = timeout;
            self.generation_wait = timeout;
        }
        self
    }

    /// `BODY_MEMORY_BYTES`, or twice `MAX_BODY_BYTES` when it is not set.
    pub fn body_memory(&self) -> usize {
        self.body_memory_bytes
            .unwrap_or(self.max_body_bytes.saturating_mul(2))
    }

    /// The per-connection limit.
    pub fn quota(&self) -> crate::rate_limit::Quota {
        crate::rate_limit::Quota {
            per_minute: self.rate_limit_per_minute,
            burst: self.rate_limit_burst,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["openrouter-connector"];
        all.extend_from_slice(args);
        Settings::try_parse_from(all).map_err(|error| error.to_string())
    }

    #[test]
    fn defaults_match_the_contract() {
        let settings = with(&[]).unwrap();
        assert_eq!(settings.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(
            settings.openrouter_base_url.as_str(),
            DEFAULT_OPENROUTER_BASE_URL
        );
        assert_eq!(settings.upstream_timeout, Duration::from_secs(110));
        assert_eq!(settings.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(settings.body_memory(), 64 * 1024 * 1024);
        assert_eq!(
            (settings.rate_limit_per_minute, settings.rate_limit_burst),
            (100, 100)
        );
        assert_eq!(settings.redis_timeout, Duration::from_millis(50));
        assert_eq!(settings.job_timeout, Duration::from_secs(900));
        assert!(!settings.redis_fail_open);
    }

    #[test]
    fn a_base_url_without_http_is_rejected_naming_the_variable() {
        let error = with(&["--openrouter-base-url", "ftp://x"]).unwrap_err();
        assert!(error.contains("OPENROUTER_BASE_URL"), "{error}");
    }

    #[test]
    fn a_bad_bind_address_names_the_variable() {
        let error = with(&["--bind", "nowhere"]).unwrap_err();
        assert!(error.contains("BIND"), "{error}");
    }

    #[test]
    fn a_bad_redis_url_names_the_variable() {
        let error = with(&["--redis-url", "http://not-redis"]).unwrap_err();
        assert!(error.contains("REDIS_URL"), "{error}");
    }

    #[test]
    fn a_zero_limit_is_rejected() {
        let error = with(&["--rate-limit-per-minute", "0"]).unwrap_err();
        assert!(error.contains("RATE_LIMIT_PER_MINUTE"), "{error}");
    }

    #[test]
    fn a_zero_timeout_is_rejected() {
        let error = with(&["--upstream-timeout-secs", "0"]).unwrap_err();
        assert!(error.contains("UPSTREAM_TIMEOUT_SECS"), "{error}");
    }

    #[test]
    fn a_size_with_a_unit_names_the_variable_and_its_range() {
        let error = with(&["--max-body-bytes", "4MB"]).unwrap_err();
        assert!(
            error.contains("MAX_BODY_BYTES must be a whole number of bytes from 1 to 1073741824"),
            "{error}"
        );
    }

    #[test]
    fn a_duration_too_long_for_this_machine_is_refused_not_a_panic_later() {
        for (flag, var) in [
            ("--upstream-timeout-secs", "UPSTREAM_TIMEOUT_SECS"),
            ("--stream-idle-timeout-secs", "STREAM_IDLE_TIMEOUT_SECS"),
            ("--job-timeout-secs", "JOB_TIMEOUT_SECS"),
            ("--job-ttl-secs", "JOB_TTL_SECS"),
            ("--async-after-secs", "ASYNC_AFTER_SECS"),
            ("--shutdown-grace-secs", "SHUTDOWN_GRACE_SECS"),
            ("--redis-timeout-ms", "REDIS_TIMEOUT_MS"),
        ] {
            let error = with(&[flag, "18446744073709551615"]).unwrap_err();
            assert!(error.contains(var), "{flag}: {error}");
        }
    }

    #[test]
    fn every_duration_setting_is_bounded_below_a_year() {
        let largest = with(&[
            "--upstream-timeout-secs=86400",
            "--job-timeout-secs=604800",
            "--job-ttl-secs=2592000",
        ])
        .unwrap();
        for duration in [
            largest.upstream_timeout,
            largest.job_timeout,
            largest.job_ttl,
        ] {
            assert!(duration <= Duration::from_secs(MAX_SECS));
        }
    }

    #[test]
    fn an_attribution_header_with_a_newline_is_rejected() {
        let error = with(&["--app-title", "a\nb"]).unwrap_err();
        assert!(error.contains("APP_TITLE"), "{error}");
    }

    #[test]
    fn a_deployment_s_connector_files_go_beside_the_committed_ones_not_over_them() {
        let public: PublicUrl = "https://flows.example.com:8443/x".parse().unwrap();
        assert_eq!(
            Command::connector_dir(Some(&public), None),
            PathBuf::from("connector-flows.example.com-8443")
        );
        assert_eq!(
            Command::connector_dir(None, None),
            PathBuf::from("connector")
        );
        let chosen = PathBuf::from("mine");
        assert_eq!(Command::connector_dir(Some(&public), Some(&chosen)), chosen);
    }

    #[test]
    fn more_workers_than_actix_web_allows_are_refused_at_start_up_not_a_panic() {
        let error = with(&["--workers", "513"]).unwrap_err();
        assert!(
            error.contains("WORKERS must be a whole number of threads from 1 to 512"),
            "{error}"
        );
        assert_eq!(with(&["--workers", "512"]).unwrap().workers, Some(512));
    }

    #[test]
    fn the_highest_rate_still_replenishes_at_least_a_microsecond_apart() {
        let fastest = with(&["--rate-limit-per-minute", "60000000"]).unwrap();
        assert!(fastest.quota().period() >= Duration::from_micros(1));
        let error = with(&["--rate-limit-per-minute", "60000001"]).unwrap_err();
        assert!(error.contains("from 1 to 60000000"), "{error}");
    }
}
