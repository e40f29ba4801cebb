//! The property: whatever upstream answers (status × headers × body shape × framing), one call
//! of a random action on the running service gets an answer the contract allows, the process
//! lives on, and the caller's key never reaches the log.
//!
//! A hand-rolled seeded loop rather than proptest's runner: the run goes on past a failure, so
//! one run reports every distinct way the service breaks the contract (with one example case of
//! each), and every case can be run again alone. `HOSTILE_CASES` (2,000), `HOSTILE_SEED`,
//! `HOSTILE_CASE` (run one case by its index) and `HOSTILE_PARALLEL` (calls in flight, 2) change
//! the run: `HOSTILE_CASES=20000 cargo test --test api hostile -- --nocapture`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::KEY;
use super::cases::Case;
use super::expect::{Failure, Observed, request_id};
use super::upstream::{Answer, HostileUpstream};
use crate::servers::{ServiceProcess, TempDir};

const SEED: u64 = 0x5EED_0012;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The service, started as its real binary in front of `upstream`, logging JSON at debug level
/// into `log`, with sub-second timeouts and a limit no case reaches.
pub fn start_service(upstream: &HostileUpstream, log: &std::path::Path) -> ServiceProcess {
    ServiceProcess::start_logging_to(
        &[
            ("OPENROUTER_BASE_URL", upstream.base_url()),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "debug".to_owned()),
            ("OPENROUTER_CONNECTOR_TEST_TIMEOUT_MS", "300".to_owned()),
            ("RATE_LIMIT_PER_MINUTE", "60000000".to_owned()),
            ("RATE_LIMIT_BURST", "1000000".to_owned()),
            ("WORKERS", "2".to_owned()),
        ],
        Some(log),
    )
}

/// One call of the case's action, with the key and the case's request id.
async fn call(http: &reqwest::Client, port: u16, case: &Case) -> Result<Observed, String> {
    let url = format!("http://127.0.0.1:{port}{}", case.action.path());
    let mut request = if case.action.method() == "POST" {
        http.post(url).json(&case.action.body().unwrap())
    } else {
        http.get(url)
    };
    request = request
        .bearer_auth(KEY)
        .header("X-Request-Id", request_id(case.index));
    let started = Instant::now();
    let response = request
        .send()
        .await
        .map_err(|e| format!("no answer: {e:?}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| format!("{e:?}"));
    Ok(Observed {
        status,
        headers,
        body,
        elapsed: started.elapsed(),
        upstream: Vec::new(),
    })
}

/// Runs one case: programs upstream, calls, checks, and asks the service whether it lives.
async fn run(
    http: &reqwest::Client,
    upstream: &HostileUpstream,
    port: u16,
    case: &Case,
) -> (Option<u16>, Vec<Failure>) {
    let id = request_id(case.index);
    upstream.program(&id, case.answer(&format!("http://{}", upstream.address)));
    let outcome = call(http, port, case).await;
    let seen = upstream.finish(&id);
    let (status, mut failures) = match outcome {
        Ok(mut observed) => {
            observed.upstream = seen;
            (Some(observed.status), case.check(&observed))
        }
        Err(error) => (
            None,
            vec![Failure {
                kind: format!(
                    "no answer at all, the connection closed ({}, upstream framing {:?})",
                    if case.action.connector() {
                        "connector"
                    } else {
                        "pass-through"
                    },
                    case.framing
                ),
                detail: error,
            }],
        ),
    };
    let live = http
        .get(format!("http://127.0.0.1:{port}/health/live"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    if live.as_ref().ok() != Some(&200) {
        failures.push(Failure {
            kind: "/health/live did not answer 200 afterwards".to_owned(),
            detail: format!("{live:?}"),
        });
    }
    (status, failures)
}

/// Every distinct failure with how often it happened and its first example.
#[derive(Default)]
struct Tally {
    failures: BTreeMap<String, (usize, String, String)>,
    statuses: BTreeMap<String, usize>,
    failed_cases: usize,
}

impl Tally {
    fn add(&mut self, case: &Case, status: Option<u16>, failures: Vec<Failure>) {
        let answered = status.map_or("none".to_owned(), |s| s.to_string());
        let family = if case.action.connector() {
            "connector"
        } else {
            "pass-through"
        };
        *self
            .statuses
            .entry(format!("{family} {answered}"))
            .or_default() += 1;
        if !failures.is_empty() {
            self.failed_cases += 1;
        }
        for failure in failures {
            let entry = self.failures.entry(failure.kind).or_insert_with(|| {
                (
                    0,
                    case.to_string(),
                    failure.detail.chars().take(400).collect(),
                )
            });
            entry.0 += 1;
        }
    }

    fn report(&self) -> String {
        let mut out = String::new();
        for (kind, (count, example, detail)) in &self.failures {
            out.push_str(&format!(
                "\n  [{count}x] {kind}\n        e.g. {example}\n        saw: {detail}"
            ));
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_keeps_its_contract_whatever_upstream_answers() {
    let seed = env_number("HOSTILE_SEED", SEED);
    let count = env_number("HOSTILE_CASES", 2000);
    let parallel = env_number("HOSTILE_PARALLEL", 2).max(1) as usize;
    let indexes: Vec<u64> = match std::env::var("HOSTILE_CASE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(one) => vec![one],
        None => (0..count).collect(),
    };
    let upstream = HostileUpstream::start().await;
    upstream.program_default(Answer::default());
    let dir = TempDir::new("hostile");
    let log = dir.0.join("service.log");
    let mut service = start_service(&upstream, &log);
    let port = service.port;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let started = Instant::now();
    let mut tally = Tally::default();
    let cases: Vec<Case> = indexes.iter().map(|&i| Case::generate(seed, i)).collect();
    let mut results = futures_util::stream::iter(cases.iter())
        .map(|case| {
            let (http, upstream) = (&http, &upstream);
            async move { (case, run(http, upstream, port, case).await) }
        })
        .buffer_unordered(parallel);
    while let Some((case, (status, failures))) = results.next().await {
        if std::env::var_os("HOSTILE_VERBOSE").is_some() {
            println!("{case} => {status:?} {failures:?}");
        }
        tally.add(case, status, failures);
    }
    drop(results);
    let elapsed = started.elapsed();

    let mut end = Vec::new();
    if service.wait_exit(Duration::from_millis(30)).is_some() {
        end.push("the service process exited".to_owned());
    }
    let stray = upstream.unclaimed();
    if !stray.is_empty() {
        end.push(format!(
            "{} upstream requests carried no case's id: {:?}",
            stray.len(),
            stray[0]
        ));
    }
    drop(service);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    end.extend(check_log(&text));
    println!(
        "hostile upstream: {} cases (seed {seed:#x}, {parallel} in flight) in {:.1} s; \
         {} log lines checked; {} cases broke a rule",
        cases.len(),
        elapsed.as_secs_f64(),
        text.lines().count(),
        tally.failed_cases
    );
    println!("answers seen: {:?}", tally.statuses);
    assert!(
        tally.failures.is_empty() && end.is_empty(),
        "the contract was broken:{}\n  at the end: {end:#?}",
        tally.report()
    );
}

/// The log's broken rules: each kind once, with how many lines and the first of them.
fn check_log(text: &str) -> Vec<String> {
    let secret = KEY.trim_start_matches("sk-or-v1-");
    let mut found: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let json = serde_json::from_str::<serde_json::Value>(line).ok();
        // Which event it is, so each kind of leaking line is named once.
        let event = json.as_ref().map_or("?".to_owned(), |v| {
            let field = |name: &str| v.get(name).map(ToString::to_string).unwrap_or_default();
            format!("{} {}", field("level"), field("message"))
        });
        for (broken, kind) in [
            (
                line.contains(secret),
                format!("log lines holding the key ({event})"),
            ),
            (
                line.contains("panicked"),
                "log lines telling of a panic".to_owned(),
            ),
            (
                !json.is_some_and(|v| v.is_object()),
                "log lines that are not a JSON object".to_owned(),
            ),
        ] {
            if broken {
                let entry = found
                    .entry(kind)
                    .or_insert_with(|| (0, format!("line {}: {}", number + 1, clip(line))));
                entry.0 += 1;
            }
        }
    }
    found
        .into_iter()
        .map(|(kind, (count, first))| format!("{count} {kind}, the first {first}"))
        .collect()
}

fn clip(line: &str) -> String {
    line.chars().take(300).collect()
}
