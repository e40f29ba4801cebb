//! `deploy/Dockerfile`: it builds the binary CI tests (`--release --locked --bin
//! openrouter-connector`, default features), and its runtime stage runs as a numeric non-root
//! user, sets only settings the service reads, exposes `BIND`'s port and checks health.

use std::collections::BTreeMap;

use super::{assert_health_path, assert_service_reads, assert_values_parse, bind_port, read};

/// A `RUN` command without the flags that come before it (`--mount=…`, `--network=…`).
fn without_run_flags(command: &str) -> &str {
    let mut rest = command.trim_start();
    while rest.starts_with("--") {
        rest = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest
}

#[test]
fn dockerfile_builds_the_tested_binary_runs_as_non_root_and_checks_health() {
    let dockerfile = read("Dockerfile");
    // Join continuation lines, drop comments.
    let joined = dockerfile.replace("\\\n", " ");
    let instructions: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();

    let builds: Vec<&str> = instructions
        .iter()
        .filter_map(|line| line.strip_prefix("RUN "))
        .flat_map(|run| run.split("&&"))
        .map(|command| without_run_flags(command).trim_end())
        .filter(|command| command.starts_with("cargo build"))
        .collect();
    assert!(!builds.is_empty(), "deploy/Dockerfile: no `cargo build`");
    for build in builds {
        let words: Vec<&str> = build.split_whitespace().collect();
        for needed in ["--release", "--locked"] {
            assert!(
                words.contains(&needed),
                "deploy/Dockerfile: `{build}` lacks {needed}"
            );
        }
        assert!(
            build.contains("--bin openrouter-connector"),
            "deploy/Dockerfile: `{build}` builds --bin openrouter-connector"
        );
        assert!(
            !words.iter().any(|word| word.starts_with("--features")
                || word.starts_with("--all-features")
                || word.starts_with("--no-default-features")
                || word.starts_with("-F")),
            "deploy/Dockerfile: `{build}` must build the default features CI tests"
        );
    }

    let last_stage = instructions
        .iter()
        .rposition(|line| line.starts_with("FROM "))
        .unwrap();
    let runtime = &instructions[last_stage..];
    let user = runtime
        .iter()
        .find_map(|line| line.strip_prefix("USER "))
        .expect("deploy/Dockerfile: the runtime stage sets USER");
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap_or_else(|_| {
        panic!("deploy/Dockerfile: USER {user} must be numeric (for Kubernetes' runAsNonRoot)")
    });
    assert_ne!(uid, 0, "deploy/Dockerfile: the runtime user is not root");

    let mut env = BTreeMap::new();
    for line in runtime.iter().filter_map(|line| line.strip_prefix("ENV ")) {
        for pair in line.split_whitespace() {
            let (name, value) = pair.split_once('=').unwrap();
            env.insert(name.to_owned(), value.to_owned());
        }
    }
    assert_service_reads("deploy/Dockerfile", &env.keys().cloned().collect());
    assert_values_parse("deploy/Dockerfile", &env);
    let port = bind_port(&env);
    assert!(
        runtime.contains(&format!("EXPOSE {port}").as_str()),
        "deploy/Dockerfile: EXPOSE {port}, the port of BIND"
    );
    let healthcheck = runtime
        .iter()
        .find(|line| line.starts_with("HEALTHCHECK "))
        .expect("deploy/Dockerfile: a HEALTHCHECK");
    let path = healthcheck
        .split(['"', ' '])
        .find_map(|word| word.find("/health/").map(|at| &word[at..]))
        .expect("deploy/Dockerfile: the HEALTHCHECK fetches a /health/ path");
    assert_health_path("deploy/Dockerfile", path);
}

#[test]
fn run_flags_are_not_taken_for_the_command() {
    assert_eq!(
        without_run_flags(
            " --mount=type=cache,target=/usr/local/cargo/registry --network=default cargo build"
        ),
        "cargo build"
    );
    assert_eq!(
        without_run_flags("cargo build --release"),
        "cargo build --release"
    );
}
