//! The MCP server's transport and protocol (contract section 9): `initialize` for each revision,
//! notifications, `ping`, JSON-RPC errors with the right HTTP status, the protocol-version
//! header, 2025-03-26 batches, JSON or one SSE event by `Accept`, `GET` → `405`, keys, `Origin`,
//! the limit charged for tool calls only, metrics by tool.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, read, spawn_app, spawn_app_with};
use crate::mcp_client::{MCP, post_raw, request, rpc, rpc_with, tool_error_text};

fn initialize(version: &str) -> Value {
    request(
        1,
        "initialize",
        json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}),
    )
}

#[tokio::test]
async fn initialize_echoes_each_revision_it_speaks_and_offers_the_newest_for_others() {
    let app = spawn_app().await;
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-11-05", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let response = post_raw(&app, initialize(asked).to_string(), &[]).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers().get("mcp-session-id").is_none(),
            "stateless: no session"
        );
        let body: Value = response.json().await.unwrap();
        let result = &body["result"];
        assert_eq!(result["protocolVersion"], answered, "{asked}");
        assert_eq!(result["capabilities"]["tools"]["listChanged"], false);
        assert_eq!(result["serverInfo"]["name"], "openrouter-connector");
        assert!(
            result["instructions"]
                .as_str()
                .unwrap()
                .contains("list_models")
        );
    }
}

#[tokio::test]
async fn initialize_without_a_protocol_version_is_invalid_params() {
    let app = spawn_app().await;
    let (status, body) = rpc(&app, &request(4, "initialize", json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], 4);
    assert_eq!(body["error"]["code"], -32602, "{body}");
}

#[tokio::test]
async fn notifications_and_responses_are_accepted_with_202_and_no_body() {
    let app = spawn_app().await;
    for message in [
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}}),
        json!({"jsonrpc": "2.0", "id": "s-1", "result": {}}),
    ] {
        let response = post_raw(&app, message.to_string(), &[]).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{message}");
        assert!(response.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn ping_answers_an_empty_result_under_the_callers_id() {
    let app = spawn_app().await;
    let (status, body) = rpc(
        &app,
        &json!({"jsonrpc": "2.0", "id": "p-1", "method": "ping"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"jsonrpc": "2.0", "id": "p-1", "result": {}}));
}

#[tokio::test]
async fn an_unknown_method_is_method_not_found() {
    let app = spawn_app().await;
    for method in [
        "resources/list",
        "prompts/get",
        "notifications/initialized",
        "tools/delete",
    ] {
        let (status, body) = rpc(&app, &request(5, method, json!({}))).await;
        assert_eq!(status, 200, "{method}");
        assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
        assert_eq!(body["id"], 5);
    }
}

#[tokio::test]
async fn malformed_json_is_a_parse_error_with_400_and_a_null_id() {
    let app = spawn_app().await;
    for text in [
        "{bad",
        "",
        "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"ping\"",
    ] {
        let response = post_raw(&app, text.to_owned(), &[]).await;
        assert_eq!(response.status(), 400, "{text:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["id"], Value::Null);
        assert_eq!(body["error"]["code"], -32700, "{body}");
    }
}

#[tokio::test]
async fn what_is_not_a_jsonrpc_message_is_an_invalid_request_with_400() {
    let app = spawn_app().await;
    for (message, id) in [
        (
            json!({"jsonrpc": "1.0", "id": 3, "method": "ping"}),
            json!(3),
        ),
        (json!({"id": 3, "method": "ping"}), json!(3)),
        (
            json!({"jsonrpc": "2.0", "id": null, "method": "ping"}),
            Value::Null,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}),
            Value::Null,
        ),
        (json!({"jsonrpc": "2.0", "id": 2, "method": 7}), json!(2)),
        (json!({"jsonrpc": "2.0", "id": 2}), json!(2)),
        (json!("ping"), Value::Null),
        (json!(42), Value::Null),
    ] {
        let (status, body) = rpc(&app, &message).await;
        assert_eq!(status, 400, "{message}");
        assert_eq!(body["error"]["code"], -32600, "{message}: {body}");
        assert_eq!(body["id"], id, "{message}");
    }
}

#[tokio::test]
async fn an_unsupported_protocol_version_header_is_refused_except_on_initialize() {
    let app = spawn_app().await;
    let header = [("mcp-protocol-version", "1999-01-01")];
    let (status, body) = rpc_with(&app, &request(2, "tools/list", json!({})), &header).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], -32600);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2025-06-18"),
        "{body}"
    );

    let (status, body) = rpc_with(&app, &initialize("2025-06-18"), &header).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["protocolVersion"], "2025-06-18");

    for version in ["2025-03-26", "2025-06-18", "2025-11-25"] {
        let header = [("mcp-protocol-version", version)];
        let (status, body) = rpc_with(&app, &request(2, "ping", json!({})), &header).await;
        assert_eq!(status, 200, "{version}: {body}");
    }
}

#[tokio::test]
async fn a_batch_is_answered_in_2025_03_26_and_refused_in_later_revisions() {
    let app = spawn_app().await;
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "nothing"},
        {"jsonrpc": "1.0", "id": 3, "method": "ping"},
    ]);
    // Without the header, a client speaks 2025-03-26.
    let (status, body) = rpc(&app, &batch).await;
    assert_eq!(status, 200, "{body}");
    let answers = body.as_array().unwrap();
    assert_eq!(answers.len(), 3, "no answer to the notification: {body}");
    assert_eq!(answers[0], json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    assert_eq!(answers[1]["error"]["code"], -32601);
    assert_eq!(answers[2]["error"]["code"], -32600);
    assert_eq!(answers[2]["id"], 3);

    let notes = json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]);
    let header = [("mcp-protocol-version", "2025-03-26")];
    let (status, body) = rpc_with(&app, &notes, &header).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, Value::Null));

    for version in ["2025-06-18", "2025-11-25"] {
        let header = [("mcp-protocol-version", version)];
        let (status, body) = rpc_with(&app, &batch, &header).await;
        assert_eq!(status, 400, "{version}");
        assert_eq!(body["error"]["code"], -32600);
    }
    let too_many: Vec<Value> = (0..33).map(|id| request(id, "ping", json!({}))).collect();
    for batch in [json!([]), json!(too_many)] {
        let (status, body) = rpc(&app, &batch).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], -32600);
    }
}

#[tokio::test]
async fn an_accept_that_prefers_an_event_stream_gets_one_event_holding_the_answer() {
    let app = spawn_app().await;
    let response = post_raw(
        &app,
        request(7, "ping", json!({})).to_string(),
        &[("accept", "text/event-stream")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    assert_eq!(data.len(), 1, "{text:?}");
    assert!(
        text.starts_with("event: message\n") && text.ends_with("\n\n"),
        "{text:?}"
    );
    let answer: Value = serde_json::from_str(data[0]).unwrap();
    assert_eq!(answer, json!({"jsonrpc": "2.0", "id": 7, "result": {}}));
}

#[tokio::test]
async fn both_types_accepted_or_none_named_is_answered_as_json() {
    let app = spawn_app().await;
    for accept in [
        "application/json, text/event-stream",
        "*/*",
        "application/json",
    ] {
        let response = post_raw(
            &app,
            request(7, "ping", json!({})).to_string(),
            &[("accept", accept)],
        )
        .await;
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{accept}"
        );
    }
}

#[tokio::test]
async fn get_on_the_endpoint_is_a_405_naming_post() {
    let app = spawn_app().await;
    let response = app.get(MCP).await;
    assert_eq!(response.headers()["allow"], "POST");
    let (status, body) = read(response).await;
    assert_error(status, &body, 405);
}

#[tokio::test]
async fn no_key_is_a_401_in_the_contracts_shape() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url(MCP))
        .json(&request(1, "tools/list", json!({})))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    let message = assert_error(status, &body, 401);
    assert!(message.contains("Authorization"), "{message}");
}

#[tokio::test]
async fn a_page_of_another_origin_is_refused_and_local_or_public_pages_are_served() {
    let app = spawn_app_with(|s| {
        s.public_base_url = Some("https://agents.example.com".parse().unwrap());
    })
    .await;
    let ping = request(1, "ping", json!({})).to_string();
    for origin in [
        "https://evil.example",
        "null",
        "http://localhost.evil.example",
    ] {
        let response = post_raw(&app, ping.clone(), &[("origin", origin)]).await;
        let (status, body) = read(response).await;
        assert_error(status, &body, 403);
    }
    for origin in [
        "http://localhost:6274",
        "http://127.0.0.1:3000",
        "http://[::1]:8080",
        "https://agents.example.com",
    ] {
        let response = post_raw(&app, ping.clone(), &[("origin", origin)]).await;
        assert_eq!(response.status(), 200, "{origin}");
    }
}

#[tokio::test]
async fn only_tool_calls_count_against_the_connections_limit() {
    let app = spawn_app_with(|s| {
        s.rate_limit_burst = 1;
        s.rate_limit_per_minute = 1;
    })
    .await;
    for id in 0..5 {
        let (status, _) = rpc(&app, &initialize("2025-06-18")).await;
        assert_eq!(status, 200);
        assert_eq!(
            rpc(&app, &request(id, "tools/list", json!({}))).await.0,
            200
        );
        assert_eq!(rpc(&app, &request(id, "ping", json!({}))).await.0, 200);
        assert_eq!(
            rpc(&app, &request(id, "resources/list", json!({}))).await.0,
            200
        );
        assert_eq!(post_raw(&app, "{bad".to_owned(), &[]).await.status(), 400);
    }
    let first = crate::mcp_client::call_tool(&app, "get_credits", json!({})).await;
    assert_eq!(first["isError"], false, "{first}");
    let second = crate::mcp_client::call_tool(&app, "get_credits", json!({})).await;
    let text = tool_error_text(&second);
    assert!(text.starts_with("Error 429: "), "{text}");
    assert!(text.contains("Wait 60 seconds and try again"), "{text}");
    assert_eq!(
        app.sim.requests().len(),
        1,
        "the refused call never reached upstream"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_before_anything_else() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let big = request(
        1,
        "tools/call",
        json!({"name": "chat", "arguments": {"prompt": "x".repeat(2000)}}),
    );
    let (status, body) = read(post_raw(&app, big.to_string(), &[]).await).await;
    assert_error(status, &body, 413);
    assert!(app.sim.requests().is_empty());
}

#[tokio::test]
async fn metrics_count_mcp_messages_by_method_tool_and_outcome() {
    let app = spawn_app_with(|s| {
        s.rate_limit_burst = 2;
        s.rate_limit_per_minute = 1;
    })
    .await;
    rpc(&app, &request(1, "tools/list", json!({}))).await;
    crate::mcp_client::call_tool(&app, "get_credits", json!({})).await;
    crate::mcp_client::call_tool(&app, "chat", json!({})).await;
    crate::mcp_client::call_tool(&app, "chat", json!({"prompt": "hi"})).await;
    rpc(&app, &request(2, "tools/call", json!({"name": "nope"}))).await;
    let text = metrics(&app).await;
    for line in [
        "openrouter_connector_mcp_messages_total{method=\"tools/list\",tool=\"\",outcome=\"ok\"} 1",
        "openrouter_connector_mcp_messages_total{method=\"tools/call\",tool=\"get_credits\",outcome=\"ok\"} 1",
        // The call without a prompt was charged and refused by its schema, the next by the limit.
        "openrouter_connector_mcp_messages_total{method=\"tools/call\",tool=\"chat\",outcome=\"tool_error\"} 2",
        "openrouter_connector_mcp_messages_total{method=\"tools/call\",tool=\"other\",outcome=\"tool_error\"} 1",
        "openrouter_connector_mcp_tool_duration_seconds_count{tool=\"get_credits\"} 1",
        "openrouter_connector_requests_total{operation=\"InvokeMCP\",status=\"200\"} 5",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(
        text.lines().any(
            |l| l.starts_with("openrouter_connector_rate_limit_rejections_total ")
                && !l.ends_with(" 0")
        ),
        "{text}"
    );
}

async fn metrics(app: &TestApp) -> String {
    app.http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn several_accept_headers_are_read_as_one_list() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url(MCP))
        .bearer_auth(crate::helpers::KEY)
        .header("accept", "application/json;q=0.5")
        .header("accept", "text/event-stream")
        .json(&request(7, "ping", json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
}
