//! Statistics over the samples (percentiles, medians, what a path adds over the direct one) and
//! how the tables write them: microseconds, MiB, answers and errors, "met?".

use std::fmt::Write as _;

use crate::generator::Samples;

/// KiB in a MiB: memory targets are written `20 * MIB` against RSS in KiB.
pub const MIB: u64 = 1024;

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// p50, p99, p99.9 of `values` (sorted in place).
pub fn quantiles(values: &mut [u64]) -> [Option<u64>; 3] {
    values.sort_unstable();
    [
        percentile(values, 0.5),
        percentile(values, 0.99),
        percentile(values, 0.999),
    ]
}

/// p50, p99, p99.9 of the latencies of the answers with `status`.
pub fn ok_quantiles(samples: &Samples, status: u16) -> [Option<u64>; 3] {
    let mut values = samples.latency.get(&status).cloned().unwrap_or_default();
    quantiles(&mut values)
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Nanoseconds as µs or ms, or "—" when there is no value.
pub fn us(ns: Option<u64>) -> String {
    match ns {
        None => "—".to_owned(),
        Some(ns) => signed_us(ns as i64, false),
    }
}

/// Nanoseconds as µs or ms, with a "+" on a non-negative value when `sign` is set.
pub fn signed_us(ns: i64, sign: bool) -> String {
    let plus = if sign && ns >= 0 { "+" } else { "" };
    let abs = ns.unsigned_abs();
    let minus = if ns < 0 { "−" } else { "" };
    if abs >= 1_000_000 {
        format!("{plus}{minus}{:.2} ms", abs as f64 / 1e6)
    } else if abs >= 10_000 {
        format!("{plus}{minus}{:.0} µs", abs as f64 / 1e3)
    } else {
        format!("{plus}{minus}{:.1} µs", abs as f64 / 1e3)
    }
}

/// What a path adds over its baseline, in nanoseconds.
pub fn added(path: Option<u64>, base: Option<u64>) -> Option<i64> {
    Some(path? as i64 - base? as i64)
}

pub fn added_text(value: Option<i64>) -> String {
    value.map_or_else(|| "—".to_owned(), |ns| signed_us(ns, true))
}

pub fn mib(kib: u64) -> String {
    if kib == 0 {
        "—".to_owned()
    } else {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }
}

/// A count with thousands separated by commas: 2,000.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// The answers by status, e.g. "980×200, 20×429".
pub fn answers_text(samples: &Samples) -> String {
    samples
        .latency
        .iter()
        .map(|(status, v)| format!("{}×{status}", v.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "errors / drops", errors counting unexpected statuses, with the kinds of error.
pub fn errors_text(samples: &Samples, expected: &[u16]) -> String {
    let unexpected = samples.unexpected(expected);
    let mut text = format!("{} / {}", samples.error_count() + unexpected, samples.drops);
    if samples.error_count() > 0 {
        let kinds: Vec<String> = samples
            .errors
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = write!(text, " ({})", kinds.join(", "));
    }
    text
}

/// The answers and the errors of a broken path, or "no answer".
pub fn answers_or_errors(samples: &Samples) -> String {
    let mut parts = vec![answers_text(samples)];
    parts.extend(samples.errors.iter().map(|(kind, n)| format!("{n} {kind}")));
    parts.retain(|p| !p.is_empty());
    if parts.is_empty() {
        "no answer".to_owned()
    } else {
        parts.join(", ")
    }
}
