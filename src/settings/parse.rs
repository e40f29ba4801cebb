//! The value parsers of the settings: each turns the text of one variable into its type, or
//! says, naming the variable, which values it takes. clap adds the flag and the value.

use std::time::Duration;

use reqwest::Url;

/// The longest a duration setting may be: a year, far beyond any sensible value, and small
/// enough that adding it to any instant of the process's life cannot overflow.
pub const MAX_SECS: u64 = 365 * 24 * 60 * 60;

/// Whole seconds from `min` to `max`.
pub fn seconds(
    var: &'static str,
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| whole(var, text, min, max, "seconds").map(Duration::from_secs)
}

/// Whole milliseconds from `min` to `max`.
pub fn millis(
    var: &'static str,
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<Duration, String> + Clone + Send + Sync + 'static {
    move |text| whole(var, text, min, max, "milliseconds").map(Duration::from_millis)
}

/// A count (bytes, calls, workers) from `min` to `max`.
pub fn count(
    var: &'static str,
    unit: &'static str,
    min: u64,
    max: u64,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| {
        let value = whole(var, text, min, max, unit)?;
        usize::try_from(value).map_err(|_| format!("{var} is too large for this machine"))
    }
}

/// Calls per minute or at once, from 1 to a million.
pub fn calls(var: &'static str) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync {
    move |text| {
        let value = whole(var, text, 1, 1_000_000, "calls")?;
        u32::try_from(value).map_err(|_| format!("{var} is too large"))
    }
}

fn whole(var: &str, text: &str, min: u64, max: u64, unit: &str) -> Result<u64, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|value| (min..=max).contains(value))
        .ok_or_else(|| format!("{var} must be a whole number of {unit} from {min} to {max}"))
}

/// An `http://` or `https://` URL with a host; a trailing `/` is dropped, so paths are
/// appended below it.
pub fn http_url(var: &'static str) -> impl Fn(&str) -> Result<Url, String> + Clone + Send + Sync {
    move |text| {
        let url = Url::parse(text.trim().trim_end_matches('/'))
            .map_err(|error| format!("{var} is not a URL ({error})"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!(
                "{var} must be an http:// or https:// URL with a host"
            ));
        }
        Ok(url)
    }
}

/// A Redis URL (`redis://host:6379/0`, `rediss://…`, `unix://…`).
pub fn redis_url(text: &str) -> Result<String, String> {
    redis::Client::open(text)
        .map(|_| text.to_owned())
        .map_err(|error| format!("REDIS_URL is not a Redis URL ({error})"))
}

/// Text that can be sent as an HTTP header value.
pub fn header_text(
    var: &'static str,
) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync {
    move |text| {
        reqwest::header::HeaderValue::from_str(text)
            .map(|_| text.to_owned())
            .map_err(|_| format!("{var} must be printable ASCII, usable as an HTTP header value"))
    }
}

/// A `tracing` filter such as `info` or `openrouter_connector=debug`.
pub fn log_filter(text: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(text)
        .map(|_| text.to_owned())
        .map_err(|error| format!("RUST_LOG is not a valid filter: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_in_range_is_taken() {
        assert_eq!(seconds("X", 1, 10)("10"), Ok(Duration::from_secs(10)));
        assert_eq!(millis("X", 1, 10)(" 3 "), Ok(Duration::from_millis(3)));
        assert_eq!(count("X", "bytes", 1, 10)("1"), Ok(1));
    }

    #[test]
    fn a_value_out_of_range_or_with_a_unit_names_the_variable_and_the_range() {
        for text in [
            "0",
            "11",
            "4MB",
            "-1",
            "1e3",
            "18446744073709551615",
            "99999999999999999999",
        ] {
            let error = seconds("UPSTREAM_TIMEOUT_SECS", 1, 10)(text).unwrap_err();
            assert_eq!(
                error, "UPSTREAM_TIMEOUT_SECS must be a whole number of seconds from 1 to 10",
                "{text}"
            );
        }
    }

    #[test]
    fn the_longest_duration_setting_still_fits_after_any_instant() {
        let now = std::time::Instant::now();
        assert!(now.checked_add(Duration::from_secs(MAX_SECS)).is_some());
    }

    #[test]
    fn a_url_keeps_its_path_without_the_trailing_slash() {
        let url = http_url("X")("https://openrouter.ai/api/v1/").unwrap();
        assert_eq!(url.as_str(), "https://openrouter.ai/api/v1");
        assert!(http_url("X")("ftp://x").is_err());
        assert!(http_url("X")("http://").is_err());
    }
}
