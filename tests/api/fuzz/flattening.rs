//! Response flattening: any upstream answer, above all a mutated capture, flattens without a
//! panic, a `null` or a key written twice, with `content`/`text` strings and `choices` and
//! `tool_calls` arrays; `decode` gives a flat response or a `502`.

use std::collections::HashSet;
use std::fmt;

use openrouter_connector::actions::chat_completion::ChatCompletionResponse;
use openrouter_connector::actions::completion::CompletionResponse;
use openrouter_connector::actions::flat::{decode, unwrap_data};
use openrouter_connector::actions::get_credits::Credits;
use openrouter_connector::actions::get_generation::Generation;
use openrouter_connector::actions::list_model_endpoints::ModelEndpoints;
use openrouter_connector::actions::list_models::ModelList;
use openrouter_connector::error::ApiError;
use openrouter_simulator::Reply;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::captures::{documents, upstream_document};
use super::{Case, config, null_at};
use crate::helpers::{read, spawn_app};

/// Accepts any JSON and fails on an object that holds the same key twice.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// What the caller receives for a flat response, as actix writes it: one JSON text, each key
/// once, no `null` anywhere.
fn served(flat: &impl Serialize) -> Result<Value, TestCaseError> {
    let text = serde_json::to_string(flat)
        .map_err(|e| TestCaseError::fail(format!("cannot be serialised (a 500): {e}")))?;
    if let Err(error) = serde_json::from_str::<UniqueKeys>(&text) {
        return Err(TestCaseError::fail(format!("{error} in {text}")));
    }
    let value: Value = serde_json::from_str(&text)?;
    if let Some(path) = null_at(&value, "$") {
        return Err(TestCaseError::fail(format!("a null at {path} in {text}")));
    }
    Ok(value)
}

fn tool_calls_are_flat(calls: &Value, whole: &Value) -> Case {
    let calls = calls
        .as_array()
        .ok_or_else(|| TestCaseError::fail(format!("`tool_calls` is not an array: {whole}")))?;
    for call in calls {
        for member in ["id", "type", "name", "arguments"] {
            prop_assert!(
                call[member].is_string(),
                "tool call `{}`: {}",
                member,
                whole
            );
        }
    }
    Ok(())
}

fn check_chat_flat(upstream: &Value) -> Case {
    let flat = served(&ChatCompletionResponse::from_upstream(upstream.clone()))?;
    prop_assert!(flat["content"].is_string(), "`content`: {}", flat);
    prop_assert!(flat["role"].is_string(), "`role`: {}", flat);
    tool_calls_are_flat(&flat["tool_calls"], &flat)?;
    let choices = flat["choices"]
        .as_array()
        .ok_or_else(|| TestCaseError::fail(format!("`choices` is not an array: {flat}")))?;
    for choice in choices {
        prop_assert!(choice["index"].is_i64(), "choice `index`: {}", flat);
        prop_assert!(choice["content"].is_string(), "choice `content`: {}", flat);
        prop_assert!(choice["role"].is_string(), "choice `role`: {}", flat);
        tool_calls_are_flat(&choice["tool_calls"], &flat)?;
    }
    if let Some(first) = choices.first() {
        prop_assert_eq!(&flat["content"], &first["content"]);
    }
    Ok(())
}

fn check_completion_flat(upstream: &Value) -> Case {
    let flat = served(&CompletionResponse::from_upstream(upstream.clone()))?;
    prop_assert!(flat["text"].is_string(), "`text`: {}", flat);
    let choices = flat["choices"]
        .as_array()
        .ok_or_else(|| TestCaseError::fail(format!("`choices` is not an array: {flat}")))?;
    for choice in choices {
        prop_assert!(choice["index"].is_i64(), "choice `index`: {}", flat);
        prop_assert!(choice["text"].is_string(), "choice `text`: {}", flat);
    }
    if let Some(first) = choices.first() {
        prop_assert_eq!(&flat["text"], &first["text"]);
    }
    Ok(())
}

/// `decode` gives a flat response or a `502`; it never panics.
fn decoded<T: DeserializeOwned + Serialize>(
    upstream: Value,
) -> Result<Option<Value>, TestCaseError> {
    match decode::<T>(upstream) {
        Ok(flat) => served(&flat).map(Some),
        Err(error) => {
            prop_assert!(
                matches!(error, ApiError::UpstreamFailed { .. }),
                "decode failed with {:?}",
                error
            );
            let body = serde_json::to_value(error.body())?;
            prop_assert_eq!(&body["error"]["code"], &json!(502));
            prop_assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.trim().is_empty())
            );
            Ok(None)
        }
    }
}

fn array_at(flat: &Value, member: &str) -> Case {
    prop_assert!(
        flat[member].is_array(),
        "`{}` is not an array: {}",
        member,
        flat
    );
    Ok(())
}

fn check_decoded(upstream: &Value) -> Case {
    if let Some(flat) = decoded::<ModelList>(upstream.clone())? {
        array_at(&flat, "data")?;
        for model in flat["data"].as_array().into_iter().flatten() {
            prop_assert!(model["id"].is_string(), "{}", flat);
            array_at(model, "supported_parameters")?;
        }
    }
    if let Some(flat) = decoded::<ModelEndpoints>(unwrap_data(upstream.clone()))? {
        array_at(&flat, "endpoints")?;
    }
    if let Some(flat) = decoded::<Credits>(unwrap_data(upstream.clone()))? {
        for member in ["total_credits", "total_usage", "remaining"] {
            prop_assert!(flat[member].is_number(), "`{}`: {}", member, flat);
        }
    }
    if let Some(flat) = decoded::<Generation>(unwrap_data(upstream.clone()))? {
        prop_assert!(flat["id"].is_string(), "{}", flat);
        array_at(&flat, "provider_responses")?;
    }
    Ok(())
}

/// Upstream answers: the successful captures and examples, mutated.
fn answers() -> BoxedStrategy<Value> {
    let is_error = |name: &str| {
        name.starts_with("errors/")
            || name
                .split('.')
                .any(|part| part.len() == 3 && part != "200" && part.parse::<u16>().is_ok())
    };
    upstream_document(documents(|name| !is_error(name)))
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn chat_completion_answers_flatten_to_the_contracts_shape(upstream in answers()) {
        check_chat_flat(&upstream)?;
    }

    #[test]
    fn completion_answers_flatten_to_the_contracts_shape(upstream in answers()) {
        check_completion_flat(&upstream)?;
    }

    #[test]
    fn resource_answers_decode_to_the_contracts_shape_or_a_502(upstream in answers()) {
        check_decoded(&upstream)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Found while fuzzing: what only the whole service shows
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn credits_too_large_to_round_still_have_no_null_remaining() {
    for (credits, usage) in [(1e303, 0.0), (1.7e308, -1.7e308)] {
        // Arrange
        let app = spawn_app().await;
        app.enqueue_every_attempt(
            "GET",
            "/credits",
            Reply::json(
                200,
                json!({"data": {"total_credits": credits, "total_usage": usage}}),
            ),
        );

        // Act
        let (status, body) = read(app.get("/connector/v1/credits").await).await;

        // Assert
        assert!(
            status.as_u16() == 200 || status.as_u16() == 502,
            "{status}: {body}"
        );
        assert_eq!(null_at(&body, "$"), None, "{body}");
        if status.as_u16() == 200 {
            assert!(body["remaining"].is_number(), "{body}");
        }
    }
}
