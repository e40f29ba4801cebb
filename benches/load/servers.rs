//! The three servers under test (the simulator, the service, nginx), each started on a free
//! loopback port with its log in the run's directory, and the `Lab` that holds them for a run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::config::Config;
use crate::procs::{self, Proc};
use crate::progress;

/// `target/release/openrouter-simulator`: 300 models, SSE chunks paced 5 ms apart.
pub struct Simulator {
    pub proc: Proc,
    pub addr: SocketAddr,
}

pub async fn start_simulator(dir: &Path) -> Result<Simulator, String> {
    let addr = procs::free_addr()?;
    let mut command = Command::new(procs::binary("openrouter-simulator")?);
    command
        .args(["--bind", &addr.to_string(), "--models", "300", "--no-auth"])
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

pub async fn start_service(
    dir: &Path,
    name: &str,
    upstream: SocketAddr,
    per_minute: u64,
    burst: u64,
    workers: Option<usize>,
) -> Result<Service, String> {
    let addr = procs::free_addr()?;
    let log = dir.join(format!("{name}.log"));
    let out = log_file(dir, &format!("{name}.log"))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = Command::new(procs::binary("openrouter-connector")?);
    command
        .env_clear()
        .env("BIND", addr.to_string())
        .env("OPENROUTER_BASE_URL", format!("http://{upstream}/api/v1"))
        .env("RATE_LIMIT_PER_MINUTE", per_minute.to_string())
        .env("RATE_LIMIT_BURST", burst.to_string())
        .env("SHUTDOWN_GRACE_SECS", "1")
        .env("LOG_FORMAT", "json")
        .env(
            "RUST_LOG",
            std::env::var("LOAD_BENCH_RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        )
        .stdout(out)
        .stderr(err);
    if let Some(workers) = workers {
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

/// nginx as a plain reverse proxy (`proxy_pass`) to the same simulator, one worker.
pub struct Nginx {
    pub proc: Proc,
    pub addr: SocketAddr,
}

impl Nginx {
    /// The worker's pid (the process that proxies), else the master's.
    pub fn worker(&self) -> u32 {
        procs::children(self.proc.pid())
            .first()
            .copied()
            .unwrap_or(self.proc.pid())
    }
}

pub async fn start_nginx(dir: &Path, upstream: SocketAddr) -> Result<Option<Nginx>, String> {
    let Some(binary) = procs::nginx_binary() else {
        return Ok(None);
    };
    let addr = procs::free_addr()?;
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, procs::nginx_config(dir, addr, upstream)).map_err(|e| e.to_string())?;
    let mut command = Command::new(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("nginx-error.log"))
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log_file(dir, "nginx-stderr.log")?);
    let mut proc = Proc::spawn("nginx", command)?;
    procs::wait_ready(&mut proc, addr, "/api/v1/credits").await?;
    Ok(Some(Nginx { proc, addr }))
}

/// The servers one run measures, and what was learnt while starting them. The fields are in
/// the order they stop in when a `Lab` is dropped: nginx, the service, then the simulator.
pub struct Lab {
    pub nginx: Option<Nginx>,
    /// The instance under test (`RATE_LIMIT_PER_MINUTE=100`, `WORKERS` from the config).
    pub service: Service,
    pub sim: Simulator,
    /// The run's temporary directory: configuration and logs.
    pub dir: PathBuf,
    /// The idle RSS of an instance with the default worker count (one per core).
    pub idle_default_workers: u64,
    /// The benchmark's own processes, to tell their CPU use from the rest of the machine's.
    pub ours: Vec<u32>,
}

impl Lab {
    /// Starts the simulator, measures an instance with the default worker count idle and stops
    /// it, then starts the instance under test and nginx (a failure under `CI=true` when nginx
    /// is missing and not refused with `LOAD_BENCH_NGINX=none`).
    pub async fn start(dir: &Path, cfg: &Config) -> Result<Lab, String> {
        let sim = start_simulator(dir).await?;
        progress(&format!("simulator on {}", sim.addr));
        let default_workers =
            start_service(dir, "service-default-workers", sim.addr, 100, 100, None).await?;
        let idle_default_workers = default_workers.idle_rss_kib;
        drop(default_workers);
        let service = start_service(dir, "service", sim.addr, 100, 100, Some(cfg.workers)).await?;
        progress(&format!(
            "service on {} (RATE_LIMIT_PER_MINUTE=100)",
            service.addr
        ));
        let nginx = start_nginx(dir, sim.addr).await?;
        match &nginx {
            Some(n) => progress(&format!("nginx on {}", n.addr)),
            None if std::env::var("CI").is_ok_and(|v| v == "true")
                && std::env::var("LOAD_BENCH_NGINX").map_or(true, |v| v != "none") =>
            {
                return Err(
                    "nginx not found, and under CI=true a skipped comparison is a failure".into(),
                );
            }
            None => progress("SKIPPED: nginx not found, so its rows are skipped"),
        }
        let mut ours = vec![sim.proc.pid(), service.pid()];
        if let Some(n) = &nginx {
            ours.push(n.proc.pid());
            ours.extend(procs::children(n.proc.pid()));
        }
        Ok(Lab {
            nginx,
            service,
            sim,
            dir: dir.to_path_buf(),
            idle_default_workers,
            ours,
        })
    }

    /// Stops nginx, then the service, then the simulator.
    pub fn stop(self) {
        let Lab {
            nginx,
            service,
            sim,
            ..
        } = self;
        drop(nginx);
        drop(service);
        drop(sim);
    }
}
