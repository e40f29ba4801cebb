//! Long generations (contract section 4.7) over a real Redis across two replicas: a poll on the
//! other replica, and a job interrupted by shutdown.

use std::time::Duration;

use serde_json::json;

use crate::Test;
use crate::helpers::{KEY, assert_error, read};
use crate::programs::{REDIS, RedisServer};
use crate::servers::ServiceProcess;
use crate::shared::jobs::{CHAT, poll_until_done, slow_answer, submit};
use openrouter_simulator::Simulator;

/// This target's tests, each with the programs it needs.
pub fn tests() -> Vec<Test> {
    crate::tests![
        over_redis_a_poll_on_the_other_replica_gets_the_answer needs [REDIS],
        over_redis_a_job_interrupted_by_shutdown_is_recorded_as_a_503 needs [REDIS],
    ]
}

async fn two_replicas(
    redis: &RedisServer,
    sim: &Simulator,
    extra: &[(&str, String)],
) -> (ServiceProcess, ServiceProcess) {
    let mut env = vec![
        ("OPENROUTER_BASE_URL", sim.base_url()),
        ("REDIS_URL", redis.url()),
        ("ASYNC_AFTER_SECS", "1".to_owned()),
        ("REDIS_TIMEOUT_MS", "1000".to_owned()),
    ];
    env.extend(extra.iter().cloned());
    (ServiceProcess::start(&env), ServiceProcess::start(&env))
}

async fn over_redis_a_poll_on_the_other_replica_gets_the_answer() {
    let redis = RedisServer::start();
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_millis(2000)),
    );
    let (a, b) = two_replicas(&redis, &sim, &[]).await;
    let http = reqwest::Client::new();

    let accepted = submit(
        &http,
        &format!("http://127.0.0.1:{}", a.port),
        CHAT,
        KEY,
        &json!({"content": "x"}),
    )
    .await;

    assert_eq!(accepted.status(), 202);
    let location = accepted.headers()["location"].to_str().unwrap();
    let on_b = location.replace(&a.port.to_string(), &b.port.to_string());
    assert_eq!(
        http.get(&on_b).send().await.unwrap().status(),
        202,
        "B sees the running job"
    );
    let (status, body) = read(poll_until_done(&http, &on_b).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["content"], "a long answer");
}

async fn over_redis_a_job_interrupted_by_shutdown_is_recorded_as_a_503() {
    let redis = RedisServer::start();
    let sim = Simulator::start().await.unwrap();
    sim.enqueue(
        "POST",
        "/chat/completions",
        slow_answer(Duration::from_secs(30)),
    );
    let (mut a, b) = two_replicas(&redis, &sim, &[("SHUTDOWN_GRACE_SECS", "1".to_owned())]).await;
    let http = reqwest::Client::new();
    let accepted = submit(
        &http,
        &format!("http://127.0.0.1:{}", a.port),
        CHAT,
        KEY,
        &json!({"content": "x"}),
    )
    .await;
    assert_eq!(accepted.status(), 202);
    let on_b = accepted.headers()["location"]
        .to_str()
        .unwrap()
        .replace(&a.port.to_string(), &b.port.to_string());

    a.terminate();
    let exit = tokio::task::spawn_blocking(move || a.wait_exit(Duration::from_secs(15)))
        .await
        .unwrap();

    assert!(exit.expect("A exited within its grace").success());
    let (status, body) = read(http.get(&on_b).send().await.unwrap()).await;
    assert!(assert_error(status, &body, 503).contains("interrupted by shutdown; retry"));
}
