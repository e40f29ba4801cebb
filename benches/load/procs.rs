//! The processes under test: the release binaries and nginx, started as children on free
//! loopback ports and stopped by guards (on return, on panic, and on Ctrl-C or SIGTERM through
//! the signal thread), plus their memory from `/proc`.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use crate::client;

/// Children still running, for the signal thread.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Temporary directories to remove, for the signal thread.
static TEMP_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn registry<T>(m: &Mutex<Vec<T>>) -> std::sync::MutexGuard<'_, Vec<T>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Sends `signal` (a name such as `TERM`) to `pid` with `kill(1)`.
fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// On Ctrl-C or SIGTERM: stop every child, remove the temporary files, exit 130.
pub fn install_signal_thread() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("interrupted: stopping the processes under test");
            let pids = registry(&RUNNING).clone();
            for pid in &pids {
                signal(*pid, "TERM");
            }
            std::thread::sleep(Duration::from_millis(1500));
            for pid in &pids {
                signal(*pid, "KILL");
            }
            for dir in registry(&TEMP_DIRS).iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            std::process::exit(130);
        });
    });
}

/// A child process, stopped when dropped: SIGTERM, up to 3 s to exit, then SIGKILL.
pub struct Proc {
    pub name: String,
    child: Child,
}

impl Proc {
    pub fn spawn(name: &str, mut command: Command) -> Result<Proc, String> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        registry(&RUNNING).push(child.id());
        Ok(Proc {
            name: name.to_owned(),
            child,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            signal(pid, "TERM");
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        registry(&RUNNING).retain(|p| *p != pid);
    }
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Result<TempDir, String> {
        let path = std::env::temp_dir().join(format!("openrouter-load-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        registry(&TEMP_DIRS).push(path.clone());
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        registry(&TEMP_DIRS).retain(|p| p != &self.0);
    }
}

/// A free port on 127.0.0.1 (bound, read, released: another process could take it in between,
/// which readiness would then reveal).
pub fn free_addr() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until `GET path` gets any HTTP answer.
pub async fn wait_ready(proc: &mut Proc, addr: SocketAddr, path: &str) -> Result<Duration, String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if proc.exited() {
            return Err(format!("{} exited during start-up", proc.name));
        }
        if client::get(addr, path).await.is_ok() {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(format!(
        "{} did not answer on {addr} within 15 s",
        proc.name
    ))
}

/// One `VmXxx:` line of `/proc/<pid>/status`, in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

/// Resets `VmHWM` (the peak RSS) to the current RSS; false where the kernel refuses.
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

pub fn peak_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// The children of `pid` (nginx's workers).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|candidate| {
            std::fs::read_to_string(format!("/proc/{candidate}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// Where the release binaries are.
pub fn release_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("release")
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_mtime(&path)
        } else {
            entry.metadata().ok().and_then(|m| m.modified().ok())
        };
        newest = newest.max(time);
    }
    newest
}

/// A release binary; an error when missing, a warning when `src/` changed after it was built.
pub fn binary(name: &str) -> Result<PathBuf, String> {
    let path = release_dir().join(name);
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_err(|_| {
            format!(
                "{} is missing: run `cargo build --release --bins` first (.ci/bench-load does)",
                path.display()
            )
        })?;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    if newest_mtime(&src).is_some_and(|changed| changed > built) {
        eprintln!(
            "warning: {} is older than src/: rebuild with `cargo build --release --bins` to measure the current code",
            path.display()
        );
    }
    Ok(path)
}

/// nginx, if installed (`LOAD_BENCH_NGINX` overrides the path; `none` skips nginx).
pub fn nginx_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("LOAD_BENCH_NGINX") {
        return (!path.is_empty() && path != "none").then(|| PathBuf::from(path));
    }
    let candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"];
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// The most open files a child may get: the hard limit, at most 65,536 (2,000 connections need
/// more than the usual soft limit of 1,024, with the upstream side's as many again).
const MOST_FDS: u64 = 65_536;

/// A command that runs `program` with its open-file limit raised to [`fd_limit`]: `/bin/sh`
/// sets it and `exec`s the program, so the child's pid is the program's own.
pub fn with_many_fds(program: &Path) -> Command {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(format!(
            "n=$(ulimit -Hn); if [ \"$n\" = unlimited ] || [ \"$n\" -gt {MOST_FDS} ]; then n={MOST_FDS}; fi; ulimit -n \"$n\" && exec \"$0\" \"$@\""
        ))
        .arg(program);
    command
}

/// The open-file limit [`with_many_fds`] gives: min(hard limit, 65,536), or `None` if unknown.
pub fn fd_limit() -> Option<u64> {
    let output = Command::new("/bin/sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    match text.trim() {
        "unlimited" => Some(MOST_FDS),
        n => n.parse::<u64>().ok().map(|n| n.min(MOST_FDS)),
    }
}

/// The `worker_connections` an nginx needs for `clients` connections at once, each perhaps with
/// its upstream connection, all in one worker: 4,096 at least (what the latency nginx has).
pub fn nginx_worker_connections(clients: usize) -> usize {
    clients.saturating_mul(2).saturating_add(256).max(4096)
}

/// An nginx configuration: `workers` (`1`, `auto`), `connections` per worker (nginx allocates
/// them all at start, so more than needed inflates its RSS), its pid and error log named after
/// `name`, and `servers` (upstream and server blocks) inside `http`, everything under `dir`.
pub fn nginx_config(
    dir: &Path,
    name: &str,
    workers: &str,
    connections: usize,
    servers: &str,
) -> String {
    let d = dir.display();
    format!(
        "daemon off;
worker_processes {workers};
pid {d}/{name}.pid;
error_log {d}/{name}-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
{servers}}}
"
    )
}

/// An `upstream` block named `name` for `addr`, keeping up to `keepalive` idle connections per
/// worker.
pub fn nginx_upstream(name: &str, addr: SocketAddr, keepalive: usize) -> String {
    format!(
        "    upstream {name} {{
        server {addr};
        keepalive {keepalive};
        keepalive_requests 1000000;
        keepalive_timeout 300s;
    }}
"
    )
}

/// A plain `proxy_pass` to the upstream block `upstream`, with upstream keep-alive, listening
/// on `listen` with nginx's default backlog (511), as the service listens with its own default;
/// `extra` adds directives (`proxy_buffering off;` for server-sent events).
pub fn nginx_proxy(listen: SocketAddr, upstream: &str, extra: &str) -> String {
    format!(
        "    server {{
        listen {listen};
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";{extra}
        }}
    }}
"
    )
}

/// A server that answers every request `200` with `body` as `application/json`: the canned
/// upstream, whose listen backlog is large so that a burst of connections from the proxy under
/// test never waits on it. `body` must already be quoted for nginx ([`nginx_quoted`]).
pub fn nginx_canned(listen: SocketAddr, quoted: &str) -> String {
    format!(
        "    server {{
        listen {listen} backlog=4096;
        default_type application/json;
        location / {{
            return 200 {quoted};
        }}
    }}
"
    )
}

/// The longest canned body written into nginx's configuration: its parser refuses a single
/// parameter longer than its 4 KiB buffer.
const LONGEST_CANNED: usize = 3_500;

/// `body` as a single-quoted nginx string, backslashes and `'` escaped. A `$` would start a variable
/// (nginx has no escape for it in `return`), so a body with one is refused, as is one that is not
/// UTF-8 or too long for the configuration parser.
pub fn nginx_quoted(body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the canned body is not UTF-8".to_owned())?;
    if text.contains('$') {
        return Err("the canned body contains `$`, which nginx would read as a variable".into());
    }
    if text.len() > LONGEST_CANNED {
        return Err(format!(
            "the canned body is {} bytes, more than nginx's configuration parser takes ({LONGEST_CANNED})",
            text.len()
        ));
    }
    Ok(format!(
        "'{}'",
        text.replace('\\', "\\\\").replace('\'', "\\'")
    ))
}

/// The backlog of the socket listening on `addr` (what `ss -ltn` shows as Send-Q), if `ss`
/// can tell.
pub fn listen_backlog(addr: SocketAddr) -> Option<u64> {
    let output = Command::new("ss")
        .args(["-Hltn", "src", &addr.to_string()])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next()?.split_whitespace().nth(2)?.parse().ok()
}

/// The kernel's count of connections dropped because a listen queue was full
/// (`TcpExt: ListenOverflows` in `/proc/net/netstat`): machine-wide, every listener included.
pub fn listen_overflows() -> Option<u64> {
    let netstat = std::fs::read_to_string("/proc/net/netstat").ok()?;
    let mut tcp_ext = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = tcp_ext.next()?;
    let values = tcp_ext.next()?;
    let at = names
        .split_whitespace()
        .position(|n| n == "ListenOverflows")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// Hypervisor steal, in ticks (1/100 s), from `/proc/stat`.
fn steal_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .nth(8)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}

/// CPU ticks a process used (user and system, all threads) plus those of its children that
/// have exited and been waited for, so work done by short-lived processes is not missed.
fn process_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let fields: Vec<u64> = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .skip(11)
                .take(4)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(fields.iter().sum())
        })
        .unwrap_or(0)
}

/// CPU ticks (1/100 s) `pids` used so far, all threads.
pub fn ticks(pids: &[u32]) -> u64 {
    pids.iter().map(|pid| process_ticks(*pid)).sum()
}

/// CPU ticks of this process's children that have exited and been waited for (`cutime` and
/// `cstime`): wrk's, once a run is over.
pub fn waited_children_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<u64> = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .skip(13)
                .take(2)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(fields.iter().sum())
        })
        .unwrap_or(0)
}

/// The ticks of every process but `ours`. (The machine-wide `/proc/stat` line is not used:
/// on this kind of VM it misses most of the benchmark's own time.)
fn others_ticks(ours: &[u32]) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| !ours.contains(pid))
        .map(process_ticks)
        .sum()
}

/// How much CPU the rest of the machine used while a run went on.
pub struct CpuWatch {
    ours: Vec<u32>,
    others: u64,
    steal: u64,
    started: Instant,
}

/// CPU used outside the benchmark's own processes, in ticks, over `seconds`.
#[derive(Clone, Copy, Debug, Default)]
pub struct OtherCpu {
    pub foreign: u64,
    pub steal: u64,
    pub seconds: f64,
}

impl OtherCpu {
    pub fn add(&mut self, other: OtherCpu) {
        self.foreign += other.foreign;
        self.steal += other.steal;
        self.seconds += other.seconds;
    }

    /// Cores' worth of CPU others used on average (100 ticks per second).
    pub fn cores(&self) -> f64 {
        if self.seconds > 0.0 {
            self.foreign as f64 / 100.0 / self.seconds
        } else {
            0.0
        }
    }

    pub fn steal_cores(&self) -> f64 {
        if self.seconds > 0.0 {
            self.steal as f64 / 100.0 / self.seconds
        } else {
            0.0
        }
    }
}

impl CpuWatch {
    /// Starts watching; `ours` are the benchmark's own processes (this one is added).
    pub fn start(mut ours: Vec<u32>) -> CpuWatch {
        ours.push(std::process::id());
        CpuWatch {
            others: others_ticks(&ours),
            steal: steal_ticks(),
            ours,
            started: Instant::now(),
        }
    }

    pub fn finish(self) -> OtherCpu {
        OtherCpu {
            foreign: others_ticks(&self.ours).saturating_sub(self.others),
            steal: steal_ticks().saturating_sub(self.steal),
            seconds: self.started.elapsed().as_secs_f64(),
        }
    }
}
