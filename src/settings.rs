//! Typed settings, from environment variables or the equivalent command-line flags, checked at
//! start-up so that a bad value stops the service with a message naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use reqwest::Url;

use crate::domain::PublicUrl;

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
/// name in capitals (`--max-body-bytes` is `MAX_BODY_BYTES`).
#[derive(Clone, Debug, Parser)]
#[command(name = "openrouter-connector", version, about)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "BIND",
        value_name = "BIND",
        default_value = "0.0.0.0:8080"
    )]
    pub bind: SocketAddr,

    /// OpenRouter's API base URL; every upstream call goes below it.
    #[arg(
        long,
        env = "OPENROUTER_BASE_URL",
        value_name = "OPENROUTER_BASE_URL",
        default_value = DEFAULT_OPENROUTER_BASE_URL
    )]
    pub openrouter_base_url: String,

    /// The public URL of this deployment (e.g. `https://connector.example.com`), used in the
    /// connector definition and in `Location` headers; without it the request's host is used.
    #[arg(long, env = "PUBLIC_BASE_URL", value_name = "PUBLIC_BASE_URL")]
    pub public_base_url: Option<PublicUrl>,

    /// Seconds to wait for OpenRouter's whole answer before answering `504`.
    #[arg(
        long,
        env = "UPSTREAM_TIMEOUT_SECS",
        value_name = "UPSTREAM_TIMEOUT_SECS",
        default_value_t = 110
    )]
    pub upstream_timeout_secs: u64,

    /// Seconds to wait for a connection to OpenRouter.
    #[arg(
        long,
        env = "UPSTREAM_CONNECT_TIMEOUT_SECS",
        value_name = "UPSTREAM_CONNECT_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub upstream_connect_timeout_secs: u64,

    /// The largest request body accepted on a connector action, in bytes; larger ones get `413`.
    #[arg(long, env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Upstream calls allowed in flight at once; beyond them a call waits up to a second for a
    /// slot, then gets `503`.
    #[arg(
        long,
        env = "MAX_CONCURRENT_UPSTREAM",
        value_name = "MAX_CONCURRENT_UPSTREAM",
        default_value_t = 1024
    )]
    pub max_concurrent_upstream: usize,

    /// Seconds Get Generation keeps asking while OpenRouter answers `404` (it writes a
    /// generation's record a few seconds after the generation); 0 passes the first `404` on.
    #[arg(
        long,
        env = "GENERATION_WAIT_SECS",
        value_name = "GENERATION_WAIT_SECS",
        default_value_t = 3
    )]
    pub generation_wait_secs: u64,

    /// The largest request body of the OpenRouter-compatible pass-through (`/api/v1/*`), in
    /// bytes, for images and files.
    #[arg(
        long,
        env = "PASSTHROUGH_MAX_BODY_BYTES",
        value_name = "PASSTHROUGH_MAX_BODY_BYTES",
        default_value_t = 32 * 1024 * 1024
    )]
    pub passthrough_max_body_bytes: usize,

    /// Seconds a streamed answer may stay silent before the pass-through ends it with an SSE
    /// error event.
    #[arg(
        long,
        env = "STREAM_IDLE_TIMEOUT_SECS",
        value_name = "STREAM_IDLE_TIMEOUT_SECS",
        default_value_t = 60
    )]
    pub stream_idle_timeout_secs: u64,

    /// Calls each connection (API key) may make per 60 seconds on average.
    #[arg(
        long,
        env = "RATE_LIMIT_PER_MINUTE",
        value_name = "RATE_LIMIT_PER_MINUTE",
        default_value_t = 100
    )]
    pub rate_limit_per_minute: u32,

    /// Calls each connection may make at once before the per-minute pace applies.
    #[arg(
        long,
        env = "RATE_LIMIT_BURST",
        value_name = "RATE_LIMIT_BURST",
        default_value_t = 100
    )]
    pub rate_limit_burst: u32,

    /// A Redis to share the rate limit across replicas (e.g. `redis://redis:6379/0`); without it
    /// each process limits alone.
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL")]
    pub redis_url: Option<String>,

    /// Milliseconds to wait for Redis before treating it as unreachable.
    #[arg(
        long,
        env = "REDIS_TIMEOUT_MS",
        value_name = "REDIS_TIMEOUT_MS",
        default_value_t = 50
    )]
    pub redis_timeout_ms: u64,

    /// When Redis is unreachable: let calls through unlimited (`true`), or refuse them with
    /// `503` and report not ready (`false`, the default).
    #[arg(
        long,
        env = "REDIS_FAIL_OPEN",
        value_name = "REDIS_FAIL_OPEN",
        default_value_t = false,
        action = clap::ArgAction::Set
    )]
    pub redis_fail_open: bool,

    /// Sent upstream as `HTTP-Referer`, for OpenRouter's app attribution.
    #[arg(long, env = "APP_REFERER", value_name = "APP_REFERER")]
    pub app_referer: Option<String>,

    /// Sent upstream as `X-Title`, for OpenRouter's app attribution.
    #[arg(long, env = "APP_TITLE", value_name = "APP_TITLE")]
    pub app_title: Option<String>,

    /// Worker threads serving requests; default: one per CPU core.
    #[arg(long, env = "WORKERS", value_name = "WORKERS")]
    pub workers: Option<usize>,

    /// Seconds a Completion or Chat Completion sent with `Prefer: respond-async` may take before
    /// the caller gets `202 Accepted` and a job to poll (under Copilot Studio's 100 s).
    #[arg(
        long,
        env = "ASYNC_AFTER_SECS",
        value_name = "ASYNC_AFTER_SECS",
        default_value_t = 90
    )]
    pub async_after_secs: u64,

    /// Seconds an asynchronous generation may run in all.
    #[arg(
        long,
        env = "JOB_TIMEOUT_SECS",
        value_name = "JOB_TIMEOUT_SECS",
        default_value_t = 900
    )]
    pub job_timeout_secs: u64,

    /// Seconds a finished job's answer is kept for polling.
    #[arg(
        long,
        env = "JOB_TTL_SECS",
        value_name = "JOB_TTL_SECS",
        default_value_t = 3600
    )]
    pub job_ttl_secs: u64,

    /// Seconds that calls in flight get to finish after SIGTERM or SIGINT, before the process
    /// exits.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECS",
        value_name = "SHUTDOWN_GRACE_SECS",
        default_value_t = 30
    )]
    pub shutdown_grace_secs: u64,

    /// Log line format.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_name = "LOG_FORMAT",
        value_enum,
        default_value = "json"
    )]
    pub log_format: LogFormat,

    /// What to log, in `tracing` filter syntax (e.g. `info`, `openrouter_connector=debug`).
    #[arg(
        long,
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info"
    )]
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
        /// The folder to write.
        #[arg(default_value = "connector")]
        dir: PathBuf,
    },
}

impl Settings {
    /// Settings for tests and embedding: every default, upstream at `base_url`, bound to a free
    /// loopback port.
    pub fn for_upstream(base_url: &str) -> Settings {
        let mut settings = Settings::parse_from(["openrouter-connector"]);
        settings.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        settings.openrouter_base_url = base_url.to_owned();
        settings
    }

    /// Checks what clap cannot: URLs, positive numbers, header-safe values.
    pub fn validate(&self) -> Result<(), String> {
        http_url("OPENROUTER_BASE_URL", &self.openrouter_base_url)?;
        positive("UPSTREAM_TIMEOUT_SECS", self.upstream_timeout_secs)?;
        positive(
            "UPSTREAM_CONNECT_TIMEOUT_SECS",
            self.upstream_connect_timeout_secs,
        )?;
        positive("MAX_BODY_BYTES", self.max_body_bytes as u64)?;
        positive(
            "RATE_LIMIT_PER_MINUTE",
            u64::from(self.rate_limit_per_minute),
        )?;
        positive("RATE_LIMIT_BURST", u64::from(self.rate_limit_burst))?;
        positive("REDIS_TIMEOUT_MS", self.redis_timeout_ms)?;
        if let Some(url) = &self.redis_url {
            redis::Client::open(url.as_str())
                .map_err(|error| format!("REDIS_URL is not a Redis URL ({error})"))?;
        }
        if let Some(workers) = self.workers {
            positive("WORKERS", workers as u64)?;
        }
        for (name, value) in [
            ("APP_REFERER", &self.app_referer),
            ("APP_TITLE", &self.app_title),
        ] {
            if let Some(value) = value
                && reqwest::header::HeaderValue::from_str(value).is_err()
            {
                return Err(format!(
                    "{name} must be printable ASCII, usable as an HTTP header value"
                ));
            }
        }
        tracing_subscriber::EnvFilter::try_new(&self.rust_log)
            .map_err(|error| format!("RUST_LOG is not a valid filter: {error}"))?;
        Ok(())
    }

    /// The overall deadline of one upstream call.
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_timeout_secs)
    }

    /// The per-connection limit.
    pub fn quota(&self) -> crate::rate_limit::Quota {
        crate::rate_limit::Quota {
            per_minute: self.rate_limit_per_minute,
            burst: self.rate_limit_burst,
        }
    }

    /// The deadline for opening a connection to OpenRouter.
    pub fn upstream_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.upstream_connect_timeout_secs)
    }
}

fn http_url(name: &str, value: &str) -> Result<Url, String> {
    let url =
        Url::parse(value).map_err(|error| format!("{name} is not a URL ({error}): {value}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "{name} must be an http:// or https:// URL with a host: {value}"
        ));
    }
    Ok(url)
}

fn positive(name: &str, value: u64) -> Result<(), String> {
    if value == 0 {
        return Err(format!("{name} must be greater than 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["openrouter-connector"];
        all.extend_from_slice(args);
        let settings = Settings::try_parse_from(all).map_err(|error| error.to_string())?;
        settings.validate().map(|()| settings)
    }

    #[test]
    fn defaults_match_the_contract() {
        let settings = with(&[]).unwrap();
        assert_eq!(settings.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(settings.openrouter_base_url, DEFAULT_OPENROUTER_BASE_URL);
        assert_eq!(settings.upstream_timeout_secs, 110);
        assert_eq!(settings.max_body_bytes, 4 * 1024 * 1024);
        assert_eq!(
            (settings.rate_limit_per_minute, settings.rate_limit_burst),
            (100, 100)
        );
        assert_eq!(settings.redis_timeout_ms, 50);
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
    fn an_attribution_header_with_a_newline_is_rejected() {
        let error = with(&["--app-title", "a\nb"]).unwrap_err();
        assert!(error.contains("APP_TITLE"), "{error}");
    }
}
