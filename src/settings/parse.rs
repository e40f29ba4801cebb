//! The value parsers of the settings: each turns the text of one variable into its type, or
//! says, naming the variable, which values it takes. clap adds the flag and the value.

use std::time::Duration;

use reqwest::Url;

use crate::domain::spelling;

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

/// Calls per minute or at once, from 1 to `max`.
pub fn calls(
    var: &'static str,
    max: u64,
) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync {
    move |text| {
        let value = whole(var, text, 1, max, "calls")?;
        u32::try_from(value).map_err(|_| format!("{var} is too large"))
    }
}

fn whole(var: &str, text: &str, min: u64, max: u64, unit: &str) -> Result<u64, String> {
    let digits = text.trim();
    // Digits only: `u64::from_str` would also take a leading `+`.
    Some(digits)
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u64>().ok())
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

/// Printable ASCII with something besides spaces, so it can be sent as an HTTP header value
/// (the `http` crate would also let bytes above 127 through).
pub fn header_text(
    var: &'static str,
) -> impl Fn(&str) -> Result<String, String> + Clone + Send + Sync {
    move |text| {
        let printable = text.bytes().all(|b| (b' '..=b'~').contains(&b));
        if printable && !text.trim().is_empty() {
            Ok(text.trim().to_owned())
        } else {
            Err(format!(
                "{var} must be printable ASCII (letters, digits, punctuation, spaces), usable as \
                 an HTTP header value"
            ))
        }
    }
}

/// The levels a `RUST_LOG` directive may name on its own.
const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// A `tracing` filter such as `info` or `openrouter_connector=debug,actix_web=warn`. A bare
/// word is taken by `tracing` as a target name, so a misspelt level (`debg`) would silence every
/// log line: a bare word a couple of typos from a level is refused.
pub fn log_filter(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "RUST_LOG must not be empty; use one of {}",
            LEVELS.join(", ")
        ));
    }
    for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let word = directive.to_ascii_lowercase();
        let bare = !directive.contains(['=', '[', ':']);
        let misspelt_level = !LEVELS.contains(&word.as_str())
            && LEVELS
                .iter()
                .any(|level| spelling::distance(&word, level) <= 2);
        if bare && misspelt_level {
            return Err(format!(
                "RUST_LOG names `{directive}`, which looks like a misspelt level ({}); a module \
                 is written as openrouter_connector=debug",
                LEVELS.join(", ")
            ));
        }
    }
    tracing_subscriber::EnvFilter::try_new(text)
        .map(|_| text.to_owned())
        .map_err(|error| format!("RUST_LOG is not a valid filter: {error}"))
}

/// An IP address and port to listen on.
pub fn socket_address(text: &str) -> Result<std::net::SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        "BIND must be an IP address and a port, such as 0.0.0.0:8080 (every interface) or \
         127.0.0.1:8080 (this machine only); a host name such as localhost cannot be used"
            .to_owned()
    })
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

    #[test]
    fn a_sign_or_an_empty_value_is_not_a_number() {
        for text in ["+5", "", "  ", "5.0"] {
            assert!(seconds("X", 1, 10)(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn header_text_is_printable_ascii_and_not_blank() {
        assert_eq!(
            header_text("APP_TITLE")(" My flows "),
            Ok("My flows".to_owned())
        );
        for text in ["ünï", "a\tb", "   ", ""] {
            let error = header_text("APP_TITLE")(text).unwrap_err();
            assert!(
                error.starts_with("APP_TITLE must be printable ASCII"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_misspelt_log_level_is_refused_rather_than_silencing_the_logs() {
        for text in ["debg", "inf0", "", "info,debg"] {
            assert!(log_filter(text).is_err(), "{text:?}");
        }
        for text in [
            "info",
            "WARN",
            "openrouter_connector=debug,actix_web=warn",
            "hyper",
        ] {
            assert!(log_filter(text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn a_host_name_for_bind_says_which_form_is_wanted() {
        let error = socket_address("localhost:8080").unwrap_err();
        assert!(error.contains("0.0.0.0:8080"), "{error}");
        assert!(socket_address("127.0.0.1:0").is_ok());
    }
}
