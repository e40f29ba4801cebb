//! What a new user met on a fresh clone: each friction answered with a message that says what
//! to do (issue 11's list), checked over real ports.

use serde_json::{Value, json};

use crate::helpers::{KEY, TestApp, assert_error, read, spawn_app};

/// Posts `body` to Chat Completion and reads the answer.
async fn chat(app: &TestApp, body: &Value) -> (reqwest::StatusCode, Value) {
    read(app.post("/connector/v1/chat/completions", body).await).await
}

async fn openapi(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_misspelt_query_parameter_is_named_with_the_one_meant_and_never_points_to_extra() {
    let app = spawn_app().await;

    let (status, body) = read(app.get("/connector/v1/generation?gen_id=gen-1").await).await;
    let message = assert_error(status, &body, 400);
    assert!(
        message.contains("Unknown query parameter `gen_id`"),
        "{message}"
    );
    assert!(message.contains("Did you mean `id`?"), "{message}");
    assert_eq!(body["error"]["metadata"]["field"], "gen_id");

    let (status, body) = read(app.get("/connector/v1/models?categry=programming").await).await;
    let message = assert_error(status, &body, 400);
    assert!(message.contains("Did you mean `category`?"), "{message}");
    assert!(
        !message.contains("extra"),
        "GET actions have no extra: {message}"
    );
    assert!(app.sim.requests().is_empty(), "nothing went upstream");
}

#[tokio::test]
async fn a_misspelt_required_field_is_named_as_the_typo_on_both_generation_actions() {
    let app = spawn_app().await;
    for (path, body, typo, meant) in [
        (
            "/connector/v1/completions",
            json!({"promt": "2+2="}),
            "promt",
            "prompt",
        ),
        (
            "/connector/v1/chat/completions",
            json!({"contnet": "hi"}),
            "contnet",
            "content",
        ),
    ] {
        let (status, answer) = read(app.post(path, &body).await).await;
        let message = assert_error(status, &answer, 400);
        assert!(
            message.contains(&format!("Unknown field `{typo}`")),
            "{message}"
        );
        assert!(
            message.contains(&format!("Did you mean `{meant}`?")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_key_in_quotes_or_after_bearer_twice_or_bearer_alone_is_told_what_to_remove() {
    let app = spawn_app().await;
    let url = app.url("/connector/v1/credits");
    for (header, says) in [
        (format!("\"{KEY}\""), "in quotes"),
        (format!("Bearer \u{201c}{KEY}\u{201d}"), "in quotes"),
        (format!("Bearer Bearer {KEY}"), "Remove `Bearer`"),
        ("Bearer Bearer".to_owned(), "Remove `Bearer`"),
    ] {
        let value = reqwest::header::HeaderValue::from_bytes(header.as_bytes()).unwrap();
        let response = app
            .http
            .get(&url)
            .header("Authorization", value)
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        let message = assert_error(status, &body, 401);
        assert!(message.contains(says), "{message}");
    }
    assert!(app.sim.requests().is_empty(), "nothing went upstream");
}

#[tokio::test]
async fn a_key_openrouter_does_not_know_gets_advice_beside_openrouter_s_words() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "GET",
        "/credits",
        openrouter_simulator::Reply::error(401, "User not found."),
    );
    let (status, body) = read(app.get("/connector/v1/credits").await).await;
    let message = assert_error(status, &body, 401);
    assert!(message.contains("(User not found)"), "{message}");
    assert!(message.contains("https://openrouter.ai/keys"), "{message}");
}

#[tokio::test]
async fn a_model_the_catalogue_does_not_know_is_refused_as_openrouter_refuses_it() {
    let app = spawn_app().await;
    let (status, body) = chat(&app, &json!({"model": "acme/fake-1.0", "content": "hi"})).await;
    let message = assert_error(status, &body, 400);
    assert_eq!(message, "acme/fake-1.0 is not a valid model ID");
}

#[tokio::test]
async fn a_bare_model_slug_and_the_root_get_a_404_that_says_where_to_go() {
    let app = spawn_app().await;
    for path in [
        "/connector/v1/models/gpt-4o-mini/endpoints",
        "/connector/v1/models/gpt-4o-mini/endpoints/",
        "/connector/v1/models/openai/gpt-4o-mini",
    ] {
        let (status, body) = read(app.get(path).await).await;
        let message = assert_error(status, &body, 404);
        assert!(message.contains("author/slug"), "{path}: {message}");
        assert!(
            message.contains("/connector/v1/models/openai/gpt-4o-mini/endpoints"),
            "{path}: {message}"
        );
    }

    let (status, body) = read(app.http.get(app.url("/")).send().await.unwrap()).await;
    let message = assert_error(status, &body, 404);
    assert!(message.contains("/swagger-ui/"), "{message}");
}

#[tokio::test]
async fn every_example_swagger_ui_offers_is_accepted() {
    let app = spawn_app().await;
    let document = openapi(&app).await;
    let mut tried = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if !path.starts_with("/connector/v1/") {
            continue;
        }
        let Some(example) =
            item["post"]["requestBody"]["content"]["application/json"].get("example")
        else {
            continue;
        };
        let (status, body) = read(app.post(path, example).await).await;
        assert_eq!(status, 200, "{path}: {body}");
        // A generation's example asks for a modest answer (the designer's helper has none).
        if let Some(max_tokens) = example.get("max_tokens") {
            assert!(max_tokens.as_u64().unwrap() <= 4096, "{path}");
        }
        tried += 1;
    }
    assert_eq!(
        tried, 3,
        "Completion, Chat Completion and Get Output Schema offer an example"
    );
}

#[tokio::test]
async fn the_pass_through_is_documented_for_every_method_it_forwards() {
    let app = spawn_app().await;
    let document = openapi(&app).await;
    let item = &document["paths"]["/api/v1/{rest}"];
    for method in ["get", "head", "post", "put", "patch", "delete", "options"] {
        assert!(item[method]["operationId"].is_string(), "{method}: {item}");
    }
}

#[tokio::test]
async fn the_metrics_path_answers_405_to_another_method() {
    let app = spawn_app().await;
    let response = app.http.post(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    let (status, body) = read(response).await;
    assert_error(status, &body, 405);
}

#[tokio::test]
async fn a_query_parameter_on_a_generation_action_and_stream_true_are_named_not_dropped() {
    let app = spawn_app().await;
    let (status, body) = read(
        app.post(
            "/connector/v1/chat/completions?temprature=0.5",
            &json!({"content": "hi"}),
        )
        .await,
    )
    .await;
    let message = assert_error(status, &body, 400);
    assert!(message.contains("`temprature`"), "{message}");

    let (status, body) = chat(&app, &json!({"content": "hi", "stream": true})).await;
    let message = assert_error(status, &body, 400);
    assert!(message.contains("/api/v1/"), "{message}");
    assert!(!message.contains("extra"), "{message}");
    assert!(app.sim.requests().is_empty(), "nothing went upstream");

    let (status, _) = chat(&app, &json!({"content": "hi", "stream": false})).await;
    assert_eq!(status, 200, "stream: false is what the action sends anyway");
}

#[tokio::test]
async fn a_swapped_pair_of_letters_is_recognised_as_the_field_meant() {
    let app = spawn_app().await;
    let (status, body) = chat(
        &app,
        &json!({"modle": "openai/gpt-4o-mini", "content": "hi"}),
    )
    .await;
    let message = assert_error(status, &body, 400);
    assert!(message.contains("Did you mean `model`?"), "{message}");
}
