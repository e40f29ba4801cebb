//! The service's own endpoints and its OpenAPI document: served, complete, and committed.

use serde_json::Value;

use crate::helpers::{read, spawn_app};
use openrouter_connector::openapi;

const OPERATIONS: [(&str, &str, &str); 6] = [
    ("/connector/v1/completions", "post", "Completion"),
    ("/connector/v1/chat/completions", "post", "ChatCompletion"),
    ("/connector/v1/models", "get", "ListModels"),
    (
        "/connector/v1/models/{author}/{slug}/endpoints",
        "get",
        "ListModelEndpoints",
    ),
    ("/connector/v1/credits", "get", "GetCredits"),
    ("/connector/v1/generation", "get", "GetGeneration"),
];

#[test]
fn the_committed_openapi_document_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == openapi::document_json(),
        "openapi/openapi.json is stale: run `cargo run -- write-openapi` and commit it"
    );
}

#[test]
fn every_action_has_its_operation_id_summary_and_description() {
    let document: Value = serde_json::from_str(&openapi::document_json()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for (path, method, id) in OPERATIONS {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["operationId"], id, "{path}");
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(
            !summary.is_empty() && summary.len() <= 80,
            "{id} summary: {summary:?}"
        );
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(
            description.ends_with('.'),
            "{id} description: {description:?}"
        );
        assert_eq!(
            operation["security"][0]["api_key"],
            serde_json::json!([]),
            "{id}"
        );
    }
}

#[test]
fn every_schema_property_and_parameter_is_described() {
    let document: Value = serde_json::from_str(&openapi::document_json()).unwrap();
    let mut missing = Vec::new();
    for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
        collect_undescribed(
            &format!("#/components/schemas/{name}"),
            schema,
            &mut missing,
        );
    }
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["description"].as_str().is_none_or(str::is_empty) {
                    missing.push(format!("{method} {path} parameter {}", parameter["name"]));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undescribed: {missing:#?}");
}

fn collect_undescribed(at: &str, schema: &Value, missing: &mut Vec<String>) {
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let here = format!("{at}.{name}");
        let described = property["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
            || property["allOf"].is_array()
            || property["oneOf"].is_array();
        if !described {
            missing.push(here.clone());
        }
        collect_undescribed(&here, property, missing);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_undescribed(at, part, missing);
    }
}

#[tokio::test]
async fn the_served_document_equals_the_committed_one() {
    let app = spawn_app().await;

    let (status, served) = read(app.http.get(app.url("/openapi.json")).send().await.unwrap()).await;

    assert_eq!(status, 200);
    let generated: Value = serde_json::from_str(&openapi::document_json()).unwrap();
    assert_eq!(served, generated);
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = spawn_app().await;

    let redirect = app.http.get(app.url("/swagger-ui")).send().await.unwrap();
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], "/swagger-ui/");

    let page = app.http.get(app.url("/swagger-ui/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));

    for asset in [
        "/swagger-ui/swagger-ui.css",
        "/swagger-ui/swagger-ui-bundle.js",
        "/swagger-ui/swagger-initializer.js",
    ] {
        let response = app.http.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        let text = response.text().await.unwrap();
        assert!(!text.is_empty(), "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(
                text.contains("/openapi.json"),
                "the UI points at our document"
            );
        }
    }
}

#[tokio::test]
async fn health_needs_no_key() {
    let app = spawn_app().await;
    for path in ["/health/live", "/health/ready"] {
        let (status, body) = read(app.http.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, serde_json::json!({"status": "ok"}));
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    for path in ["/health/live", "/nowhere", "/connector/v1/credits"] {
        let response = app
            .http
            .get(app.url(path))
            .header("x-request-id", "bad id!")
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(id.len(), 36, "{path}: a fresh id replaces an unsafe one");
    }
}
