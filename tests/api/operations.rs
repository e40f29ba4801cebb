//! What operators rely on: metrics, logs that never hold a key or a prompt, and a shutdown
//! that lets calls in flight finish.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{KEY, read, spawn_app, spawn_app_with};
use crate::logged::LoggedService;
use crate::servers::ServiceProcess;
use openrouter_simulator::{Reply, Simulator};

#[tokio::test]
async fn metrics_count_requests_upstream_calls_rejections_and_overhead() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 2;
    })
    .await;
    let (status, _) = read(
        app.post(
            "/connector/v1/chat/completions",
            &json!({"content": "secret prompt"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = read(app.get("/connector/v1/models").await).await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/connector/v1/models").await.status(), 429);

    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();

    for line in [
        "openrouter_connector_requests_total{operation=\"ChatCompletion\",status=\"200\"} 1",
        "openrouter_connector_requests_total{operation=\"ListModels\",status=\"200\"} 1",
        "openrouter_connector_requests_total{operation=\"ListModels\",status=\"429\"} 1",
        "openrouter_connector_upstream_requests_total{status=\"200\"} 2",
        "openrouter_connector_rate_limit_rejections_total 1",
        "openrouter_connector_overhead_seconds_count{operation=\"ChatCompletion\"} 1",
        "openrouter_connector_upstream_duration_seconds_count 2",
        "openrouter_connector_async_jobs_running 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(text.contains("openrouter_connector_request_duration_seconds_bucket{operation=\"ChatCompletion\",le=\"+Inf\"} 1"));
    assert!(!text.contains(KEY) && !text.contains("secret prompt"));
}

#[tokio::test]
async fn an_async_call_is_measured_upstream_like_a_synchronous_one() {
    let app = spawn_app_with(|s| s.async_after = std::time::Duration::from_secs(1)).await;
    let answer = json!({"id": "gen-slow", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "late"}, "finish_reason": "stop"}]});
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, answer).delay(Duration::from_millis(1500)),
    );
    let accepted = app
        .http
        .post(app.url("/connector/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("Prefer", "respond-async")
        .json(&json!({"content": "think"}))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    let mut polled = app.http.get(&location).send().await.unwrap();
    for _ in 0..50 {
        if polled.status() != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        polled = app.http.get(&location).send().await.unwrap();
    }
    assert_eq!(polled.status(), 200);

    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    for line in [
        "openrouter_connector_requests_total{operation=\"ChatCompletion\",status=\"202\"} 1",
        "openrouter_connector_upstream_requests_total{status=\"200\"} 1",
        "openrouter_connector_upstream_duration_seconds_count 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    let slow = "openrouter_connector_upstream_duration_seconds_bucket{le=\"1\"} 0";
    assert!(
        text.lines().any(|l| l == slow),
        "the job's 1.5 s upstream call was timed: {text}"
    );
}

#[tokio::test]
async fn neither_the_key_nor_the_prompt_reaches_the_logs_even_at_trace_level() {
    let sim = Simulator::start().await.unwrap();
    let prompt = "my very private prompt about payroll";
    let service = LoggedService::start(sim.base_url(), "trace", "logs");
    let http = reqwest::Client::new();
    let base = service.base.clone();
    let chat = format!("{base}/connector/v1/chat/completions");
    let body = json!({"content": prompt, "system": prompt});

    assert_eq!(
        http.post(&chat)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.post(&chat)
            .header("api_key", KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.post(&chat)
            .header("authorization", KEY)
            .json(&json!({"content": prompt, "temprature": 1}))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    sim.enqueue("POST", "/chat/completions", Reply::error(403, "flagged"));
    assert_eq!(
        http.post(&chat)
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        http.post(format!("{base}/connector/v1/completions"))
            .bearer_auth(KEY)
            .json(&json!({"prompt": prompt}))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let logs = service.stop_and_read();
    assert!(
        logs.lines().count() > 20,
        "trace logging was on: {} lines",
        logs.lines().count()
    );
    assert!(!logs.contains(KEY), "the key leaked into the logs");
    assert!(
        !logs.contains(&KEY[10..]),
        "part of the key leaked into the logs"
    );
    assert!(!logs.contains("payroll"), "the prompt leaked into the logs");
    let hash = &openrouter_connector::domain::ApiKey::parse(KEY)
        .unwrap()
        .connection_id()
        .to_string();
    assert!(
        logs.contains(hash.as_str()),
        "logs name the connection by its hash"
    );
}

#[tokio::test]
async fn each_request_is_one_log_line_with_its_id_connection_status_and_error() {
    let sim = Simulator::start().await.unwrap();
    let service = LoggedService::start(sim.base_url(), "info", "log-lines");
    let http = reqwest::Client::new();
    let base = service.base.clone();
    let ok = http
        .post(format!("{base}/api/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("x-request-id", "flow-run-1")
        .json(&json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    ok.bytes().await.unwrap();
    for _ in 0..3 {
        // Every attempt: a GET is retried on 503.
        sim.enqueue("GET", "/models", Reply::error(503, "overloaded"));
    }
    let failed = http
        .get(format!("{base}/connector/v1/models"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 502);
    let failed_id = failed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let logs = service.stop_and_read();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &serde_json::Value| line["message"] == "request finished")
        .collect();
    assert_eq!(lines.len(), 2, "one line per request:\n{logs}");
    let connection = openrouter_connector::domain::ApiKey::parse(KEY)
        .unwrap()
        .connection_id()
        .to_string();
    assert_eq!(lines[0]["request_id"], "flow-run-1");
    assert_eq!(lines[0]["level"], "INFO");
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], "/api/v1/chat/completions");
    assert_eq!(lines[0]["connection"], connection.as_str());
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0].get("error").is_none(), "{}", lines[0]);
    assert!(lines[0]["elapsed_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(lines[1]["request_id"], failed_id.as_str());
    assert_eq!(lines[1]["level"], "WARN");
    assert_eq!(lines[1]["status"], 502);
    assert_eq!(lines[1]["connection"], connection.as_str());
    // The kind and upstream's status; upstream's own words may quote the request, so not them.
    assert_eq!(
        lines[1]["error"], "OpenRouter failed with 503",
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn sigterm_lets_ten_calls_in_flight_finish_then_exits_zero() {
    let sim = Simulator::start().await.unwrap();
    for _ in 0..10 {
        sim.enqueue(
            "POST",
            "/chat/completions",
            Reply::json(
                200,
                json!({"id": "gen-slow", "choices": [{"message": {"content": "done"}}]}),
            )
            .delay(Duration::from_millis(1500)),
        );
    }
    let mut service = ServiceProcess::start(&[
        ("OPENROUTER_BASE_URL", sim.base_url()),
        ("SHUTDOWN_GRACE_SECS", "10".to_owned()),
    ]);
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", service.port);
    let calls = join_all((0..10).map(|_| {
        http.post(format!("{base}/connector/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"content": "x"}))
            .send()
    }));
    let calls = tokio::spawn(calls);
    assert!(
        sim.wait_for_requests(10, Duration::from_secs(10)).await,
        "ten calls in flight"
    );

    service.terminate();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = http.get(format!("{base}/health/ready")).send().await;
    let exit = tokio::task::spawn_blocking(move || service.wait_exit(Duration::from_secs(15)))
        .await
        .unwrap();
    let answers = calls.await.unwrap();

    for answer in answers {
        let answer = answer.expect("every call in flight got its answer");
        assert_eq!(answer.status(), 200);
        assert_eq!(
            answer.json::<serde_json::Value>().await.unwrap()["content"],
            "done"
        );
    }
    if let Ok(ready) = ready {
        assert_eq!(ready.status(), 503, "readiness fails while draining");
    }
    assert!(exit.expect("the process exited").success(), "exit status 0");
}

#[tokio::test]
async fn the_metrics_endpoint_needs_no_key_and_is_not_limited() {
    let app = spawn_app().await;
    for _ in 0..3 {
        assert_eq!(
            app.http
                .get(app.url("/metrics"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
}
