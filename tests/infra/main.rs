//! Black-box tests that need real programs, `redis-server` and nginx, in a harness of our own
//! (libtest-mimic): where a program is missing, its tests show as ignored with the reason,
//! instead of passing after printing a line that libtest would capture; under `CI=true`, where
//! both are installed, a missing program fails them. `OPENROUTER_TEST_HIDE=redis-server,nginx`
//! hides installed programs, to see either outcome.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly"
)]

use std::future::Future;
use std::pin::Pin;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

#[path = "../api/helpers.rs"]
#[allow(
    dead_code,
    reason = "shared with the api target, which uses the helpers these tests do not"
)]
mod helpers;
mod jobs;
mod programs;
mod rate_limit;
#[path = "../api/servers.rs"]
mod servers;
/// Steps and scenarios that the api target runs in process and this one over Redis.
mod shared {
    pub mod jobs;
    pub mod rate_limit;
}

/// One test: its name, the programs it needs, and its body, run on a runtime of its own.
pub struct Test {
    pub name: String,
    pub needs: &'static [&'static str],
    pub body: fn() -> Pin<Box<dyn Future<Output = ()>>>,
}

/// `tests![some_async_test needs [REDIS, NGINX], ...]`: the tests of the calling module, named
/// `module::function` as libtest names them.
#[macro_export]
macro_rules! tests {
    ($($test:ident needs [$($program:expr),+ $(,)?]),* $(,)?) => {
        vec![$($crate::Test {
            name: format!("{}::{}", $crate::local_module(module_path!()), stringify!($test)),
            needs: &[$($program),+],
            body: || Box::pin($test()),
        }),*]
    };
}

/// `infra::rate_limit` → `rate_limit`.
pub fn local_module(path: &'static str) -> &'static str {
    path.split_once("::").map_or(path, |(_, rest)| rest)
}

fn main() {
    let args = Arguments::from_args();
    // CI systems say `true` or `1`; anything set but `false`/`0` counts.
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let trials = [rate_limit::tests(), jobs::tests()]
        .into_iter()
        .flatten()
        .map(|test| trial(test, ci))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// A trial that runs the test where its programs are installed; elsewhere it is ignored with
/// the reason, or fails under `CI=true`.
fn trial(test: Test, ci: bool) -> Trial {
    let missing: Vec<&str> = test
        .needs
        .iter()
        .copied()
        .filter(|program| programs::find(program).is_none())
        .collect();
    let body = test.body;
    Trial::ignorable_test(test.name, move || {
        if missing.is_empty() {
            // What `#[tokio::test]` builds: a current-thread runtime with IO and time.
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(body());
            return Ok(Completion::Completed);
        }
        let names = missing.join(" and ");
        let install = format!("apt-get install {}", missing.join(" "));
        if ci {
            let is = if missing.len() == 1 { "is" } else { "are" };
            Err(Failed::from(format!(
                "{names} {is} not installed (or hidden by {}), and under CI=true a missing \
                 program fails the test instead of skipping it ({install})",
                programs::HIDE_VAR
            )))
        } else {
            Ok(Completion::ignored_with(format!(
                "needs {names}: {install}"
            )))
        }
    })
}
