//! The limiter's own cost: its benchmark (`cargo bench --bench limiter`), run as a subprocess,
//! whose markdown table the report copies.

use std::process::{Command, Stdio};

/// Runs the limiter benchmark's binary (`LOAD_BENCH_LIMITER_BIN`, which `.ci/bench-load`
/// sets) or else `cargo bench --bench limiter`, and returns its table.
pub fn rows(quick: bool) -> String {
    let mut command = match std::env::var_os("LOAD_BENCH_LIMITER_BIN") {
        Some(bin) => Command::new(bin),
        None => {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut c = Command::new(cargo);
            c.args(["bench", "--quiet", "--bench", "limiter"]);
            c.current_dir(env!("CARGO_MANIFEST_DIR"));
            c
        }
    };
    if quick {
        command.env("LIMITER_BENCH_QUICK", "1");
    }
    match command.stderr(Stdio::null()).output() {
        Ok(output) if output.status.success() => {
            let text = String::from_utf8_lossy(&output.stdout);
            let rows: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
            if rows.is_empty() {
                "(the limiter benchmark printed no table)\n".to_owned()
            } else {
                rows.join("\n") + "\n"
            }
        }
        Ok(output) => format!("(the limiter benchmark failed: {})\n", output.status),
        Err(e) => format!("(the limiter benchmark could not run: {e})\n"),
    }
}
