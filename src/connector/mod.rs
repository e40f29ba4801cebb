//! The Power Platform custom connector: Swagger 2.0 generated from the OpenAPI document, with
//! the `x-ms-*` extensions of one table, plus `apiProperties.json`, `settings.json`, the icon
//! and the readme. Served at `/connector/…` and written to `connector/` by `write-connector`.
//!
//! `openapi::document()` (OpenAPI 3.1) → [`swagger2`] (a generic 3.1 → 2.0 converter) →
//! [`platform`] (the connector's operations, inlined, with [`extensions::EXTENSIONS`]) →
//! [`apply`] (host, scheme, base path). The style lint (the dev-only crate
//! `connector-lint`) checks the result in the tests.

pub mod extensions;
pub mod mcp;
pub mod platform;
pub mod properties;
pub mod readme;
pub mod serve;
pub mod swagger2;

use std::io;
use std::path::Path;

use serde_json::{Map, Value};

use crate::domain::PublicUrl;
pub use serve::{ConnectorFiles, api_definition, api_properties, configure, mcp_api_definition};

/// The icon: 230 × 230 px, on the brand colour.
pub const ICON: &[u8] = include_bytes!("icon.png");

/// The Swagger 2.0 definition with the placeholder host.
pub fn definition() -> Value {
    // The utoipa document is plain data with string keys: turning it into JSON cannot fail.
    let openapi = serde_json::to_value(crate::openapi::document()).unwrap_or(Value::Null);
    platform::definition(&openapi, &extensions::EXTENSIONS)
}

/// The definition for `deployment`, as pretty JSON with a final newline.
pub fn definition_json(deployment: &PublicUrl) -> String {
    let mut definition = definition();
    apply(deployment, &mut definition);
    pretty(&definition)
}

/// Writes `host`, `basePath` and `schemes` of `deployment` into a definition.
pub fn apply(deployment: &PublicUrl, definition: &mut Value) {
    if let Some(root) = definition.as_object_mut() {
        set_deployment(root, deployment);
    }
}

/// Sets `host`, `basePath` and `schemes` of a definition's root object.
fn set_deployment(root: &mut Map<String, Value>, deployment: &PublicUrl) {
    root.insert("host".to_owned(), Value::from(deployment.host()));
    root.insert("basePath".to_owned(), Value::from(deployment.base_path()));
    root.insert("schemes".to_owned(), Value::from(vec![deployment.scheme()]));
}

/// `apiProperties.json` as written.
pub fn api_properties_json() -> String {
    pretty(&properties::api_properties())
}

/// `settings.json` as written.
pub fn settings_json() -> String {
    pretty(&properties::settings())
}

/// The files of the connector folder for the deployment at `public_url` (the placeholder
/// host when none), by path below the folder: the actions' connector, and in `mcp/` the
/// Copilot Studio connector of the MCP server.
pub fn files(public_url: Option<&PublicUrl>) -> Vec<(&'static str, Vec<u8>)> {
    let deployment = public_url.cloned().unwrap_or_else(PublicUrl::example);
    let mut definition = definition();
    apply(&deployment, &mut definition);
    let mcp_definition = mcp::definition(&definition);
    vec![
        (
            "apiDefinition.swagger.json",
            pretty(&definition).into_bytes(),
        ),
        ("apiProperties.json", api_properties_json().into_bytes()),
        ("settings.json", settings_json().into_bytes()),
        (
            "readme.md",
            readme::readme(&definition, &deployment).into_bytes(),
        ),
        ("icon.png", ICON.to_vec()),
        (
            "mcp/apiDefinition.swagger.json",
            pretty(&mcp_definition).into_bytes(),
        ),
        ("mcp/apiProperties.json", api_properties_json().into_bytes()),
    ]
}

/// Writes `apiDefinition.swagger.json`, `apiProperties.json`, `settings.json`, `readme.md`
/// and `icon.png` into `dir`, and the MCP connector's definition and properties into
/// `dir/mcp` (folders created if missing), for the deployment at `public_url`.
pub fn write_folder(dir: &Path, public_url: Option<&PublicUrl>) -> io::Result<()> {
    for (name, bytes) in files(public_url) {
        let path = dir.join(name);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(path, bytes)?;
    }
    Ok(())
}

/// Pretty JSON with a final newline, the form of every committed JSON file.
fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use extensions::{Side, Visibility};

    /// Every (operationId, side, path) of the definition; definitions count for every operation.
    fn fields(definition: &Value) -> Vec<(String, Side, String)> {
        fn walk(
            schema: &Value,
            id: &str,
            side: Side,
            prefix: &str,
            out: &mut Vec<(String, Side, String)>,
        ) {
            walk_items(schema, id, side, prefix, out);
            for (name, field) in schema["properties"].as_object().into_iter().flatten() {
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                };
                out.push((id.to_owned(), side, path.clone()));
                walk(field, id, side, &path, out);
            }
        }
        fn walk_items(
            schema: &Value,
            id: &str,
            side: Side,
            prefix: &str,
            out: &mut Vec<(String, Side, String)>,
        ) {
            if let Some(items) = schema.get("items") {
                walk(items, id, side, prefix, out);
            }
        }
        let mut out = Vec::new();
        for item in definition["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let id = operation["operationId"].as_str().unwrap();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    if parameter["in"] == "body" {
                        out.push((id.to_owned(), Side::Input, "body".to_owned()));
                        walk(&parameter["schema"], id, Side::Input, "", &mut out);
                    } else {
                        out.push((
                            id.to_owned(),
                            Side::Input,
                            parameter["name"].as_str().unwrap().to_owned(),
                        ));
                    }
                }
                for response in operation["responses"].as_object().unwrap().values() {
                    walk(&response["schema"], id, Side::Output, "", &mut out);
                }
            }
        }
        for schema in definition["definitions"].as_object().unwrap().values() {
            walk(schema, "", Side::Output, "", &mut out);
        }
        out
    }

    #[test]
    fn every_table_entry_names_a_field_that_exists() {
        let fields = fields(&definition());
        let mut stale = Vec::new();
        for entry in extensions::EXTENSIONS.fields {
            let operations: Vec<&str> = if entry.operations.is_empty() {
                vec![""]
            } else {
                entry.operations.to_vec()
            };
            for operation in operations {
                let found = fields.iter().any(|(id, side, path)| {
                    (id == operation || operation.is_empty())
                        && *side == entry.side
                        && path == entry.path
                });
                if !found {
                    stale.push(format!("{operation} {:?} {}", entry.side, entry.path));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "table entries without a field: {stale:#?}"
        );
    }

    #[test]
    fn an_added_parameter_reaches_each_of_its_operations_in_one_entry() {
        let mut table = extensions::EXTENSIONS;
        table.added_parameters = &[extensions::AddedParameter {
            operations: &["Completion", "ChatCompletion"],
            name: "Prefer",
            location: "header",
            summary: "Prefer",
            description: "Asks for the asynchronous pattern.",
            default: "respond-async",
            required: true,
            visibility: Visibility::Internal,
        }];
        let openapi = serde_json::to_value(crate::openapi::document()).unwrap();
        let definition = platform::definition(&openapi, &table);
        for path in [
            "/connector/v1/completions",
            "/connector/v1/chat/completions",
        ] {
            let parameters = definition["paths"][path]["post"]["parameters"]
                .as_array()
                .unwrap();
            let prefer = parameters.iter().find(|p| p["name"] == "Prefer").unwrap();
            assert_eq!(prefer["x-ms-visibility"], "internal");
            assert_eq!(prefer["default"], "respond-async");
        }
    }
}
