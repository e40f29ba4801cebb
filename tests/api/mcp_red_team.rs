//! What the red team found in the MCP server (issue 15), kept as tests: waits that reach the
//! agent, words that name the tool's arguments, whole numbers written as floats, `null` left
//! out, the asked model's id, `Origin` by scheme and every header, batches served at once.

use std::time::Duration;

use openrouter_simulator::Reply;
use serde_json::{Value, json};

use crate::helpers::{read, spawn_app, spawn_app_with};
use crate::mcp_client::{
    call_tool, model_says, post_raw, request, rpc, rpc_with, structured, tool_error_text,
};

#[tokio::test]
async fn openrouters_wait_reaches_the_agent_in_the_tool_error() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(429, "Rate limit exceeded: free-models-per-min.")
            .with_header("Retry-After", "7"),
    );
    let text = tool_error_text(&call_tool(&app, "chat", json!({"prompt": "hi"})).await);
    assert!(text.starts_with("Error 429: Rate limit exceeded"), "{text}");
    assert!(text.ends_with("Try again in 7 seconds."), "{text}");

    app.enqueue_every_attempt(
        "GET",
        "/credits",
        Reply::error(503, "No instances available").with_header("Retry-After", "9"),
    );
    let text = tool_error_text(&call_tool(&app, "get_credits", json!({})).await);
    assert!(text.starts_with("Error 502: "), "{text}");
    assert!(text.ends_with("Try again in 9 seconds."), "{text}");
}

#[tokio::test]
async fn tool_errors_speak_of_the_tools_arguments_not_the_actions_fields() {
    let app = spawn_app().await;
    for (arguments, says, never) in [
        (json!({"prompt": ""}), "`prompt`", "messages"),
        (
            json!({"prompt": "read", "file_url": "https://example.com/notes.txt"}),
            "data URL",
            "files[",
        ),
        (
            json!({"prompt": "read", "file_url": "https:///a.pdf"}),
            "`file_url`",
            "content_type",
        ),
        (
            json!({"prompt": "hi", "json_schema": "{\"$ref\": \"#/nope\"}"}),
            "`json_schema`",
            "strict",
        ),
    ] {
        let text = tool_error_text(&call_tool(&app, "chat", arguments.clone()).await);
        assert!(text.contains(says), "{arguments}: {text}");
        assert!(!text.contains(never), "{arguments}: {text}");
    }
    let text = tool_error_text(&call_tool(&app, "get_generation", json!({"id": ""})).await);
    assert!(text.contains("`id`"), "{text}");
    let text = tool_error_text(&call_tool(&app, "get_credits", json!({"x": 1})).await);
    assert!(text.ends_with("It takes none."), "{text}");
    assert!(app.sim.requests().is_empty(), "{:#?}", app.sim.requests());
}

#[tokio::test]
async fn an_answer_that_is_not_the_json_asked_for_tells_the_agent_to_call_again() {
    let app = spawn_app().await;
    app.sim
        .enqueue("POST", "/chat/completions", model_says("not json"));
    let schema = r#"{"type": "object"}"#;
    let result = call_tool(&app, "chat", json!({"prompt": "hi", "json_schema": schema})).await;
    let text = tool_error_text(&result);
    assert!(text.contains("call the tool again"), "{text}");
    assert!(text.ends_with("The model's answer was: not json"), "{text}");
    assert!(
        !text.contains("metadata.raw") && !text.contains("flow"),
        "{text}"
    );
}

#[tokio::test]
async fn a_whole_number_written_as_a_float_is_read_as_that_number() {
    let app = spawn_app().await;
    let list = structured(
        &app,
        "list_models",
        &call_tool(&app, "list_models", json!({"limit": 2.0})).await,
    )
    .await;
    assert_eq!(list["models"].as_array().unwrap().len(), 2, "{list}");
    let answer = structured(
        &app,
        "chat",
        &call_tool(&app, "chat", json!({"prompt": "hi", "max_tokens": 5.0})).await,
    )
    .await;
    assert_eq!(answer["text"], "Echo: hi");
    assert_eq!(app.sim.requests().last().unwrap().json()["max_tokens"], 5);
}

#[tokio::test]
async fn a_parsed_null_is_left_out_and_a_refusal_is_given() {
    let app = spawn_app().await;
    let result = call_tool(
        &app,
        "chat",
        json!({"prompt": "x", "json_schema": "{\"type\": \"null\"}"}),
    )
    .await;
    let answer = structured(&app, "chat", &result).await;
    assert!(answer.get("parsed").is_none(), "{answer}");

    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(200, json!({"id": "gen-2", "choices": [{"message": {"role": "assistant", "content": null, "refusal": "I won't"}, "finish_reason": "stop"}]})),
    );
    let answer = structured(
        &app,
        "chat",
        &call_tool(&app, "chat", json!({"prompt": "x"})).await,
    )
    .await;
    assert_eq!(answer["refusal"], "I won't", "{answer}");
}

#[tokio::test]
async fn the_providers_of_a_model_carry_the_asked_id_when_openrouter_leaves_it_out() {
    let app = spawn_app().await;
    app.enqueue_every_attempt(
        "GET",
        "/models/openai/gpt-4o-mini/endpoints",
        Reply::json(200, json!({"data": {"endpoints": []}})),
    );
    let result = call_tool(
        &app,
        "get_model_endpoints",
        json!({"model": "openai/gpt-4o-mini"}),
    )
    .await;
    let model = structured(&app, "get_model_endpoints", &result).await;
    assert_eq!(model, json!({"id": "openai/gpt-4o-mini", "endpoints": []}));
}

#[tokio::test]
async fn an_origin_must_match_the_public_url_by_scheme_host_and_port_in_every_header() {
    let app =
        spawn_app_with(|s| s.public_base_url = Some("https://agents.example.com".parse().unwrap()))
            .await;
    let ping = request(1, "ping", json!({})).to_string();
    for origins in [
        vec!["http://agents.example.com"],
        vec!["https://agents.example.com:8443"],
        vec!["http://localhost", "https://evil.example"],
        vec!["ftp://localhost"],
    ] {
        let headers: Vec<(&str, &str)> = origins.iter().map(|o| ("origin", *o)).collect();
        let (status, body) = read(post_raw(&app, ping.clone(), &headers).await).await;
        assert_eq!(status, 403, "{origins:?}: {body}");
    }
    for origin in [
        "https://agents.example.com:443",
        "HTTPS://Agents.Example.com",
        "https://localhost:5173",
    ] {
        let response = post_raw(&app, ping.clone(), &[("origin", origin)]).await;
        assert_eq!(response.status(), 200, "{origin}");
    }
}

#[tokio::test]
async fn an_unsupported_version_is_refused_under_the_messages_id() {
    let app = spawn_app().await;
    let header = [("mcp-protocol-version", "2030-01-01")];
    let (status, body) = rpc_with(&app, &request(41, "tools/list", json!({})), &header).await;
    assert_eq!(status, 400);
    assert_eq!(body["id"], 41, "{body}");
}

#[tokio::test]
async fn the_tool_calls_of_a_batch_wait_on_openrouter_side_by_side() {
    let app = spawn_app_with(|s| s.upstream_timeout = Duration::from_secs(5)).await;
    for _ in 0..2 {
        app.sim.enqueue("POST", "/chat/completions", Reply::hang());
    }
    let call = |id| {
        request(
            id,
            "tools/call",
            json!({"name": "chat", "arguments": {"prompt": "x"}}),
        )
    };
    let batch = json!([call(1), call(2)]);
    let app = std::sync::Arc::new(app);
    let sender = app.clone();
    let answered = tokio::spawn(async move { rpc(&sender, &batch).await });
    // One after the other, the second call would reach OpenRouter only after the first timed out.
    let mut seen = 0;
    for _ in 0..40 {
        seen = app.sim.requests().len();
        if seen == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, 2, "both calls were sent before either was answered");
    let (status, body) = answered.await.unwrap();
    assert_eq!(status, 200);
    let answers: &Vec<Value> = body.as_array().unwrap();
    assert_eq!(
        answers.iter().map(|a| a["id"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2)]
    );
    for answer in answers {
        assert!(
            tool_error_text(&answer["result"]).starts_with("Error 504: "),
            "{answer}"
        );
    }
}

/// Definitions `a0`…`a{levels}`, each referring ten times to the one below: a check against it
/// follows 10^levels references.
fn fanned_schema(levels: usize) -> Value {
    let mut defs = serde_json::Map::new();
    defs.insert("a0".to_owned(), json!({"type": "object"}));
    for level in 1..=levels {
        let refs: Vec<Value> = (0..10)
            .map(|_| json!({"$ref": format!("#/$defs/a{}", level - 1)}))
            .collect();
        defs.insert(format!("a{level}"), json!({"allOf": refs}));
    }
    json!({"$defs": defs, "$ref": format!("#/$defs/a{levels}")})
}

#[tokio::test]
async fn a_schema_whose_references_multiply_is_refused_before_any_call() {
    let app = spawn_app().await;
    let schema = fanned_schema(10).to_string();
    let text = tool_error_text(
        &call_tool(&app, "chat", json!({"prompt": "x", "json_schema": schema})).await,
    );
    assert!(
        text.starts_with("Error 400: The argument `json_schema`"),
        "{text}"
    );
    assert!(text.contains("references followed"), "{text}");
    // The action refuses it the same way when its schema is strict.
    let body = json!({"content": "x", "json_schema": {"name": "a", "strict": true, "schema": fanned_schema(10)}});
    let (status, body) = read(app.post("/connector/v1/chat/completions", &body).await).await;
    assert_eq!(status, 400, "{body}");
    assert!(app.sim.requests().is_empty());
}

#[tokio::test]
async fn openais_wrapper_with_its_schema_as_text_is_unwrapped_and_one_without_is_refused() {
    let app = spawn_app().await;
    app.sim
        .enqueue("POST", "/chat/completions", model_says("{\"a\": 1}"));
    let inner = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    let wrapper = json!({"name": "n", "strict": true, "schema": inner}).to_string();
    let text = tool_error_text(
        &call_tool(&app, "chat", json!({"prompt": "x", "json_schema": wrapper})).await,
    );
    assert!(
        text.starts_with("Error 502: ") && text.contains("/a"),
        "{text}"
    );
    for wrapper in [
        json!({"name": "n", "schema": 5}),
        json!({"name": "n", "strict": true}),
    ] {
        let text = tool_error_text(
            &call_tool(
                &app,
                "chat",
                json!({"prompt": "x", "json_schema": wrapper.to_string()}),
            )
            .await,
        );
        assert!(text.contains("give the schema itself"), "{wrapper}: {text}");
    }
}

#[tokio::test]
async fn a_timeout_of_a_tool_other_than_chat_says_nothing_of_models() {
    let app = spawn_app_with(|s| s.upstream_timeout = Duration::from_secs(1)).await;
    app.enqueue_every_attempt("GET", "/credits", Reply::hang());
    let text = tool_error_text(&call_tool(&app, "get_credits", json!({})).await);
    assert!(
        text.starts_with("Error 504: OpenRouter did not answer within 1 second."),
        "{text}"
    );
    assert!(
        !text.contains("model") && !text.contains("asynchronous"),
        "{text}"
    );
}

#[tokio::test]
async fn a_malformed_local_origin_that_names_another_host_is_refused() {
    let app = spawn_app().await;
    let ping = request(1, "ping", json!({})).to_string();
    for origin in [
        "http://127.0.0.1:80@evil.com",
        "http://[::1]@evil.com",
        "http://localhost:99999",
    ] {
        let (status, body) = read(post_raw(&app, ping.clone(), &[("origin", origin)]).await).await;
        assert_eq!(status, 403, "{origin}: {body}");
    }
}

#[tokio::test]
async fn an_answer_nested_deeper_than_a_fanned_out_recursion_allows_is_not_checked() {
    let app = spawn_app().await;
    // Each level of the answer doubles the work: 2^30 schemas for an answer of 62 bytes.
    let nested = format!("{}{}", "[".repeat(30), "]".repeat(30));
    app.sim
        .enqueue("POST", "/chat/completions", model_says(&nested));
    let schema = r##"{"allOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]}"##;
    let text = tool_error_text(
        &call_tool(&app, "chat", json!({"prompt": "x", "json_schema": schema})).await,
    );
    assert!(
        text.starts_with("Error 502: The model's answer nests 30 levels deep"),
        "{text}"
    );
    // The action answers the same way.
    app.sim
        .enqueue("POST", "/chat/completions", model_says(&nested));
    let schema: Value = serde_json::from_str(schema).unwrap();
    let body =
        json!({"content": "x", "json_schema": {"name": "a", "strict": true, "schema": schema}});
    let (status, body) = read(app.post("/connector/v1/chat/completions", &body).await).await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("30 levels deep"),
        "{body}"
    );
}
