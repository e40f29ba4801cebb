//! `GetOutputSchema` (contract 4.9): the designer's call that turns the maker's JSON Schema into
//! the fields of `parsed`, and its wiring in the generated connector.

use serde_json::{Value, json};

use crate::helpers::{assert_error, read, spawn_app, spawn_app_with};

const PATH: &str = "/connector/v1/output-schema";

/// The invoice a maker would type: nested objects, an array of objects, an enum, a union, a
/// `$ref` and descriptions.
fn invoice_schema() -> Value {
    json!({
        "type": "object",
        "title": "Invoice",
        "properties": {
            "vendor": {"type": "object", "title": "Vendor", "description": "Who sent it.",
                       "properties": {"name": {"type": "string"}, "vat_id": {"type": ["string", "null"]}}},
            "total": {"type": "number", "description": "The amount due."},
            "currency": {"type": "string", "enum": ["EUR", "USD"]},
            "due": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}}
        },
        "required": ["vendor", "total"],
        "$defs": {"line": {"type": "object", "properties": {
            "description": {"type": "string"}, "amount": {"type": "number", "title": "Line Amount"}}}}
    })
}

#[tokio::test]
async fn a_nested_invoice_schema_becomes_the_fields_a_flow_shows() {
    let app = spawn_app().await;

    let (status, body) = read(
        app.post(PATH, &json!({"json_schema": invoice_schema()}))
            .await,
    )
    .await;

    assert_eq!(status, 200, "{body}");
    let schema = &body["schema"];
    assert_eq!(schema["type"], "object");
    let properties = &schema["properties"];
    assert_eq!(properties["vendor"]["x-ms-summary"], "Vendor");
    assert_eq!(properties["vendor"]["description"], "Who sent it.");
    assert_eq!(
        properties["vendor"]["properties"]["vat_id"]["type"],
        "string"
    );
    assert_eq!(
        properties["vendor"]["properties"]["vat_id"]["x-ms-summary"],
        "Vat ID"
    );
    assert_eq!(properties["total"]["type"], "number");
    assert_eq!(properties["total"]["description"], "The amount due.");
    assert_eq!(properties["currency"]["enum"], json!(["EUR", "USD"]));
    assert_eq!(
        properties["due"]["type"], "string",
        "a union becomes its first member"
    );
    assert_eq!(properties["due"]["format"], "date");
    let line = &properties["lines"]["items"];
    assert_eq!(line["type"], "object", "the $ref is inlined: {body}");
    assert_eq!(line["properties"]["amount"]["x-ms-summary"], "Line Amount");
    assert_eq!(
        line["properties"]["description"]["x-ms-summary"],
        "Description"
    );
    let text = body.to_string();
    for banned in ["$ref", "anyOf", "oneOf", "$defs", "null"] {
        assert!(!text.contains(banned), "{banned} left in {text}");
    }
    assert_eq!(app.sim.request_count(), 0, "OpenRouter is never called");
}

#[tokio::test]
async fn the_schema_may_come_as_text_or_as_chat_completions_whole_json_schema() {
    let app = spawn_app().await;
    let as_text = json!({"json_schema": invoice_schema().to_string()});
    let whole =
        json!({"json_schema": {"name": "invoice", "strict": true, "schema": invoice_schema()}});

    let (status, from_text) = read(app.post(PATH, &as_text).await).await;
    assert_eq!(status, 200, "{from_text}");
    let (status, from_whole) = read(app.post(PATH, &whole).await).await;
    assert_eq!(status, 200, "{from_whole}");

    let (_, from_object) = read(
        app.post(PATH, &json!({"json_schema": invoice_schema()}))
            .await,
    )
    .await;
    assert_eq!(from_text, from_object);
    assert_eq!(from_whole, from_object);
}

#[tokio::test]
async fn nothing_typed_yet_is_a_null_schema() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"json_schema": null}),
        json!({"json_schema": " "}),
        json!({"json_schema": {}}),
    ] {
        let (status, answer) = read(app.post(PATH, &body).await).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert_eq!(answer, json!({"schema": null}), "{body}");
    }
    let empty = app
        .http
        .post(app.url(PATH))
        .bearer_auth(crate::helpers::KEY)
        .send()
        .await
        .unwrap();
    let (status, answer) = read(empty).await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({"schema": null}));
}

#[tokio::test]
async fn a_schema_that_cannot_be_shown_is_a_400_naming_it() {
    let app = spawn_app().await;
    for body in [
        json!({"json_schema": "{not json"}),
        json!({"json_schema": 7}),
        json!({"json_schema": {"$ref": "https://example.com/invoice.json"}}),
        json!({"json_schema": {"type": "object"}, "other": 1}),
    ] {
        let (status, answer) = read(app.post(PATH, &body).await).await;
        assert_error(status, &answer, 400);
        assert!(
            answer["error"]["metadata"]["field"].is_string(),
            "{body}: {answer}"
        );
    }
}

#[tokio::test]
async fn it_needs_a_key_but_is_not_charged_against_the_limit() {
    let app = spawn_app_with(|settings| {
        settings.rate_limit_per_minute = 1;
        settings.rate_limit_burst = 1;
    })
    .await;
    let anonymous = app
        .http
        .post(app.url(PATH))
        .json(&json!({"json_schema": invoice_schema()}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(anonymous).await;
    assert_error(status, &body, 401);

    for _ in 0..3 {
        let (status, body) = read(
            app.post(PATH, &json!({"json_schema": invoice_schema()}))
                .await,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = read(
        app.post("/connector/v1/chat/completions", &json!({"content": "hi"}))
            .await,
    )
    .await;
    assert_eq!(
        status, 200,
        "the one call of the minute is still there: {body}"
    );
}

#[tokio::test]
async fn the_connector_wires_parsed_to_the_internal_operation() {
    let app = spawn_app().await;
    let (status, definition) = read(app.get("/connector/apiDefinition.swagger.json").await).await;
    assert_eq!(status, 200);

    let chat = &definition["paths"]["/connector/v1/chat/completions"]["post"];
    let parsed = &chat["responses"]["200"]["schema"]["properties"]["parsed"];
    assert_eq!(parsed["type"], "object");
    assert_eq!(
        parsed["x-ms-dynamic-schema"],
        json!({"operationId": "GetOutputSchema", "parameters": {"json_schema": {"parameter": "json_schema"}},
               "value-path": "schema"})
    );
    assert_eq!(
        parsed["x-ms-dynamic-properties"],
        json!({"operationId": "GetOutputSchema",
               "parameters": {"body/json_schema": {"parameterReference": "body/json_schema/schema"}},
               "itemValuePath": "schema"})
    );
    // What the references name exists: the chat body's `json_schema.schema`, and the helper's
    // `json_schema` and `schema`.
    let chat_body = chat["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["in"] == "body")
        .unwrap();
    assert!(chat_body["schema"]["properties"]["json_schema"]["properties"]["schema"].is_object());
    let helper = &definition["paths"][PATH]["post"];
    assert_eq!(helper["operationId"], "GetOutputSchema");
    assert_eq!(helper["x-ms-visibility"], "internal");
    let helper_body = helper["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["in"] == "body")
        .unwrap();
    assert_eq!(helper_body["name"], "body");
    assert_eq!(
        helper_body["schema"]["properties"]["json_schema"]["type"],
        "object"
    );
    let required = helper_body["schema"]["required"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !required.contains(&json!("json_schema")),
        "the source is optional, so is the target"
    );
    assert!(helper["responses"]["200"]["schema"]["properties"]["schema"].is_object());
    let dynamic = definition
        .to_string()
        .matches("x-ms-dynamic-schema")
        .count();
    assert_eq!(
        dynamic, 1,
        "the designer loads one dynamic output per operation"
    );
}

#[tokio::test]
async fn chat_completions_json_schema_group_is_read_however_partly_filled() {
    let app = spawn_app().await;
    let (_, expected) = read(
        app.post(PATH, &json!({"json_schema": invoice_schema()}))
            .await,
    )
    .await;
    let text = invoice_schema().to_string();
    for group in [
        json!({"name": "invoice", "schema": text}),
        json!({"schema": invoice_schema(), "strict": true}),
        json!({"name": 5, "schema": invoice_schema()}),
    ] {
        let (status, body) = read(app.post(PATH, &json!({"json_schema": group})).await).await;
        assert_eq!(status, 200, "{group}: {body}");
        assert_eq!(body, expected, "{group}");
    }
    let (status, body) = read(
        app.post(
            PATH,
            &json!({"json_schema": {"name": "invoice", "schema": null}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"schema": null}));
}

#[tokio::test]
async fn a_schema_json_schema_itself_calls_invalid_is_a_400_not_an_invalid_swagger_schema() {
    let app = spawn_app().await;
    for schema in [
        json!({"type": "object", "properties": {"a": {"type": "strin"}}}),
        json!({"type": "string", "minLength": "five"}),
        json!({"type": "string", "maxLength": -1}),
    ] {
        let (status, body) = read(app.post(PATH, &json!({"json_schema": schema})).await).await;
        let message = assert_error(status, &body, 400);
        assert_eq!(
            body["error"]["metadata"]["field"], "json_schema",
            "{schema}"
        );
        assert!(message.contains("not a valid JSON Schema"), "{message}");
    }
}
