//! Request parsing: near-valid ChatCompletion and Completion bodies, arbitrary bytes and JSON,
//! and arbitrary query strings and path segments are parsed, or refused with a `400` naming a
//! field that was sent; what is parsed goes upstream with `stream: false` and nothing unasked.

use std::collections::HashSet;

use actix_web::ResponseError;
use actix_web::http::Uri;
use actix_web::test::TestRequest;
use bytes::Bytes;
use openrouter_connector::actions::chat_completion::ChatCompletionRequest;
use openrouter_connector::actions::completion::CompletionRequest;
use openrouter_connector::actions::get_credits::NoInput;
use openrouter_connector::actions::get_generation::GenerationQuery;
use openrouter_connector::actions::input::ActionInput;
use openrouter_connector::actions::list_model_endpoints::ModelPath;
use openrouter_connector::actions::list_models::ListModelsQuery;
use openrouter_connector::error::ApiError;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use super::bodies::{any_body, chat_body, completion_body};
use super::{Case, config, text};

/// Fields of both requests that go upstream under their own names.
const SHARED_NAMES: &[&str] = &[
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "top_a",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "seed",
    "stop",
    "logprobs",
    "top_logprobs",
    "user",
    "models",
    "provider",
    "transforms",
    "reasoning",
    "model",
];

/// Chat fields that go upstream under their own names (mapped or as they are).
const CHAT_NAMES: &[&str] = &[
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
];

/// The contract's ranges (4.1).
const RANGES: &[(&str, f64, f64)] = &[
    ("max_tokens", 1.0, f64::INFINITY),
    ("temperature", 0.0, 2.0),
    ("top_p", 0.0, 1.0),
    ("top_k", 0.0, f64::INFINITY),
    ("min_p", 0.0, 1.0),
    ("top_a", 0.0, 1.0),
    ("frequency_penalty", -2.0, 2.0),
    ("presence_penalty", -2.0, 2.0),
    ("repetition_penalty", f64::from_bits(1), 2.0),
    ("top_logprobs", 0.0, 20.0),
];

/// Named scalars that must reach upstream as sent, whatever `extra` says.
const SCALARS: &[&str] = &[
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "top_a",
    "frequency_penalty",
    "presence_penalty",
    "repetition_penalty",
    "seed",
    "logprobs",
    "top_logprobs",
    "user",
    "parallel_tool_calls",
];

fn given(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Null)) && value != Some(&json!(""))
}

/// Checks an error is the contract's `400` and returns the field it names.
fn invalid_input(error: &ApiError) -> Result<Option<String>, TestCaseError> {
    let ApiError::InvalidInput { field, message, .. } = error else {
        return Err(TestCaseError::fail(format!(
            "parsing failed with {error:?}, not a 400"
        )));
    };
    prop_assert_eq!(error.status_code().as_u16(), 400);
    prop_assert!(!message.trim().is_empty(), "an empty message");
    let body = serde_json::to_value(error.body())?;
    prop_assert_eq!(&body["error"]["code"], &json!(400));
    prop_assert_eq!(&body["error"]["message"], &json!(message));
    match field {
        Some(field) => {
            prop_assert_eq!(&body["error"]["metadata"]["field"], &json!(field));
            prop_assert!(
                message.contains(&format!("`{field}`")),
                "the message does not name `{}`: {}",
                field,
                message
            );
        }
        None => prop_assert!(body["error"].get("metadata").is_none(), "{}", body),
    }
    Ok(field.clone())
}

/// For a body that is a JSON object, an error names a field that was sent, or one of the
/// fields that `implied` lists (required ones, or ones another field calls for).
fn names_a_sent_field(body: &Value, error: &ApiError, implied: &[&str]) -> Case {
    let Some(field) = invalid_input(error)? else {
        return Err(TestCaseError::fail(format!(
            "an error without `metadata.field` for an object body: {error:?}"
        )));
    };
    let root = field.split(['.', '[']).next().unwrap_or_default();
    let sent = |name: &str| body.get(name).is_some();
    prop_assert!(
        sent(&field) || sent(root) || implied.contains(&root),
        "the error names `{}`, which was not sent: {}",
        field,
        error
    );
    Ok(())
}

/// What `to_upstream` makes of an accepted request: `stream: false`, no top-level key the
/// caller did not ask for (`always` are the keys every request has, `named` the fields that go
/// up under their own names), and named values as sent, whatever `extra` says.
fn upstream_is_what_was_asked(
    body: &Value,
    upstream: &Value,
    always: &[&str],
    named: &[&[&str]],
) -> Case {
    let upstream_map = upstream.as_object().ok_or_else(|| {
        TestCaseError::fail(format!("the upstream body is not an object: {upstream}"))
    })?;
    prop_assert_eq!(upstream_map.get("stream"), Some(&json!(false)));
    let extra: HashSet<&str> = body
        .get("extra")
        .and_then(Value::as_object)
        .map(|extra| extra.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for key in upstream_map.keys() {
        let key = key.as_str();
        let asked = always.contains(&key)
            || extra.contains(key)
            || (named.iter().any(|names| names.contains(&key)) && given(body.get(key)))
            || (key == "plugins" && body.get("web_search") == Some(&json!(true)))
            // A schema given alone asks for a schema-shaped answer (README, Fields out).
            || (key == "response_format" && given(body.get("json_schema")));
        prop_assert!(asked, "upstream got `{}`, not asked for: {}", key, upstream);
    }
    for name in SCALARS {
        if let Some(sent) = body.get(*name).filter(|v| given(Some(v))) {
            let got = &upstream[*name];
            let same = match (sent.as_f64(), got.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => sent == got,
            };
            prop_assert!(same, "`{}` sent {} but upstream got {}", name, sent, got);
        }
    }
    Ok(())
}

/// An accepted request holds only values inside the contract's ranges.
fn values_are_in_range(body: &Value) -> Case {
    for (name, low, high) in RANGES {
        if let Some(sent) = body.get(*name).filter(|v| given(Some(v))) {
            let number = sent.as_f64().unwrap_or(f64::NAN);
            prop_assert!(
                (*low..=*high).contains(&number),
                "`{}` {} was accepted, outside the contract's range",
                name,
                sent
            );
        }
    }
    if let Some(Value::Array(stop)) = body.get("stop") {
        prop_assert!(stop.len() <= 4, "{} stop texts were accepted", stop.len());
    }
    Ok(())
}

fn check_chat(body: &[u8], as_json: Option<&Value>) -> Case {
    let request = TestRequest::default().to_http_request();
    match (
        ChatCompletionRequest::parse(&request, Bytes::copy_from_slice(body)),
        as_json,
    ) {
        (Ok(parsed), Some(sent)) => {
            values_are_in_range(sent)?;
            let written = parsed.to_upstream().to_bytes().unwrap();
            let upstream: Value = serde_json::from_slice(&written).unwrap();
            upstream_is_what_was_asked(
                sent,
                &upstream,
                &["messages", "stream"],
                &[SHARED_NAMES, CHAT_NAMES],
            )?;
            let messages = upstream["messages"].as_array().cloned().unwrap_or_default();
            prop_assert!(!messages.is_empty(), "no messages upstream: {}", upstream);
            prop_assert!(
                messages.iter().all(|m| m["role"].is_string()),
                "a message without a role: {}",
                upstream
            );
            if let Some(last) = messages.last().filter(|_| given(sent.get("content"))) {
                let role = &last["role"];
                prop_assert!(
                    ["user", "system", "assistant"].iter().any(|r| role == *r),
                    "`role` {} was accepted for `content`; 4.1 allows user, system, assistant",
                    role
                );
            }
            Ok(())
        }
        (Ok(_), None) => Err(TestCaseError::fail("a body that is not JSON was accepted")),
        (Err(error), Some(sent)) if sent.is_object() => {
            names_a_sent_field(sent, &error, &["content", "json_schema"])
        }
        (Err(error), _) => invalid_input(&error).map(drop),
    }
}

fn check_completion(body: &[u8], as_json: Option<&Value>) -> Case {
    let request = TestRequest::default().to_http_request();
    match (
        CompletionRequest::parse(&request, Bytes::copy_from_slice(body)),
        as_json,
    ) {
        (Ok(parsed), Some(sent)) => {
            values_are_in_range(sent)?;
            let upstream = parsed.to_upstream();
            upstream_is_what_was_asked(sent, &upstream, &["prompt", "stream"], &[SHARED_NAMES])?;
            prop_assert_eq!(&upstream["prompt"], &sent["prompt"]);
            Ok(())
        }
        (Ok(_), None) => Err(TestCaseError::fail("a body that is not JSON was accepted")),
        (Err(error), Some(sent)) if sent.is_object() => {
            names_a_sent_field(sent, &error, &["prompt"])
        }
        (Err(error), _) => invalid_input(&error).map(drop),
    }
}

/// A body as the service reads it (serde_json's float parsing may differ from the text's value
/// by one unit in the last place, so compare with what was read, not what was generated).
fn as_read(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

fn check_both(body: &[u8]) -> Case {
    let as_json = as_read(body);
    check_chat(body, as_json.as_ref())?;
    check_completion(body, as_json.as_ref())
}

/// A query string of characters a URI may hold, with percent-encoded bytes of any kind.
fn query() -> BoxedStrategy<String> {
    let encoded = "(?s).{0,6}".prop_map(|text: String| {
        text.bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    });
    let piece = prop_oneof![
        3 => "[A-Za-z0-9._~!$'()*+,;:@/?-]{0,8}",
        2 => encoded,
        1 => "(%[0-9A-Fa-f]{2}){1,3}",
        1 => select(vec!["%", "%zz", "%F", "+", "=", "%00", "%C3", "%ED%A0%80"]).prop_map(str::to_owned),
    ];
    let name = prop_oneof![
        2 => select(vec!["id", "category", "supported_parameters", "output_modalities", "x"])
            .prop_map(str::to_owned),
        1 => piece.clone(),
    ];
    let pair = (name, prop::option::weighted(0.8, piece)).prop_map(|(name, value)| match value {
        Some(value) => format!("{name}={value}"),
        None => name,
    });
    prop::collection::vec(pair, 0..5)
        .prop_map(|pairs| pairs.join("&"))
        .prop_filter("a URI", |q| Uri::try_from(format!("/x?{q}")).is_ok())
        .boxed()
}

/// The parameter names of a query string, decoded as the service decodes them.
fn query_names(query: &str) -> Vec<String> {
    actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
        .map(|pairs| {
            pairs
                .into_inner()
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a query string (and path segments) as action `T`: a value, or a `400` naming a
/// parameter that was sent or one of `implied`.
fn check_query<T: ActionInput>(
    query: &str,
    path: Option<(&str, &str)>,
    implied: &[&str],
) -> Result<Option<T>, TestCaseError> {
    let mut request = TestRequest::with_uri(&format!("/x?{query}"));
    if let Some((author, slug)) = path {
        request = request
            .param("author", author.to_owned())
            .param("slug", slug.to_owned());
    }
    let request = request.to_http_request();
    match T::parse(&request, Bytes::new()) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(error) => {
            if let Some(field) = invalid_input(&error)? {
                let names = query_names(query);
                prop_assert!(
                    names.contains(&field) || implied.contains(&field.as_str()),
                    "the error names `{}`, which is not in `{}`",
                    field,
                    query
                );
            }
            Ok(None)
        }
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn near_valid_chat_completion_bodies_parse_or_name_a_sent_field(body in chat_body()) {
        let bytes = body.to_string();
        check_chat(bytes.as_bytes(), as_read(bytes.as_bytes()).as_ref())?;
    }

    #[test]
    fn near_valid_completion_bodies_parse_or_name_a_sent_field(body in completion_body()) {
        let bytes = body.to_string();
        check_completion(bytes.as_bytes(), as_read(bytes.as_bytes()).as_ref())?;
    }

    #[test]
    fn arbitrary_bodies_are_parsed_or_refused_with_a_400(body in any_body()) {
        check_both(&body)?;
    }

    #[test]
    fn arbitrary_query_strings_are_parsed_or_refused_with_a_400(
        query in query(),
        author in text(),
        slug in text(),
    ) {
        check_query::<ListModelsQuery>(&query, None, &[])?;
        check_query::<NoInput>(&query, None, &[])?;
        if let Some(generation) = check_query::<GenerationQuery>(&query, None, &["id"])? {
            prop_assert!(!generation.id.is_empty(), "an empty id was accepted: {}", query);
        }
        let path = Some((author.as_str(), slug.as_str()));
        if let Some(path) = check_query::<ModelPath>("", path, &["author", "slug"])? {
            for part in [&path.author, &path.slug] {
                prop_assert!(!part.is_empty() && !part.contains('/'), "{:?}", path);
            }
        }
    }
}
