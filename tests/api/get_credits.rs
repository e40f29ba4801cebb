//! GetCredits (`GET /connector/v1/credits`): the key reaches upstream, `data` is unwrapped with
//! `remaining` added, and every error row of the contract holds (including the `403` OpenRouter
//! gives keys that are not management keys).

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{KEY, TestApp, assert_error, assert_no_nulls, capture, read, spawn_app};

const PATH: &str = "/connector/v1/credits";

/// GETs `path` with exactly these headers (no key unless one is among them).
async fn get_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the service answers")
}

#[tokio::test]
async fn get_credits_calls_upstream_credits_with_the_key_and_the_callers_request_id() {
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
    assert_eq!(upstream.path, "/api/v1/credits");
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
async fn credits_are_unwrapped_with_remaining_rounded_to_six_decimals() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
        Reply::raw(200, "application/json", capture("credits/real_shape.json")),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.get("data"), None, "{body}");
    assert_eq!(body["total_credits"].as_f64(), Some(610.0));
    assert_eq!(body["total_usage"].as_f64(), Some(321.725553332));
    assert_eq!(body["remaining"].as_f64(), Some(288.274447));
}

#[tokio::test]
async fn unknown_upstream_fields_are_kept_and_nulls_dropped() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
        Reply::json(
            200,
            json!({"data": {"total_credits": 100.5, "total_usage": 25.75,
                            "brand_new_field": {"x": 1}, "limit": null}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(status, StatusCode::OK);
    assert_no_nulls(&body);
    assert_eq!(body["brand_new_field"], json!({"x": 1}));
    assert_eq!(body.get("limit"), None);
    assert_eq!(body["remaining"].as_f64(), Some(74.75));
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
    let response = get_with(&app, PATH, &[("x-request-id", "flow-run_9")]).await;
    let request_id = response.headers().get("x-request-id").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_error(status, &body, 401);
    assert_eq!(request_id.unwrap(), "flow-run_9");
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_empty_key_is_a_401_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(get_with(&app, PATH, &[("authorization", "Bearer ")]).await).await;

    // Assert
    assert_error(status, &body, 401);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn an_upstream_401_is_passed_through() {
    // Arrange
    let app = spawn_app().await;
    app.sim
        .enqueue("GET", "/credits", Reply::error(401, "User not found."));

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    let message = assert_error(status, &body, 401);
    assert!(message.contains("(User not found)"), "{message}");
    assert!(message.contains("Check the connection's key"), "{message}");
}

#[tokio::test]
async fn a_403_for_a_key_that_is_not_a_management_key_is_passed_through_with_its_message() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
        Reply::json(
            403,
            json!({"error": {"code": 403,
                             "message": "Only management keys can perform this operation",
                             "metadata": {"key_type": "inference"}}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(
        assert_error(status, &body, 403),
        "Only management keys can perform this operation"
    );
    assert_eq!(body["error"]["metadata"]["key_type"], "inference");
}

#[tokio::test]
async fn an_upstream_429_is_passed_through_with_its_retry_after_header() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
        Reply::error(429, "Rate limit exceeded").with_header("Retry-After", "3"),
    );

    // Act
    let response = app.get(PATH).await;
    let retry_after = response.headers().get("retry-after").cloned();
    let (status, body) = read(response).await;

    // Assert
    assert_eq!(assert_error(status, &body, 429), "Rate limit exceeded");
    assert_eq!(retry_after.unwrap(), "3");
}

#[tokio::test]
async fn an_upstream_429_without_the_header_gets_retry_after_from_its_metadata() {
    // Arrange
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
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
            "/credits",
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
        "/credits",
        Reply::raw(200, "text/plain", "credits: lots"),
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
        "/credits",
        Reply::json(
            200,
            json!({"error": {"code": 403, "message": "Forbidden here"}}),
        ),
    );

    // Act
    let (status, body) = read(app.get(PATH).await).await;

    // Assert
    assert_eq!(assert_error(status, &body, 403), "Forbidden here");
}

#[tokio::test]
async fn a_post_is_a_405_with_allow_and_never_reaches_upstream() {
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
async fn a_path_below_credits_is_a_404_in_the_error_shape() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get(&format!("{PATH}/history")).await).await;

    // Assert
    assert_error(status, &body, 404);
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn any_query_parameter_is_a_400_naming_it_and_never_reaches_upstream() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let (status, body) = read(app.get(&format!("{PATH}?currency=EUR")).await).await;

    // Assert
    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "currency");
    assert_eq!(app.sim.request_count(), 0);
}
