//! The tracing subscriber: JSON lines for collectors or pretty lines for a terminal, filtered by
//! `RUST_LOG`. Logs never carry an API key or a prompt: handlers log a connection's hash only.

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// Installs the global subscriber once with `filter` (`RUST_LOG` syntax); later calls, as in
/// tests, are ignored.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _already_set = match format {
        // No span fields in the lines: requests are logged as one event each (`request_id`).
        // Lines are written from the request's thread: a background writer thread
        // (tracing-appender) measured no faster on two cores, as waking it costs a write.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
