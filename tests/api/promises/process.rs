//! The process: no setting value, however large, panics it (each is refused at start-up naming
//! its variable and range, or works), and SIGTERM drains with `503`s before it exits 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::KEY;
use crate::servers::{ServiceProcess, free_port};
use openrouter_simulator::{Reply, Simulator};

/// Every numeric setting of contract section 8.
const NUMERIC: &[&str] = &[
    "WORKERS",
    "MAX_BODY_BYTES",
    "PASSTHROUGH_MAX_BODY_BYTES",
    "UPSTREAM_TIMEOUT_SECS",
    "UPSTREAM_CONNECT_TIMEOUT_SECS",
    "MAX_CONCURRENT_UPSTREAM",
    "GENERATION_WAIT_SECS",
    "STREAM_IDLE_TIMEOUT_SECS",
    "RATE_LIMIT_PER_MINUTE",
    "RATE_LIMIT_BURST",
    "REDIS_TIMEOUT_MS",
    "ASYNC_AFTER_SECS",
    "JOB_TIMEOUT_SECS",
    "MAX_JOBS_PER_CONNECTION",
    "JOB_TTL_SECS",
    "SHUTDOWN_GRACE_SECS",
    "SHUTDOWN_DRAIN_SECS",
];

#[test]
fn a_setting_too_large_for_its_type_is_refused_at_start_up_naming_it_and_its_range() {
    for var in NUMERIC {
        for value in [
            "18446744073709551615",
            "99999999999999999999999",
            "-1",
            "1e9",
        ] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_openrouter-connector"))
                .env_clear()
                .env("BIND", format!("127.0.0.1:{}", free_port()))
                .env(var, value)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("{var}={value} was not refused at start-up");
                }
                std::thread::sleep(Duration::from_millis(10));
            };
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(status.code(), Some(2), "{var}={value}: {stderr}");
            assert!(
                stderr.contains(var) && stderr.contains(" from ") && !stderr.contains("panicked"),
                "{var}={value}: {stderr}"
            );
        }
    }
}

#[tokio::test]
async fn every_setting_at_its_largest_allowed_value_serves_calls() {
    let sim = Simulator::start().await.unwrap();
    let largest = [
        ("MAX_BODY_BYTES", "1073741824"),
        ("BODY_MEMORY_BYTES", "17179869184"),
        ("PASSTHROUGH_MAX_BODY_BYTES", "4294967296"),
        ("UPSTREAM_TIMEOUT_SECS", "86400"),
        ("UPSTREAM_CONNECT_TIMEOUT_SECS", "3600"),
        ("MAX_CONCURRENT_UPSTREAM", "1000000"),
        ("GENERATION_WAIT_SECS", "600"),
        ("STREAM_IDLE_TIMEOUT_SECS", "86400"),
        ("RATE_LIMIT_PER_MINUTE", "60000000"),
        ("RATE_LIMIT_BURST", "1000000"),
        ("REDIS_TIMEOUT_MS", "60000"),
        ("ASYNC_AFTER_SECS", "86400"),
        ("JOB_TIMEOUT_SECS", "604800"),
        ("MAX_JOBS_PER_CONNECTION", "100000"),
        ("JOB_TTL_SECS", "2592000"),
        ("SHUTDOWN_GRACE_SECS", "3600"),
        ("SHUTDOWN_DRAIN_SECS", "3600"),
    ];
    let mut env: Vec<(&str, String)> = largest.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    env.push(("OPENROUTER_BASE_URL", sim.base_url()));
    let service = ServiceProcess::start(&env);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", service.port);
    for (path, body) in [
        ("/connector/v1/chat/completions", json!({"content": "hi"})),
        (
            "/api/v1/chat/completions",
            json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        ),
    ] {
        let response = http
            .post(format!("{base}{path}"))
            .bearer_auth(KEY)
            .header("Prefer", "respond-async")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.unwrap();
    }
    let live = http
        .get(format!("{base}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
}

#[tokio::test]
async fn after_sigterm_new_calls_get_503_while_one_in_flight_finishes_then_the_process_exits_0() {
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, json!({"id": "gen-1", "choices": [{"message": {"role": "assistant", "content": "slow"}}]}))
            .delay(Duration::from_millis(2500)),
    );
    let mut service = ServiceProcess::start(&[
        ("OPENROUTER_BASE_URL", sim.base_url()),
        ("SHUTDOWN_DRAIN_SECS", "2".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "10".to_owned()),
    ]);
    let base = format!("http://127.0.0.1:{}", service.port);
    let in_flight = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{base}/connector/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"content": "take your time"}))
            .send(),
    );
    assert!(sim.wait_for_requests(1, Duration::from_secs(5)).await);
    service.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A new connection, as a load balancer that has not caught up yet would open.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let refused = fresh
        .post(format!("{base}/connector/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"content": "new"}))
        .send()
        .await
        .expect("the listener is still open while draining");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(refused.headers()["connection"], "close");
    let ready = fresh
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.headers().contains_key("retry-after"));

    let finished = in_flight.await.unwrap().unwrap();
    assert_eq!(finished.status(), 200, "the call in flight completes");
    let exit = service
        .wait_exit(Duration::from_secs(10))
        .expect("the process exits");
    assert_eq!(exit.code(), Some(0));
    assert_eq!(
        sim.request_count(),
        1,
        "the refused call never reached upstream"
    );
}
