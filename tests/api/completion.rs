//! Completion: the exact upstream request, the flat response, the legacy-route fallback.

use serde_json::json;

use crate::helpers::{KEY, assert_error, assert_no_nulls, read, spawn_app};
use openrouter_simulator::Reply;

const PATH: &str = "/connector/v1/completions";

#[tokio::test]
async fn every_named_field_reaches_upstream_with_extra_merged_and_stream_false() {
    let app = spawn_app().await;
    let request = json!({
        "prompt": "5 + 7 = ", "model": "meta-llama/llama-3.1-405b-instruct",
        "max_tokens": 10, "temperature": 0, "stop": ["\n"], "seed": 1,
        "models": ["openai/gpt-4o-mini"], "provider": {"sort": "latency"}, "transforms": ["middle-out"],
        "reasoning": {"effort": "low"},
        "extra": {"max_tokens": 999, "logit_bias": {"50256": -100}}
    });

    let (status, flat) = read(app.post(PATH, &request).await).await;

    assert_eq!(status, 200, "{flat}");
    let sent = app.only_upstream_request();
    assert_eq!(sent.path, "/api/v1/completions");
    let mut body = sent.json();
    let body = body.as_object_mut().unwrap();
    let expected = json!({
        "prompt": "5 + 7 = ", "model": "meta-llama/llama-3.1-405b-instruct",
        "max_tokens": 10, "temperature": 0.0, "stop": ["\n"], "seed": 1,
        "models": ["openai/gpt-4o-mini"], "provider": {"sort": "latency"}, "transforms": ["middle-out"],
        "reasoning": {"effort": "low"},
        "logit_bias": {"50256": -100}, "stream": false
    });
    for (name, value) in expected.as_object().unwrap() {
        assert_eq!(body.remove(name).as_ref(), Some(value), "{name}");
    }
    assert!(body.is_empty(), "unexpected upstream fields: {body:?}");
}

#[tokio::test]
async fn the_real_padded_legacy_answer_becomes_flat_text() {
    let app = spawn_app().await;
    let raw =
        crate::helpers::capture("completions/nonstream_llama-3.1-405b_google.response.raw.txt");
    let mut patched: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    patched["choices"][0]["text"] = json!("12");
    let padded = format!("\n         \n\n         \n{patched}");
    app.sim.enqueue(
        "POST",
        "/completions",
        Reply::raw(200, "application/json", padded),
    );

    let (status, flat) = read(app.post(PATH, &json!({"prompt": "5 + 7 = "})).await).await;

    assert_eq!(status, 200);
    assert_no_nulls(&flat);
    assert_eq!(flat["text"], "12");
    assert_eq!(flat["id"], "gen-1764704027-YmgZuzDAKrAywxh1aHQW");
    assert_eq!(flat["provider"], "Google");
    assert_eq!(flat["finish_reason"], "stop");
    assert_eq!(flat["native_finish_reason"], "stop");
    assert_eq!(flat["usage"]["total_tokens"], 50);
    assert_eq!(
        flat["usage"]["extra_properties"]["google"]["traffic_type"],
        "ON_DEMAND"
    );
    assert_eq!(flat["choices"][0]["text"], "12");
    assert_eq!(flat["choices"][0]["index"], 0);
}

#[tokio::test]
async fn a_gone_legacy_route_is_retried_once_through_chat_completions() {
    for status in [404, 405] {
        let app = spawn_app().await;
        app.sim.enqueue(
            "POST",
            "/completions",
            Reply::raw(status, "text/plain", "Not Found"),
        );

        let (answer, flat) = read(
            app.post(
                PATH,
                &json!({"prompt": "Say hi", "model": "openai/gpt-4o-mini", "max_tokens": 5}),
            )
            .await,
        )
        .await;

        assert_eq!(answer, 200, "{flat}");
        assert_eq!(flat["text"], "Echo: Say hi");
        let requests = app.sim.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].path, "/api/v1/completions");
        assert_eq!(requests[1].path, "/api/v1/chat/completions");
        assert_eq!(
            requests[1].json(),
            json!({"max_tokens": 5, "model": "openai/gpt-4o-mini", "stream": false, "messages": [{"role": "user", "content": "Say hi"}]})
        );
    }
}

#[tokio::test]
async fn an_openrouter_404_is_not_retried() {
    let app = spawn_app().await;
    app.sim.enqueue(
        "POST",
        "/completions",
        Reply::json(
            404,
            json!({"error": {"code": 404, "message": "No endpoints found for x/y."}}),
        ),
    );

    let (status, body) = read(
        app.post(PATH, &json!({"prompt": "p", "model": "x/y"}))
            .await,
    )
    .await;

    assert_eq!(
        assert_error(status, &body, 404),
        "No endpoints found for x/y."
    );
    assert_eq!(app.sim.request_count(), 1);
}

#[tokio::test]
async fn a_missing_or_blank_prompt_is_a_400_naming_it() {
    let app = spawn_app().await;
    for request in [
        json!({}),
        json!({"prompt": ""}),
        json!({"prompt": "  "}),
        json!({"prompt": null}),
    ] {
        let (status, body) = read(app.post(PATH, &request).await).await;
        assert_error(status, &body, 400);
        assert_eq!(body["error"]["metadata"]["field"], "prompt", "{request}");
    }
    assert_eq!(app.sim.request_count(), 0);
}

#[tokio::test]
async fn chat_only_fields_are_unknown_here() {
    let app = spawn_app().await;

    let (status, body) = read(app.post(PATH, &json!({"prompt": "p", "tools": []})).await).await;

    assert_error(status, &body, 400);
    assert_eq!(body["error"]["metadata"]["field"], "tools");
}

#[tokio::test]
async fn the_key_goes_upstream_as_bearer_whichever_header_carries_it() {
    let app = spawn_app().await;
    for (name, value) in [
        ("authorization", format!("Bearer {KEY}")),
        ("authorization", KEY.to_owned()),
        ("api_key", KEY.to_owned()),
    ] {
        let response = app
            .http
            .post(app.url(PATH))
            .header(name, &value)
            .json(&json!({"prompt": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            app.sim.last_request().unwrap().header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
}
