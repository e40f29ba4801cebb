//! A small MCP client for the black-box tests of `/mcp`: one JSON-RPC message per POST, with
//! the test key, as the Streamable HTTP transport sends them.

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{KEY, TestApp};

/// The MCP endpoint.
pub const MCP: &str = "/mcp";

/// POSTs `message` (any JSON) with the key and these extra headers; the status and body text.
pub async fn post_raw(app: &TestApp, body: String, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url(MCP))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body);
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        request = request.header("accept", "application/json, text/event-stream");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the service answers")
}

/// POSTs `message` with the key; the status and the JSON answer (`null` for an empty body).
pub async fn rpc(app: &TestApp, message: &Value) -> (StatusCode, Value) {
    rpc_with(app, message, &[]).await
}

/// [`rpc`] with extra headers.
pub async fn rpc_with(
    app: &TestApp,
    message: &Value,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = post_raw(app, message.to_string(), headers).await;
    let status = response.status();
    let text = response.text().await.expect("a body");
    if text.is_empty() {
        return (status, Value::Null);
    }
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

/// A request message.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Calls `tool` with `arguments`; the `CallToolResult`, after checking the HTTP and JSON-RPC
/// envelope.
pub async fn call_tool(app: &TestApp, tool: &str, arguments: Value) -> Value {
    let message = request(
        9,
        "tools/call",
        json!({"name": tool, "arguments": arguments}),
    );
    let (status, body) = rpc(app, &message).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], 9, "{body}");
    assert!(body.get("error").is_none(), "a JSON-RPC error: {body}");
    body["result"].clone()
}

/// The text of a tool error, after checking it is one.
pub fn tool_error_text(result: &Value) -> String {
    assert_eq!(result["isError"], true, "{result}");
    assert!(result.get("structuredContent").is_none(), "{result}");
    result["content"][0]["text"]
        .as_str()
        .expect("a text")
        .to_owned()
}

/// The `structuredContent` of a successful tool result, after checking that the text block
/// holds the same JSON and that it follows the tool's `outputSchema`.
pub async fn structured(app: &TestApp, tool: &str, result: &Value) -> Value {
    assert_eq!(result["isError"], false, "{result}");
    let content = &result["structuredContent"];
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, content, "the text block is the same JSON");
    let schema = output_schema(app, tool).await;
    let validator = jsonschema::validator_for(&schema).unwrap();
    if let Err(error) = validator.validate(content) {
        panic!("{tool}: structuredContent breaks its outputSchema: {error}\n{content}");
    }
    content.clone()
}

/// The tools `tools/list` gives.
pub async fn tools(app: &TestApp) -> Vec<Value> {
    let (status, body) = rpc(app, &request(1, "tools/list", json!({}))).await;
    assert_eq!(status, 200, "{body}");
    body["result"]["tools"].as_array().unwrap().clone()
}

async fn output_schema(app: &TestApp, tool: &str) -> Value {
    tools(app)
        .await
        .into_iter()
        .find(|t| t["name"] == tool)
        .unwrap()["outputSchema"]
        .clone()
}

/// An upstream chat answer whose first choice says `content`.
pub fn model_says(content: &str) -> Reply {
    Reply::json(
        200,
        json!({"id": "gen-1", "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}),
    )
}
