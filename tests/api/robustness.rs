//! No input makes the service answer 500, panic or hang: malformed JSON, wrong types, huge
//! bodies, empty strings, unicode, `%2F` in path segments.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{KEY, assert_error, read, spawn_app, spawn_app_with};

async fn send_raw(
    app: &crate::helpers::TestApp,
    method: reqwest::Method,
    path: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        app.http
            .request(method, app.url(path))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body(body)
            .send(),
    )
    .await
    .expect("no hang")
    .expect("an answer");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test]
async fn hostile_bodies_get_clear_errors_never_a_500() {
    let app = spawn_app_with(|s| s.max_body_bytes = 64 * 1024).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"just text\"".to_vec(),
        b"{\"content\": \"x\", \"content\": 5}".to_vec(),
        b"{\"content\": \"\\ud800\"}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        format!(
            "{{\"extra\": {}1{}}}",
            "{\"a\":".repeat(200),
            "}".repeat(200)
        )
        .into_bytes(),
        json!({"content": ""}).to_string().into_bytes(),
        json!({"content": "x", "max_tokens": 1e300})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "max_tokens": -1})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "seed": 1.5})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "temperature": null, "messages": "not a list"})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "messages": [null]})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "tools": [{}]})
            .to_string()
            .into_bytes(),
        json!({"content": "x", "json_schema": {"name": "n", "schema": "{not json"}})
            .to_string()
            .into_bytes(),
        vec![b'x'; 70 * 1024],
    ];
    for body in bodies {
        for path in [
            "/connector/v1/chat/completions",
            "/connector/v1/completions",
        ] {
            let preview = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
            let (status, text) = send_raw(&app, reqwest::Method::POST, path, body.clone()).await;
            assert!(
                (400..500).contains(&status),
                "{path} {preview:?} gave {status}: {text}"
            );
            let parsed: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{preview:?} gave a body that is not JSON: {text}"));
            assert_eq!(parsed["error"]["code"], status);
        }
    }
    assert_eq!(app.sim.request_count(), 0, "none of them reached upstream");
}

#[tokio::test]
async fn unicode_text_travels_intact() {
    let app = spawn_app_with(|_| {}).await;
    let text = "Привет 👋 مرحبا \u{0000} \"quoted\" \\ back";

    let (status, flat) = read(
        app.post(
            "/connector/v1/chat/completions",
            &json!({"content": text, "system": "日本語"}),
        )
        .await,
    )
    .await;

    assert_eq!(status, 200, "{flat}");
    assert_eq!(flat["content"], format!("Echo: {text}"));
    assert_eq!(
        app.only_upstream_request().json()["messages"][1]["content"],
        text
    );
}

#[tokio::test]
async fn encoded_slashes_and_odd_path_segments_are_400s_or_404s_never_500s() {
    let app = spawn_app_with(|_| {}).await;
    for path in [
        "/connector/v1/models/openai%2Fgpt-4o/x/endpoints",
        "/connector/v1/models/openai/gpt%2F4o/endpoints",
        "/connector/v1/models/%2E%2E/credits/endpoints",
        "/connector/v1/models/openai/../endpoints",
        "/connector/v1/models/%20/x/endpoints",
        "/connector/v1/models/openai/%FF%FE/endpoints",
        "/connector/v1/models//gpt/endpoints",
        "/connector/v1/generation?id=%00",
        "/connector/v1/generation?id=%ZZ",
        "/connector/v1/generation?id=gen%201",
        "/connector/v1/%2F%2F",
    ] {
        let (status, text) = send_raw(&app, reqwest::Method::GET, path, Vec::new()).await;
        assert!(status < 500, "{path} gave {status}: {text}");
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
        if status >= 400 {
            assert_error(
                reqwest::StatusCode::from_u16(status).unwrap(),
                &body,
                status,
            );
        }
    }
    for request in app.sim.requests() {
        assert!(
            !request.path.contains("/credits"),
            "an encoded segment escaped: {}",
            request.path
        );
    }
}

#[tokio::test]
async fn a_key_with_spaces_or_unicode_is_refused_without_echoing_it() {
    let app = spawn_app_with(|_| {}).await;
    for key in ["sk or v1", "sk-ключ"] {
        let response = app
            .http
            .post(app.url("/connector/v1/chat/completions"))
            .header("api_key", key.as_bytes())
            .json(&json!({"content": "x"}))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        let message = assert_error(status, &body, 401);
        assert!(!message.contains(key) && !body.to_string().contains(key));
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_array_where_an_object_is_due_is_a_400_naming_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (
            json!({"content": "hi", "provider": {"max_price": [null, null]}}),
            "provider.max_price",
        ),
        (json!({"messages": [["user", "hi"]]}), "messages[0]"),
        (
            json!({"content": "hi", "messages": [{"role": "assistant", "content": "x", "tool_calls": [["a", "function", "f", "{}"]]}]}),
            "messages[0].tool_calls[0]",
        ),
        (json!({"content": "hi", "tools": [["f"]]}), "tools[0]"),
        (
            json!({"content": "hi", "json_schema": ["s"]}),
            "json_schema",
        ),
    ] {
        let (status, answer) = read(app.post("/connector/v1/chat/completions", &body).await).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["metadata"]["field"], field, "{body}");
    }
    assert!(app.sim.requests().is_empty(), "nothing went upstream");
}
