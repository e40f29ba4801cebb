//! The rate limiter's own cost: time per charge in process and over Redis on loopback, and
//! the bytes each active connection takes, with 200,000 distinct keys swept once idle.
//! Run with `cargo bench --bench limiter`; `LIMITER_BENCH_QUICK=1` runs a short smoke pass.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use openrouter_connector::domain::{ApiKey, ConnectionId};
use openrouter_connector::rate_limit::{InProcessStore, Quota, RateLimiter, RedisStore, Store};
use openrouter_connector::redis_connection::SharedRedis;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn ids(n: usize) -> Vec<ConnectionId> {
    (0..n)
        .filter_map(|i| ApiKey::parse(&format!("sk-or-v1-bench-{i}")).ok())
        .map(|key| key.connection_id())
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let quick = std::env::var_os("LIMITER_BENCH_QUICK").is_some();
    let scale = if quick { 10 } else { 1 };
    println!("| measure | value |");
    println!("|---|---|");

    // Time per charge, always admitted (a fast refill), over many keys.
    let generous = Quota {
        per_minute: 60_000_000,
        burst: 1_000,
    };
    let limiter = RateLimiter::new(
        Store::InProcess(InProcessStore::new(generous)),
        generous,
        false,
    );
    let keys = ids(10_000);
    let calls = 2_000_000 / scale;
    let started = Instant::now();
    for i in 0..calls {
        let _ = limiter.charge(keys[i % keys.len()]).await;
    }
    let per_call = started.elapsed() / calls as u32;
    println!(
        "| in process, admitted, 10,000 keys | {} ns per charge |",
        per_call.as_nanos()
    );

    // Time per refusal: one key, spent.
    let tight = Quota {
        per_minute: 1,
        burst: 1,
    };
    let limiter = RateLimiter::new(Store::InProcess(InProcessStore::new(tight)), tight, false);
    let _ = limiter.charge(keys[0]).await;
    let started = Instant::now();
    for _ in 0..calls {
        let _ = limiter.charge(keys[0]).await;
    }
    let per_call = started.elapsed() / calls as u32;
    println!(
        "| in process, refused | {} ns per charge |",
        per_call.as_nanos()
    );

    // Bytes per active key, and the sweep of idle ones. One call back every 100 µs with a
    // burst of 1: a key is idle (back to a full burst) 100 µs after its call.
    let n = 200_000 / scale;
    let fast = Quota {
        per_minute: 600_000,
        burst: 1,
    };
    let store = InProcessStore::new(fast);
    let limiter = RateLimiter::new(Store::InProcess(store.clone()), fast, false);
    let many = ids(n);
    let before = rss_bytes();
    for id in &many {
        let _ = limiter.charge(*id).await;
    }
    let after = rss_bytes();
    let active = store.len();
    println!("| distinct keys charged | {n} |");
    println!("| entries while active | {active} |");
    println!(
        "| memory per active key | {} bytes (RSS {} MiB → {} MiB) |",
        (after.saturating_sub(before)) / active.max(1) as u64,
        before / (1 << 20),
        after / (1 << 20)
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.sweep();
    println!(
        "| entries after they went idle and one sweep | {} |",
        store.len()
    );
    println!("| RSS after the sweep | {} MiB |", rss_bytes() / (1 << 20));
    drop(many);

    redis_cost(if quick { 1_000 } else { 20_000 }).await;
}

async fn redis_cost(calls: usize) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(6390);
    let Ok(mut server) = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
    else {
        println!("| over Redis | not measured: redis-server is not installed |");
        return;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quota = Quota {
        per_minute: 60_000_000,
        burst: 1_000,
    };
    let url = format!("redis://127.0.0.1:{port}/0");
    let Ok(redis) = SharedRedis::new(&url, Duration::from_millis(200)) else {
        println!("| over Redis | not measured: bad URL |");
        return;
    };
    let store = RedisStore::new(std::sync::Arc::new(redis), quota);
    let limiter = RateLimiter::new(Store::Redis(Box::new(store)), quota, false);
    let keys = ids(1_000);
    let _ = limiter.charge(keys[0]).await;
    let mut times = Vec::with_capacity(calls);
    let mut failures = 0;
    for i in 0..calls {
        let started = Instant::now();
        if limiter.charge(keys[i % keys.len()]).await.is_err() {
            failures += 1;
        }
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "| over Redis on loopback, one at a time | p50 {} µs, p99 {} µs ({failures} failures in {calls}) |",
        percentile(&times, 0.5).as_micros(),
        percentile(&times, 0.99).as_micros()
    );
    let _ = server.kill();
    let _ = server.wait();
}
