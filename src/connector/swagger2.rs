//! The converter from an OpenAPI 3.1 document (as utoipa writes it) to Swagger 2.0: paths and
//! operations, body and other parameters, responses, `definitions`, `$ref`s, security.
//! A pure function over JSON; the Power Platform layer (`platform.rs`) works on its output.

use serde_json::{Map, Value, json};

use crate::schema::swagger::{SchemaConverter, collapse, overlay};

/// The HTTP methods a Swagger 2.0 path item may hold.
const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

/// Keywords a Swagger 2.0 non-body parameter takes from its OpenAPI 3 `schema`.
const PARAMETER_KEYWORDS: &[&str] = &[
    "type",
    "format",
    "items",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
];

/// The Swagger 2.0 form of `openapi`, with only the paths `keep_path` accepts.
///
/// `host`, `basePath` and `schemes` come from the first server, when the document names one.
pub fn convert(openapi: &Value, keep_path: impl Fn(&str) -> bool) -> Value {
    let empty = Map::new();
    let components = openapi
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let converter = Converter {
        openapi,
        schemas: SchemaConverter::new(components.unwrap_or(&empty)),
    };
    let mut root = Map::new();
    root.insert("swagger".to_owned(), json!("2.0"));
    root.insert("info".to_owned(), info(&openapi["info"]));
    if let Some(url) = openapi.pointer("/servers/0/url").and_then(Value::as_str) {
        server(&mut root, url);
    }
    root.insert("consumes".to_owned(), json!(["application/json"]));
    root.insert("produces".to_owned(), json!(["application/json"]));
    let mut paths = Map::new();
    for (path, item) in openapi["paths"].as_object().into_iter().flatten() {
        if keep_path(path) {
            paths.insert(path.clone(), converter.path_item(item));
        }
    }
    root.insert("paths".to_owned(), Value::Object(paths));
    let definitions = components.into_iter().flatten();
    let definitions =
        definitions.map(|(name, schema)| (name.clone(), converter.schemas.convert(schema)));
    root.insert(
        "definitions".to_owned(),
        Value::Object(definitions.collect()),
    );
    let schemes = openapi
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object);
    let schemes = schemes.into_iter().flatten();
    let schemes =
        schemes.filter_map(|(name, scheme)| Some((name.clone(), security_scheme(scheme)?)));
    root.insert(
        "securityDefinitions".to_owned(),
        Value::Object(schemes.collect()),
    );
    if let Some(security) = openapi.get("security") {
        root.insert("security".to_owned(), security.clone());
    }
    Value::Object(root)
}

struct Converter<'a> {
    openapi: &'a Value,
    schemas: SchemaConverter<'a>,
}

impl Converter<'_> {
    fn path_item(&self, item: &Value) -> Value {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        let mut out = Map::new();
        for method in METHODS {
            if let Some(operation) = item.get(*method) {
                out.insert((*method).to_owned(), self.operation(operation, &shared));
            }
        }
        Value::Object(out)
    }

    fn operation(&self, operation: &Value, shared: &[Value]) -> Value {
        let mut out = Map::new();
        for key in ["operationId", "summary", "description"] {
            if let Some(text) = operation[key].as_str() {
                out.insert(key.to_owned(), json!(collapse(text)));
            }
        }
        if operation["deprecated"] == json!(true) {
            out.insert("deprecated".to_owned(), json!(true));
        }
        let own = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut parameters: Vec<Value> = own.iter().map(|p| self.parameter(p)).collect();
        for parameter in shared.iter().map(|p| self.parameter(p)) {
            let same = |p: &Value| p["name"] == parameter["name"] && p["in"] == parameter["in"];
            if !parameters.iter().any(same) {
                parameters.push(parameter);
            }
        }
        if let Some(body) = operation.get("requestBody") {
            let body = self.follow(body, "/components/requestBodies/");
            let (media, schema) = media_schema(&body["content"]);
            if media != "application/json" {
                out.insert("consumes".to_owned(), json!([media]));
            }
            let mut parameter = Map::new();
            parameter.insert("name".to_owned(), json!("body"));
            parameter.insert("in".to_owned(), json!("body"));
            parameter.insert(
                "required".to_owned(),
                json!(body["required"] == json!(true)),
            );
            if let Some(text) = body["description"].as_str() {
                parameter.insert("description".to_owned(), json!(collapse(text)));
            }
            parameter.insert("schema".to_owned(), self.schemas.convert(&schema));
            parameters.push(Value::Object(parameter));
        }
        if !parameters.is_empty() {
            out.insert("parameters".to_owned(), Value::Array(parameters));
        }
        let mut responses = Map::new();
        for (status, response) in operation["responses"].as_object().into_iter().flatten() {
            responses.insert(status.clone(), self.response(response));
        }
        out.insert("responses".to_owned(), Value::Object(responses));
        if let Some(security) = operation.get("security") {
            out.insert("security".to_owned(), security.clone());
        }
        Value::Object(out)
    }

    /// A non-body parameter: its schema's keywords move onto the parameter itself.
    fn parameter(&self, parameter: &Value) -> Value {
        let parameter = self.follow(parameter, "/components/parameters/");
        let mut out = Map::new();
        for key in ["name", "in", "description"] {
            if let Some(text) = parameter[key].as_str() {
                let text = if key == "description" {
                    collapse(text)
                } else {
                    text.to_owned()
                };
                out.insert(key.to_owned(), json!(text));
            }
        }
        let required = parameter["in"] == json!("path") || parameter["required"] == json!(true);
        out.insert("required".to_owned(), json!(required));
        let schema = self.flat_schema(&parameter["schema"]);
        for key in PARAMETER_KEYWORDS {
            if let Some(value) = schema.get(*key) {
                out.insert((*key).to_owned(), value.clone());
            }
        }
        if schema.get("type").and_then(Value::as_str) == Some("array") {
            let exploded =
                parameter["explode"] != json!(false) && parameter["in"] == json!("query");
            let format = if exploded { "multi" } else { "csv" };
            out.insert("collectionFormat".to_owned(), json!(format));
        }
        for (key, value) in parameter.as_object().into_iter().flatten() {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        Value::Object(out)
    }

    fn response(&self, response: &Value) -> Value {
        let response = self.follow(response, "/components/responses/");
        let mut out = Map::new();
        let description = response["description"].as_str().unwrap_or_default();
        out.insert("description".to_owned(), json!(collapse(description)));
        if response["content"]
            .as_object()
            .is_some_and(|c| !c.is_empty())
        {
            let (_, schema) = media_schema(&response["content"]);
            out.insert("schema".to_owned(), self.schemas.convert(&schema));
        }
        let mut headers = Map::new();
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header = self.follow(header, "/components/headers/");
            let mut converted = Map::new();
            let schema = self.flat_schema(&header["schema"]);
            for key in PARAMETER_KEYWORDS {
                if let Some(value) = schema.get(*key) {
                    converted.insert((*key).to_owned(), value.clone());
                }
            }
            if let Some(text) = header["description"].as_str() {
                converted.insert("description".to_owned(), json!(collapse(text)));
            }
            headers.insert(name.clone(), Value::Object(converted));
        }
        if !headers.is_empty() {
            out.insert("headers".to_owned(), Value::Object(headers));
        }
        Value::Object(out)
    }

    /// A parameter's or header's schema with a top-level reference resolved, so its type and
    /// enum can sit on the parameter.
    fn flat_schema(&self, schema: &Value) -> Map<String, Value> {
        let converted = self.schemas.convert(schema);
        let Some(target) = converted.get("$ref").and_then(Value::as_str) else {
            return converted.as_object().cloned().unwrap_or_default();
        };
        let name = target.rsplit('/').next().unwrap_or_default();
        let mut siblings = converted.as_object().cloned().unwrap_or_default();
        siblings.remove("$ref");
        let resolved = self.schemas.component(name).unwrap_or(json!({}));
        overlay(resolved, siblings)
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    /// The object a `$ref` under `prefix` points at, or `value` itself.
    fn follow(&self, value: &Value, prefix: &str) -> Value {
        let target = value["$ref"].as_str().and_then(|t| t.strip_prefix('#'));
        match target {
            Some(pointer) if pointer.starts_with(prefix) => self
                .openapi
                .pointer(pointer)
                .cloned()
                .unwrap_or(Value::Null),
            _ => value.clone(),
        }
    }
}

fn info(info: &Value) -> Value {
    let mut out = Map::new();
    for key in ["title", "description", "version", "termsOfService"] {
        if let Some(text) = info[key].as_str() {
            out.insert(key.to_owned(), json!(collapse(text)));
        }
    }
    for key in ["contact", "license"] {
        if let Some(object) = info[key].as_object() {
            // 3.1's `license.identifier` and any other unknown key stay behind.
            let allowed = ["name", "url", "email"];
            let object = object.iter().filter(|(k, _)| allowed.contains(&k.as_str()));
            let object: Map<String, Value> = object.map(|(k, v)| (k.clone(), v.clone())).collect();
            out.insert(key.to_owned(), Value::Object(object));
        }
    }
    Value::Object(out)
}

/// `host`, `basePath` and `schemes` from an absolute server URL, or `basePath` from a path.
fn server(root: &mut Map<String, Value>, url: &str) {
    match reqwest::Url::parse(url) {
        Ok(parsed) if parsed.host_str().is_some() => {
            let host = parsed.host_str().unwrap_or_default();
            let host = match parsed.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            root.insert("host".to_owned(), json!(host));
            let path = parsed.path().trim_end_matches('/');
            root.insert(
                "basePath".to_owned(),
                json!(if path.is_empty() { "/" } else { path }),
            );
            root.insert("schemes".to_owned(), json!([parsed.scheme()]));
        }
        _ if url.starts_with('/') => {
            root.insert("basePath".to_owned(), json!(url));
        }
        _ => {}
    }
}

/// The media type and schema of a 3.x `content` map: JSON if offered, else the first.
fn media_schema(content: &Value) -> (String, Value) {
    let Some(content) = content.as_object() else {
        return ("application/json".to_owned(), json!({}));
    };
    let chosen = content
        .get_key_value("application/json")
        .or_else(|| content.iter().next());
    match chosen {
        Some((media, entry)) => (media.clone(), entry["schema"].clone()),
        None => ("application/json".to_owned(), json!({})),
    }
}

/// A 2.0 security definition from a 3.x scheme: API keys and basic as they are, a bearer
/// token as an API key in `Authorization`; OAuth and OpenID schemes are left out.
fn security_scheme(scheme: &Value) -> Option<Value> {
    let mut out = match (scheme["type"].as_str()?, scheme["scheme"].as_str()) {
        ("apiKey", _) => {
            let mut key = Map::new();
            key.insert("type".to_owned(), json!("apiKey"));
            key.insert("in".to_owned(), scheme["in"].clone());
            key.insert("name".to_owned(), scheme["name"].clone());
            key
        }
        ("http", Some(kind)) if kind.eq_ignore_ascii_case("basic") => {
            json!({"type": "basic"}).as_object().cloned()?
        }
        ("http", Some(kind)) if kind.eq_ignore_ascii_case("bearer") => {
            json!({"type": "apiKey", "in": "header", "name": "Authorization"})
                .as_object()
                .cloned()?
        }
        _ => return None,
    };
    if let Some(text) = scheme["description"].as_str() {
        out.insert("description".to_owned(), json!(collapse(text)));
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "T", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}},
            "servers": [{"url": "https://example.com:8443/base/"}],
            "paths": {
                "/kept/{id}": {"post": {
                    "operationId": "Kept",
                    "parameters": [
                        {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                        {"name": "kind", "in": "query", "schema": {"$ref": "#/components/schemas/Kind"}},
                        {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": false},
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}},
                    "responses": {"200": {"description": "Fine.", "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                                          "content": {"application/json": {"schema": {"type": ["string", "null"]}}}}},
                    "security": [{"key": []}],
                }},
                "/dropped": {"get": {"operationId": "Dropped", "responses": {}}},
            },
            "components": {
                "schemas": {
                    "Body": {"type": "object", "properties": {"a": {"type": ["integer", "null"]}}},
                    "Kind": {"type": "string", "enum": ["x", "y"], "description": "A kind."},
                },
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "Authorization"}},
            },
        })
    }

    #[test]
    fn paths_are_filtered_and_the_server_sets_host_base_path_and_scheme() {
        let swagger = convert(&document(), |path| path.starts_with("/kept"));
        assert_eq!(swagger["swagger"], "2.0");
        assert_eq!(swagger["host"], "example.com:8443");
        assert_eq!(swagger["basePath"], "/base");
        assert_eq!(swagger["schemes"], json!(["https"]));
        assert!(swagger["paths"].get("/dropped").is_none());
        assert_eq!(swagger["info"]["license"], json!({"name": "MIT"}));
    }

    #[test]
    fn parameters_carry_their_schema_and_the_body_becomes_a_body_parameter() {
        let swagger = convert(&document(), |_| true);
        let parameters = &swagger["paths"]["/kept/{id}"]["post"]["parameters"];
        assert_eq!(
            parameters[0],
            json!({"name": "id", "in": "path", "required": true, "type": "string"})
        );
        assert_eq!(parameters[1]["enum"], json!(["x", "y"]));
        assert_eq!(parameters[1]["required"], false);
        assert_eq!(parameters[2]["collectionFormat"], "csv");
        assert_eq!(
            parameters[3],
            json!({"name": "body", "in": "body", "required": true, "schema": {"$ref": "#/definitions/Body"}})
        );
        assert_eq!(
            swagger["definitions"]["Body"]["properties"]["a"],
            json!({"type": "integer"})
        );
    }

    #[test]
    fn responses_and_security_definitions_take_their_2_0_form() {
        let swagger = convert(&document(), |_| true);
        let response = &swagger["paths"]["/kept/{id}"]["post"]["responses"]["200"];
        assert_eq!(
            *response,
            json!({"description": "Fine.", "schema": {"type": "string"}, "headers": {"Retry-After": {"type": "integer"}}})
        );
        assert_eq!(
            swagger["securityDefinitions"]["key"],
            json!({"type": "apiKey", "in": "header", "name": "Authorization"})
        );
    }
}
