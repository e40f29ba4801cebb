//! The utoipa document: the table of contents of the API, served at `/openapi.json` and
//! committed as `openapi/openapi.json`.

use std::path::Path;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::actions::forms::StopForm;
use crate::actions::{
    chat_completion, completion, get_credits, get_generation, get_job, health,
    list_model_endpoints, list_models, passthrough,
};
use crate::error::{ErrorBody, ErrorDetail};

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
        get_job::get_job,
        health::live,
        health::ready,
        passthrough::passthrough,
    ),
    components(schemas(ErrorBody, ErrorDetail, StopForm)),
    modifiers(&KeyScheme),
    tags(
        (name = "Connector actions", description = "The six actions of the Power Platform connector."),
        (name = "Service", description = "Health of the service."),
        (name = "OpenRouter-compatible API", description = "OpenRouter's own API under /api/v1, forwarded as is with the same keys and limit: point an OpenAI or OpenRouter SDK here."),
    )
)]
pub struct ApiDoc;

struct KeyScheme;

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
