//! The real programs some tests need, `redis-server` and nginx: where to find them (or that a
//! person chose to hide them), and servers of our own on free loopback ports, stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::servers::{TempDir, free_port, wait_for_port};

pub const REDIS: &str = "redis-server";
pub const NGINX: &str = "nginx";

/// Programs to treat as not installed, comma- or space-separated (`redis-server,nginx`): how a
/// person sees these tests skipped, or failed under `CI=true`, on a machine that has them.
pub const HIDE_VAR: &str = "OPENROUTER_TEST_HIDE";

/// Finds a program on the PATH or in /usr/sbin, /usr/bin, /usr/local/sbin (Debian puts nginx in
/// /usr/sbin, which a user's PATH often lacks); `None` when it is missing or hidden by
/// [`HIDE_VAR`].
pub fn find(program: &str) -> Option<PathBuf> {
    let hidden = std::env::var(HIDE_VAR).unwrap_or_default();
    if hidden
        .split(|c: char| c == ',' || c.is_whitespace())
        .any(|name| name == program)
    {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/bin", "/usr/local/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The program's path; `main` ran the trial only because it found it.
fn installed(program: &str) -> PathBuf {
    find(program)
        .unwrap_or_else(|| panic!("{program} was found when the trials were listed, not now"))
}

/// A `redis-server` of our own; killed on drop.
pub struct RedisServer {
    pub port: u16,
    program: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one; the trial runs only where `redis-server` is installed.
    pub fn start() -> RedisServer {
        let program = installed(REDIS);
        let mut server = RedisServer {
            port: free_port(),
            program,
            child: None,
        };
        server.restart();
        server
    }

    /// The URL for `REDIS_URL`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server, as an outage would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.program)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        assert!(
            wait_for_port(self.port, Duration::from_secs(10)),
            "redis-server did not listen"
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An nginx of our own, proxying to the given backends round-robin; stopped on drop.
pub struct NginxServer {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl NginxServer {
    /// Starts one; the trial runs only where nginx is installed.
    pub fn start(backends: &[u16]) -> NginxServer {
        let program = installed(NGINX);
        let dir = TempDir::new("nginx");
        let port = free_port();
        let servers: String = backends
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p};\n"))
            .collect();
        let root = dir.0.display();
        let config = format!(
            "daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n\
             upstream service {{\n{servers}    keepalive 16;\n  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://service;\n\
             proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n    }}\n  }}\n}}\n"
        );
        let config_path = dir.0.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(program)
            .arg("-p")
            .arg(&dir.0)
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "nginx did not listen"
        );
        NginxServer {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for NginxServer {
    /// A fast shutdown (`SIGTERM`), so that the master stops its workers; `SIGKILL` alone would
    /// leave the worker running, orphaned, after the test.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
