//! The five MCP tools (contract section 9): what `tools/list` shows an agent, what each tool
//! sends OpenRouter and answers, and every failure as a tool error the agent can read.

use openrouter_connector::mcp::arguments::copilot_studio_problems;
use openrouter_simulator::Reply;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::mcp_client::{call_tool, model_says, request, rpc, structured, tool_error_text, tools};

#[tokio::test]
async fn tools_list_shows_the_five_tools_with_inputs_copilot_studio_reads_and_output_schemas() {
    let app = spawn_app().await;
    let tools = tools(&app).await;
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "chat",
            "list_models",
            "get_model_endpoints",
            "get_credits",
            "get_generation"
        ]
    );
    for tool in &tools {
        let name = &tool["name"];
        assert!(tool["description"].as_str().unwrap().len() > 60, "{name}");
        let problems = copilot_studio_problems(&tool["inputSchema"]);
        assert!(problems.is_empty(), "{name}: {problems:?}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        jsonschema::meta::validate(&tool["inputSchema"]).unwrap();
        jsonschema::meta::validate(&tool["outputSchema"]).unwrap();
    }
    let chat = &tools[0]["inputSchema"];
    assert_eq!(chat["required"], json!(["prompt"]));
    for input in [
        "model",
        "system",
        "temperature",
        "max_tokens",
        "json_schema",
        "web_search",
        "reasoning_effort",
        "file_url",
    ] {
        assert!(chat["properties"].get(input).is_some(), "{input}");
    }
}

#[tokio::test]
async fn chat_answers_the_models_text_and_sends_every_argument_to_openrouter() {
    let app = spawn_app().await;
    let result = call_tool(
        &app,
        "chat",
        json!({
            "prompt": "Hello from an agent",
            "model": "anthropic/claude-sonnet-4.5",
            "system": "Be brief.",
            "temperature": 0.2,
            "max_tokens": 50,
            "web_search": true,
            "reasoning_effort": "low",
            "file_url": "https://example.com/report.pdf",
        }),
    )
    .await;
    let answer = structured(&app, "chat", &result).await;
    assert_eq!(answer["text"], "Echo: Hello from an agent");
    assert_eq!(answer["model"], "anthropic/claude-sonnet-4.5");
    assert!(
        answer["generation_id"]
            .as_str()
            .unwrap()
            .starts_with("gen-")
    );
    assert!(answer["prompt_tokens"].as_i64().unwrap() > 0);
    let sent = app.only_upstream_request().json();
    assert_eq!(sent["model"], "anthropic/claude-sonnet-4.5");
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["max_tokens"], 50);
    assert_eq!(sent["reasoning"], json!({"effort": "low"}));
    assert_eq!(sent["stream"], false);
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    let user = &sent["messages"][1];
    assert_eq!(user["role"], "user");
    assert_eq!(
        user["content"][0],
        json!({"type": "text", "text": "Hello from an agent"})
    );
    assert_eq!(user["content"][1]["type"], "file", "{user}");
    assert!(
        sent["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == "web"),
        "{sent}"
    );
}

#[tokio::test]
async fn chat_with_a_json_schema_answers_its_fields_in_parsed() {
    let app = spawn_app().await;
    let schema = r#"{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"],"additionalProperties":false}"#;
    let result = call_tool(
        &app,
        "chat",
        json!({"prompt": "Plan a trip", "json_schema": schema}),
    )
    .await;
    let answer = structured(&app, "chat", &result).await;
    let parsed = &answer["parsed"];
    assert!(
        parsed["city"].is_string() && parsed["days"].is_i64(),
        "{answer}"
    );
    let sent = app.only_upstream_request().json();
    assert_eq!(sent["response_format"]["type"], "json_schema");
    // Strict mode upstream refuses most schemas an agent writes; the answer is checked here.
    assert_eq!(sent["response_format"]["json_schema"]["strict"], false);
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"]["required"],
        json!(["city", "days"])
    );
}

#[tokio::test]
async fn chat_with_image_output_returns_the_picture_as_an_image_block() {
    let app = spawn_app().await;
    let result = call_tool(
        &app,
        "chat",
        json!({"prompt": "Draw a cat", "model": "google/gemini-2.5-flash", "image_output": true}),
    )
    .await;
    let answer = structured(&app, "chat", &result).await;
    assert_eq!(answer["images"][0]["content_type"], "image/png", "{answer}");
    let image = &result["content"][1];
    assert_eq!(image["type"], "image");
    assert_eq!(image["mimeType"], "image/png");
    assert_eq!(image["data"], openrouter_simulator::PNG_BASE64);
    assert_eq!(
        app.only_upstream_request().json()["modalities"],
        json!(["image", "text"])
    );
}

#[tokio::test]
async fn arguments_that_break_the_schema_are_tool_errors_naming_them_and_reach_no_one() {
    let app = spawn_app().await;
    for (arguments, named) in [
        (json!({}), "`prompt` is required"),
        (json!({"promt": "hi"}), "Did you mean `prompt`?"),
        (json!({"prompt": "hi", "temperature": 5}), "`temperature`"),
        (json!({"prompt": "hi", "max_tokens": 0}), "`max_tokens`"),
        (json!({"prompt": "hi", "web_search": "yes"}), "`web_search`"),
        (
            json!({"prompt": "hi", "reasoning_effort": "extreme"}),
            "`reasoning_effort`",
        ),
        (
            json!({"prompt": "hi", "json_schema": "{not json"}),
            "`json_schema`",
        ),
        (
            json!({"prompt": "hi", "json_schema": "[1, 2]"}),
            "`json_schema`",
        ),
        (
            json!({"prompt": "hi", "json_schema": "{\"type\": \"nonsense\"}"}),
            "`json_schema`",
        ),
        (json!({"prompt": "hi", "model": "no slash"}), "`model`"),
        (
            json!({"prompt": "hi", "file_url": "ftp://example.com/a.pdf"}),
            "`file_url`",
        ),
    ] {
        let result = call_tool(&app, "chat", arguments.clone()).await;
        let text = tool_error_text(&result);
        assert!(text.starts_with("Error 400: "), "{arguments}: {text}");
        assert!(text.contains(named), "{arguments}: {text}");
    }
    assert!(app.sim.requests().is_empty(), "{:#?}", app.sim.requests());
}

#[tokio::test]
async fn upstream_errors_are_tool_errors_in_the_contracts_words() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(
            402,
            "Insufficient credits. Add more using https://openrouter.ai/credits",
        ),
    );
    let text = tool_error_text(&call_tool(&app, "chat", json!({"prompt": "hi"})).await);
    assert!(
        text.starts_with("Error 402: Insufficient credits"),
        "{text}"
    );

    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::error(500, "Internal Server Error"),
    );
    let text = tool_error_text(&call_tool(&app, "chat", json!({"prompt": "hi"})).await);
    assert!(text.starts_with("Error 502: "), "{text}");

    app.enqueue_every_attempt("GET", "/credits", Reply::json(200, json!({"data": {}})));
    let text = tool_error_text(&call_tool(&app, "get_credits", json!({})).await);
    assert!(text.starts_with("Error 502: "), "{text}");
}

#[tokio::test]
async fn an_answer_that_breaks_the_schema_is_a_tool_error_quoting_the_models_text() {
    let app = spawn_app().await;
    app.sim
        .enqueue("POST", "/chat/completions", model_says("{\"city\": 7}"));
    let schema = r#"{"type":"object","properties":{"city":{"type":"string"}}}"#;
    let text = tool_error_text(
        &call_tool(&app, "chat", json!({"prompt": "hi", "json_schema": schema})).await,
    );
    assert!(text.starts_with("Error 502: "), "{text}");
    assert!(text.contains("/city"), "{text}");
    assert!(
        text.contains("The model's answer was: {\"city\": 7}"),
        "{text}"
    );
}

fn model(id: &str, inputs: &[&str], outputs: &[&str], prompt: &str, tools: bool) -> Value {
    let parameters: Vec<&str> = if tools {
        vec!["tools", "temperature"]
    } else {
        vec!["temperature"]
    };
    json!({
        "id": id, "name": format!("Name of {id}"), "description": format!("About {id}"),
        "context_length": 32000.0,
        "pricing": {"prompt": prompt, "completion": "0.000002"},
        "architecture": {"input_modalities": inputs, "output_modalities": outputs},
        "supported_parameters": parameters,
    })
}

#[tokio::test]
async fn list_models_filters_and_cuts_openrouters_list_and_prices_per_million_tokens() {
    let app = spawn_app().await;
    let catalogue = json!({"data": [
        model("openai/gpt-4o-mini", &["text", "image"], &["text"], "0.00000015", true),
        model("meta/llama-free", &["text"], &["text"], "0", false),
        model("openrouter/auto", &["text"], &["text"], "-1", true),
        model("google/vision-pro", &["text", "image"], &["text", "image"], "0.000003", true),
    ]});
    let cases = [
        (
            json!({}),
            vec![
                "openai/gpt-4o-mini",
                "meta/llama-free",
                "openrouter/auto",
                "google/vision-pro",
            ],
            4,
        ),
        (json!({"search": "VISION"}), vec!["google/vision-pro"], 1),
        (
            json!({"input_modality": "image", "max_prompt_price": 1}),
            vec!["openai/gpt-4o-mini"],
            1,
        ),
        (json!({"supports_tools": false}), vec!["meta/llama-free"], 1),
        (json!({"max_prompt_price": 0}), vec!["meta/llama-free"], 1),
        (
            json!({"limit": 2}),
            vec!["openai/gpt-4o-mini", "meta/llama-free"],
            4,
        ),
        (
            json!({"output_modality": "image"}),
            vec!["google/vision-pro"],
            1,
        ),
    ];
    for (arguments, ids, total) in cases {
        app.sim
            .enqueue("GET", "/models", Reply::json(200, catalogue.clone()));
        let result = call_tool(&app, "list_models", arguments.clone()).await;
        let list = structured(&app, "list_models", &result).await;
        let listed: Vec<&str> = list["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ids, "{arguments}");
        assert_eq!(list["total"], total, "{arguments}");
    }
    let cheap = &structured(
        &app,
        "list_models",
        &call_tool(&app, "list_models", json!({"search": "gpt-4o"})).await,
    )
    .await["models"][0];
    assert_eq!(
        cheap,
        &json!({"id": "openai/gpt-4o-mini", "name": "OpenAI: GPT-4o-mini", "context_length": 128000, "prompt_price": 0.15, "completion_price": 0.6})
    );
}

#[tokio::test]
async fn list_models_asks_openrouter_for_the_output_and_tools_it_filters_on() {
    let app = spawn_app().await;
    call_tool(
        &app,
        "list_models",
        json!({"output_modality": "image", "supports_tools": true}),
    )
    .await;
    let sent = app.only_upstream_request();
    assert_eq!(sent.path, "/api/v1/models");
    let query = sent.query.unwrap_or_default();
    assert!(query.contains("output_modalities=image"), "{query}");
    assert!(query.contains("supported_parameters=tools"), "{query}");
}

#[tokio::test]
async fn get_model_endpoints_lists_providers_of_the_model_asked() {
    let app = spawn_app().await;
    let result = call_tool(
        &app,
        "get_model_endpoints",
        json!({"model": "openai/gpt-4o-mini"}),
    )
    .await;
    let model = structured(&app, "get_model_endpoints", &result).await;
    assert_eq!(model["id"], "openai/gpt-4o-mini");
    let first = &model["endpoints"][0];
    assert!(
        first["provider"].is_string() && first["prompt_price"].is_number(),
        "{model}"
    );
    assert_eq!(
        app.only_upstream_request().path,
        "/api/v1/models/openai/gpt-4o-mini/endpoints"
    );
    for bad in ["gpt-4o-mini", "a/b/c", " openai/gpt-4o-mini", "openai/"] {
        let text =
            tool_error_text(&call_tool(&app, "get_model_endpoints", json!({"model": bad})).await);
        assert!(text.contains("`model`"), "{bad}: {text}");
    }
}

#[tokio::test]
async fn get_credits_and_get_generation_answer_their_totals() {
    let app = spawn_app().await;
    let credits = structured(
        &app,
        "get_credits",
        &call_tool(&app, "get_credits", json!({})).await,
    )
    .await;
    assert_eq!(
        credits,
        json!({"total_credits": 610.0, "total_usage": 321.725553332, "remaining": 288.274447})
    );
    let id = "gen-1770044149-miW3zzivqGfQNbG1F8Rl";
    let record = structured(
        &app,
        "get_generation",
        &call_tool(&app, "get_generation", json!({"id": id})).await,
    )
    .await;
    assert_eq!(record["id"], id);
    assert!(
        record["total_cost"].is_number() && record["prompt_tokens"].is_i64(),
        "{record}"
    );
    let text = tool_error_text(&call_tool(&app, "get_generation", json!({"id": "gen 1"})).await);
    assert!(text.contains("`id`"), "{text}");
}

#[tokio::test]
async fn an_unknown_tool_or_arguments_that_are_not_an_object_are_invalid_params() {
    let app = spawn_app().await;
    for params in [
        json!({"name": "teleport", "arguments": {}}),
        json!({"name": "chat", "arguments": ["hi"]}),
        json!({"name": 7}),
        json!({"arguments": {}}),
        json!("chat"),
    ] {
        let (status, body) = rpc(&app, &request(3, "tools/call", params.clone())).await;
        assert_eq!(status, 200, "{params}");
        assert_eq!(body["error"]["code"], -32602, "{params}: {body}");
        assert_eq!(body["id"], 3);
    }
    let (_, body) = rpc(&app, &request(3, "tools/call", json!({"name": "teleport"}))).await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("chat, list_models"),
        "{body}"
    );
}

#[tokio::test]
async fn each_mcp_request_is_one_log_line_naming_its_method_and_tool_but_never_the_prompt() {
    let sim = openrouter_simulator::Simulator::start().await.unwrap();
    let service = crate::logged::LoggedService::start(sim.base_url(), "trace", "mcp-log");
    let http = reqwest::Client::new();
    let url = format!("{}/mcp", service.base);
    let prompt = "my very private prompt about payroll";
    for arguments in [
        json!({"prompt": prompt}),
        json!({"prompt": prompt, "temperature": 9}),
    ] {
        let call = request(
            1,
            "tools/call",
            json!({"name": "chat", "arguments": arguments}),
        );
        let response = http
            .post(&url)
            .bearer_auth(crate::helpers::KEY)
            .json(&call)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let logs = service.stop_and_read();
    assert!(!logs.contains("payroll"), "the prompt leaked into the logs");
    assert!(
        !logs.contains(crate::helpers::KEY),
        "the key leaked into the logs"
    );
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|line: &Value| line["message"] == "request finished")
        .collect();
    assert_eq!(lines.len(), 2, "{logs}");
    for line in &lines {
        assert_eq!(line["path"], "/mcp");
        assert_eq!(line["mcp_method"], "tools/call");
        assert_eq!(line["tool"], "chat");
    }
    assert_eq!(lines[0]["mcp_outcome"], "ok");
    assert!(lines[0].get("error").is_none(), "{}", lines[0]);
    assert_eq!(lines[1]["mcp_outcome"], "tool_error");
    assert_eq!(
        lines[1]["error"], "invalid input in field `temperature`",
        "{}",
        lines[1]
    );
}
