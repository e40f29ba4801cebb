use serde_json::{Value, json};

use super::*;
use crate::actions::messages::ToolCall;

fn answer(content: &str) -> ChatCompletionResponse {
    ChatCompletionResponse {
        role: "assistant".to_owned(),
        content: content.to_owned(),
        finish_reason: Some("stop".to_owned()),
        ..ChatCompletionResponse::default()
    }
}

fn form(response_format: Value) -> AnswerForm {
    AnswerForm::of(Some(&response_format), "json_schema.schema").unwrap()
}

fn strict(schema: Value) -> AnswerForm {
    form(
        json!({"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": schema}}),
    )
}

fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "vendor": {"type": "string"},
            "total": {"type": "number"},
            "lines": {"type": "array", "items": {"type": "object",
                "properties": {"amount": {"type": "number"}}, "required": ["amount"]}}
        },
        "required": ["vendor", "total"],
        "additionalProperties": false
    })
}

/// The error's status, message and metadata, as the caller reads them.
fn refusal(error: ApiError) -> (u16, String, Value) {
    let body = serde_json::to_value(error.body()).unwrap();
    (
        body["error"]["code"].as_u64().unwrap() as u16,
        body["error"]["message"].as_str().unwrap().to_owned(),
        body["error"]["metadata"].clone(),
    )
}

#[test]
fn a_text_answer_is_left_as_it_is() {
    let read = AnswerForm::Text.read(answer("not json")).unwrap();
    assert_eq!(read.parsed, None);
    assert_eq!(read.content, "not json");
}

#[test]
fn a_json_object_answer_is_parsed_and_its_text_kept() {
    let read = form(json!({"type": "json_object"}))
        .read(answer(" {\"a\": [1, 2]}\n"))
        .unwrap();
    assert_eq!(read.parsed, Some(json!({"a": [1, 2]})));
    assert_eq!(read.content, " {\"a\": [1, 2]}\n");
}

#[test]
fn json_in_a_markdown_fence_is_parsed() {
    let read = form(json!({"type": "json_object"}))
        .read(answer("```json\n{\"a\": 1}\n```"))
        .unwrap();
    assert_eq!(read.parsed, Some(json!({"a": 1})));
    let bare = form(json!({"type": "json_object"}))
        .read(answer("```{\"a\": 2}```"))
        .unwrap();
    assert_eq!(bare.parsed, Some(json!({"a": 2})));
}

#[test]
fn an_answer_that_is_not_json_is_a_502_with_the_text_and_the_billing_said() {
    let error = form(json!({"type": "json_object"}))
        .read(answer("Sure! Here is the invoice: total 12"))
        .unwrap_err();
    let logged = error.for_log();
    let (status, message, metadata) = refusal(error);
    assert_eq!(status, 502);
    assert!(message.contains("is not JSON"), "{message}");
    assert!(message.contains("billed"), "{message}");
    assert_eq!(metadata["raw"], "Sure! Here is the invoice: total 12");
    assert!(metadata.get("path").is_none());
    assert!(!logged.contains("invoice"), "{logged}");
}

#[test]
fn an_answer_cut_off_at_max_tokens_says_so() {
    let mut cut = answer("{\"vendor\": \"Contoso\", \"to");
    cut.finish_reason = Some("length".to_owned());
    let (status, message, _) = refusal(strict(invoice_schema()).read(cut).unwrap_err());
    assert_eq!(status, 502);
    assert!(message.contains("max_tokens"), "{message}");
}

#[test]
fn a_refusal_is_a_502_carrying_the_refusal() {
    let mut refused = answer("");
    refused.refusal = Some("I cannot help with that.".to_owned());
    let (_, message, metadata) = refusal(strict(invoice_schema()).read(refused).unwrap_err());
    assert!(message.contains("refusal"), "{message}");
    assert_eq!(metadata["raw"], "I cannot help with that.");
}

#[test]
fn the_raw_text_is_cut_at_a_thousand_characters() {
    let long = "é".repeat(5_000);
    let (_, _, metadata) = refusal(
        form(json!({"type": "json_object"}))
            .read(answer(&long))
            .unwrap_err(),
    );
    assert_eq!(metadata["raw"].as_str().unwrap().chars().count(), 1_000);
}

#[test]
fn a_tool_call_answer_is_not_parsed() {
    let mut calls = answer("");
    calls.tool_calls = vec![ToolCall {
        id: "call_1".to_owned(),
        kind: "function".to_owned(),
        name: "lookup".to_owned(),
        arguments: "{}".to_owned(),
    }];
    let read = strict(invoice_schema()).read(calls).unwrap();
    assert_eq!(read.parsed, None);
}

#[test]
fn a_strict_schema_answer_that_follows_it_is_parsed() {
    let text = r#"{"vendor": "Contoso", "total": 12.5, "lines": [{"amount": 12.5}]}"#;
    let read = strict(invoice_schema()).read(answer(text)).unwrap();
    assert_eq!(read.parsed.unwrap()["lines"][0]["amount"], 12.5);
}

#[test]
fn a_strict_schema_answer_that_breaks_it_names_the_first_place() {
    let text = r#"{"vendor": "Contoso", "total": 12.5, "lines": [{"amount": "twelve"}]}"#;
    let (status, message, metadata) =
        refusal(strict(invoice_schema()).read(answer(text)).unwrap_err());
    assert_eq!(status, 502);
    assert_eq!(metadata["path"], "/lines/0/amount");
    assert!(message.contains("/lines/0/amount"), "{message}");
    assert!(
        !message.contains("twelve"),
        "the answer's values are in raw only: {message}"
    );
    assert_eq!(metadata["raw"], text);
}

#[test]
fn a_missing_required_field_is_found_at_the_top_level() {
    let (_, message, metadata) = refusal(
        strict(invoice_schema())
            .read(answer(r#"{"vendor": "Contoso"}"#))
            .unwrap_err(),
    );
    assert_eq!(metadata["path"], "");
    assert!(message.contains("top level"), "{message}");
}

#[test]
fn a_schema_that_is_not_strict_takes_any_json() {
    let loose = form(
        json!({"type": "json_schema", "json_schema": {"name": "x", "schema": invoice_schema()}}),
    );
    let read = loose.read(answer(r#"{"vendor": 7}"#)).unwrap();
    assert_eq!(read.parsed, Some(json!({"vendor": 7})));
}

#[test]
fn a_strict_schema_the_validator_cannot_read_is_a_400_naming_the_field() {
    for schema in [
        json!({"type": 5}),
        json!({"$ref": "https://example.com/schema.json"}),
        json!({"type": "string", "pattern": "(a"}),
    ] {
        let format = json!({"type": "json_schema", "json_schema": {"name": "x", "strict": true, "schema": schema}});
        let error = AnswerForm::of(Some(&format), "json_schema.schema").unwrap_err();
        let (status, message, metadata) = refusal(error);
        assert_eq!(status, 400, "{schema}");
        assert_eq!(metadata["field"], "json_schema.schema", "{schema}");
        assert!(message.contains("strict"), "{message}");
    }
}

#[test]
fn a_pattern_that_would_backtrack_is_checked_in_linear_time() {
    let schema =
        json!({"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}});
    let text = format!("{{\"code\": \"{}b\"}}", "a".repeat(50_000));
    let started = std::time::Instant::now();
    let (_, _, metadata) = refusal(strict(schema).read(answer(&text)).unwrap_err());
    assert_eq!(metadata["path"], "/code");
    // Not a timing test of speed: a backtracking engine would take longer than the universe.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}
