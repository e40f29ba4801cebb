//! The servers under test (the simulator, the service, nginx as a proxy, and nginx as the
//! canned upstream), each started on a free loopback port with its log in the run's directory,
//! and the `Lab` that holds those every table shares.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::client;
use crate::config::Config;
use crate::generator::Keys;
use crate::procs::{self, Proc};
use crate::progress;
use crate::requests;

/// Models the simulator lists: the figure for List Models.
pub const MODELS: usize = 350;

/// `target/release/openrouter-simulator`: [`MODELS`] models, SSE chunks paced 5 ms apart.
pub struct Simulator {
    pub proc: Proc,
    pub addr: SocketAddr,
}

pub async fn start_simulator(dir: &Path) -> Result<Simulator, String> {
    let addr = procs::free_addr()?;
    let mut command = Command::new(procs::binary("openrouter-simulator")?);
    command
        .args(["--bind", &addr.to_string(), "--no-auth"])
        .args(["--models", &MODELS.to_string()])
        .args(["--sse-chunk-delay-ms", "5"])
        // One runtime thread, like nginx's one worker and the service's one.
        .env("TOKIO_WORKER_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(log_file(dir, "simulator.log")?);
    let mut proc = Proc::spawn("openrouter-simulator", command)?;
    procs::wait_ready(&mut proc, addr, "/api/v1/credits").await?;
    Ok(Simulator { proc, addr })
}

fn log_file(dir: &Path, name: &str) -> Result<std::fs::File, String> {
    std::fs::File::create(dir.join(name)).map_err(|e| format!("cannot create {name}: {e}"))
}

/// `target/release/openrouter-connector`, with its RSS one second after it was ready.
pub struct Service {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub log: PathBuf,
    pub idle_rss_kib: u64,
}

impl Service {
    pub fn pid(&self) -> u32 {
        self.proc.pid()
    }

    pub fn log_bytes(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |m| m.len())
    }
}

/// How to start one instance of the service.
pub struct ServiceSpec<'a> {
    /// Its log's name in the run's directory, and its name in messages.
    pub name: &'a str,
    /// The OpenRouter it calls (`OPENROUTER_BASE_URL` is this address's `/api/v1`).
    pub upstream: SocketAddr,
    pub per_minute: u64,
    pub burst: u64,
    /// `WORKERS`; `None` leaves the service's default (one per core).
    pub workers: Option<usize>,
    /// `RUST_LOG`; `None` is `LOAD_BENCH_RUST_LOG`, else `info`.
    pub rust_log: Option<&'a str>,
}

impl ServiceSpec<'_> {
    /// An instance with its default settings but a rate limit out of the way
    /// (`RATE_LIMIT_PER_MINUTE=60000000`, `RATE_LIMIT_BURST=1000000`) and `RUST_LOG=warn`: the
    /// throughput and many-connection runs.
    pub fn unlimited(name: &str, upstream: SocketAddr) -> ServiceSpec<'_> {
        ServiceSpec {
            name,
            upstream,
            per_minute: 60_000_000,
            burst: 1_000_000,
            workers: None,
            rust_log: Some("warn"),
        }
    }
}

/// Starts an instance (open-file limit raised, see `procs::with_many_fds`), waits until it is
/// ready, and notes its RSS one second later.
pub async fn start_service(dir: &Path, spec: &ServiceSpec<'_>) -> Result<Service, String> {
    let name = spec.name;
    let addr = procs::free_addr()?;
    let log = dir.join(format!("{name}.log"));
    let out = log_file(dir, &format!("{name}.log"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let rust_log = spec.rust_log.map_or_else(
        || std::env::var("LOAD_BENCH_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        str::to_owned,
    );
    let mut command = procs::with_many_fds(&procs::binary("openrouter-connector")?);
    command
        .env_clear()
        .env("BIND", addr.to_string())
        .env(
            "OPENROUTER_BASE_URL",
            format!("http://{}/api/v1", spec.upstream),
        )
        .env("RATE_LIMIT_PER_MINUTE", spec.per_minute.to_string())
        .env("RATE_LIMIT_BURST", spec.burst.to_string())
        .env("SHUTDOWN_GRACE_SECS", "1")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", rust_log)
        .stdout(out)
        .stderr(err);
    if let Some(workers) = spec.workers {
        command.env("WORKERS", workers.to_string());
    }
    let mut proc = Proc::spawn(name, command)?;
    procs::wait_ready(&mut proc, addr, "/health/live").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kib = procs::rss_kib(proc.pid()).unwrap_or(0);
    Ok(Service {
        proc,
        addr,
        log,
        idle_rss_kib,
    })
}

/// One nginx: a master and its workers.
pub struct Nginx {
    pub proc: Proc,
    /// Where its first server listens.
    pub addr: SocketAddr,
}

impl Nginx {
    /// The first worker's pid (the process that proxies with one worker), else the master's.
    pub fn worker(&self) -> u32 {
        procs::children(self.proc.pid())
            .first()
            .copied()
            .unwrap_or(self.proc.pid())
    }

    /// The master and its workers.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.proc.pid()];
        pids.extend(procs::children(self.proc.pid()));
        pids
    }

    /// Its worker processes.
    pub fn workers(&self) -> usize {
        procs::children(self.proc.pid()).len()
    }

    /// The RSS of the master and its workers together, in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.pids().into_iter().filter_map(procs::rss_kib).sum()
    }
}

/// Starts nginx with `config` written to `<name>.conf` (open-file limit raised), and waits
/// until `addr` answers.
pub async fn spawn_nginx(
    dir: &Path,
    binary: &Path,
    name: &str,
    config: &str,
    addr: SocketAddr,
) -> Result<Nginx, String> {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(&conf, config).map_err(|e| format!("cannot write {name}.conf: {e}"))?;
    let mut command = procs::with_many_fds(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join(format!("{name}-error.log")))
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log_file(dir, &format!("{name}-stderr.log"))?);
    let mut proc = Proc::spawn(name, command)?;
    procs::wait_ready(&mut proc, addr, "/api/v1/credits").await?;
    Ok(Nginx { proc, addr })
}

/// nginx as a plain reverse proxy (`proxy_pass`) to `upstream`, with `workers` worker processes
/// (`1`, `auto`), its own name for its files, sized for `clients` connections at once: as many
/// idle upstream connections kept per worker (at least 128), so that it does not open and close
/// upstream connections under load (the service's pool keeps every idle one).
pub async fn start_proxy(
    dir: &Path,
    binary: &Path,
    name: &str,
    workers: &str,
    upstream: SocketAddr,
    clients: usize,
) -> Result<Nginx, String> {
    let addr = procs::free_addr()?;
    let servers = procs::nginx_upstream("upstream_under_test", upstream, clients.max(128))
        + &procs::nginx_proxy(addr, "upstream_under_test", "");
    let connections = procs::nginx_worker_connections(clients);
    let config = procs::nginx_config(dir, name, workers, connections, &servers);
    spawn_nginx(dir, binary, name, &config, addr).await
}

/// The nginx of the latency and streaming tables: one worker (like the service's one), proxying
/// to the simulator, with a second server that does not buffer answers for server-sent events,
/// as a proxy for streams is set up.
pub struct LatencyNginx {
    pub nginx: Nginx,
    /// The server with `proxy_buffering off`.
    pub streaming: SocketAddr,
}

async fn start_latency_nginx(
    dir: &Path,
    binary: &Path,
    upstream: SocketAddr,
) -> Result<LatencyNginx, String> {
    let addr = procs::free_addr()?;
    let streaming = procs::free_addr()?;
    let servers = procs::nginx_upstream("simulator", upstream, 128)
        + &procs::nginx_proxy(addr, "simulator", "")
        + &procs::nginx_proxy(streaming, "simulator", "\n            proxy_buffering off;");
    let config = procs::nginx_config(dir, "nginx", "1", 4096, &servers);
    let nginx = spawn_nginx(dir, binary, "nginx", &config, addr).await?;
    Ok(LatencyNginx { nginx, streaming })
}

/// The canned upstream: nginx answering every request `200` with one chat completion, so the
/// upstream is never what limits a throughput run.
pub struct Canned {
    pub nginx: Nginx,
    /// The answer's length in bytes.
    pub bytes: usize,
}

/// The simulator's own answer to the benchmark's non-streamed chat call (the one the throughput
/// runs send), fetched once: OpenRouter's shape (`gen-…` id, usage, leading blank lines) with
/// nothing from outside the repository.
async fn simulator_answer(sim: SocketAddr) -> Result<Vec<u8>, String> {
    let template = requests::chat(Keys::One("sk-or-v1-load-canned".to_owned()));
    let bytes = client::request(
        template.method,
        &template.path,
        sim,
        Some("sk-or-v1-load-canned"),
        template.body.as_deref(),
    );
    let mut conn = client::Conn::open(sim).await.map_err(|e| {
        format!(
            "canned answer: cannot connect to the simulator: {}",
            e.name()
        )
    })?;
    let mut body = Vec::new();
    let answer = conn
        .call(&bytes, Some(&mut body))
        .await
        .map_err(|e| format!("canned answer: the simulator failed: {}", e.name()))?;
    if answer.status != 200 {
        return Err(format!(
            "canned answer: the simulator answered {} to the chat call",
            answer.status
        ));
    }
    Ok(body)
}

/// Starts the canned upstream with `worker_processes auto` (one per core), so that it is not what
/// limits a run.
async fn start_canned(
    dir: &Path,
    binary: &Path,
    sim: SocketAddr,
    clients: usize,
) -> Result<Canned, String> {
    let body = simulator_answer(sim).await?;
    let quoted = procs::nginx_quoted(&body)?;
    let addr = procs::free_addr()?;
    let connections = procs::nginx_worker_connections(clients);
    let server = procs::nginx_canned(addr, &quoted);
    let config = procs::nginx_config(dir, "canned", "auto", connections, &server);
    let nginx = spawn_nginx(dir, binary, "canned", &config, addr).await?;
    Ok(Canned {
        nginx,
        bytes: body.len(),
    })
}

/// Under `CI=true`, a tool the benchmark needs that is missing (and not refused with `none` in
/// its knob `knob`) is a failure: the comparison it makes would silently vanish.
pub fn missing_is_failure(knob: &str) -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        && std::env::var(knob).map_or(true, |v| v != "none")
}

/// The servers one run shares, and what was learnt while starting them. The fields are in the
/// order they stop in when a `Lab` is dropped: the proxies, the service, then the upstreams.
pub struct Lab {
    pub nginx: Option<LatencyNginx>,
    /// The instance under test (`RATE_LIMIT_PER_MINUTE=100`, `WORKERS` from the config).
    pub service: Service,
    /// The canned upstream of the throughput and many-connection runs (needs nginx).
    pub canned: Option<Canned>,
    pub sim: Simulator,
    /// nginx's binary, for the proxies the throughput and memory runs start.
    pub nginx_binary: Option<PathBuf>,
    /// The run's temporary directory: configuration and logs.
    pub dir: PathBuf,
    /// Bytes of the simulator's `GET /models` answer.
    pub models_bytes: usize,
    /// The benchmark's own processes, to tell their CPU use from the rest of the machine's.
    pub ours: Vec<u32>,
}

impl Lab {
    /// Starts the simulator, the instance under test, nginx and the canned upstream (a failure
    /// under `CI=true` when nginx is missing and not refused with `LOAD_BENCH_NGINX=none`).
    pub async fn start(dir: &Path, cfg: &Config) -> Result<Lab, String> {
        let sim = start_simulator(dir).await?;
        progress(&format!("simulator on {} ({MODELS} models)", sim.addr));
        let models_bytes = match client::get(sim.addr, "/api/v1/models").await {
            Ok((200, body)) => body.len(),
            _ => return Err("the simulator's GET /api/v1/models did not answer 200".into()),
        };
        let service = start_service(
            dir,
            &ServiceSpec {
                name: "service",
                upstream: sim.addr,
                per_minute: 100,
                burst: 100,
                workers: Some(cfg.workers),
                rust_log: None,
            },
        )
        .await?;
        progress(&format!(
            "service on {} (RATE_LIMIT_PER_MINUTE=100)",
            service.addr
        ));
        let nginx_binary = procs::nginx_binary();
        let (nginx, canned) = match &nginx_binary {
            Some(binary) => {
                let nginx = start_latency_nginx(dir, binary, sim.addr).await?;
                progress(&format!(
                    "nginx on {} (streams: {})",
                    nginx.nginx.addr, nginx.streaming
                ));
                let canned = start_canned(dir, binary, sim.addr, cfg.many_connections).await?;
                progress(&format!(
                    "canned upstream (nginx, {} bytes) on {}",
                    canned.bytes, canned.nginx.addr
                ));
                (Some(nginx), Some(canned))
            }
            None if missing_is_failure("LOAD_BENCH_NGINX") => {
                return Err(
                    "nginx not found, and under CI=true a skipped comparison is a failure".into(),
                );
            }
            None => {
                progress(
                    "SKIPPED: nginx not found, so its rows and the canned upstream are skipped",
                );
                (None, None)
            }
        };
        let mut ours = vec![sim.proc.pid(), service.pid()];
        if let Some(n) = &nginx {
            ours.extend(n.nginx.pids());
        }
        if let Some(c) = &canned {
            ours.extend(c.nginx.pids());
        }
        Ok(Lab {
            nginx,
            service,
            canned,
            sim,
            nginx_binary,
            dir: dir.to_path_buf(),
            models_bytes,
            ours,
        })
    }

    /// Stops nginx, then the service, then the canned upstream and the simulator.
    pub fn stop(self) {
        let Lab {
            nginx,
            service,
            canned,
            sim,
            ..
        } = self;
        drop(nginx);
        drop(service);
        drop(canned);
        drop(sim);
    }
}
