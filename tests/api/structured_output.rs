//! Fields out and pictures out (contract 4.9, 4.10): `parsed` when JSON is asked for, a `502`
//! with the model's text when the answer is not that JSON, and `images` a flow can save.

use serde_json::{Value, json};

use crate::helpers::{assert_error, assert_no_nulls, read, spawn_app};
use openrouter_simulator::{PNG_BASE64, Reply};

const PATH: &str = "/connector/v1/chat/completions";

fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "vendor": {"type": "string", "description": "Who sent the invoice."},
            "total": {"type": "number"},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}
        },
        "required": ["vendor", "total", "currency", "lines"],
        "additionalProperties": false,
        "$defs": {"line": {"type": "object", "properties": {
            "description": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["description", "amount"], "additionalProperties": false}}
    })
}

/// A chat answer from OpenRouter whose first choice says `content`.
fn upstream_answer(content: &str) -> Reply {
    Reply::json(
        200,
        json!({"id": "gen-1-abc", "object": "chat.completion", "created": 1, "model": "openai/gpt-4o-mini",
               "provider": "OpenAI",
               "choices": [{"index": 0, "finish_reason": "stop", "native_finish_reason": "stop",
                            "message": {"role": "assistant", "content": content, "refusal": null}}],
               "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cost": 0.0001}}),
    )
}

#[tokio::test]
async fn a_strict_json_schema_answer_comes_back_parsed_beside_its_text() {
    let app = spawn_app().await;
    let request = json!({"content": "Read this invoice.", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    assert_no_nulls(&body);
    let parsed = &body["parsed"];
    assert_eq!(
        parsed["currency"], "EUR",
        "the simulator's model follows the schema: {body}"
    );
    assert!(parsed["total"].is_number(), "{body}");
    assert!(parsed["lines"][0]["amount"].is_number(), "{body}");
    let text: Value = serde_json::from_str(body["content"].as_str().unwrap()).unwrap();
    assert_eq!(&text, parsed, "content stays the model's text");
}

#[tokio::test]
async fn a_json_object_answer_and_a_schema_pasted_as_text_are_parsed_too() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.post(
            PATH,
            &json!({"content": "hi", "response_format": "json_object"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"], json!({"echo": "hi"}));

    let schema_text = invoice_schema().to_string();
    let request = json!({"content": "x", "response_format": {"type": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}}});
    let (status, body) = read(app.post(PATH, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"]["currency"], "EUR");
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": schema_text}});
    let (status, body) = read(app.post(PATH, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"]["currency"], "EUR");
}

#[tokio::test]
async fn a_text_answer_has_no_parsed_field() {
    let app = spawn_app().await;
    let (status, body) = read(app.post(PATH, &json!({"content": "hi"})).await).await;
    assert_eq!(status, 200);
    assert!(body.get("parsed").is_none(), "{body}");
    assert!(body.get("images").is_none(), "{body}");
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_a_502_with_the_models_text_reaching_upstream_once() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        upstream_answer("Sure! The vendor is Contoso and the total is 12 EUR."),
    );
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    let message = assert_error(status, &body, 502);
    assert!(message.contains("not JSON"), "{message}");
    assert!(message.contains("billed"), "{message}");
    assert_eq!(
        body["error"]["metadata"]["raw"],
        "Sure! The vendor is Contoso and the total is 12 EUR."
    );
    assert_eq!(
        app.sim.request_count(),
        1,
        "the service does not ask again itself"
    );
}

#[tokio::test]
async fn an_answer_that_breaks_a_strict_schema_names_the_place() {
    let app = spawn_app().await;
    let text = r#"{"vendor": "Contoso", "total": 12, "currency": "GBP", "lines": []}"#;
    app.sim
        .enqueue("POST", "/chat/completions", upstream_answer(text));
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    let message = assert_error(status, &body, 502);
    assert_eq!(body["error"]["metadata"]["path"], "/currency", "{body}");
    assert_eq!(body["error"]["metadata"]["raw"], text);
    assert!(message.contains("/currency"), "{message}");
}

#[tokio::test]
async fn a_schema_that_is_not_strict_is_parsed_but_not_checked() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        upstream_answer(r#"{"vendor": 7}"#),
    );
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "schema": invoice_schema()}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"], json!({"vendor": 7}));
}

#[tokio::test]
async fn a_strict_schema_that_cannot_be_checked_is_a_400_before_any_upstream_call() {
    let app = spawn_app().await;
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true,
                        "schema": {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}}}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "json_schema.schema");
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn pictures_a_model_draws_come_back_as_file_content() {
    let app = spawn_app().await;
    let request = json!({"content": "Draw a dot.", "model": "google/gemini-2.5-flash",
                         "extra": {"modalities": ["image", "text"]}});

    let (status, body) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.only_upstream_request().json()["modalities"],
        json!(["image", "text"])
    );
    assert_eq!(
        body["images"],
        json!([{"content_type": "image/png", "content": PNG_BASE64, "name": "image-1.png"}])
    );
    assert!(
        body["choices"][0].get("images").is_none(),
        "the first choice's pictures are sent once: {body}"
    );
}

#[tokio::test]
async fn a_picture_given_as_a_link_is_passed_on_as_its_url() {
    let app = spawn_app().await;
    app.sim.enqueue("POST", "/chat/completions", Reply::json(200, json!({
        "id": "gen-1-abc", "object": "chat.completion", "created": 1, "model": "m/x",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
            "content": "", "images": [{"type": "image_url", "image_url": {"url": "https://img.example/p/1.jpg"}}]}}]
    })));

    let (status, body) = read(app.post(PATH, &json!({"content": "Draw."})).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["images"],
        json!([{"content_type": "image/jpeg", "url": "https://img.example/p/1.jpg", "name": "image-1.jpg"}])
    );
}

#[tokio::test]
async fn a_schema_without_a_response_format_asks_for_it_and_another_format_is_a_400() {
    let app = spawn_app().await;
    let request = json!({"content": "x",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});
    let (status, body) = read(app.post(PATH, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.only_upstream_request().json()["response_format"]["type"],
        "json_schema"
    );
    assert_eq!(body["parsed"]["currency"], "EUR");

    for format in [
        json!("text"),
        json!("json_object"),
        json!({"type": "json_object"}),
    ] {
        let mut request = request.clone();
        request["response_format"] = format.clone();
        let (status, body) = read(app.post(PATH, &request).await).await;
        assert_error(status, &body, 400);
        assert_eq!(
            body["error"]["metadata"]["field"], "json_schema",
            "{format}"
        );
    }
    assert_eq!(app.sim.request_count(), 1);
}

#[tokio::test]
async fn a_json_object_answer_must_be_an_object_and_parsed_has_no_nulls() {
    let app = spawn_app().await;
    for text in ["null", "\"just a string\"", "[1, 2]"] {
        app.sim
            .enqueue("POST", "/chat/completions", upstream_answer(text));
        let (status, body) = read(
            app.post(
                PATH,
                &json!({"content": "x", "response_format": "json_object"}),
            )
            .await,
        )
        .await;
        let message = assert_error(status, &body, 502);
        assert!(message.contains("not an object"), "{text}: {message}");
    }
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        upstream_answer(r#"{"a": null, "b": [null, 1], "c": {"d": null}}"#),
    );
    let (status, body) = read(
        app.post(
            PATH,
            &json!({"content": "x", "response_format": "json_object"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"], json!({"b": [1], "c": {}}));
    assert_no_nulls(&body);
}

#[tokio::test]
async fn a_broken_rule_quoting_a_huge_name_keeps_the_message_short() {
    let app = spawn_app().await;
    let long_name = "K".repeat(50_000);
    let text = format!(
        r#"{{"vendor": "V", "total": 1, "currency": "EUR", "lines": [], "{long_name}": 1}}"#
    );
    app.sim
        .enqueue("POST", "/chat/completions", upstream_answer(&text));
    let request = json!({"content": "x", "response_format": "json_schema",
        "json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});
    let (status, body) = read(app.post(PATH, &request).await).await;
    let message = assert_error(status, &body, 502);
    assert!(message.len() < 1_000, "{} bytes", message.len());
    assert_eq!(
        body["error"]["metadata"]["raw"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        1_000
    );
}

#[tokio::test]
async fn only_pictures_a_flow_can_use_are_kept() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        Reply::json(
            200,
            json!({
                "id": "gen-1-abc", "object": "chat.completion", "created": 1, "model": "m/x",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                    "content": "", "images": [
                        "data:image/png;base64,!!!notbase64***",
                        {"image_url": {"url": "javascript:alert(1)"}},
                        {"image_url": {"url": format!("data:image/png;base64,{PNG_BASE64}")}},
                    ]}}]
            }),
        ),
    );

    let (status, body) = read(app.post(PATH, &json!({"content": "Draw."})).await).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["images"],
        json!([{"content_type": "image/png", "content": PNG_BASE64, "name": "image-1.png"}])
    );
}

#[tokio::test]
async fn a_schema_that_is_not_strict_takes_json_of_any_shape() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/chat/completions",
        upstream_answer("\"just text\""),
    );
    let request = json!({"content": "x", "json_schema": {"name": "n", "schema": {"": {}}}});
    let (status, body) = read(app.post(PATH, &request).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["parsed"], "just text");
}
