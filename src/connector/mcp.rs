//! The Copilot Studio connector of the MCP server (contract section 9): one `POST /mcp`
//! operation, `InvokeMCP`, marked `x-ms-agentic-protocol: mcp-streamable-1.0` as Copilot Studio
//! asks of an MCP server's connector, with the same API-key connection and host rules as the
//! actions' connector. Copilot Studio reads the tools from the server itself, so the
//! definition describes no bodies.

use serde_json::{Value, json};

use crate::routes;

/// The title makers see in Copilot Studio's tool list.
pub const TITLE: &str = "OpenRouter MCP";

/// The MCP connector's definition with the placeholder host; `security` and the connector
/// metadata are those of `actions`, the actions' definition.
pub fn definition(actions: &Value) -> Value {
    let mut definition = json!({
        "swagger": "2.0",
        "info": {
            "title": TITLE,
            "description": "Every model on OpenRouter as MCP tools for Copilot Studio agents: \
                            chat with any model (files, web search, JSON answers, pictures), \
                            find models by price or ability, and check credits and costs.",
            "version": actions["info"]["version"],
        },
        "host": actions["host"],
        "basePath": actions["basePath"],
        "schemes": actions["schemes"],
        "consumes": [],
        "produces": [],
        "paths": {
            routes::MCP.path: {
                "post": {
                    "summary": "OpenRouter models as tools",
                    "description": "The MCP server (Streamable HTTP) of this deployment: the \
                                    tools chat, list_models, get_model_endpoints, get_credits \
                                    and get_generation.",
                    "x-ms-agentic-protocol": "mcp-streamable-1.0",
                    "operationId": routes::MCP.operation_id,
                    "responses": {"200": {"description": "Success"}},
                }
            }
        },
        "definitions": {},
        "parameters": {},
        "responses": {},
        "securityDefinitions": actions["securityDefinitions"],
        "security": actions["security"],
        "tags": [],
    });
    if let Some(metadata) = actions.get("x-ms-connector-metadata") {
        definition["x-ms-connector-metadata"] = metadata.clone();
    }
    definition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_operation_is_invoke_mcp_over_streamable_http() {
        let definition = definition(&crate::connector::definition());
        let paths = definition["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 1);
        let operation = &definition["paths"]["/mcp"]["post"];
        assert_eq!(operation["operationId"], "InvokeMCP");
        assert_eq!(operation["x-ms-agentic-protocol"], "mcp-streamable-1.0");
        assert_eq!(definition["securityDefinitions"]["api_key"]["in"], "header");
        assert_eq!(definition["security"], json!([{"api_key": []}]));
    }
}
