//! The utoipa document: the table of contents of the API, served at `/openapi.json` and
//! committed as `openapi/openapi.json`.

use std::path::Path;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::actions::forms::StopForm;
use crate::actions::{
    chat_completion, completion, get_credits, get_generation, get_job, get_output_schema, health,
    list_model_endpoints, list_models, passthrough,
};
use crate::error::{ErrorBody, ErrorDetail};
use crate::routes;

/// The OpenAPI 3.1 document of the service.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "OpenRouter connector",
        description = "Six flat, flow-friendly actions over the whole OpenRouter API, for \
                       Power Automate, Logic Apps, Power Apps and Copilot Studio.",
        license(name = "MIT"),
    ),
    paths(
        completion::completion,
        chat_completion::chat_completion,
        list_models::list_models,
        list_model_endpoints::list_model_endpoints,
        get_credits::get_credits,
        get_generation::get_generation,
        get_output_schema::get_output_schema,
        get_job::get_job,
        health::live,
        health::ready,
        passthrough::passthrough,
        crate::mcp::invoke,
    ),
    components(schemas(ErrorBody, ErrorDetail, StopForm)),
    modifiers(&KeyScheme, &FlatRequests, &PassThroughMethods),
    tags(
        (name = "Connector actions", description = "The six actions of the Power Platform connector."),
        (name = "Service", description = "The service's own endpoints: health, readiness and the polls of long generations."),
        (name = "MCP", description = "The MCP server (Streamable HTTP, stateless) that gives Copilot Studio agents every OpenRouter model as tools; its connector is at /connector/mcp/apiDefinition.swagger.json."),
        (name = "OpenRouter-compatible API", description = "OpenRouter's own API under /api/v1, forwarded as is with the same keys and limit: point an OpenAI or OpenRouter SDK here."),
    )
)]
pub struct ApiDoc;

struct KeyScheme;

/// Gives each method of the pass-through its own operationId (`PassThroughGet`, …), as OpenAPI
/// wants them unique, and a request body only where the method carries one.
struct PassThroughMethods;

impl Modify for PassThroughMethods {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(item) = openapi.paths.paths.get_mut(routes::PASS_THROUGH.path) else {
            return;
        };
        let id = routes::PASS_THROUGH.operation_id;
        for (method, operation, has_body) in [
            ("Get", &mut item.get, false),
            ("Head", &mut item.head, false),
            ("Post", &mut item.post, true),
            ("Put", &mut item.put, true),
            ("Patch", &mut item.patch, true),
            ("Delete", &mut item.delete, false),
            ("Options", &mut item.options, false),
        ] {
            if let Some(operation) = operation {
                operation.operation_id = Some(format!("{id}{method}"));
                if !has_body {
                    operation.request_body = None;
                }
            }
        }
    }
}

/// Writes each request that flattens shared options into it as one object: utoipa writes
/// `allOf` of a `$ref` and an object, which Swagger UI lists as `any & object`.
struct FlatRequests;

impl Modify for FlatRequests {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let originals = components.schemas.clone();
        let object_of = |member: &RefOr<Schema>| -> Option<Object> {
            let schema = match member {
                RefOr::Ref(reference) => {
                    let name = reference
                        .ref_location
                        .strip_prefix("#/components/schemas/")?;
                    match originals.get(name)? {
                        RefOr::T(schema) => schema,
                        RefOr::Ref(_) => return None,
                    }
                }
                RefOr::T(schema) => schema,
            };
            match schema {
                Schema::Object(object) => Some(object.clone()),
                _ => None,
            }
        };
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::AllOf(all_of)) = schema else {
                continue;
            };
            // The request's own fields first, then the shared ones, as makers read them.
            let (own, shared): (Vec<_>, Vec<_>) = all_of
                .items
                .iter()
                .partition(|member| matches!(member, RefOr::T(_)));
            let Some(members) = own
                .into_iter()
                .chain(shared)
                .map(object_of)
                .collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            let mut merged = ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(all_of.description.clone())
                .build();
            for member in members {
                merged.properties.extend(member.properties);
                merged.required.extend(member.required);
            }
            *schema = RefOr::T(Schema::Object(merged));
        }
    }
}

impl Modify for KeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "Your OpenRouter API key (sk-or-...), bare or as `Bearer <key>`. The header \
                 `api_key` is accepted too.",
            ))),
        );
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as pretty JSON with a final newline, exactly as committed.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// Writes the document to `path`, creating its folder.
pub fn write_document(path: &Path) -> std::io::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::write(path, document_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_flattens_shared_options_is_one_object() {
        let document = serde_json::to_value(document()).unwrap();
        let chat = &document["components"]["schemas"]["ChatCompletionRequest"];
        assert!(chat.get("allOf").is_none(), "{chat}");
        assert_eq!(chat["type"], "object");
        assert!(chat["properties"]["content"].is_object(), "its own fields");
        assert!(
            chat["properties"]["temperature"].is_object(),
            "the shared options"
        );
        let completion = &document["components"]["schemas"]["CompletionRequest"];
        assert_eq!(completion["required"], serde_json::json!(["prompt"]));
    }
}
