//! The one reader of an upstream `Retry-After`: delay-seconds or an HTTP date (RFC 9110
//! section 10.2.3), of any size, never failing. Retries and error mapping both read it here.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};

/// The longest wait the service passes on to a caller: a day. Upstream may name any wait;
/// a caller told to come back in 10^20 seconds has been told nothing useful.
pub const LONGEST_PASSED_ON: Duration = Duration::from_secs(24 * 60 * 60);

/// The wait upstream's `Retry-After` header names, counted from `now`: `None` when there is
/// none or it is unreadable (negative, not a number, not a date). A wait too long to be a
/// `Duration` saturates; a date in the past is no wait.
pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse(text, now)
}

/// The wait `text` names: see [`from_headers`].
pub fn parse(text: &str, now: SystemTime) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        // Any number of digits: past u64, saturate.
        return Some(
            text.parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    if let Some(seconds) = text.parse::<f64>().ok().filter(|s| s.is_finite()) {
        // Not RFC 9110's form, but sent by some servers (`1.5`, `1e3`): read, never negative.
        return (seconds >= 0.0).then(|| seconds_saturating(seconds));
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A wait in seconds from a JSON number (OpenRouter's `metadata.retry_after_seconds`): `None`
/// when negative or not finite.
pub fn from_seconds(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| seconds_saturating(seconds))
}

/// Whole seconds for a `Retry-After` the service sends: rounded up, at least 1, at most
/// [`LONGEST_PASSED_ON`].
pub fn whole_seconds_to_pass_on(wait: Duration) -> u64 {
    let capped = wait.min(LONGEST_PASSED_ON);
    let whole = capped.as_secs() + u64::from(capped.subsec_nanos() > 0);
    whole.max(1)
}

fn seconds_saturating(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<Duration> {
        parse(
            text,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )
    }

    #[test]
    fn delay_seconds_of_any_size_are_read_and_saturate() {
        assert_eq!(at("7"), Some(Duration::from_secs(7)));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        assert_eq!(at("18446744073709551616"), Some(Duration::MAX));
        assert_eq!(at(&"9".repeat(400)), Some(Duration::MAX));
        assert_eq!(at("1e20"), Some(Duration::MAX));
        assert_eq!(at("1.5"), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn unreadable_or_negative_values_are_no_wait_at_all() {
        for text in ["", "-5", "abc", "NaN", "inf", "-1e20", "5 s"] {
            assert_eq!(at(text), None, "{text:?}");
        }
    }

    #[test]
    fn an_http_date_is_a_wait_from_now_and_one_in_the_past_is_none_left() {
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        assert_eq!(
            at("Tue, 14 Nov 2023 22:14:20 GMT"),
            Some(Duration::from_secs(60))
        );
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
    }

    #[test]
    fn what_is_passed_on_is_whole_seconds_from_1_to_a_day() {
        assert_eq!(whole_seconds_to_pass_on(Duration::ZERO), 1);
        assert_eq!(whole_seconds_to_pass_on(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds_to_pass_on(Duration::MAX), 86_400);
        assert_eq!(from_seconds(-5.0), None);
        assert_eq!(
            from_seconds(16.007),
            Duration::try_from_secs_f64(16.007).ok()
        );
    }
}
