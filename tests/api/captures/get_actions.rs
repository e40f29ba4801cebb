//! The four GET actions (ListModels, ListModelEndpoints, GetCredits, GetGeneration) on every
//! success capture and every spec error example: flat, `data` unwrapped where the contract says,
//! every upstream field kept; errors with upstream's status and message, or a 502.

use openrouter_simulator::Reply;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Answer, Findings, answer, check_error, files, json_of, status_of};
use crate::helpers::{TestApp, capture, spawn_app_with};

/// One GET action: where its captures are named, where the service serves it, where it calls.
struct GetAction {
    spec_prefix: &'static str,
    path: &'static str,
    upstream: &'static str,
}

const MODELS: GetAction = GetAction {
    spec_prefix: "models.",
    path: "/connector/v1/models",
    upstream: "/models",
};
const ENDPOINTS: GetAction = GetAction {
    spec_prefix: "models_author_slug_endpoints.",
    path: "/connector/v1/models/openai/gpt-4/endpoints",
    upstream: "/models/openai/gpt-4/endpoints",
};
const CREDITS: GetAction = GetAction {
    spec_prefix: "credits.",
    path: "/connector/v1/credits",
    upstream: "/credits",
};
const GENERATION: GetAction = GetAction {
    spec_prefix: "generation.",
    path: "/connector/v1/generation?id=gen-3bhGkxlo4XFrqiabUM7NDtwDzWwG",
    upstream: "/generation",
};

/// Serves `body` for the action with `status`, calls the action, and returns the answer.
async fn serve_get(app: &TestApp, action: &GetAction, status: u16, body: Vec<u8>) -> Answer {
    let reply = Reply::raw(status, "application/json", body);
    if matches!(status, 502 | 503) {
        // Idempotent GETs retry these: the answer must hold on every attempt.
        app.enqueue_every_attempt("GET", action.upstream, reply);
    } else {
        app.sim.enqueue("GET", action.upstream, reply);
    }
    answer(app.get(action.path).await).await
}

/// Serves each success capture and checks the flat answer holds every non-null member of what
/// the contract says comes out (`data` for ListModels, `data`'s content for the others).
async fn check_get_successes(action: &GetAction, extra: &[(&str, Vec<u8>)]) -> Findings {
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let mut findings = Findings::default();
    let mut cases: Vec<(String, Vec<u8>)> = files("spec-examples", action.spec_prefix, ".json")
        .into_iter()
        .filter(|file| status_of(file) == 200)
        .map(|file| {
            let bytes = capture(&file);
            (file, bytes)
        })
        .collect();
    cases.extend(
        extra
            .iter()
            .map(|(name, bytes)| ((*name).to_owned(), bytes.clone())),
    );
    findings.check(cases.len() > extra.len(), || {
        format!("no spec success example for {}", action.spec_prefix)
    });
    for (file, bytes) in cases {
        let upstream: Value = serde_json::from_slice(&bytes).unwrap();
        let got = serve_get(&app, action, 200, bytes).await;
        findings.check(got.status == StatusCode::OK, || {
            format!("{file}: status {}: {}", got.status, got.body)
        });
        findings.no_nulls(&file, &got.body);
        if action.upstream == "/models" {
            findings.contains(&file, &got.body, &json!({"data": upstream["data"]}));
        } else {
            findings.check(got.body.get("data").is_none(), || {
                format!("{file}: `data` was not unwrapped")
            });
            findings.contains(&file, &got.body, &upstream["data"]);
        }
        if action.upstream == "/credits" {
            let credits = upstream["data"]["total_credits"].as_f64().unwrap();
            let usage = upstream["data"]["total_usage"].as_f64().unwrap();
            let remaining = ((credits - usage) * 1e6).round() / 1e6;
            findings.equal(
                &file,
                "remaining",
                &got.body["remaining"],
                &json!(remaining),
            );
        }
    }
    findings
}

#[tokio::test]
async fn every_model_list_capture_comes_out_with_every_upstream_field() {
    // Arrange
    let entry = json_of("models/real_model_entry_x-ai_grok-4.20.json");
    let wrapped = serde_json::to_vec(&json!({"data": [entry]})).unwrap();
    let real = [("models/real_model_entry_x-ai_grok-4.20.json", wrapped)];

    // Act
    let findings = check_get_successes(&MODELS, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_model_endpoints_capture_comes_out_unwrapped_with_every_upstream_field() {
    // Act
    let findings = check_get_successes(&ENDPOINTS, &[]).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_credits_capture_comes_out_unwrapped_with_remaining() {
    // Arrange
    let real = [(
        "credits/real_shape.json",
        capture("credits/real_shape.json"),
    )];

    // Act
    let findings = check_get_successes(&CREDITS, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_generation_capture_comes_out_unwrapped_with_every_upstream_field() {
    // Arrange
    let file = "generation/real_partial_with-provider-fallback.json";
    let real = [(file, capture(file))];

    // Act
    let findings = check_get_successes(&GENERATION, &real).await;

    // Assert
    findings.assert_none();
}

#[tokio::test]
async fn every_spec_error_example_of_the_get_actions_keeps_its_status_and_message_or_is_a_502() {
    // Arrange
    let app = spawn_app_with(|s| s.generation_wait = std::time::Duration::from_secs(0)).await;
    let mut findings = Findings::default();

    for action in [&MODELS, &ENDPOINTS, &CREDITS, &GENERATION] {
        let errors: Vec<String> = files("spec-examples", action.spec_prefix, ".json")
            .into_iter()
            .filter(|file| status_of(file) >= 400)
            .collect();
        findings.check(!errors.is_empty(), || {
            format!("no error examples for {}", action.spec_prefix)
        });
        for file in errors {
            let status = status_of(&file);
            let upstream = json_of(&file);

            // Act: served with its own status, then inside a 200.
            let as_is = serve_get(&app, action, status, capture(&file)).await;
            let inside_200 = serve_get(&app, action, 200, capture(&file)).await;

            // Assert
            check_error(&mut findings, &file, status, &upstream, &as_is);
            check_error(
                &mut findings,
                &format!("{file} (in a 200)"),
                status,
                &upstream,
                &inside_200,
            );
        }
    }
    findings.assert_none();
}
