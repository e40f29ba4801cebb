//! Real Redis and nginx servers for the tests that need them, on free loopback ports. Where the
//! program is not installed the test says so loudly and is skipped; under `CI=true` a missing
//! program fails the test instead, since CI installs both.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Finds a program on the PATH (or in /usr/sbin, where Debian puts nginx), or says why not.
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/usr/bin", "/usr/local/sbin"].map(PathBuf::from));
    let found = dirs
        .into_iter()
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{program} is not installed, and under CI=true a skipped test is a failure");
        }
        eprintln!(
            "\n*** SKIPPED: {program} is not installed; install it (apt-get install {program}) to run this test ***\n"
        );
    }
    found
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A `redis-server` of our own; killed on drop.
pub struct RedisServer {
    pub port: u16,
    program: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one, or returns `None` (after saying so) when redis-server is not installed.
    pub fn start() -> Option<RedisServer> {
        let program = find("redis-server")?;
        let mut server = RedisServer {
            port: free_port(),
            program,
            child: None,
        };
        server.restart();
        Some(server)
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
    /// Starts one, or returns `None` (after saying so) when nginx is not installed.
    pub fn start(backends: &[u16]) -> Option<NginxServer> {
        let program = find("nginx")?;
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
        Some(NginxServer {
            port,
            child,
            _dir: dir,
        })
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

/// A service process of our own (the real binary), killed on drop.
pub struct ServiceProcess {
    pub port: u16,
    child: Child,
}

impl ServiceProcess {
    /// Starts the `openrouter-connector` binary with these environment variables.
    pub fn start(env: &[(&str, String)]) -> ServiceProcess {
        ServiceProcess::start_logging_to(env, None)
    }

    /// Starts it with its standard output and error written to `log`.
    pub fn start_logging_to(
        env: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> ServiceProcess {
        let port = free_port();
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                (Stdio::from(file.try_clone().unwrap()), Stdio::from(file))
            }
            None => (Stdio::null(), Stdio::inherit()),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_openrouter-connector"))
            .env_clear()
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("WORKERS", "1")
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("the service starts");
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "the service did not listen"
        );
        ServiceProcess { port, child }
    }
}

impl ServiceProcess {
    /// Sends SIGTERM, as an orchestrator does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit, up to `within`; `None` when it did not.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary folder removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "openrouter-connector-{what}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
