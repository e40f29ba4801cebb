//! The service as a process logging JSON lines into a file, for tests that read its log.

use std::path::PathBuf;
use std::time::Duration;

use crate::servers::{ServiceProcess, TempDir};

/// The service in front of `upstream`, logging JSON lines at `level` into a file of its own.
pub struct LoggedService {
    pub service: ServiceProcess,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: PathBuf,
    _dir: TempDir,
}

impl LoggedService {
    pub fn start(upstream: String, level: &str, what: &str) -> LoggedService {
        let dir = TempDir::new(what);
        let log = dir.0.join("service.log");
        let service = ServiceProcess::start_logging_to(
            &[
                ("OPENROUTER_BASE_URL", upstream),
                ("RUST_LOG", level.to_owned()),
                ("LOG_FORMAT", "json".to_owned()),
            ],
            Some(&log),
        );
        let base = format!("http://127.0.0.1:{}", service.port);
        LoggedService {
            service,
            base,
            log,
            _dir: dir,
        }
    }

    /// Stops the service (after its last lines are written) and reads its log.
    pub fn stop_and_read(self) -> String {
        std::thread::sleep(Duration::from_millis(300));
        drop(self.service);
        std::fs::read_to_string(&self.log).unwrap()
    }
}
