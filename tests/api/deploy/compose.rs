//! `deploy/docker-compose.yml`: two replicas of the service behind nginx, sharing one Redis; its
//! environment is settings the service reads and accepts, and its ports, health checks and stop
//! grace period match `BIND` and `SHUTDOWN_GRACE_SECS`.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::Yaml;

use super::{
    Node, assert_health_path, assert_service_reads, assert_values_parse, bind_port, port_of,
    shutdown_grace_secs, yaml_document,
};

const COMPOSE: &str = "deploy/docker-compose.yml";

pub(super) fn compose() -> Yaml {
    yaml_document("docker-compose.yml")
}

/// The services that run the connector image (built from deploy/Dockerfile).
pub(super) fn compose_connectors(compose: &Yaml) -> Vec<(&str, &Yaml)> {
    compose
        .get("services")
        .unwrap()
        .entries()
        .into_iter()
        .filter(|(_, service)| {
            service.at(&["build", "dockerfile"]).map(Yaml::str) == Some("deploy/Dockerfile")
        })
        .collect()
}

/// A service's `environment:` map; a variable with no value passes the shell's through, and
/// is left out of the values (the service then uses its default).
pub(super) fn compose_environment(service: &Yaml) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut names = BTreeSet::new();
    let mut values = BTreeMap::new();
    for (name, value) in service
        .get("environment")
        .map(Node::entries)
        .unwrap_or_default()
    {
        names.insert(name.to_owned());
        if let Some(value) = value.text() {
            values.insert(name.to_owned(), compose_default(&value));
        }
    }
    (names, values)
}

/// Compose interpolation as it turns out with nothing set in the shell: `${NAME:-default}` is
/// `default`.
fn compose_default(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let inner = &rest[start + 2..end];
        out.push_str(inner.split_once(":-").map_or("", |(_, default)| default));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn compose_sets_only_settings_the_service_reads() {
    let compose = compose();
    let connectors = compose_connectors(&compose);
    assert!(
        !connectors.is_empty(),
        "{COMPOSE}: no service builds deploy/Dockerfile"
    );
    let mut names = BTreeSet::new();
    for (_, service) in &connectors {
        names.extend(compose_environment(service).0);
    }
    assert_service_reads(COMPOSE, &names);
    for expected in [
        "BIND",
        "REDIS_URL",
        "PUBLIC_BASE_URL",
        "LOG_FORMAT",
        "RUST_LOG",
    ] {
        assert!(
            names.contains(expected),
            "{COMPOSE}: the service should get {expected}"
        );
    }
}

#[test]
fn compose_values_are_ones_the_service_accepts() {
    let compose = compose();
    for (name, service) in compose_connectors(&compose) {
        assert_values_parse(
            &format!("{COMPOSE} ({name})"),
            &compose_environment(service).1,
        );
    }
}

#[test]
fn compose_runs_two_replicas_behind_nginx_with_one_redis() {
    let compose = compose();
    let services = compose.get("services").unwrap();
    let replicas: i64 = compose_connectors(&compose)
        .iter()
        .map(|(_, service)| service.at(&["deploy", "replicas"]).map_or(1, Node::int))
        .sum();
    assert_eq!(replicas, 2, "{COMPOSE}: two replicas of the service");
    let redis = services.get("redis").expect("a `redis` service");
    assert!(
        redis.str_at(&["image"]).starts_with("redis:"),
        "{COMPOSE}: redis image"
    );
    let nginx = services.get("nginx").expect("an `nginx` service");
    assert!(
        nginx.str_at(&["image"]).starts_with("nginx:"),
        "{COMPOSE}: nginx image"
    );

    let published = nginx.get("ports").map(Node::items).unwrap_or_default();
    assert!(!published.is_empty(), "{COMPOSE}: nginx publishes a port");
    let mounts = nginx.get("volumes").map(Node::items).unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|mount| mount.str().starts_with("./nginx.conf:")),
        "{COMPOSE}: nginx gets deploy/nginx.conf"
    );
    for (name, service) in compose_connectors(&compose) {
        assert!(
            service.get("ports").is_none(),
            "{COMPOSE}: {name} is reached through nginx only and publishes no port"
        );
        let (_, env) = compose_environment(service);
        let redis_url = env.get("REDIS_URL").map(String::as_str).unwrap_or_default();
        assert!(
            redis_url.starts_with("redis://redis:"),
            "{COMPOSE}: {name} uses the redis service"
        );
        assert!(
            service.at(&["depends_on", "redis"]).is_some(),
            "{COMPOSE}: {name} starts after redis"
        );
        assert!(
            nginx.at(&["depends_on", name]).is_some(),
            "{COMPOSE}: nginx starts after {name}"
        );
    }
}

#[test]
fn compose_ports_and_health_checks_match_bind() {
    let compose = compose();
    for (name, service) in compose_connectors(&compose) {
        let file = format!("{COMPOSE} ({name})");
        let port = bind_port(&compose_environment(service).1);
        let exposed: Vec<u16> = service
            .get("expose")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|item| item.text().unwrap().parse().unwrap())
            .collect();
        assert_eq!(exposed, vec![port], "{file}: expose the port of BIND");

        let test = service.at(&["healthcheck", "test"]).expect("a healthcheck");
        let url = test
            .items()
            .iter()
            .map(Node::str)
            .find(|item| item.starts_with("http://"))
            .unwrap_or_else(|| panic!("{file}: the healthcheck fetches an http:// URL"));
        let (authority, path) = url["http://".len()..].split_once('/').unwrap();
        assert_eq!(
            port_of(authority),
            port,
            "{file}: the healthcheck uses the port of BIND"
        );
        assert_health_path(&file, &format!("/{path}"));

        let grace = shutdown_grace_secs(&file, &compose_environment(service).1);
        let stop = service.str_at(&["stop_grace_period"]);
        let stop: u64 = stop.strip_suffix('s').unwrap().parse().unwrap();
        assert!(
            stop > grace,
            "{file}: stop_grace_period {stop}s must exceed SHUTDOWN_GRACE_SECS"
        );
    }
}
