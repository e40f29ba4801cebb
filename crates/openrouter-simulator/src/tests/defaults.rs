//! Tests of the default, OpenRouter-shaped answers.

use serde_json::{Value, json};

use super::{Client, Response, call};
use crate::{Simulator, SimulatorOptions};

/// Checks the `gen-<unix seconds>-<20 alphanumerics>` id format.
fn assert_generation_id(id: &Value) {
    let id = id.as_str().unwrap();
    let parts: Vec<&str> = id.splitn(3, '-').collect();
    assert_eq!(parts[0], "gen", "{id}");
    assert!(parts[1].parse::<u64>().unwrap() > 1_700_000_000, "{id}");
    assert_eq!(parts[2].len(), 20, "{id}");
    assert!(parts[2].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
}

/// The `data:` payloads of an SSE body, and its comment lines.
fn sse_data(response: &Response) -> (Vec<String>, usize) {
    let text = response.text();
    let comments = text.lines().filter(|l| l.starts_with(':')).count();
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_string)
        .collect();
    (data, comments)
}

#[tokio::test]
async fn missing_auth_is_401_unless_disabled() {
    let sim = Simulator::start().await.unwrap();
    let mut client = Client::connect(sim.addr()).await;
    client
        .send_raw(b"GET /api/v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let response = client.read_response().await.unwrap();
    assert_eq!(response.status, 401);
    assert_eq!(
        response.json(),
        json!({"error": {"code": 401, "message": "Missing Authentication header"}})
    );
    client
        .send_raw(b"GET /api/v1/models HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n")
        .await;
    assert_eq!(client.read_response().await.unwrap().status, 401);

    let open = Simulator::start_with(SimulatorOptions {
        require_auth: false,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    let mut client = Client::connect(open.addr()).await;
    client
        .send_raw(b"GET /api/v1/credits HTTP/1.1\r\n\r\n")
        .await;
    assert_eq!(client.read_response().await.unwrap().status, 200);
}

#[tokio::test]
async fn chat_completion_echoes_the_last_user_message() {
    let sim = Simulator::start().await.unwrap();
    let body = json!({"model": "anthropic/claude-sonnet-4.5", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "world"}]}
    ]});
    let response = call(
        sim.addr(),
        "POST",
        "/api/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .text()
            .starts_with("\n         \n\n         \n{\"id\":\"gen-")
    );
    let v = response.json();
    assert_generation_id(&v["id"]);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(v["provider"], "Anthropic");
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["native_finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(choice["message"]["content"], "Echo: hello world");
    assert_eq!(choice["message"]["refusal"], Value::Null);
    let usage = &v["usage"];
    let total =
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap();
    assert_eq!(usage["total_tokens"].as_u64().unwrap(), total);
    assert_eq!(usage["is_byok"], false);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert!(usage["cost_details"]["upstream_inference_cost"].is_number());
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);
}

#[tokio::test]
async fn chat_completion_calls_a_tool_when_asked() {
    let sim = Simulator::start().await.unwrap();
    let tools =
        json!([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]);
    let required = json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "required"});
    let hinted =
        json!({"messages": [{"role": "user", "content": "use a tool please"}], "tools": tools});
    let plain = json!({"messages": [{"role": "user", "content": "hi"}], "tools": tools});
    for (body, calls) in [(required, true), (hinted, true), (plain, false)] {
        let v = call(
            sim.addr(),
            "POST",
            "/api/v1/chat/completions",
            &body.to_string(),
        )
        .await
        .json();
        assert_eq!(v["model"], "openai/gpt-4o-mini");
        let choice = &v["choices"][0];
        if calls {
            assert_eq!(choice["finish_reason"], "tool_calls");
            assert_eq!(choice["message"]["content"], "");
            let call = &choice["message"]["tool_calls"][0];
            assert_eq!(call["type"], "function");
            assert_eq!(call["index"], 0);
            assert_eq!(call["function"]["name"], "get_weather");
            assert_eq!(call["function"]["arguments"], "{}");
            assert!(call["id"].is_string());
        } else {
            assert_eq!(choice["finish_reason"], "stop");
            assert!(choice["message"].get("tool_calls").is_none());
        }
    }
}

#[tokio::test]
async fn chat_completion_streams_like_openrouter() {
    let sim = Simulator::start().await.unwrap();
    let body = json!({"model": "x-ai/grok-4", "stream": true,
                      "messages": [{"role": "user", "content": "Who are you"}]});
    let response = call(
        sim.addr(),
        "POST",
        "/api/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    let (data, comments) = sse_data(&response);
    assert_eq!(comments, 3);
    assert_eq!(response.chunks[0], b": OPENROUTER PROCESSING\n\n");
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    assert_eq!(response.chunks.len(), 3 + data.len());
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    let id = &chunks[0]["id"];
    assert_generation_id(id);
    assert!(
        chunks
            .iter()
            .all(|c| &c["id"] == id && c["object"] == "chat.completion.chunk")
    );
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Echo: Who are you");
    let n = chunks.len();
    assert_eq!(chunks[n - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[n - 1]["choices"][0]["finish_reason"], Value::Null);
    assert_eq!(chunks[n - 1]["choices"][0]["delta"]["content"], "");
    assert!(chunks[n - 1]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(chunks[..n - 1].iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn streamed_tool_call_has_name_and_arguments() {
    let sim = Simulator::start().await.unwrap();
    let body = json!({"stream": true, "tool_choice": "required",
                      "tools": [{"type": "function", "function": {"name": "f"}}],
                      "messages": [{"role": "user", "content": "x"}]});
    let response = call(
        sim.addr(),
        "POST",
        "/api/v1/chat/completions",
        &body.to_string(),
    )
    .await;
    let (data, _) = sse_data(&response);
    let text = data.join("\n");
    assert!(text.contains(r#""name":"f""#) && text.contains(r#""arguments":"{}""#));
    assert!(text.contains(r#""finish_reason":"tool_calls""#));
}

#[tokio::test]
async fn invalid_chat_bodies_get_openrouter_400s() {
    let sim = Simulator::start().await.unwrap();
    for body in ["{not json", "[1,2]", r#"{"model":"m"}"#] {
        let response = call(sim.addr(), "POST", "/api/v1/chat/completions", body).await;
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.json()["error"]["code"], 400);
    }
    let bad = call(sim.addr(), "POST", "/api/v1/chat/completions", "{oops").await;
    assert_eq!(bad.json()["error"]["message"], "Invalid JSON");
}

#[tokio::test]
async fn legacy_completion_has_the_captured_shape() {
    let sim = Simulator::start().await.unwrap();
    let body = json!({"model": "meta-llama/llama-3.1-405b-instruct", "prompt": "5 + 7 = ", "max_tokens": 10});
    let response = call(sim.addr(), "POST", "/api/v1/completions", &body.to_string()).await;
    assert!(response.text().starts_with("\n         \n\n         \n{"));
    let v = response.json();
    assert_generation_id(&v["id"]);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["choices"][0]["text"], "Echo: 5 + 7 = ");
    assert_eq!(v["choices"][0]["reasoning"], Value::Null);
    assert_eq!(v["system_fingerprint"], "");
    let keys: Vec<&str> = v["usage"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["completion_tokens", "prompt_tokens", "total_tokens"]);
}

#[tokio::test]
async fn models_lists_the_configured_count_in_the_real_shape() {
    let sim = Simulator::start_with(SimulatorOptions {
        model_count: 8,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    let v = call(sim.addr(), "GET", "/api/v1/models?category=programming", "")
        .await
        .json();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 8);
    assert_eq!(data[0]["id"], "openai/gpt-4o-mini");
    assert_eq!(data[4]["id"], "meta-llama/llama-3.1-405b-instruct");
    let ids: std::collections::HashSet<&str> =
        data.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 8);
    for m in data {
        assert_eq!(m["per_request_limits"], Value::Null);
        assert!(m["top_provider"].get("max_completion_tokens").is_some());
        assert!(m["architecture"].get("instruct_type").is_some());
        assert_eq!(m["default_parameters"]["temperature"], Value::Null);
        assert!(m["pricing"]["prompt"].is_string());
        assert!(
            m["links"]["details"]
                .as_str()
                .unwrap()
                .ends_with("/endpoints")
        );
    }
}

#[tokio::test]
async fn endpoints_use_the_decoded_model_id() {
    let sim = Simulator::start().await.unwrap();
    let response = call(
        sim.addr(),
        "GET",
        "/api/v1/models/google/gemini-2.5-flash%3Afree/endpoints",
        "",
    )
    .await;
    assert_eq!(response.status, 200);
    let v = response.json();
    assert_eq!(v["data"]["id"], "google/gemini-2.5-flash:free");
    let endpoint = &v["data"]["endpoints"][0];
    assert_eq!(endpoint["model_id"], "google/gemini-2.5-flash:free");
    for key in [
        "pricing",
        "status",
        "uptime_last_30m",
        "latency_last_30m",
        "supported_parameters",
    ] {
        assert!(endpoint.get(key).is_some(), "{key}");
    }
    let known = call(
        sim.addr(),
        "GET",
        "/api/v1/models/openai/gpt-4o-mini/endpoints",
        "",
    )
    .await
    .json();
    assert_eq!(known["data"]["endpoints"][0]["provider_name"], "OpenAI");
}

#[tokio::test]
async fn generation_needs_an_id() {
    let sim = Simulator::start().await.unwrap();
    for path in ["/api/v1/generation", "/api/v1/generation?id="] {
        let response = call(sim.addr(), "GET", path, "").await;
        assert_eq!(response.status, 400, "{path}");
        assert_eq!(response.json()["error"]["code"], 400);
    }
    let v = call(sim.addr(), "GET", "/api/v1/generation?id=gen-1-abc", "")
        .await
        .json();
    assert_eq!(v["data"]["id"], "gen-1-abc");
    assert!(
        v["data"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
    assert!(v["data"]["total_cost"].is_number());
}

#[tokio::test]
async fn credits_key_and_unknown_routes() {
    let sim = Simulator::start().await.unwrap();
    let credits = call(sim.addr(), "GET", "/api/v1/credits", "").await;
    assert_eq!(
        credits.text(),
        r#"{"data":{"total_credits":610,"total_usage":321.725553332}}"#
    );
    let key = call(sim.addr(), "GET", "/api/v1/key", "").await.json();
    assert_eq!(key["data"]["rate_limit"]["interval"], "1h");
    for (method, path) in [
        ("GET", "/api/v1/nope"),
        ("DELETE", "/api/v1/credits"),
        ("GET", "/elsewhere"),
    ] {
        let response = call(sim.addr(), method, path, "").await;
        assert_eq!(response.status, 404);
        assert_eq!(
            response.json(),
            json!({"error": {"code": 404, "message": "Not Found"}})
        );
    }
}

#[test]
fn timestamps_are_civil_dates() {
    assert_eq!(
        crate::canned::timestamp(1_721_086_399),
        "2024-07-15T23:33:19.000000+00:00"
    );
    assert_eq!(
        crate::canned::timestamp(0),
        "1970-01-01T00:00:00.000000+00:00"
    );
}
