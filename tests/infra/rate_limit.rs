//! The per-connection limit of contract section 3 over a real Redis: on one replica, on two
//! behind nginx, and while Redis is down.

use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::Test;
use crate::helpers::{KEY, assert_error, read, spawn_app_with};
use crate::programs::{NGINX, NginxServer, REDIS, RedisServer};
use crate::servers::ServiceProcess;
use crate::shared::rate_limit::{
    CREDITS, a_call_after_the_stated_retry_after_succeeds, call,
    calls_without_a_key_are_not_counted_but_bad_bodies_are, exactly_the_burst_is_admitted, slow,
};
use openrouter_simulator::Simulator;

/// This target's tests, each with the programs it needs.
pub fn tests() -> Vec<Test> {
    crate::tests![
        over_redis_a_burst_of_150_admits_exactly_the_burst needs [REDIS],
        over_redis_a_call_after_the_stated_retry_after_succeeds needs [REDIS],
        over_redis_calls_without_a_key_are_not_counted needs [REDIS],
        two_replicas_behind_nginx_share_one_limit_through_redis needs [REDIS, NGINX],
        when_redis_dies_calls_fail_closed_with_503_and_recover_without_a_restart needs [REDIS],
        when_redis_dies_and_the_limiter_fails_open_calls_go_through needs [REDIS],
    ]
}

/// A burst of 150 concurrent Lua calls on a 2-core machine running the whole suite can take
/// longer than the default 50 ms; these tests count admissions, not Redis latency.
const LOADED_MACHINE_REDIS_TIMEOUT_MS: u64 = 2_000;

async fn over_redis_a_burst_of_150_admits_exactly_the_burst() {
    let redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        slow(100)(s);
        s.redis_url = Some(url);
        s.redis_timeout = std::time::Duration::from_millis(LOADED_MACHINE_REDIS_TIMEOUT_MS);
    })
    .await;
    exactly_the_burst_is_admitted(app).await;
}

async fn over_redis_a_call_after_the_stated_retry_after_succeeds() {
    let redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = 2;
        s.redis_url = Some(url);
        s.redis_timeout = std::time::Duration::from_millis(LOADED_MACHINE_REDIS_TIMEOUT_MS);
    })
    .await;
    a_call_after_the_stated_retry_after_succeeds(app).await;
}

async fn over_redis_calls_without_a_key_are_not_counted() {
    let redis = RedisServer::start();
    let url = redis.url();
    let app = spawn_app_with(move |s| {
        slow(2)(s);
        s.redis_url = Some(url);
    })
    .await;
    calls_without_a_key_are_not_counted_but_bad_bodies_are(app).await;
}

async fn two_replicas_behind_nginx_share_one_limit_through_redis() {
    let redis = RedisServer::start();
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
    let nginx = NginxServer::start(&[a.port, b.port]);
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

async fn when_redis_dies_calls_fail_closed_with_503_and_recover_without_a_restart() {
    let mut redis = RedisServer::start();
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

async fn when_redis_dies_and_the_limiter_fails_open_calls_go_through() {
    let mut redis = RedisServer::start();
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
