//! Who may call the pass-through and what travels with a call: keys from every accepted header
//! reach upstream as Bearer, calls count against the connection's limit (shared with the
//! actions), hop-by-hop headers stay behind both ways, and the query, request id and app
//! attribution go upstream.

use openrouter_simulator::Reply;
use serde_json::json;

use super::within;
use crate::helpers::{KEY, assert_error, read, spawn_app, spawn_app_with};

#[tokio::test]
async fn keys_in_every_accepted_header_reach_upstream_as_bearer() {
    let app = spawn_app().await;
    for (name, value) in [
        ("authorization", format!("Bearer {KEY}")),
        ("authorization", format!("bearer {KEY}")),
        ("authorization", KEY.to_owned()),
        ("api_key", KEY.to_owned()),
    ] {
        app.sim.clear_requests();
        let request = app
            .http
            .get(app.url("/api/v1/credits"))
            .header(name, &value);
        let response = within(request.send()).await.unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
        let upstream = app.only_upstream_request();
        assert_eq!(
            upstream.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert_eq!(upstream.header("api_key"), None);
    }
}

#[tokio::test]
async fn a_call_without_a_key_is_a_401_and_never_reaches_upstream() {
    let app = spawn_app().await;

    let response = within(app.http.get(app.url("/api/v1/models")).send())
        .await
        .unwrap();

    let (status, body) = read(response).await;
    assert_error(status, &body, 401);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn pass_through_calls_count_against_the_connections_limit() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 1;
    })
    .await;

    let first = within(app.get("/api/v1/credits")).await;
    let second = within(app.get("/api/v1/credits")).await;

    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-ratelimit-limit"], "1");
    assert!(second.headers().contains_key("retry-after"));
    let (status, body) = read(second).await;
    assert_error(status, &body, 429);
    assert_eq!(app.sim.request_count(), 1);
}

#[tokio::test]
async fn the_pass_through_and_the_actions_share_one_limit() {
    let app = spawn_app_with(|s| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 1;
    })
    .await;

    let action = within(app.get("/connector/v1/credits")).await;
    let (status, body) = read(within(app.get("/api/v1/credits")).await).await;

    assert_eq!(action.status(), 200);
    assert_error(status, &body, 429);
}

#[tokio::test]
async fn hop_by_hop_headers_are_removed_both_ways() {
    let app = spawn_app().await;
    let reply = Reply::json(200, json!({"data": {}}))
        .with_header("Connection", "keep-alive, X-Upstream-Hop")
        .with_header("Keep-Alive", "timeout=5")
        .with_header("Proxy-Authenticate", "Basic")
        .with_header("Trailer", "X-Checksum")
        .with_header("X-Upstream-Hop", "1")
        .with_header("X-Upstream-End", "2");
    app.sim.enqueue("GET", "/credits", reply);

    let request = app.http.get(app.url("/api/v1/credits")).bearer_auth(KEY);
    let request = request
        .header("Connection", "keep-alive, X-Caller-Hop")
        .header("Keep-Alive", "timeout=5")
        .header("Proxy-Authorization", "Basic eDp5")
        .header("TE", "trailers")
        .header("X-Caller-Hop", "1")
        .header("X-Caller-End", "2");
    let response = within(request.send()).await.unwrap();

    let upstream = app.only_upstream_request();
    for name in ["keep-alive", "proxy-authorization", "te", "x-caller-hop"] {
        assert_eq!(upstream.header(name), None, "{name} went upstream");
    }
    assert_eq!(upstream.header("x-caller-end"), Some("2"));
    assert_ne!(
        upstream.header("host"),
        Some(app.address.trim_start_matches("http://"))
    );
    let headers = response.headers();
    for name in [
        "keep-alive",
        "proxy-authenticate",
        "trailer",
        "x-upstream-hop",
    ] {
        assert!(!headers.contains_key(name), "{name} came back");
    }
    assert_eq!(headers["x-upstream-end"], "2");
}

#[tokio::test]
async fn the_query_and_request_id_go_upstream_as_sent() {
    let app = spawn_app_with(|s| s.app_title = Some("Connector".into())).await;
    let query = "supported_parameters=tools&category=programming&q=a%20b";

    let request = app
        .http
        .get(app.url(&format!("/api/v1/models?{query}")))
        .bearer_auth(KEY);
    let response = within(request.header("X-Request-Id", "flow-run-7").send())
        .await
        .unwrap();

    assert_eq!(response.headers()["x-request-id"], "flow-run-7");
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.path, "/api/v1/models");
    assert_eq!(upstream.query.as_deref(), Some(query));
    assert_eq!(upstream.header("x-request-id"), Some("flow-run-7"));
    assert_eq!(upstream.header("x-title"), Some("Connector"));
}

#[tokio::test]
async fn the_callers_own_attribution_wins() {
    let app = spawn_app_with(|s| s.app_title = Some("Connector".into())).await;

    let request = app.http.get(app.url("/api/v1/models")).bearer_auth(KEY);
    within(request.header("X-Title", "My script").send())
        .await
        .unwrap();

    assert_eq!(
        app.only_upstream_request().header("x-title"),
        Some("My script")
    );
}

/// Sends `head` (a request without a body) on a raw connection and reads the answer's status.
async fn raw_status(address: &str, head: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 64];
    let read = within(stream.read(&mut answer)).await.unwrap();
    let line = String::from_utf8_lossy(&answer[..read]).into_owned();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_caller_without_user_agent_or_accept_is_named_and_takes_anything() {
    let app = spawn_app().await;
    let head = format!(
        "GET /api/v1/credits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nConnection: close\r\n\r\n"
    );

    assert_eq!(raw_status(&app.address, &head).await, 200);
    let upstream = app.only_upstream_request();
    let agent = upstream.header("user-agent").unwrap();
    assert!(agent.starts_with("openrouter-connector/"), "{agent}");
    assert_eq!(upstream.header("accept"), Some("*/*"));

    let request = app.http.get(app.url("/api/v1/credits")).bearer_auth(KEY);
    let request = request
        .header("User-Agent", "OpenAI/Python 1.0")
        .header("Accept", "application/json");
    within(request.send()).await.unwrap();
    let upstream = app.sim.requests().pop().unwrap();
    assert_eq!(upstream.header("user-agent"), Some("OpenAI/Python 1.0"));
    assert_eq!(upstream.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn dot_segments_resolve_inside_the_base_and_never_above_it() {
    let app = spawn_app().await;
    let get = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nConnection: close\r\n\r\n"
        )
    };

    assert_eq!(
        raw_status(&app.address, &get("/api/v1/models/../credits")).await,
        200
    );
    assert_eq!(app.only_upstream_request().path, "/api/v1/credits");
    for path in [
        "/api/v1/../v2/credits",
        "/api/v1/%2e%2e/credits",
        "/api/v1/a/.%2E/../../x",
        "/api/v1/a\\..\\..\\x",
    ] {
        let status = raw_status(&app.address, &get(path)).await;
        assert!(matches!(status, 400 | 404), "{path}: {status}");
    }
    assert_eq!(
        app.sim.requests().len(),
        1,
        "a path above the base went upstream"
    );
}
