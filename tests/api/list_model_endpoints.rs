//! ListModelEndpoints (`GET /connector/v1/models/{author}/{slug}/endpoints`): the path reaches
//! upstream as one model id (and nothing else), `data` is unwrapped without nulls and with
//! unknown fields kept, and every error row of the contract holds.

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{KEY, TestApp, assert_error, assert_no_nulls, capture, read, spawn_app};

const PATH: &str = "/connector/v1/models/openai/gpt-4o-mini/endpoints";
const UPSTREAM: &str = "/models/openai/gpt-4o-mini/endpoints";

/// GETs `path` with exactly these headers (no key unless one is among them).
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the service answers")
}

/// Sends `GET target` byte for byte, as HTTP clients (which resolve `..`) cannot, and returns the
/// status and the JSON body.
async fn raw_get(app: &TestApp, target: &str) -> (u16, Value) {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer}"));
    let (_, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no body: {answer}"));
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {answer}"));
    (status, body)
}

fn model_with_endpoints() -> Value {
    json!({"data": {
        "id": "openai/gpt-4o-mini",
        "name": "OpenAI: GPT-4o-mini",
        "created": 1721260800,
        "description": "Small and fast.",
        "architecture": {"modality": "text->text", "input_modalities": ["text"],
                         "output_modalities": ["text"], "tokenizer": "GPT", "instruct_type": null},
        "brand_new_field": {"x": 1},
        "endpoints": [{
            "name": "OpenAI: GPT-4o-mini",
            "provider_name": "OpenAI",
            "context_length": 128000,
            "pricing": {"prompt": "0.00000015", "completion": "0.0000006", "discount": 0},
            "quantization": null,
            "max_completion_tokens": 16384,
            "max_prompt_tokens": null,
            "supported_parameters": ["tools"],
            "status": 0,
            "uptime_last_30m": 99.5,
            "tag": "openai",
            "latency_last_30m": {"p50": 0.25},
            "brand_new_endpoint_field": true
        }]
    }})
}

#[tokio::test]
async fn list_model_endpoints_calls_upstream_with_the_model_the_key_and_the_callers_request_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_with(
        &app,
        PATH,
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("x-request-id", "flow-run_1.2"),
        ],
    )
    .await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "flow-run_1.2");
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.method, "GET");
    assert_eq!(upstream.path, format!("/api/v1{UPSTREAM}"));
    assert_eq!(upstream.query, None);
    assert_eq!(
        upstream.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(upstream.header("x-request-id"), Some("flow-run_1.2"));
}

#[tokio::test]
async fn a_call_without_a_request_id_gets_a_new_one_sent_upstream_and_returned() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get(PATH).await;

    // Assert
    let returned = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.header("x-request-id"), Some(returned.as_str()));
}

#[tokio::test]
async fn a_slug_with_a_colon_and_dots_reaches_upstream_unchanged() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .get("/connector/v1/models/google/gemini-2.5-flash:free/endpoints")
        .await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let upstream = app.only_upstream_request();
    assert_eq!(
        upstream.path,
        "/api/v1/models/google/gemini-2.5-flash:free/endpoints"
    );
}

#[tokio::test]
async fn the_model_is_unwrapped_without_nulls_and_keeps_unknown_fields() {
    // Arrange
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", UPSTREAM, Reply::json(200, model_with_endpoints()));

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_no_nulls(&body);
    assert_eq!(body.get("data"), None, "{body}");
    assert_eq!(body["id"], "openai/gpt-4o-mini");
    assert_eq!(body["name"], "OpenAI: GPT-4o-mini");
    assert_eq!(body["created"], 1721260800);
    assert_eq!(body["architecture"]["tokenizer"], "GPT");
    assert_eq!(body["brand_new_field"], json!({"x": 1}));
    let endpoint = &body["endpoints"][0];
    assert_eq!(endpoint["provider_name"], "OpenAI");
    assert_eq!(endpoint["context_length"], 128000);
    assert_eq!(endpoint["pricing"]["prompt"], "0.00000015");
    assert_eq!(endpoint["pricing"]["discount"], 0);
    assert_eq!(endpoint.get("quantization"), None);
    assert_eq!(endpoint["max_completion_tokens"], 16384);
    assert_eq!(endpoint["supported_parameters"], json!(["tools"]));
    assert_eq!(endpoint["status"], 0);
    assert_eq!(endpoint["uptime_last_30m"], 99.5);
    assert_eq!(endpoint["tag"], "openai");
    assert_eq!(endpoint["latency_last_30m"]["p50"], 0.25);
    assert_eq!(endpoint["brand_new_endpoint_field"], true);
}

#[tokio::test]
async fn the_key_goes_upstream_as_a_bearer_token_from_every_accepted_header() {
    // Arrange
    let app = spawn_app().await;
    let bearer = format!("Bearer {KEY}");
    let lower = format!("bearer {KEY}");
    let ways: [(&str, &str); 4] = [
        ("authorization", &bearer),
        ("authorization", &lower),
        ("authorization", KEY),
        ("api_key", KEY),
    ];

    for (name, value) in ways {
        // Act
        app.sim.clear_requests();
        let response = get_with(&app, PATH, &[(name, value)]).await;

        // Assert
        assert_eq!(response.status(), StatusCode::OK, "{name}: {value}");
        let upstream = app.only_upstream_request();
        assert_eq!(
            upstream.header("authorization"),
            Some(bearer.as_str()),
            "{name}: {value}"
        );
    }
}

#[tokio::test]
async fn an_encoded_slash_in_author_or_slug_is_a_400_naming_it_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("/connector/v1/models/openai%2Fx/gpt-4o/endpoints", "author"),
        (
            "/connector/v1/models/openai/gpt-4o%2F..%2Fx/endpoints",
            "slug",
        ),
        ("/connector/v1/models/openai/..%2Fcredits/endpoints", "slug"),
        ("/connector/v1/models/openai/gpt-4o%2f/endpoints", "slug"),
    ];

    for (path, field) in cases {
        // Act
        let (status, body) = read(app.get(path).await).await;

        // Assert
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], field, "{path}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_dot_dot_author_or_slug_is_refused_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("/connector/v1/models/../credits/endpoints", "author"),
        ("/connector/v1/models/openai/../endpoints", "slug"),
        ("/connector/v1/models/%2E%2E/gpt-4o/endpoints", "author"),
        ("/connector/v1/models/openai/.%2e/endpoints", "slug"),
        ("/connector/v1/models/openai/./endpoints", "slug"),
    ];

    for (target, field) in cases {
        // Act
        let (status, body) = raw_get(&app, target).await;

        // Assert
        assert_eq!(status, 400, "{target}: {body}");
        assert_eq!(body["error"]["code"], 400, "{target}");
        assert_eq!(body["error"]["metadata"]["field"], field, "{target}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_blank_author_or_slug_is_a_400_naming_it() {
    // Arrange
    let app = spawn_app().await;

    for (path, field) in [
        ("/connector/v1/models/%20/gpt-4o/endpoints", "author"),
        ("/connector/v1/models/openai/%20%20/endpoints", "slug"),
    ] {
        // Act
        let (status, body) = read(app.get(path).await).await;

        // Assert
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], field, "{path}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_call_without_a_key_is_a_401_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(get_with(&app, PATH, &[]).await).await;

    // Assert
    assert_error(status, &body, 401);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_upstream_401_is_passed_through() {
    // Arrange
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", UPSTREAM, Reply::error(401, "User not found."));

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    let message = assert_error(status, &body, 401);
    assert!(message.contains("(User not found)"), "{message}");
    assert!(message.contains("Check the connection's key"), "{message}");
}

#[tokio::test]
async fn an_unknown_model_is_a_404_with_upstreams_message_and_metadata() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        UPSTREAM,
        Reply::json(
            404,
            json!({"error": {"code": 404, "message": "Model not found",
                             "metadata": {"model": "openai/gpt-4o-mini"}}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 404), "Model not found");
    assert_eq!(body["error"]["metadata"]["model"], "openai/gpt-4o-mini");
}

#[tokio::test]
async fn an_upstream_429_is_passed_through_with_its_retry_after_header() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        UPSTREAM,
        Reply::error(429, "Rate limit exceeded").with_header("Retry-After", "5"),
    );

    // Act
    let response = app.get(PATH).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(assert_error(status, &body, 429), "Rate limit exceeded");
    assert_eq!(retry_after.unwrap(), "5");
}

#[tokio::test]
async fn an_upstream_429_without_the_header_gets_retry_after_from_its_metadata() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        UPSTREAM,
        Reply::raw(
            429,
            "application/json",
            capture("errors/429_provider-returned-error_venice_retry-after.json"),
        ),
    );

    // Act
    let response = app.get(PATH).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(assert_error(status, &body, 429), "Provider returned error");
    assert_eq!(retry_after.unwrap(), "17");
}

#[tokio::test]
async fn an_upstream_500_or_503_is_a_502_carrying_upstreams_message() {
    // Arrange
    let app = spawn_app().await;
    for upstream_status in [500, 503] {
        app.enqueue_every_attempt(
            "GET",
            UPSTREAM,
            Reply::error(upstream_status, "Internal Server Error"),
        );

        // Act
        let (status, body) = read(app.get(PATH).await).await;

        // Assert
        let message = assert_error(status, &body, 502);
        assert!(message.contains("Internal Server Error"), "{message}");
    }
}

#[tokio::test]
async fn an_upstream_body_that_is_not_json_is_a_502() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        UPSTREAM,
        Reply::raw(200, "application/json", "{\"data\": {\"id\": "),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_error(status, &body, 502);
}

#[tokio::test]
async fn a_200_carrying_an_openrouter_error_is_that_error() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        UPSTREAM,
        Reply::json(
            200,
            json!({"error": {"code": 404, "message": "No endpoints found for openai/gpt-4o-mini."}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(
        assert_error(status, &body, 404),
        "No endpoints found for openai/gpt-4o-mini."
    );
}

#[tokio::test]
async fn a_post_is_a_405_with_allow() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post(PATH, &json!({})).await;
    let allow = response.headers().get("allow").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_error(status, &body, 405);
    assert!(allow.unwrap().to_str().unwrap().contains("GET"));
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_model_path_without_endpoints_is_a_404_in_the_error_shape() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get("/connector/v1/models/openai/gpt-4o-mini").await).await;

    // Assert
    assert_error(status, &body, 404);
    assert_eq!(app.sim.request_count(), 0);
}

/// Fails today: `ModelPath::parse` never reads the query string, so `?provider=openai` is
/// dropped silently and the call goes upstream (contract section 4: an unknown field is a `400`).
#[tokio::test]
async fn an_unknown_query_parameter_is_a_400_naming_it_not_silently_dropped() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get(&format!("{PATH}?provider=openai")).await).await;

    // Assert
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "provider");
    assert_eq!(app.sim.request_count(), 0);
}
