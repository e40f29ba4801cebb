//! The per-connection limit of contract section 3, in process and over a real Redis, on one
//! replica and on two behind nginx.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{KEY, TestApp, assert_error, read, spawn_app_with};
use crate::servers::{NginxServer, RedisServer, ServiceProcess};
use openrouter_connector::settings::Settings;
use openrouter_simulator::Simulator;

const CREDITS: &str = "/connector/v1/credits";

/// A burst of 150 concurrent Lua calls on a 2-core machine running the whole suite can take
/// longer than the default 50 ms; these tests count admissions, not Redis latency.
const LOADED_MACHINE_REDIS_TIMEOUT_MS: u64 = 2_000;

/// A limit that does not refill during a test: exact counts.
fn slow(burst: u32) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = burst;
    }
}

async fn call(app: &TestApp, key: &str) -> reqwest::Response {
    app.http
        .get(app.url(CREDITS))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

/// Sends `n` calls at once with one key; returns (admitted, refused responses' Retry-After).
async fn burst(app: &TestApp, key: &str, n: usize) -> (usize, Vec<reqwest::Response>) {
    let responses = join_all((0..n).map(|_| call(app, key))).await;
    let (admitted, refused): (Vec<_>, Vec<_>) =
        responses.into_iter().partition(|r| r.status() == 200);
    (admitted.len(), refused)
}

async fn exactly_the_burst_is_admitted(app: TestApp) {
    let (admitted, refused) = burst(&app, KEY, 150).await;

    assert_eq!(admitted, 100);
    assert_eq!(refused.len(), 50);
    for response in refused {
        assert_eq!(response.status(), 429);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert_eq!(response.headers()["x-ratelimit-limit"], "1");
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
        assert_eq!(
            response.headers()["x-ratelimit-reset"].to_str().unwrap(),
            retry_after.to_string()
        );
        let (status, body) = read(response).await;
        assert!(assert_error(status, &body, 429).contains("Wait"));
        assert_eq!(
            body["error"]["metadata"]["retry_after_seconds"],
            retry_after
        );
    }
    assert_eq!(
        app.sim.request_count(),
        100,
        "refused calls never reach upstream"
    );
    let (admitted, _) = burst(&app, "sk-or-v1-another-connection", 5).await;
    assert_eq!(admitted, 5, "a second key is unaffected");
}

async fn a_call_after_the_stated_retry_after_succeeds(app: TestApp) {
    assert_eq!(call(&app, KEY).await.status(), 200);
    assert_eq!(call(&app, KEY).await.status(), 200);
    let refused = call(&app, KEY).await;
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait, 1, "one call comes back every second at 60 per minute");

    tokio::time::sleep(Duration::from_secs(wait)).await;

    assert_eq!(call(&app, KEY).await.status(), 200);
}

async fn calls_without_a_key_are_not_counted_but_bad_bodies_are(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(
            app.http
                .get(app.url(CREDITS))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
    }
    let allowed = call(&app, KEY).await;
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["x-ratelimit-limit"], "1");
    assert_eq!(allowed.headers()["x-ratelimit-remaining"], "1");
    let bad = app
        .post("/connector/v1/chat/completions", &json!({"temprature": 1}))
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers()["x-ratelimit-remaining"], "0", "a 400 counts");
    assert_eq!(call(&app, KEY).await.status(), 429);
}

#[tokio::test]
async fn in_process_a_burst_of_150_admits_exactly_the_burst() {
    exactly_the_burst_is_admitted(spawn_app_with(slow(100)).await).await;
}

#[tokio::test]
async fn in_process_a_call_after_the_stated_retry_after_succeeds() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 2;
    })
    .await;
    a_call_after_the_stated_retry_after_succeeds(app).await;
}

#[tokio::test]
async fn in_process_calls_without_a_key_are_not_counted() {
    calls_without_a_key_are_not_counted_but_bad_bodies_are(spawn_app_with(slow(2)).await).await;
}

#[tokio::test]
async fn a_body_over_the_limit_does_not_count() {
    let app = spawn_app_with(|s| {
        slow(1)(s);
        s.max_body_bytes = 100;
    })
    .await;
    let big = app
        .post(
            "/connector/v1/chat/completions",
            &json!({"content": "x".repeat(200)}),
        )
        .await;
    assert_eq!(big.status(), 413);
    assert_eq!(call(&app, KEY).await.status(), 200);
}

#[tokio::test]
async fn the_published_default_admits_100_at_once_then_one_every_600_ms() {
    let app = spawn_app_with(|_| {}).await;
    let started = Instant::now();

    let (admitted, refused) = burst(&app, KEY, 150).await;

    // Calls that arrive while the burst is sent may find a call replenished (one per 600 ms).
    let replenished = started.elapsed().as_millis() as usize / 600;
    assert!(
        (100..=100 + replenished).contains(&admitted),
        "{admitted} admitted in {:?}",
        started.elapsed()
    );
    assert!(
        refused.iter().all(|r| r.headers()["retry-after"] == "1"),
        "600 ms round up to 1 s"
    );
    assert!(
        refused
            .iter()
            .all(|r| r.headers()["x-ratelimit-limit"] == "100")
    );
}

#[tokio::test]
async fn over_redis_a_burst_of_150_admits_exactly_the_burst() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        slow(100)(s);
        s.redis_url = Some(url);
        s.redis_timeout_ms = LOADED_MACHINE_REDIS_TIMEOUT_MS;
    })
    .await;
    exactly_the_burst_is_admitted(app).await;
}

#[tokio::test]
async fn over_redis_a_call_after_the_stated_retry_after_succeeds() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 2;
        s.redis_url = Some(url);
    })
    .await;
    a_call_after_the_stated_retry_after_succeeds(app).await;
}

#[tokio::test]
async fn over_redis_calls_without_a_key_are_not_counted() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        slow(2)(s);
        s.redis_url = Some(url);
    })
    .await;
    calls_without_a_key_are_not_counted_but_bad_bodies_are(app).await;
}

#[tokio::test]
async fn two_replicas_behind_nginx_share_one_limit_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let sim = Simulator::start().await.unwrap();
    let env = [
        ("OPENROUTER_BASE_URL", sim.base_url()),
        ("REDIS_URL", redis.url()),
        ("RATE_LIMIT_PER_MINUTE", "1".to_owned()),
        ("RATE_LIMIT_BURST", "100".to_owned()),
        (
            "REDIS_TIMEOUT_MS",
            LOADED_MACHINE_REDIS_TIMEOUT_MS.to_string(),
        ),
    ];
    let (a, b) = (ServiceProcess::start(&env), ServiceProcess::start(&env));
    let Some(nginx) = NginxServer::start(&[a.port, b.port]) else {
        return;
    };
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}{CREDITS}", nginx.port);

    let responses = join_all((0..150).map(|_| http.get(&url).bearer_auth(KEY).send())).await;

    let statuses: Vec<u16> = responses
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        100,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 50);
    assert_eq!(sim.request_count(), 100);
    let direct = |port: u16| {
        http.get(format!("http://127.0.0.1:{port}{CREDITS}"))
            .bearer_auth(KEY)
            .send()
    };
    assert_eq!(
        direct(a.port).await.unwrap().status(),
        429,
        "replica A knows the limit is spent"
    );
    assert_eq!(
        direct(b.port).await.unwrap().status(),
        429,
        "replica B knows it too"
    );
}

#[tokio::test]
async fn when_redis_dies_calls_fail_closed_with_503_and_recover_without_a_restart() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = spawn_app_with(move |s| s.redis_url = Some(url)).await;
    assert_eq!(call(&app, KEY).await.status(), 200);

    redis.kill();

    let response = call(&app, KEY).await;
    assert!(response.headers().contains_key("retry-after"));
    let (status, body) = read(response).await;
    assert!(assert_error(status, &body, 503).contains("Redis"));
    let ready = app.http.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);

    redis.restart();

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = call(&app, KEY).await.status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the limiter did not recover: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.http
            .get(app.url("/health/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn when_redis_dies_and_the_limiter_fails_open_calls_go_through() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        s.redis_url = Some(url);
        s.redis_fail_open = true;
    })
    .await;
    redis.kill();

    let response = call(&app, KEY).await;

    assert_eq!(response.status(), 200);
    assert!(
        !response.headers().contains_key("x-ratelimit-remaining"),
        "unknown while Redis is down"
    );
    assert_eq!(
        app.http
            .get(app.url("/health/ready"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
