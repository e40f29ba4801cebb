//! ListModels (`GET /connector/v1/models`): the filters and the key reach upstream, the list
//! comes back as `{data: [...]}` without nulls, and every error row of the contract holds.

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{KEY, TestApp, assert_error, assert_no_nulls, capture, read, spawn_app};

const PATH: &str = "/connector/v1/models";

/// GETs `path` with exactly these headers (no key unless one is among them).
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the service answers")
}

fn one_model() -> serde_json::Value {
    json!({
        "id": "openai/gpt-4o-mini",
        "name": "OpenAI: GPT-4o-mini",
        "description": "Small and fast.",
        "created": 1721260800,
        "context_length": 128000,
        "pricing": {"prompt": "0.00000015", "completion": "0.0000006", "request": "0",
                    "image": "0.000217", "web_search": "0.005"},
        "architecture": {"modality": "text+image->text", "input_modalities": ["text", "image"],
                         "output_modalities": ["text"], "tokenizer": "GPT", "instruct_type": null},
        "top_provider": {"context_length": 128000, "max_completion_tokens": 16384,
                         "is_moderated": true},
        "per_request_limits": null,
        "supported_parameters": ["tools", "response_format"],
        "brand_new_field": {"x": 1}
    })
}

#[tokio::test]
async fn list_models_forwards_its_filters_the_key_and_the_callers_request_id_upstream() {
    // Arrange
    let app = spawn_app().await;
    let path = format!(
        "{PATH}?category=programming&supported_parameters=tools%2Cresponse_format&output_modalities=text"
    );

    // Act
    let response = get_with(
        &app,
        &path,
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
    assert_eq!(upstream.path, "/api/v1/models");
    assert_eq!(
        upstream.query_param("category").as_deref(),
        Some("programming")
    );
    assert_eq!(
        upstream.query_param("supported_parameters").as_deref(),
        Some("tools,response_format")
    );
    assert_eq!(
        upstream.query_param("output_modalities").as_deref(),
        Some("text")
    );
    assert_eq!(
        upstream.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(upstream.header("x-request-id"), Some("flow-run_1.2"));
}

#[tokio::test]
async fn blank_filters_are_not_forwarded() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app
        .get(&format!(
            "{PATH}?category=&supported_parameters=&output_modalities="
        ))
        .await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.path, "/api/v1/models");
    for name in ["category", "supported_parameters", "output_modalities"] {
        assert_eq!(upstream.query_param(name), None, "{name} was forwarded");
    }
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
    assert!(!returned.is_empty());
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.header("x-request-id"), Some(returned.as_str()));
}

#[tokio::test]
async fn an_unsafe_request_id_is_replaced_both_ways() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_with(
        &app,
        PATH,
        &[("authorization", KEY), ("x-request-id", "has;semicolon")],
    )
    .await;

    // Assert
    let returned = response.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(returned, "has;semicolon");
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.header("x-request-id"), Some(returned));
}

#[tokio::test]
async fn the_model_list_keeps_data_and_unknown_fields_and_has_no_nulls() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::json(200, json!({"data": [one_model()]})),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_no_nulls(&body);
    let model = &body["data"][0];
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(model["id"], "openai/gpt-4o-mini");
    assert_eq!(model["name"], "OpenAI: GPT-4o-mini");
    assert_eq!(model["created"], 1721260800);
    assert_eq!(model["context_length"], 128000);
    assert_eq!(model["pricing"]["prompt"], "0.00000015");
    assert_eq!(model["pricing"]["web_search"], "0.005");
    assert_eq!(model["architecture"]["tokenizer"], "GPT");
    assert_eq!(model["architecture"].get("instruct_type"), None);
    assert_eq!(model["top_provider"]["max_completion_tokens"], 16384);
    assert_eq!(
        model["supported_parameters"],
        json!(["tools", "response_format"])
    );
    assert_eq!(model["brand_new_field"], json!({"x": 1}));
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
async fn a_call_without_a_key_is_a_401_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(get_with(&app, PATH, &[]).await).await;

    // Assert
    let message = assert_error(status, &body, 401);
    assert!(message.contains("Authorization"), "{message}");
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_upstream_401_is_passed_through() {
    // Arrange
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", "/models", Reply::error(401, "User not found."));

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    let message = assert_error(status, &body, 401);
    assert!(message.contains("(User not found)"), "{message}");
    assert!(message.contains("Check the connection's key"), "{message}");
}

#[tokio::test]
async fn an_upstream_4xx_is_passed_through_with_its_message_and_metadata() {
    // Arrange
    let app = spawn_app().await;
    let upstream = json!({"error": {"code": 400, "message": "Invalid category",
                                    "metadata": {"allowed": ["programming", "roleplay"]}}});
    app.sim
        .enqueue("GET", "/models", Reply::json(400, upstream));

    // Act
    let (status, body) = read(app.get(&format!("{PATH}?category=nonsense")).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 400), "Invalid category");
    assert_eq!(
        body["error"]["metadata"]["allowed"],
        json!(["programming", "roleplay"])
    );
}

#[tokio::test]
async fn an_upstream_429_is_passed_through_with_its_retry_after_header() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::error(429, "Rate limit exceeded").with_header("Retry-After", "7"),
    );

    // Act
    let response = app.get(PATH).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(assert_error(status, &body, 429), "Rate limit exceeded");
    assert_eq!(retry_after.unwrap(), "7");
}

#[tokio::test]
async fn an_upstream_429_without_the_header_gets_retry_after_from_its_metadata() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
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
    assert_eq!(body["error"]["metadata"]["provider_name"], "Venice");
}

#[tokio::test]
async fn an_upstream_500_or_503_is_a_502_carrying_upstreams_message() {
    // Arrange
    let app = spawn_app().await;
    for upstream_status in [500, 503] {
        app.enqueue_every_attempt(
            "GET",
            "/models",
            Reply::error(upstream_status, "Upstream is overloaded"),
        );

        // Act
        let (status, body) = read(app.get(PATH).await).await;

        // Assert
        let message = assert_error(status, &body, 502);
        assert!(message.contains("Upstream is overloaded"), "{message}");
    }
}

#[tokio::test]
async fn an_upstream_body_that_is_not_json_is_a_502() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::raw(200, "text/html", "<html>Bad gateway</html>"),
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
        "/models",
        Reply::json(
            200,
            json!({"error": {"code": "server_error", "message": "Boom"}}),
        ),
    );
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::json(
            200,
            json!({"error": {"code": 402, "message": "Insufficient credits"}}),
        ),
    );

    // Act
    let (first_status, first) = read(app.get(PATH).await).await;
    let (second_status, second) = read(app.get(PATH).await).await;

    // Assert: a code that is not a number is an unknown code, a 502.
    assert!(assert_error(first_status, &first, 502).contains("Boom"));
    assert_eq!(
        assert_error(second_status, &second, 402),
        "Insufficient credits"
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow() {
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
async fn an_unknown_path_is_a_404_in_the_error_shape() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get("/connector/v1/modelz").await).await;

    // Assert
    assert_error(status, &body, 404);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_400_naming_it_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get(&format!("{PATH}?categroy=programming")).await).await;

    // Assert
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "categroy");
    assert_eq!(app.sim.request_count(), 0);
}

/// Fails today: `ModelList` has no catch-all member, so a field OpenRouter adds beside `data`
/// is dropped (contract section 4: unknown upstream fields are kept).
#[tokio::test]
async fn unknown_upstream_fields_beside_data_are_kept() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/models",
        Reply::json(
            200,
            json!({"data": [one_model()], "brand_new_field": {"x": 1}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["brand_new_field"], json!({"x": 1}), "{body}");
}

/// Fails today: the GET actions answer `HEAD` with `405` and `Allow: GET, HEAD`.
#[tokio::test]
async fn a_405_never_lists_the_method_it_refused() {
    // Arrange
    let app = spawn_app().await;
    let paths = [
        PATH,
        "/connector/v1/models/openai/gpt-4o-mini/endpoints",
        "/connector/v1/credits",
        "/connector/v1/generation?id=gen-1",
    ];

    for path in paths {
        // Act
        let response = app
            .http
            .head(app.url(path))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap();

        // Assert
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            let allow = response.headers()["allow"].to_str().unwrap();
            assert!(
                !allow.split(',').any(|m| m.trim() == "HEAD"),
                "{path}: HEAD refused with Allow: {allow}"
            );
        }
    }
}
