//! `deploy/nginx.conf`, nginx in front of the compose replicas: it forwards to the connector
//! service on `BIND`'s port, waits longer than the service waits for OpenRouter, takes bodies
//! as large as the service does, forwards the headers the service reads and streams SSE.

use super::compose::{compose, compose_connectors, compose_environment};
use super::{bind_port, read, service_default};

#[test]
fn nginx_forwards_to_the_replicas_fit_for_long_calls_and_streams() {
    let conf = read("nginx.conf");
    let directives: Vec<&str> = conf
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .filter(|line| !line.is_empty())
        .collect();
    let value_of = |name: &str| -> Vec<&str> {
        directives
            .iter()
            .filter_map(|line| line.strip_prefix(name))
            .filter(|rest| rest.starts_with(' '))
            .map(|rest| rest.trim().trim_end_matches(';').trim())
            .collect()
    };

    let compose = compose();
    let (connector, service) = compose_connectors(&compose)[0];
    let port = bind_port(&compose_environment(service).1);
    let servers = value_of("server");
    assert!(
        servers
            .iter()
            .any(|server| server.starts_with(&format!("{connector}:{port}"))),
        "deploy/nginx.conf: the upstream is {connector}:{port} (the service and BIND's port): \
         {servers:?}"
    );

    let seconds = |value: &str| -> u64 { value.trim_end_matches('s').parse().unwrap() };
    let upstream_timeout: u64 = service_default("UPSTREAM_TIMEOUT_SECS")
        .unwrap()
        .parse()
        .unwrap();
    let least = 130.max(upstream_timeout + 20);
    let read_timeout = value_of("proxy_read_timeout");
    assert!(
        !read_timeout.is_empty() && read_timeout.iter().all(|t| seconds(t) >= least),
        "deploy/nginx.conf: proxy_read_timeout of at least {least}s (the service waits \
         {upstream_timeout}s for OpenRouter): {read_timeout:?}"
    );
    let body = value_of("client_max_body_size");
    assert!(
        body.len() == 1 && body[0].trim_end_matches('m').parse::<u64>().unwrap() >= 32,
        "deploy/nginx.conf: client_max_body_size of at least 32m: {body:?}"
    );
    for header in ["X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id"] {
        assert!(
            value_of("proxy_set_header")
                .iter()
                .any(|value| value.starts_with(&format!("{header} "))),
            "deploy/nginx.conf: forwards {header}"
        );
    }
    let api = conf
        .find("location /api/v1/ {")
        .expect("a location for /api/v1/");
    let block = &conf[api..api + conf[api..].find('}').unwrap()];
    assert!(
        block.contains("proxy_buffering off;"),
        "deploy/nginx.conf: /api/v1/ streams SSE"
    );
}
