//! The Power Platform layer over the converted document: only the connector's operations,
//! every schema inlined (so each field keeps its own description and display name), the
//! extension table applied, and the error statuses of the contract on every operation.

use serde_json::{Map, Value, json};

use super::extensions::{Extensions, Side, Visibility};
use super::swagger2;
use crate::domain::PublicUrl;
use crate::schema::names::title_case;
use crate::schema::swagger::overlay;

/// The definition a `$ref` to a definition points at, by its prefix.
const DEFINITIONS: &str = "#/definitions/";

/// The order of an operation's keys in the definition.
const OPERATION_KEYS: &[&str] = &[
    "operationId",
    "summary",
    "description",
    "x-ms-visibility",
    "deprecated",
    "consumes",
    "parameters",
    "responses",
    "security",
];

/// The Power Platform definition of the connector operations in `openapi` (an OpenAPI 3.1
/// document as JSON), with the placeholder host.
pub fn definition(openapi: &Value, extensions: &Extensions) -> Value {
    let swagger = swagger2::convert(openapi, |path| {
        path.starts_with(extensions.path_prefix) && !extensions.hidden_paths.contains(&path)
    });
    let definitions = swagger["definitions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let error = error_reference(&swagger);
    let mut paths = swagger["paths"].as_object().cloned().unwrap_or_default();
    for item in paths.values_mut() {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|item| item.values_mut())
        {
            shape_operation(operation, &definitions, extensions, &error);
        }
    }
    let mut used = Map::new();
    let mut pending = references(&Value::Object(paths.clone()));
    while let Some(name) = pending.pop() {
        if used.contains_key(&name) {
            continue;
        }
        let Some(schema) = definitions.get(&name) else {
            continue;
        };
        let mut schema = schema.clone();
        inline(&mut schema, &definitions, &mut vec![name.clone()]);
        annotate(&mut schema, extensions, "", Side::Output, "", true);
        pending.extend(references(&schema));
        used.insert(name, schema);
    }
    let mut root = Map::new();
    root.insert("swagger".to_owned(), json!("2.0"));
    let mut info = swagger["info"].as_object().cloned().unwrap_or_default();
    info.insert("title".to_owned(), json!(extensions.title));
    root.insert("info".to_owned(), Value::Object(info));
    super::set_deployment(&mut root, &PublicUrl::example());
    root.insert("consumes".to_owned(), json!(["application/json"]));
    root.insert("produces".to_owned(), json!(["application/json"]));
    root.insert("paths".to_owned(), strip_ref_siblings(Value::Object(paths)));
    root.insert(
        "definitions".to_owned(),
        strip_ref_siblings(Value::Object(used)),
    );
    root.insert("parameters".to_owned(), json!({}));
    root.insert("responses".to_owned(), json!({}));
    let schemes = swagger["securityDefinitions"].clone();
    let security: Vec<Value> = schemes
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| json!({ name: [] }))
        .collect();
    root.insert("securityDefinitions".to_owned(), schemes);
    root.insert("security".to_owned(), Value::Array(security));
    root.insert("tags".to_owned(), json!([]));
    let metadata = extensions.metadata.iter();
    let metadata =
        metadata.map(|(name, value)| json!({"propertyName": name, "propertyValue": value}));
    root.insert(
        "x-ms-connector-metadata".to_owned(),
        Value::Array(metadata.collect()),
    );
    Value::Object(root)
}

fn shape_operation(
    operation: &mut Value,
    definitions: &Map<String, Value>,
    extensions: &Extensions,
    error: &str,
) {
    let id = operation["operationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(operation) = operation.as_object_mut() else {
        return;
    };
    if let Some(visibility) = extensions.operation_visibility(&id) {
        operation.insert("x-ms-visibility".to_owned(), json!(visibility.as_str()));
    }
    let mut parameters = operation
        .remove("parameters")
        .and_then(|p| p.as_array().cloned())
        .unwrap_or_default();
    for parameter in &mut parameters {
        shape_parameter(parameter, &id, definitions, extensions);
    }
    for added in extensions
        .added_parameters
        .iter()
        .filter(|added| added.operations.contains(&id.as_str()))
    {
        parameters.push(json!({
            "name": added.name,
            "in": added.location,
            "required": added.required,
            "type": "string",
            "default": added.default,
            "description": added.description,
            "x-ms-summary": added.summary,
            "x-ms-visibility": added.visibility.as_str(),
        }));
    }
    if !parameters.is_empty() {
        operation.insert("parameters".to_owned(), Value::Array(parameters));
    }
    let mut responses = operation
        .remove("responses")
        .and_then(|r| r.as_object().cloned())
        .unwrap_or_default();
    shape_responses(&mut responses, &id, definitions, extensions, error);
    operation.insert("responses".to_owned(), Value::Object(responses));
    // The key order of every hand-written definition: what, then how, then answers.
    let mut ordered = Map::new();
    for key in OPERATION_KEYS {
        if let Some(value) = operation.remove(*key) {
            ordered.insert((*key).to_owned(), value);
        }
    }
    ordered.append(operation);
    *operation = ordered;
}

fn shape_responses(
    responses: &mut Map<String, Value>,
    id: &str,
    definitions: &Map<String, Value>,
    extensions: &Extensions,
    error: &str,
) {
    for (status, response) in responses.iter_mut() {
        if let Some(headers) = response.get_mut("headers").and_then(Value::as_object_mut) {
            for (name, header) in headers.iter_mut() {
                if header.get("x-ms-summary").is_none() {
                    header["x-ms-summary"] = json!(name.replace('-', " "));
                }
            }
        }
        let is_error_reference =
            !status.starts_with('2') && response["schema"].get("$ref").is_some();
        if let Some(schema) = response.get_mut("schema").filter(|_| !is_error_reference) {
            inline(schema, definitions, &mut Vec::new());
            annotate(schema, extensions, id, Side::Output, "", true);
        }
    }
    for status in extensions.error_statuses {
        let response = responses.entry(status.status.to_owned()).or_insert_with(
            || json!({"description": status.description, "schema": {"$ref": error}}),
        );
        if status.retry_after && response.get("headers").is_none() {
            response["headers"] = json!({"Retry-After": {
                "type": "integer",
                "description": "Seconds to wait before calling again.",
                "x-ms-summary": "Retry After",
            }});
        }
    }
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by_key(|(status, _)| status.parse::<u16>().unwrap_or(u16::MAX));
    responses.extend(sorted);
}

fn shape_parameter(
    parameter: &mut Value,
    operation: &str,
    definitions: &Map<String, Value>,
    extensions: &Extensions,
) {
    let Some(parameter) = parameter.as_object_mut() else {
        return;
    };
    let name = parameter
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let location = parameter
        .get("in")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let path = if location == "body" {
        "body"
    } else {
        name.as_str()
    };
    let summary = extensions.summary(operation, Side::Input, path);
    parameter.insert(
        "x-ms-summary".to_owned(),
        json!(summary.map_or_else(|| title_case(path), str::to_owned)),
    );
    if let Some(schema) = parameter.get_mut("schema") {
        inline(schema, definitions, &mut Vec::new());
        annotate(schema, extensions, operation, Side::Input, "", true);
        if parameter.get("description").is_none()
            && let Some(text) = parameter["schema"].get("description").cloned()
        {
            parameter.insert("description".to_owned(), text);
        }
        return;
    }
    if let Some(visibility) = extensions.visibility(operation, Side::Input, path) {
        parameter.insert("x-ms-visibility".to_owned(), json!(visibility.as_str()));
    }
    if let Some(dropdown) = extensions.dropdown(operation, Side::Input, path) {
        parameter.insert("x-ms-dynamic-values".to_owned(), dropdown_json(dropdown));
    }
    if location == "path" {
        parameter.insert("x-ms-url-encoding".to_owned(), json!("single"));
    }
}

/// Adds display names, visibility and dropdowns to every property under `schema`.
fn annotate(
    schema: &mut Value,
    extensions: &Extensions,
    operation: &str,
    side: Side,
    prefix: &str,
    top: bool,
) {
    if let Some(items) = schema.get_mut("items") {
        annotate(items, extensions, operation, side, prefix, top);
    }
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        annotate(property, extensions, operation, side, &path, false);
        let Some(property) = property.as_object_mut() else {
            continue;
        };
        if property.contains_key("$ref") {
            continue;
        }
        let summary = extensions.summary(operation, side, &path);
        property.insert(
            "x-ms-summary".to_owned(),
            json!(summary.map_or_else(|| title_case(name), str::to_owned)),
        );
        let default = (side == Side::Input && top).then_some(Visibility::Advanced);
        if let Some(visibility) = extensions.visibility(operation, side, &path).or(default) {
            property.insert("x-ms-visibility".to_owned(), json!(visibility.as_str()));
        }
        if let Some(dropdown) = extensions.dropdown(operation, side, &path) {
            property.insert("x-ms-dynamic-values".to_owned(), dropdown_json(dropdown));
        }
        if let Some(dynamic) = extensions.dynamic(operation, side, &path) {
            // Any JSON in the OpenAPI document; dynamic content hangs its fields on an object.
            property.insert("type".to_owned(), json!("object"));
            property.insert(
                "x-ms-dynamic-schema".to_owned(),
                json!({
                    "operationId": dynamic.operation_id,
                    "parameters": {dynamic.target: {"parameter": dynamic.parameter}},
                    "value-path": dynamic.value_path,
                }),
            );
            property.insert(
                "x-ms-dynamic-properties".to_owned(),
                json!({
                    "operationId": dynamic.operation_id,
                    "parameters": {
                        format!("body/{}", dynamic.target): {"parameterReference": dynamic.reference}
                    },
                    "itemValuePath": dynamic.value_path,
                }),
            );
        }
    }
}

fn dropdown_json(dropdown: super::extensions::Dropdown) -> Value {
    json!({
        "operationId": dropdown.operation_id,
        "value-collection": dropdown.collection,
        "value-path": dropdown.value,
        "value-title": dropdown.title,
    })
}

/// Replaces every reference under `schema` by what it points at, with the reference's own
/// keys (its description) over it. A reference back into a schema being inlined stays.
fn inline(schema: &mut Value, definitions: &Map<String, Value>, stack: &mut Vec<String>) {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target
            .strip_prefix(DEFINITIONS)
            .unwrap_or(target)
            .to_owned();
        let Some(definition) = definitions.get(&name).filter(|_| !stack.contains(&name)) else {
            return;
        };
        let mut siblings = schema.as_object().cloned().unwrap_or_default();
        siblings.remove("$ref");
        *schema = overlay(definition.clone(), siblings);
        stack.push(name);
        inline(schema, definitions, stack);
        stack.pop();
        return;
    }
    for key in ["items", "additionalProperties"] {
        if let Some(child) = schema.get_mut(key).filter(|child| child.is_object()) {
            inline(child, definitions, stack);
        }
    }
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for property in properties.values_mut() {
            inline(property, definitions, stack);
        }
    }
}

/// The names of the definitions referenced anywhere under `value`.
fn references(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => {
            let own = map.get("$ref").and_then(Value::as_str);
            let own = own
                .and_then(|t| t.strip_prefix(DEFINITIONS))
                .map(str::to_owned);
            own.into_iter()
                .chain(map.values().flat_map(references))
                .collect()
        }
        Value::Array(items) => items.iter().flat_map(references).collect(),
        _ => Vec::new(),
    }
}

/// Swagger 2.0 ignores the siblings of `$ref`; they are removed so nothing looks kept.
fn strip_ref_siblings(value: Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("$ref") => {
            Value::Object(map.into_iter().filter(|(key, _)| key == "$ref").collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, strip_ref_siblings(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_ref_siblings).collect()),
        other => other,
    }
}

/// The reference the document's error answers use, or `ErrorBody`.
fn error_reference(swagger: &Value) -> String {
    let operations = swagger["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values());
    let operations = operations
        .filter_map(Value::as_object)
        .flat_map(|item| item.values());
    let responses = operations
        .filter_map(|o| o["responses"].as_object())
        .flatten();
    let mut errors =
        responses.filter(|(status, _)| status.starts_with('4') || status.starts_with('5'));
    let found =
        errors.find_map(|(_, response)| response["schema"]["$ref"].as_str().map(str::to_owned));
    found.unwrap_or_else(|| format!("{DEFINITIONS}ErrorBody"))
}
