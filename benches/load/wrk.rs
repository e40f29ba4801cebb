//! wrk, the closed-loop generator of the throughput and many-connection runs: finding it, the
//! Lua script that makes its requests (method, body, headers, one key), running it, and reading
//! its summary. wrk is written in C with one event loop per thread, so on loopback it sends far
//! more requests per second than the benchmark's own client could, and is not what is measured.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::generator::Template;
use crate::procs;
use crate::servers::missing_is_failure;

/// wrk, if installed (`LOAD_BENCH_WRK` overrides the path; `none` skips wrk). Under `CI=true` a
/// missing wrk that was not refused is an error.
pub fn binary() -> Result<Option<PathBuf>, String> {
    let found = match std::env::var_os("LOAD_BENCH_WRK") {
        Some(path) if path == "none" || path.is_empty() => None,
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.exists()),
        None => ["/usr/bin/wrk", "/usr/local/bin/wrk"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists()),
    };
    if found.is_none() && missing_is_failure("LOAD_BENCH_WRK") {
        return Err(
            "wrk not found, and under CI=true a skipped throughput table is a failure".into(),
        );
    }
    Ok(found)
}

/// wrk's version line (`wrk 4.1.0 [epoll] …` without the copyright), for the report.
pub fn version(wrk: &Path) -> String {
    std::process::Command::new(wrk)
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            let line = text.lines().next()?.to_owned();
            Some(
                line.split(" Copyright")
                    .next()
                    .unwrap_or(&line)
                    .trim()
                    .to_owned(),
            )
        })
        .unwrap_or_else(|| "wrk".to_owned())
}

/// `text` as a Lua string literal: quotes and backslashes escaped, control bytes as `\ddd`.
fn lua_string(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for &byte in text {
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b' '..=b'~' => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\{byte:03}");
            }
        }
    }
    out.push('"');
    out
}

/// Writes `<name>.lua` in `dir`: every request is `template`'s method and body, as
/// `application/json`, with `Authorization: Bearer <key>` (one key for the whole run).
pub fn script(dir: &Path, name: &str, template: &Template, key: &str) -> Result<PathBuf, String> {
    let mut lua = String::from("-- Written by the load benchmark: every request the same.\n");
    let _ = writeln!(
        lua,
        "wrk.method = {}",
        lua_string(template.method.as_bytes())
    );
    if let Some(body) = &template.body {
        let _ = writeln!(lua, "wrk.body = {}", lua_string(body));
        lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
    }
    let _ = writeln!(
        lua,
        "wrk.headers[\"Authorization\"] = {}",
        lua_string(format!("Bearer {key}").as_bytes())
    );
    let path = dir.join(format!("{name}.lua"));
    std::fs::write(&path, lua).map_err(|e| format!("cannot write {name}.lua: {e}"))?;
    Ok(path)
}

/// What one wrk run did, from its summary.
#[derive(Clone, Debug, Default)]
pub struct WrkRun {
    /// `Requests/sec:`.
    pub rate: f64,
    /// `N requests in …`.
    pub requests: u64,
    /// `Non-2xx or 3xx responses:` (wrk counts statuses of 400 and more).
    pub non_2xx: u64,
    /// The sum of `Socket errors: connect …, read …, write …, timeout …`, and that line.
    pub socket_errors: u64,
    pub socket_detail: String,
    /// The slowest answer (wrk's `Latency` line, as it writes it).
    pub max_latency: String,
    /// Why wrk gave no summary (it did not start, failed, or printed none).
    pub failure: Option<String>,
}

impl WrkRun {
    fn failed(why: String) -> WrkRun {
        WrkRun {
            failure: Some(why),
            ..WrkRun::default()
        }
    }

    /// Whether the path worked: a summary, requests answered, no error.
    pub fn worked(&self) -> bool {
        self.failure.is_none() && self.requests > 0 && self.non_2xx == 0 && self.socket_errors == 0
    }

    /// "non-2xx / socket errors", or why wrk failed.
    pub fn errors_text(&self) -> String {
        match &self.failure {
            Some(why) => format!("wrk failed: {why}"),
            None if self.socket_errors > 0 => {
                format!(
                    "{} / {} ({})",
                    self.non_2xx, self.socket_errors, self.socket_detail
                )
            }
            None => format!("{} / 0", self.non_2xx),
        }
    }
}

/// How hard and how long wrk drives a path.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub threads: usize,
    pub connections: usize,
    pub secs: u64,
    /// wrk's `--timeout` in seconds (a request not answered within it is a socket error);
    /// `None` leaves wrk's 2 s.
    pub timeout_secs: Option<u64>,
}

/// One wrk run of `load`, every request from `script`, to `url`. wrk runs with its open-file
/// limit raised (see `procs`).
pub async fn run(wrk: &Path, load: Load, script: &Path, url: &str) -> WrkRun {
    let Load {
        threads,
        connections,
        secs,
        timeout_secs,
    } = load;
    let mut command = procs::with_many_fds(wrk);
    command
        .arg(format!("-t{}", threads.clamp(1, connections.max(1))))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{secs}s"));
    if let Some(timeout) = timeout_secs {
        command.arg(format!("--timeout={timeout}s"));
    }
    command.arg("-s").arg(script).arg(url).stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output()).await;
    match output {
        Ok(Ok(output)) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            parse(&text).unwrap_or_else(|why| WrkRun::failed(format!("{why}: {}", one_line(&text))))
        }
        Ok(Ok(output)) => WrkRun::failed(format!(
            "{}: {}",
            output.status,
            one_line(&String::from_utf8_lossy(&output.stderr))
        )),
        Ok(Err(e)) => WrkRun::failed(format!("cannot start {}: {e}", wrk.display())),
        Err(e) => WrkRun::failed(format!("its thread failed: {e}")),
    }
}

/// `text` on one line, at most 200 characters, for an error message.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect()
}

/// The first number in `text` (digits, perhaps with a decimal point).
fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.trim()
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|t| !t.is_empty())?
        .parse()
        .ok()
}

/// Reads wrk's summary: `Requests/sec:`, `N requests in`, and the error lines it prints only
/// when there were errors.
fn parse(text: &str) -> Result<WrkRun, String> {
    let mut run = WrkRun::default();
    let mut rate = None;
    let mut requests = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            rate = number::<f64>(rest);
        } else if let Some(rest) = line.strip_prefix("Latency") {
            run.max_latency = rest
                .split_whitespace()
                .nth(2)
                .unwrap_or_default()
                .to_owned();
        } else if let Some((count, _)) = line.split_once(" requests in ") {
            requests = number::<u64>(count);
        } else if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
            run.non_2xx = number(rest).ok_or("unreadable Non-2xx line")?;
        } else if let Some(rest) = line.strip_prefix("Socket errors:") {
            run.socket_errors = rest.split(',').filter_map(number::<u64>).sum();
            run.socket_detail = rest.trim().to_owned();
        }
    }
    run.rate = rate.ok_or("no Requests/sec line")?;
    run.requests = requests.ok_or("no `requests in` line")?;
    Ok(run)
}
