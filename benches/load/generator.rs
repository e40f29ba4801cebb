//! The load: an open-loop generator (requests scheduled at fixed intervals, each one's latency
//! counted from its scheduled time, so a stall is charged to every request it delayed: no
//! coordinated omission) and a closed-loop one, which warms a path up before wrk measures its
//! throughput (wrk's `-d` takes whole seconds).
//!
//! Threads: one tokio current-thread runtime does all the I/O; a plain thread with a 1 ns timer
//! slack (`/proc/self/timerslack_ns`, inherited from the main thread) wakes at each scheduled
//! time and hands the request to the runtime. tokio's own timer has 1 ms granularity, too coarse
//! for 500 µs intervals.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::client::{Answer, Conn, Failure, request};

/// Distinct keys in the many-keys load; each is used about once every 25 s at 2,000 req/s,
/// far below the 100 calls per minute a key may make.
pub const KEY_POOL: usize = 50_000;
/// Connections idle longer than this are not reused (actix closes them after 5 s).
const MAX_IDLE: Duration = Duration::from_secs(2);

static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);

/// Which key a request carries.
#[derive(Clone, Debug)]
pub enum Keys {
    /// The next key of the pool of [`KEY_POOL`], round robin across the whole benchmark.
    Pool,
    /// Always this one.
    One(String),
}

/// One kind of request.
#[derive(Clone, Debug)]
pub struct Template {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Vec<u8>>,
    pub keys: Keys,
}

impl Template {
    fn build(&self, host: SocketAddr) -> Vec<u8> {
        let key = match &self.keys {
            Keys::Pool => format!(
                "sk-or-v1-load-{:05}",
                NEXT_KEY.fetch_add(1, Ordering::Relaxed) % KEY_POOL
            ),
            Keys::One(key) => key.clone(),
        };
        request(
            self.method,
            &self.path,
            host,
            Some(&key),
            self.body.as_deref(),
        )
    }
}

/// An open-loop run: `rate` requests per second for `warmup` (not recorded) then `duration`.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    /// Requests in flight at most; a request scheduled while this many are in flight is dropped.
    pub cap: usize,
    /// A request not answered within this is an error.
    pub timeout: Duration,
}

/// What one or more runs recorded. Times are nanoseconds from the scheduled start.
#[derive(Debug, Default)]
pub struct Samples {
    /// Time to the last byte, by status.
    pub latency: BTreeMap<u16, Vec<u64>>,
    /// Time to the first body byte, for `200` answers.
    pub first_byte: Vec<u64>,
    /// How late the generator wrote the request (its own error, common to every path).
    pub lag: Vec<u64>,
    pub errors: BTreeMap<String, u64>,
    pub drops: u64,
    /// Stale keep-alive connections replaced (not errors).
    pub reconnects: u64,
    /// Requests scheduled in the recorded part.
    pub scheduled: u64,
    /// Seconds from the first recorded scheduled start to the last completion, summed over runs.
    pub window: f64,
}

impl Samples {
    pub fn merge(&mut self, other: Samples) {
        for (status, values) in other.latency {
            self.latency.entry(status).or_default().extend(values);
        }
        self.first_byte.extend(other.first_byte);
        self.lag.extend(other.lag);
        for (kind, n) in other.errors {
            *self.errors.entry(kind).or_default() += n;
        }
        self.drops += other.drops;
        self.reconnects += other.reconnects;
        self.scheduled += other.scheduled;
        self.window += other.window;
    }

    /// Answers received, any status.
    pub fn answered(&self) -> u64 {
        self.latency.values().map(|v| v.len() as u64).sum()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Answers per second over the recorded window.
    pub fn achieved(&self) -> f64 {
        if self.window > 0.0 {
            self.answered() as f64 / self.window
        } else {
            0.0
        }
    }

    /// Answers whose status is not one of `expected`.
    pub fn unexpected(&self, expected: &[u16]) -> u64 {
        self.latency
            .iter()
            .filter(|(status, _)| !expected.contains(status))
            .map(|(_, v)| v.len() as u64)
            .sum()
    }
}

/// Idle connections, most recently used last.
type Pool = Rc<RefCell<Vec<Conn>>>;

/// Sends `bytes` on a pooled connection (or a new one), retrying once on a new connection when a
/// reused one turns out to have been closed.
async fn exchange(
    pool: &Pool,
    addr: SocketAddr,
    bytes: &[u8],
    reconnects: &Cell<u64>,
) -> Result<Answer, Failure> {
    let reused = loop {
        let popped = pool.borrow_mut().pop();
        match popped {
            Some(conn) if conn.last_used.elapsed() < MAX_IDLE => break Some(conn),
            Some(_) => continue,
            None => break None,
        }
    };
    let mut conn = match reused {
        Some(conn) => conn,
        None => Conn::open(addr).await?,
    };
    let answer = match conn.call(bytes, None).await {
        Err(Failure::Stale) => {
            reconnects.set(reconnects.get() + 1);
            conn = Conn::open(addr).await?;
            conn.call(bytes, None).await?
        }
        other => other?,
    };
    if answer.keep_alive {
        pool.borrow_mut().push(conn);
    }
    Ok(answer)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// One open-loop run against `addr`, cycling through `templates`.
pub async fn open_loop(addr: SocketAddr, templates: &[Template], plan: Plan) -> Samples {
    let interval = 1e9 / plan.rate.max(0.001);
    let warm_n = (plan.warmup.as_secs_f64() * plan.rate).round() as u64;
    let total_n = warm_n + (plan.duration.as_secs_f64() * plan.rate).round() as u64;
    let start = Instant::now() + Duration::from_millis(10);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let ticker = std::thread::spawn(move || {
        for i in 0..total_n {
            let at = start + Duration::from_nanos((i as f64 * interval) as u64);
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if tx.send((i, at)).is_err() {
                return;
            }
        }
    });

    let pool: Pool = Rc::new(RefCell::new(Vec::new()));
    let samples = Rc::new(RefCell::new(Samples::default()));
    let in_flight = Rc::new(Cell::new(0usize));
    let reconnects = Rc::new(Cell::new(0u64));
    let last_done = Rc::new(Cell::new(start));
    let measured_from = start + Duration::from_nanos((warm_n as f64 * interval) as u64);
    let mut tasks = JoinSet::new();
    let mut templates_cycle = templates.iter().cycle();
    while let Some((i, at)) = rx.recv().await {
        while tasks.try_join_next().is_some() {}
        let recorded = i >= warm_n;
        if recorded {
            samples.borrow_mut().scheduled += 1;
        }
        let Some(template) = templates_cycle.next() else {
            break;
        };
        if in_flight.get() >= plan.cap {
            if recorded {
                samples.borrow_mut().drops += 1;
            }
            continue;
        }
        in_flight.set(in_flight.get() + 1);
        let bytes = template.build(addr);
        let (pool, samples, in_flight, reconnects, last_done) = (
            pool.clone(),
            samples.clone(),
            in_flight.clone(),
            reconnects.clone(),
            last_done.clone(),
        );
        tasks.spawn_local(async move {
            let outcome =
                tokio::time::timeout(plan.timeout, exchange(&pool, addr, &bytes, &reconnects))
                    .await
                    .unwrap_or(Err(Failure::Timeout));
            in_flight.set(in_flight.get() - 1);
            if !recorded {
                return;
            }
            let mut s = samples.borrow_mut();
            match outcome {
                Ok(answer) => {
                    last_done.set(last_done.get().max(answer.done));
                    s.latency
                        .entry(answer.status)
                        .or_default()
                        .push(nanos(answer.done - at));
                    if answer.status == 200 {
                        s.first_byte.push(nanos(answer.first_byte - at));
                    }
                    s.lag
                        .push(nanos(answer.written.saturating_duration_since(at)));
                }
                Err(failure) => {
                    last_done.set(last_done.get().max(Instant::now()));
                    *s.errors.entry(failure.name()).or_default() += 1;
                }
            }
        });
    }
    let _ = ticker.join();
    while tasks.join_next().await.is_some() {}
    let mut out = samples.take();
    out.reconnects = reconnects.get();
    let planned_end = measured_from + plan.duration;
    out.window = last_done
        .get()
        .max(planned_end)
        .saturating_duration_since(measured_from)
        .as_secs_f64();
    out
}

/// What a closed-loop run counted.
#[derive(Debug, Default, Clone, Copy)]
pub struct Peak {
    pub answered: u64,
    pub errors: u64,
}

/// `connections` clients, each sending its next request as soon as the previous answer is in,
/// for `warmup` (not counted) and then `duration`.
pub async fn closed_loop(
    addr: SocketAddr,
    template: &Template,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Peak {
    let from = Instant::now() + warmup;
    let until = from + duration;
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let template = template.clone();
        tasks.spawn_local(async move {
            let mut answered = 0u64;
            let mut errors = 0u64;
            let mut conn: Option<Conn> = None;
            loop {
                let now = Instant::now();
                if now >= until {
                    break;
                }
                let bytes = template.build(addr);
                let mut current = match conn.take() {
                    Some(c) => c,
                    None => match Conn::open(addr).await {
                        Ok(c) => c,
                        Err(_) => {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            continue;
                        }
                    },
                };
                match tokio::time::timeout(Duration::from_secs(10), current.call(&bytes, None))
                    .await
                {
                    Ok(Ok(answer)) => {
                        if answer.done >= from && answer.done < until {
                            if answer.status == 200 {
                                answered += 1;
                            } else {
                                errors += 1;
                            }
                        }
                        if answer.keep_alive {
                            conn = Some(current);
                        }
                    }
                    _ => {
                        if Instant::now() >= from {
                            errors += 1;
                        }
                    }
                }
            }
            (answered, errors)
        });
    }
    let mut peak = Peak::default();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((answered, errors)) = joined {
            peak.answered += answered;
            peak.errors += errors;
        }
    }
    peak
}
