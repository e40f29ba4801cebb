//! GetGeneration (`GET /connector/v1/generation?id=`): `id` and the key reach upstream, `data` is
//! unwrapped without nulls and with unknown fields kept, and every error row of the contract
//! holds (including the `404` OpenRouter gives while a record is not there yet).

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{
    KEY, TestApp, assert_error, assert_no_nulls, capture, capture_json, passes_on_message, read,
    spawn_app, spawn_app_with,
};

const PATH: &str = "/connector/v1/generation";
const ID: &str = "gen-1772030107-1FJRHH9DliPkfVmjcn64";

/// GETs `path` with exactly these headers (no key unless one is among them).
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the service answers")
}

fn with_id() -> String {
    format!("{PATH}?id={ID}")
}

#[tokio::test]
async fn get_generation_forwards_the_id_the_key_and_the_callers_request_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = get_with(
        &app,
        &with_id(),
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
    assert_eq!(upstream.path, "/api/v1/generation");
    assert_eq!(upstream.query_param("id").as_deref(), Some(ID));
    assert_eq!(
        upstream.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(upstream.header("x-request-id"), Some("flow-run_1.2"));
}

#[tokio::test]
async fn an_id_with_reserved_characters_reaches_upstream_intact_as_one_parameter() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get(&format!("{PATH}?id=gen-1%26x%3D2")).await;

    // Assert
    assert_eq!(response.status(), StatusCode::OK);
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.query_param("id").as_deref(), Some("gen-1&x=2"));
    assert_eq!(upstream.query_param("x"), None);
}

#[tokio::test]
async fn a_call_without_a_request_id_gets_a_new_one_sent_upstream_and_returned() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.get(&with_id()).await;

    // Assert
    let returned = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let upstream = app.only_upstream_request();
    assert_eq!(upstream.header("x-request-id"), Some(returned.as_str()));
}

#[tokio::test]
async fn the_record_is_unwrapped_without_nulls_and_keeps_unknown_fields() {
    // Arrange
    let app = spawn_app().await;
    let mut upstream = capture_json("generation/real_partial_with-provider-fallback.json");
    upstream["data"]["brand_new_field"] = json!({"x": 1});
    app.sim
        .enqueue("GET", "/generation", Reply::json(200, upstream));

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_no_nulls(&body);
    assert_eq!(body.get("data"), None, "{body}");
    assert_eq!(body["id"], ID);
    assert_eq!(body["provider_name"], "Google AI Studio");
    assert_eq!(body["total_cost"].as_f64(), Some(0.0001402));
    assert_eq!(body["latency"], 1643);
    assert_eq!(body["generation_time"], 3881);
    assert_eq!(body["api_type"], "completions");
    assert_eq!(body["upstream_inference_cost"], 0);
    assert_eq!(body.get("upstream_id"), None);
    assert_eq!(body.get("moderation_latency"), None);
    let attempts = body["provider_responses"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status"], 429);
    assert_eq!(attempts[1]["provider_name"], "Google AI Studio");
    assert_eq!(body["brand_new_field"], json!({"x": 1}));
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
        let response = get_with(&app, &with_id(), &[(name, value)]).await;

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
    let (status, body) = read(get_with(&app, &with_id(), &[]).await).await;

    // Assert
    assert_error(status, &body, 401);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_upstream_401_is_passed_through() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::error(401, "Missing Authentication header"),
    );

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    let message = assert_error(status, &body, 401);
    assert!(
        passes_on_message(401, "Missing Authentication header", &message),
        "{message}"
    );
}

#[tokio::test]
async fn a_generation_not_found_yet_is_a_404_with_upstreams_message_and_metadata() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::json(
            404,
            json!({"error": {"code": 404, "message": "Generation not found",
                             "metadata": {"id": ID}}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 404), "Generation not found");
    assert_eq!(body["error"]["metadata"]["id"], ID);
}

#[tokio::test]
async fn an_upstream_402_is_passed_through_with_its_message() {
    // Arrange
    let app = spawn_app().await;
    let message = "Insufficient credits. Add more using https://openrouter.ai/credits";
    app.sim
        .enqueue("GET", "/generation", Reply::error(402, message));

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 402), message);
}

#[tokio::test]
async fn an_upstream_429_is_passed_through_with_its_retry_after_header() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::error(429, "Rate limit exceeded").with_header("Retry-After", "2"),
    );

    // Act
    let response = app.get(&with_id()).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(assert_error(status, &body, 429), "Rate limit exceeded");
    assert_eq!(retry_after.unwrap(), "2");
}

#[tokio::test]
async fn an_upstream_429_without_the_header_gets_retry_after_from_its_metadata() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::raw(
            429,
            "application/json",
            capture("errors/429_provider-returned-error_venice_retry-after.json"),
        ),
    );

    // Act
    let response = app.get(&with_id()).await;
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
            "/generation",
            Reply::error(upstream_status, "Service temporarily unavailable"),
        );

        // Act
        let (status, body) = read(app.get(&with_id()).await).await;

        // Assert
        let message = assert_error(status, &body, 502);
        assert!(
            message.contains("Service temporarily unavailable"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_upstream_body_that_is_not_json_is_a_502() {
    // Arrange
    let app = spawn_app().await;
    app.enqueue_every_attempt(
        "GET",
        "/generation",
        Reply::raw(502, "text/html", "<html>502 Bad Gateway</html>"),
    );

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    assert_error(status, &body, 502);
}

#[tokio::test]
async fn a_200_carrying_an_openrouter_error_is_that_error() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/generation",
        Reply::json(
            200,
            json!({"error": {"code": 404, "message": "Generation not found"}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(&with_id()).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 404), "Generation not found");
}

#[tokio::test]
async fn a_post_is_a_405_with_allow() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let response = app.post(&with_id(), &json!({})).await;
    let allow = response.headers().get("allow").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_error(status, &body, 405);
    assert!(allow.unwrap().to_str().unwrap().contains("GET"));
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn a_missing_or_blank_id_is_a_400_naming_id_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    for query in ["", "?id=", "?id=%20%20"] {
        // Act
        let (status, body) = read(app.get(&format!("{PATH}{query}")).await).await;

        // Assert
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], "id", "{query:?}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_400_naming_it_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get(&format!("{PATH}?id={ID}&verbose=1")).await).await;

    // Assert
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "verbose");
    assert_eq!(app.sim.request_count(), 0);
}
