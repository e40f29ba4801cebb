//! Long generations (contract section 4.7): `Prefer: respond-async`, `202` and a `Location` to
//! poll, the exact answer at the end, in memory; over Redis across two replicas in the `infra`
//! test target (`tests/infra/jobs.rs`).

use std::time::Duration;

use serde_json::json;

use crate::helpers::{KEY, assert_error, read, spawn_app_with};
use openrouter_simulator::Reply;

#[path = "../infra/shared/jobs.rs"]
mod steps;
use steps::{CHAT, poll_until_done, slow_answer, submit};

fn fast_jobs(s: &mut openrouter_connector::settings::Settings) {
    s.async_after = std::time::Duration::from_secs(1);
}

#[tokio::test]
async fn a_slow_generation_answers_202_then_the_poll_gives_the_exact_answer() {
    let app = spawn_app_with(fast_jobs).await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(2500)),
    );

    let accepted = submit(
        &app.http,
        &app.address,
        CHAT,
        KEY,
        &json!({"content": "think hard"}),
    )
    .await;

    assert_eq!(accepted.status(), 202);
    assert_eq!(accepted.headers()["retry-after"], "5");
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{}/connector/v1/jobs/", app.address)),
        "{location}"
    );
    let id = location.rsplit('/').next().unwrap();
    assert_eq!(id.len(), 64, "256 random bits as hex");
    let early = app.http.get(&location).send().await.unwrap();
    assert_eq!(early.status(), 202, "still running");
    assert_eq!(early.headers()["location"].to_str().unwrap(), location);

    let (status, polled) = read(poll_until_done(&app.http, &location).await).await;

    assert_eq!(status, 200);
    app.sim
        .enqueue("POST", "/chat/completions", slow_answer(Duration::ZERO));
    let (_, synchronous) = read(app.post(CHAT, &json!({"content": "think hard"})).await).await;
    assert_eq!(
        polled, synchronous,
        "exactly what the synchronous call answers"
    );
    assert_eq!(polled["content"], "a long answer");
    assert_eq!(
        app.sim.requests().len(),
        2,
        "the generation ran once, upstream saw no poll"
    );
}

#[tokio::test]
async fn without_the_header_a_slow_call_stays_synchronous_and_a_fast_one_never_becomes_a_job() {
    let app = spawn_app_with(fast_jobs).await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(1500)),
    );
    let (status, body) = read(app.post(CHAT, &json!({"content": "x"})).await).await;
    assert_eq!(
        (status.as_u16(), body["content"].as_str()),
        (200, Some("a long answer"))
    );

    let response = submit(
        &app.http,
        &app.address,
        "/connector/v1/completions",
        KEY,
        &json!({"prompt": "quick"}),
    )
    .await;
    assert_eq!(response.status(), 200, "answered within ASYNC_AFTER_SECS");
}

#[tokio::test]
async fn polls_need_no_key_refuse_other_keys_and_are_not_rate_limited() {
    let app = spawn_app_with(|s| {
        fast_jobs(s);
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 1;
    })
    .await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(1500)),
    );
    let accepted = submit(&app.http, &app.address, CHAT, KEY, &json!({"content": "x"})).await;
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();

    let foreign = app
        .http
        .get(&location)
        .bearer_auth("sk-or-v1-someone-else")
        .send()
        .await
        .unwrap();
    let (status, body) = read(foreign).await;
    assert_error(status, &body, 404);

    for _ in 0..5 {
        let own = app
            .http
            .get(&location)
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .status();
        assert!(own == 202 || own == 200, "{own}");
    }
    assert_eq!(poll_until_done(&app.http, &location).await.status(), 200);
    assert_eq!(
        app.get("/connector/v1/credits").await.status(),
        429,
        "only the submission counted"
    );
}

#[tokio::test]
async fn unknown_and_expired_jobs_are_404s_with_a_clear_message() {
    let app = spawn_app_with(|s| {
        fast_jobs(s);
        s.job_ttl = std::time::Duration::from_secs(1);
    })
    .await;
    for path in [
        "/connector/v1/jobs/nope",
        &format!("/connector/v1/jobs/{}", "a".repeat(64)),
    ] {
        let (status, body) = read(app.http.get(app.url(path)).send().await.unwrap()).await;
        assert!(
            assert_error(status, &body, 404).contains("no such job"),
            "{path}"
        );
    }
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(1200)),
    );
    let accepted = submit(&app.http, &app.address, CHAT, KEY, &json!({"content": "x"})).await;
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(poll_until_done(&app.http, &location).await.status(), 200);

    tokio::time::sleep(Duration::from_millis(1300)).await;

    let (status, body) = read(app.http.get(&location).send().await.unwrap()).await;
    assert_error(status, &body, 404);
}

#[tokio::test]
async fn an_error_of_a_job_is_polled_as_the_synchronous_error() {
    let app = spawn_app_with(fast_jobs).await;
    app.sim.enqueue("POST", "/chat/completions", Reply::json(429, json!({"error": {"code": 429, "message": "slow down", "metadata": {"retry_after_seconds": 7}}})).delay(Duration::from_millis(1500)));
    let accepted = submit(&app.http, &app.address, CHAT, KEY, &json!({"content": "x"})).await;
    assert_eq!(accepted.status(), 202);

    let done = poll_until_done(&app.http, accepted.headers()["location"].to_str().unwrap()).await;

    assert_eq!(done.headers()["retry-after"], "7");
    let (status, body) = read(done).await;
    assert_eq!(assert_error(status, &body, 429), "slow down");
}

#[tokio::test]
async fn a_job_outlives_the_upstream_timeout_up_to_the_job_timeout() {
    let app = spawn_app_with(|s| {
        fast_jobs(s);
        s.upstream_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(2000)),
    );

    let accepted = submit(&app.http, &app.address, CHAT, KEY, &json!({"content": "x"})).await;

    assert_eq!(accepted.status(), 202);
    let done = poll_until_done(&app.http, accepted.headers()["location"].to_str().unwrap()).await;
    assert_eq!(
        done.status(),
        200,
        "bounded by JOB_TIMEOUT_SECS, not UPSTREAM_TIMEOUT_SECS"
    );
}
