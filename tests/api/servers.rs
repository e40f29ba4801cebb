//! Processes of our own for black-box tests: the service's real binary on a free loopback port,
//! and temporary folders. Shared with the `infra` test target (`tests/infra/`), which adds the
//! Redis and nginx servers.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port`, up to `within`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
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
