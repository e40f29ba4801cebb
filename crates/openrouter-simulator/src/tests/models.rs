//! The simulator knows its catalogue: a model outside it is refused as OpenRouter refuses it.

use crate::{Simulator, SimulatorOptions};

use super::call;

const CHAT: &str = "/api/v1/chat/completions";

fn chat(model: &str) -> String {
    format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#)
}

#[tokio::test]
async fn an_unknown_model_gets_openrouter_s_400_naming_it() {
    let sim = Simulator::start().await.unwrap();
    let response = call(sim.addr(), "POST", CHAT, &chat("acme/fake-1.0")).await;
    assert_eq!(response.status, 400);
    let error = &response.json()["error"];
    assert_eq!(error["message"], "acme/fake-1.0 is not a valid model ID");
    assert_eq!(error["metadata"]["availability"]["code"], "model_not_found");
}

#[tokio::test]
async fn an_unknown_fallback_model_is_refused_too() {
    let sim = Simulator::start().await.unwrap();
    let body = r#"{"models":["openai/gpt-4o-mini","nobody/nothing"],"messages":[{"role":"user","content":"hi"}]}"#;
    let response = call(sim.addr(), "POST", CHAT, body).await;
    assert_eq!(response.status, 400);
    assert_eq!(
        response.json()["error"]["message"],
        "nobody/nothing is not a valid model ID"
    );
}

#[tokio::test]
async fn listed_models_their_variants_and_auto_are_answered() {
    let sim = Simulator::start_with(SimulatorOptions {
        model_count: 7,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    for model in [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash:free",
        "openrouter/auto",
        "simulator/model-007",
    ] {
        let response = call(sim.addr(), "POST", CHAT, &chat(model)).await;
        assert_eq!(response.status, 200, "{model}");
    }
    let past_the_list = call(sim.addr(), "POST", CHAT, &chat("simulator/model-008")).await;
    assert_eq!(past_the_list.status, 400);
}

#[tokio::test]
async fn the_legacy_route_and_the_endpoints_of_an_unknown_model_are_refused() {
    let sim = Simulator::start().await.unwrap();
    let legacy = r#"{"model":"acme/fake-1.0","prompt":"2+2="}"#;
    let response = call(sim.addr(), "POST", "/api/v1/completions", legacy).await;
    assert_eq!(response.status, 400);
    let endpoints = "/api/v1/models/acme/fake-1.0/endpoints";
    assert_eq!(call(sim.addr(), "GET", endpoints, "").await.status, 404);
}

#[tokio::test]
async fn any_model_is_answered_when_the_check_is_off() {
    let sim = Simulator::start_with(SimulatorOptions {
        known_models_only: false,
        ..SimulatorOptions::default()
    })
    .await
    .unwrap();
    let response = call(sim.addr(), "POST", CHAT, &chat("acme/fake-1.0")).await;
    assert_eq!(response.status, 200);
}
