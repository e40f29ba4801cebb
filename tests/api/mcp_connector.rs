//! The Copilot Studio connector of the MCP server (contract section 9): committed in
//! `connector/mcp/` as the generator writes it, served with this deployment's host, one
//! `InvokeMCP` operation marked for MCP's Streamable HTTP, the actions' API-key security.

use openrouter_connector::connector;
use serde_json::{Value, json};

use crate::helpers::{read, spawn_app, spawn_app_with};

const DEFINITION: &str = "/connector/mcp/apiDefinition.swagger.json";
const PROPERTIES: &str = "/connector/mcp/apiProperties.json";

fn committed(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("connector/mcp")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_committed_definition_has_one_invoke_mcp_operation_with_the_actions_security() {
    let definition = committed("apiDefinition.swagger.json");
    let actions = connector::definition();
    assert_eq!(definition["swagger"], "2.0");
    assert_eq!(definition["paths"].as_object().unwrap().len(), 1);
    let operation = &definition["paths"]["/mcp"]["post"];
    assert_eq!(operation["operationId"], "InvokeMCP");
    assert_eq!(operation["x-ms-agentic-protocol"], "mcp-streamable-1.0");
    assert_eq!(
        definition["securityDefinitions"],
        actions["securityDefinitions"]
    );
    assert_eq!(definition["security"], json!([{"api_key": []}]));
    assert_eq!(definition["host"], "openrouter-connector.example.com");
    assert_eq!(definition["schemes"], json!(["https"]));
    assert_eq!(
        committed("apiProperties.json"),
        connector::properties::api_properties()
    );
}

#[test]
fn write_folder_writes_the_mcp_connector_for_a_public_url() {
    let dir = std::env::temp_dir().join(format!("connector-mcp-{}", uuid::Uuid::new_v4()));
    let public = "https://agents.example.com:8443/openrouter"
        .parse()
        .unwrap();
    connector::write_folder(&dir, Some(&public)).unwrap();
    let definition: Value =
        serde_json::from_slice(&std::fs::read(dir.join("mcp/apiDefinition.swagger.json")).unwrap())
            .unwrap();
    assert_eq!(definition["host"], "agents.example.com:8443");
    assert_eq!(definition["basePath"], "/openrouter");
    assert!(dir.join("mcp/apiProperties.json").is_file());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_served_definition_has_the_public_base_url_and_needs_no_key() {
    let app = spawn_app_with(|s| {
        s.public_base_url = Some("https://agents.example.com".parse().unwrap());
    })
    .await;
    let response = app
        .http
        .get(app.url(DEFINITION))
        .header("X-Forwarded-Host", "elsewhere.example.org")
        .send()
        .await
        .unwrap();
    let (status, definition) = read(response).await;
    assert_eq!(status, 200);
    let mut expected = committed("apiDefinition.swagger.json");
    expected["host"] = json!("agents.example.com");
    assert_eq!(definition, expected);
}

#[tokio::test]
async fn the_served_properties_are_the_committed_ones_and_other_methods_are_405() {
    let app = spawn_app().await;
    let (status, properties) = read(app.http.get(app.url(PROPERTIES)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(properties, committed("apiProperties.json"));
    for path in [DEFINITION, PROPERTIES] {
        let response = app.http.post(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{path}");
        assert_eq!(response.headers()["allow"], "GET");
    }
}
