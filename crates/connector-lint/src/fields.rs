//! The field-level rules of the lint: parameters, responses, headers and schemas (keywords,
//! types, formats, references), each field's description and display name, visibility and
//! dropdowns.

use serde_json::Value;

use super::vocabulary::{
    FORMATS, PARAMETER_KEYS, RESPONSE_KEYS, SCHEMA_KEYS, TYPES, VALUE_KEYS, VISIBILITIES,
};
use super::wording::is_title_case;
use super::{IMPORTANT_FIELDS, Lint, child, field_path};

impl<'a> Lint<'a> {
    /// A parameter: keys, description and display name, and for the body the important
    /// fields, the model dropdown and the whole schema.
    pub(super) fn parameter(&mut self, path: &str, parameter: &'a Value) {
        let Some(object) = parameter.as_object() else {
            return self.problem(path, "a parameter must be an object");
        };
        self.keys(path, object, &[PARAMETER_KEYS, VALUE_KEYS]);
        self.described(path, parameter);
        self.visibility(path, parameter);
        self.dropdown(path, parameter);
        if parameter["in"] == "body" {
            let schema = &parameter["schema"];
            if !schema.is_object() {
                return self.problem(path, "a body parameter needs a schema");
            }
            for (name, field) in schema["properties"].as_object().into_iter().flatten() {
                if IMPORTANT_FIELDS.contains(&name.as_str())
                    && field["x-ms-visibility"] != "important"
                {
                    self.problem(
                        &field_path(path, name),
                        "must be `x-ms-visibility: important`",
                    );
                }
                if name == "model" && field.get("x-ms-dynamic-values").is_none() {
                    self.problem(
                        &field_path(path, name),
                        "`model` needs the dropdown of ListModels (x-ms-dynamic-values)",
                    );
                }
            }
            self.schema(&child(path, "schema"), schema);
            return;
        }
        if object.contains_key("schema")
            || !parameter["type"]
                .as_str()
                .is_some_and(|t| TYPES.contains(&t) && t != "object")
        {
            self.problem(
                path,
                "a non-body parameter needs a primitive `type` and no `schema`",
            );
        }
        if parameter["in"] == "path" && parameter["required"] != true {
            self.problem(path, "a path parameter must be required");
        }
        if parameter["name"] == "model" && parameter.get("x-ms-dynamic-values").is_none() {
            self.problem(
                path,
                "`model` needs the dropdown of ListModels (x-ms-dynamic-values)",
            );
        }
        self.value(path, parameter);
    }

    /// A response: keys, description, schema and headers.
    pub(super) fn response(&mut self, path: &str, response: &'a Value) {
        let Some(object) = response.as_object() else {
            return self.problem(path, "a response must be an object");
        };
        self.keys(path, object, &[RESPONSE_KEYS]);
        if response["description"].as_str().is_none_or(str::is_empty) {
            self.problem(
                &child(path, "description"),
                "a response needs a description",
            );
        }
        if let Some(schema) = response.get("schema") {
            self.schema(&child(path, "schema"), schema);
        }
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header_path = child(&child(path, "headers"), name);
            if let Some(object) = header.as_object() {
                self.keys(&header_path, object, &[VALUE_KEYS]);
            }
            self.described(&header_path, header);
            self.value(&header_path, header);
        }
    }

    /// A schema and everything under it; every property needs a description and a display name.
    pub(super) fn schema(&mut self, path: &str, schema: &'a Value) {
        let Some(object) = schema.as_object() else {
            return self.problem(path, "a schema must be an object");
        };
        self.keys(path, object, &[SCHEMA_KEYS]);
        if let Some(target) = object.get("$ref") {
            if object.len() > 1 {
                self.problem(path, "Swagger 2.0 ignores the siblings of `$ref`");
            }
            if self.target(target).is_none() {
                self.problem(path, format!("`$ref` {target} does not resolve"));
            }
            return;
        }
        self.value(path, schema);
        self.visibility(path, schema);
        self.dropdown(path, schema);
        for (name, field) in object
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let field_path = field_path(path, name);
            self.described(&field_path, field);
            self.schema(&field_path, field);
        }
        if let Some(items) = object.get("items") {
            self.schema(&child(path, "items"), items);
        }
        if let Some(extra) = object.get("additionalProperties").filter(|e| e.is_object()) {
            self.schema(&child(path, "additionalProperties"), extra);
        }
    }

    /// The checks shared by parameters, headers and schemas: type, format, bounds.
    fn value(&mut self, path: &str, value: &Value) {
        if let Some(kind) = value.get("type") {
            if !kind.as_str().is_some_and(|k| TYPES.contains(&k)) {
                self.problem(
                    &child(path, "type"),
                    "one Swagger 2.0 type (no arrays of types, no `null`)",
                );
            }
            if kind == "array" && value.get("items").is_none() {
                self.problem(path, "an array needs `items`");
            }
        }
        if let Some(format) = value.get("format")
            && !format.as_str().is_some_and(|f| FORMATS.contains(&f))
        {
            self.problem(&child(path, "format"), "a format Swagger 2.0 knows");
        }
        for key in ["exclusiveMinimum", "exclusiveMaximum"] {
            if value.get(key).is_some_and(|bound| !bound.is_boolean()) {
                self.problem(
                    &child(path, key),
                    "a boolean in Swagger 2.0 (with `minimum`/`maximum`)",
                );
            }
        }
    }

    /// A description ending with a period and an `x-ms-summary` in title case.
    fn described(&mut self, path: &str, value: &Value) {
        if value.get("$ref").is_some() {
            return self.problem(
                path,
                "a field that is a `$ref` loses its description and x-ms-summary: inline it",
            );
        }
        let description = value["description"].as_str().unwrap_or_default();
        if !description.ends_with('.') {
            self.problem(
                &child(path, "description"),
                "a description ending with a period is required",
            );
        }
        let summary = value["x-ms-summary"].as_str().unwrap_or_default();
        if !is_title_case(summary) {
            self.problem(
                &child(path, "x-ms-summary"),
                format!("an x-ms-summary in title case is required (found {summary:?})"),
            );
        }
    }

    /// `x-ms-visibility`, when present, is one of the three values.
    pub(super) fn visibility(&mut self, path: &str, value: &Value) {
        if let Some(visibility) = value.get("x-ms-visibility")
            && !visibility
                .as_str()
                .is_some_and(|v| VISIBILITIES.contains(&v))
        {
            self.problem(
                &child(path, "x-ms-visibility"),
                "`important`, `advanced` or `internal`",
            );
        }
    }

    fn dropdown(&mut self, path: &str, value: &Value) {
        if let Some(dropdown) = value.get("x-ms-dynamic-values") {
            let operation = dropdown["operationId"].as_str().unwrap_or_default();
            if !self.operation_ids.contains(operation) {
                self.problem(
                    &child(path, "x-ms-dynamic-values"),
                    format!("no operation `{operation}` feeds it"),
                );
            }
        }
    }

    /// What a `$ref` points at, if it resolves inside the definition.
    fn target(&self, reference: &Value) -> Option<&'a Value> {
        let pointer = reference.as_str()?.strip_prefix('#')?;
        let ok = ["/definitions/", "/parameters/", "/responses/"]
            .iter()
            .any(|p| pointer.starts_with(p));
        ok.then(|| self.root.pointer(pointer)).flatten()
    }

    /// The schema itself, or what its `$ref` points at.
    pub(super) fn resolve(&self, schema: &'a Value) -> &'a Value {
        schema
            .get("$ref")
            .and_then(|r| self.target(r))
            .unwrap_or(schema)
    }
}
