//! ChatCompletion: the exact upstream request, the flat response, keys, and its error rows.

use serde_json::json;

use crate::helpers::{KEY, assert_error, assert_no_nulls, read, spawn_app};
use openrouter_simulator::Reply;

const PATH: &str = "/connector/v1/chat/completions";

#[tokio::test]
async fn every_named_field_reaches_upstream_under_openrouters_name_and_shape() {
    let app = spawn_app().await;
    let request = json!({
        "content": "Describe this picture",
        "role": "user",
        "model": "openai/gpt-4o-mini",
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function", "name": "add", "arguments": "{\"a\":2,\"b\":2}"}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "4"}
        ],
        "image_url": "https://example.com/cat.png",
        "max_tokens": 100, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.1, "top_a": 0.2,
        "frequency_penalty": 0.5, "presence_penalty": -0.5, "repetition_penalty": 1.1, "seed": 42,
        "stop": "END", "logprobs": true, "top_logprobs": 3, "user": "maker-1",
        "models": ["anthropic/claude-sonnet-4.5"],
        "provider": {"order": ["openai"], "only": ["openai", "azure"], "ignore": ["deepinfra"],
                     "allow_fallbacks": false, "require_parameters": true, "data_collection": "deny",
                     "zdr": true, "sort": "price", "quantizations": ["fp8"],
                     "max_price": {"prompt": 1, "completion": "2"}},
        "transforms": ["middle-out"],
        "response_format": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true},
        "reasoning": {"effort": "high", "max_tokens": 2000, "exclude": false},
        "tools": [{"name": "add", "description": "Adds.", "parameters": {"type": "object"}}],
        "tool_choice": "add",
        "parallel_tool_calls": false,
        "web_search": true,
        "extra": {"temperature": 1.9, "plugins": [{"id": "file-parser"}], "stream": true, "verbosity": "low"}
    });

    let (status, _) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200);
    let sent = app.only_upstream_request();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/api/v1/chat/completions");
    let body = sent.json();
    let expected = json!({
        "model": "openai/gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": "{\"a\":2,\"b\":2}"}}]},
            {"role": "tool", "content": "4", "tool_call_id": "call_1"},
            {"role": "user", "content": [
                {"type": "text", "text": "Describe this picture"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
            ]}
        ],
        "max_tokens": 100, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.1, "top_a": 0.2,
        "frequency_penalty": 0.5, "presence_penalty": -0.5, "repetition_penalty": 1.1, "seed": 42,
        "stop": ["END"], "logprobs": true, "top_logprobs": 3, "user": "maker-1",
        "models": ["anthropic/claude-sonnet-4.5"],
        "provider": {"order": ["openai"], "only": ["openai", "azure"], "ignore": ["deepinfra"],
                     "allow_fallbacks": false, "require_parameters": true, "data_collection": "deny",
                     "zdr": true, "sort": "price", "quantizations": ["fp8"],
                     "max_price": {"prompt": 1, "completion": "2"}},
        "transforms": ["middle-out"],
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "reasoning": {"effort": "high", "max_tokens": 2000, "exclude": false},
        "tools": [{"type": "function", "function": {"name": "add", "description": "Adds.", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "add"}},
        "parallel_tool_calls": false,
        "plugins": [{"id": "file-parser"}, {"id": "web"}],
        "verbosity": "low",
        "stream": false
    });
    assert_eq!(body, expected, "a blank assistant content counts as absent");
}

#[tokio::test]
async fn the_simplest_call_sends_one_user_message_and_stream_false() {
    let app = spawn_app().await;

    let (status, flat) = read(app.post(PATH, &json!({"content": "Hello"})).await).await;

    assert_eq!(status, 200, "{flat}");
    assert_eq!(
        app.only_upstream_request().json(),
        json!({"messages": [{"role": "user", "content": "Hello"}], "stream": false})
    );
    assert_eq!(flat["content"], "Echo: Hello");
}

#[tokio::test]
async fn the_response_is_flat_without_nulls_and_keeps_unknown_fields() {
    let app = spawn_app().await;
    app.sim.enqueue("POST", "/chat/completions", Reply::raw(200, "application/json", r#"
        {"id":"gen-1770044149-miW3zzivqGfQNbG1F8Rl","provider":"xAI","model":"x-ai/grok-4","object":"chat.completion","created":1770044149,
         "system_fingerprint":null,"brand_new":{"x":1},
         "choices":[{"logprobs":null,"finish_reason":"stop","native_finish_reason":"completed","index":0,
           "message":{"role":"assistant","content":"Hi","refusal":null,"reasoning":"thought","annotations":[]}}],
         "usage":{"prompt_tokens":687,"completion_tokens":192,"total_tokens":879,"cost":0.00341325,"is_byok":false,
           "prompt_tokens_details":{"cached_tokens":679},"completion_tokens_details":{"reasoning_tokens":121}}}"#));

    let (status, flat) = read(app.post(PATH, &json!({"content": "hi"})).await).await;

    assert_eq!(status, 200);
    assert_no_nulls(&flat);
    assert_eq!(flat["id"], "gen-1770044149-miW3zzivqGfQNbG1F8Rl");
    assert_eq!(flat["provider"], "xAI");
    assert_eq!(flat["model"], "x-ai/grok-4");
    assert_eq!(flat["created"], 1770044149);
    assert_eq!(flat["role"], "assistant");
    assert_eq!(flat["content"], "Hi");
    assert_eq!(flat["reasoning"], "thought");
    assert_eq!(flat["finish_reason"], "stop");
    assert_eq!(flat["native_finish_reason"], "completed");
    assert_eq!(flat["tool_calls"], json!([]));
    assert_eq!(flat["usage"]["cached_tokens"], 679);
    assert_eq!(flat["usage"]["reasoning_tokens"], 121);
    assert_eq!(flat["usage"]["cost"], 0.00341325);
    assert_eq!(flat["brand_new"], json!({"x": 1}));
    assert_eq!(flat["object"], "chat.completion");
    assert_eq!(flat["choices"][0]["annotations"], json!([]));
    assert!(flat.get("system_fingerprint").is_none());
}

#[tokio::test]
async fn a_tool_call_answer_has_empty_content_and_flat_tool_calls() {
    let app = spawn_app().await;
    let request = json!({"content": "Add 2 and 2", "tools": [{"name": "add", "parameters": {"type": "object"}}], "tool_choice": "required"});

    let (status, flat) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{flat}");
    assert_eq!(flat["content"], "");
    assert_eq!(flat["finish_reason"], "tool_calls");
    let call = &flat["tool_calls"][0];
    assert_eq!(call["type"], "function");
    assert_eq!(call["name"], "add");
    assert!(call["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(call["arguments"].is_string());
}

#[tokio::test]
async fn the_key_goes_upstream_as_bearer_whichever_header_carries_it() {
    let app = spawn_app().await;
    for (name, value) in [
        ("authorization", format!("Bearer {KEY}")),
        ("authorization", format!("bearer {KEY}")),
        ("authorization", KEY.to_owned()),
        ("api_key", KEY.to_owned()),
    ] {
        let response = app
            .http
            .post(app.url(PATH))
            .header(name, &value)
            .json(&json!({"content": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
        let sent = app.sim.last_request().unwrap();
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str()),
            "{name}: {value}"
        );
    }
}

#[tokio::test]
async fn a_response_format_string_becomes_an_object_and_json_schema_requires_its_schema() {
    let app = spawn_app().await;

    let (status, _) = read(
        app.post(
            PATH,
            &json!({"content": "x", "response_format": "json_object"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.only_upstream_request().json()["response_format"],
        json!({"type": "json_object"})
    );

    let (status, body) = read(
        app.post(
            PATH,
            &json!({"content": "x", "response_format": "json_schema"}),
        )
        .await,
    )
    .await;
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "json_schema");
}

#[tokio::test]
async fn a_json_schema_pasted_as_text_is_read_as_json() {
    let app = spawn_app().await;
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "n", "schema": "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}"}});

    let (status, _) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200);
    let sent = app.only_upstream_request().json();
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"]["properties"]["a"]["type"],
        "string"
    );
}

#[tokio::test]
async fn openrouters_own_object_forms_are_accepted() {
    let app = spawn_app().await;
    let request = json!({
        "content": "x",
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "stop": ["a", "b"]
    });

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    let sent = app.only_upstream_request().json();
    assert_eq!(sent["response_format"], json!({"type": "json_object"}));
    assert_eq!(
        sent["tools"][0],
        json!({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}})
    );
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(sent["stop"], json!(["a", "b"]));
}

#[tokio::test]
async fn blank_optional_fields_count_as_absent() {
    let app = spawn_app().await;
    let request = json!({"content": "x", "model": "", "system": null, "temperature": "", "provider": null, "extra": null, "tool_choice": ""});

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.only_upstream_request().json(),
        json!({"messages": [{"role": "user", "content": "x"}], "stream": false})
    );
}

#[tokio::test]
async fn messages_alone_are_enough_and_content_is_needed_otherwise() {
    let app = spawn_app().await;

    let (status, _) = read(
        app.post(
            PATH,
            &json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = read(app.post(PATH, &json!({"model": "openai/gpt-4o"})).await).await;
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "content");
    assert_eq!(
        app.sim.request_count(),
        1,
        "the invalid call never reached upstream"
    );
}

#[tokio::test]
async fn invalid_fields_are_400s_naming_the_field_before_any_upstream_call() {
    let app = spawn_app().await;
    for (request, field) in [
        (json!({"content": "x", "temprature": 1}), "temprature"),
        (json!({"content": "x", "temperature": 3}), "temperature"),
        (
            json!({"content": "x", "temperature": "warm"}),
            "temperature",
        ),
        (json!({"content": "x", "role": "robot"}), "role"),
        (json!({"content": "x", "model": "gpt 4"}), "model"),
        (json!({"content": 5}), "content"),
        (
            json!({"content": "x", "messages": [{"role": "bot", "content": "y"}]}),
            "messages[0].role",
        ),
        (
            json!({"content": "x", "messages": [{"role": "tool", "content": "y"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"content": "x", "tools": [{"name": "bad name"}]}),
            "tools[0].name",
        ),
        (
            json!({"content": "x", "response_format": "yaml"}),
            "response_format",
        ),
        (
            json!({"content": "x", "provider": {"data_collection": "maybe"}}),
            "provider.data_collection",
        ),
        (
            json!({"content": "x", "stop": ["1", "2", "3", "4", "5"]}),
            "stop",
        ),
        (json!({"content": "x", "extra": "not an object"}), "extra"),
        (
            json!({"image_url": "https://x/y.png", "messages": [{"role": "user", "content": "y"}]}),
            "image_url",
        ),
    ] {
        let (status, body) = read(app.post(PATH, &request).await).await;
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], field, "{request}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(field.split('[').next().unwrap()),
            "{message}"
        );
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_request_id_from_the_caller_is_returned_and_sent_upstream() {
    let app = spawn_app().await;

    let response = app
        .http
        .post(app.url(PATH))
        .bearer_auth(KEY)
        .header("x-request-id", "flow-run-42")
        .json(&json!({"content": "x"}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["x-request-id"], "flow-run-42");
    assert_eq!(
        app.only_upstream_request().header("x-request-id"),
        Some("flow-run-42")
    );
}

#[tokio::test]
async fn attribution_headers_are_sent_when_configured() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.app_referer = Some("https://contoso.example".to_owned());
        s.app_title = Some("Contoso Flows".to_owned());
    })
    .await;

    let (status, _) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert_eq!(status, 200);
    let sent = app.only_upstream_request();
    assert_eq!(sent.header("http-referer"), Some("https://contoso.example"));
    assert_eq!(sent.header("x-title"), Some("Contoso Flows"));
}

#[tokio::test]
async fn an_answer_with_nulls_in_its_choice_still_has_arrays_and_strings() {
    // An answer without choices at all is a 502 (promises::upstream_answers).
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            200,
            json!({"id": "gen-1", "model": "m", "usage": null, "choices": [
                {"message": {"role": null, "content": null, "tool_calls": null}}
            ]}),
        ),
    );

    let (status, flat) = read(app.post(PATH, &json!({"content": "x"})).await).await;

    assert_eq!(status, 200);
    assert_no_nulls(&flat);
    assert_eq!(flat["choices"][0]["tool_calls"], json!([]));
    assert_eq!(flat["tool_calls"], json!([]));
    assert_eq!(flat["content"], "");
    assert_eq!(flat["role"], "assistant");
}

#[tokio::test]
async fn files_as_power_automate_file_content_reach_upstream_byte_for_byte() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let app = spawn_app().await;
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n".to_vec();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    let wav = b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0".to_vec();
    let csv = "date,amount\n2026-11-30,12.50 €\n".as_bytes().to_vec();
    let file = |kind: &str, bytes: &[u8]| json!({"$content-type": kind, "$content": STANDARD.encode(bytes)});
    let request = json!({
        "content": "Read these",
        "files": [
            {"content": file("application/pdf", &pdf), "name": "invoice.pdf"},
            file("image/png", &png),
            {"content": file("application/octet-stream", &wav), "name": "memo.wav"},
            {"content": file("text/csv", &csv), "name": "rows.csv"},
        ],
        "pdf_engine": "pdf-text",
    });

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    let sent = app.only_upstream_request().json();
    let parts = &sent["messages"][0]["content"];
    assert_eq!(parts[0], json!({"type": "text", "text": "Read these"}));
    let data = |url: &serde_json::Value, prefix: &str| {
        let url = url.as_str().unwrap();
        STANDARD.decode(url.strip_prefix(prefix).unwrap()).unwrap()
    };
    assert_eq!(parts[1]["type"], "file");
    assert_eq!(parts[1]["file"]["filename"], "invoice.pdf");
    assert_eq!(
        data(
            &parts[1]["file"]["file_data"],
            "data:application/pdf;base64,"
        ),
        pdf
    );
    assert_eq!(parts[2]["type"], "image_url");
    assert_eq!(
        data(&parts[2]["image_url"]["url"], "data:image/png;base64,"),
        png
    );
    assert_eq!(parts[3]["input_audio"]["format"], "wav");
    assert_eq!(data(&parts[3]["input_audio"]["data"], ""), wav);
    assert_eq!(
        parts[4],
        json!({"type": "text", "text": "File rows.csv:\ndate,amount\n2026-11-30,12.50 €\n"})
    );
    assert_eq!(parts.as_array().unwrap().len(), 5);
    assert_eq!(
        sent["plugins"],
        json!([{"id": "file-parser", "pdf": {"engine": "pdf-text"}}])
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_sent_is_refused_naming_it_before_any_upstream_call() {
    let app = spawn_app().await;
    for (files, field) in [
        (
            json!([{"content": "JVBERi0xLjc="}, {"content": "not base64"}]),
            "files[1].content",
        ),
        (json!([{"url": "http://example.com/a.pdf"}]), "files[0].url"),
        (
            json!([{"content": "UEsDBA==", "content_type": "application/zip"}]),
            "files[0].content_type",
        ),
        (json!("one file"), "files"),
    ] {
        let (status, body) = read(
            app.post(PATH, &json!({"content": "x", "files": files}))
                .await,
        )
        .await;
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], field, "{body}");
    }
    assert_eq!(app.sim.request_count(), 0);
}
