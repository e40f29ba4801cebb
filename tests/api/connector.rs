//! The Power Platform connector: the committed folder equals what the generator writes, the
//! definition passes the style lint, holds every field of the contract with a description,
//! keeps the published operationIds, has the model dropdown and no unions; and the service
//! serves it with this deployment's host. (Swagger 2.0 and Microsoft's JSON Schemas are
//! checked by `.ci/check-connector`, which `.ci/run` calls.)

use std::path::{Path, PathBuf};

use connector_lint as lint;
use openrouter_connector::connector;
use serde_json::{Value, json};

use crate::helpers::{KEY, read, spawn_app, spawn_app_with};

const DEFINITION: &str = "/connector/apiDefinition.swagger.json";
const PROPERTIES: &str = "/connector/apiProperties.json";

/// One action of the contract: operationId, method, path, request fields, response fields.
type Action = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// The contract's six actions and every request and response field of section 4 (nested
/// fields as dotted paths; array items are walked through).
#[rustfmt::skip]
const CONTRACT: &[Action] = &[
    ("ChatCompletion", "post", "/connector/v1/chat/completions",
        &[
            "content", "role", "model", "system", "messages", "messages.role", "messages.content",
            "messages.tool_calls", "messages.tool_call_id", "image_url", "max_tokens",
            "temperature", "top_p", "top_k", "min_p", "top_a", "frequency_penalty",
            "presence_penalty", "repetition_penalty", "seed", "stop", "logprobs", "top_logprobs",
            "user", "models", "provider", "provider.order", "provider.only", "provider.ignore",
            "provider.allow_fallbacks", "provider.require_parameters", "provider.data_collection",
            "provider.zdr", "provider.sort", "provider.quantizations", "provider.max_price",
            "provider.max_price.prompt", "provider.max_price.completion", "transforms",
            "response_format", "json_schema", "json_schema.name", "json_schema.schema",
            "json_schema.strict", "reasoning", "reasoning.effort", "reasoning.max_tokens",
            "reasoning.exclude", "tools", "tools.name", "tools.description", "tools.parameters",
            "tool_choice", "parallel_tool_calls", "web_search", "extra",
        ],
        &[
            "id", "model", "provider", "created", "role", "content", "reasoning", "refusal",
            "finish_reason", "native_finish_reason", "tool_calls", "tool_calls.id",
            "tool_calls.type", "tool_calls.name", "tool_calls.arguments", "usage",
            "usage.prompt_tokens", "usage.completion_tokens", "usage.total_tokens", "usage.cost",
            "usage.cached_tokens", "usage.reasoning_tokens", "system_fingerprint", "choices",
            "choices.index", "choices.role", "choices.content", "choices.reasoning",
            "choices.finish_reason", "choices.native_finish_reason", "choices.tool_calls",
        ],
    ),
    ("Completion", "post", "/connector/v1/completions",
        &[
            "prompt", "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "top_a",
            "frequency_penalty", "presence_penalty", "repetition_penalty", "seed", "stop",
            "logprobs", "top_logprobs", "user", "models", "provider", "transforms", "reasoning",
            "extra",
        ],
        &[
            "id", "model", "provider", "created", "text", "finish_reason", "native_finish_reason",
            "usage", "usage.cost", "choices", "choices.index", "choices.text",
            "choices.finish_reason", "choices.native_finish_reason",
        ],
    ),
    ("ListModels", "get", "/connector/v1/models",
        &[
            "category", "supported_parameters", "output_modalities",
        ],
        &[
            "data", "data.id", "data.name", "data.description", "data.created",
            "data.context_length", "data.pricing", "data.pricing.prompt",
            "data.pricing.completion", "data.pricing.request", "data.pricing.image",
            "data.architecture", "data.architecture.modality",
            "data.architecture.input_modalities", "data.architecture.output_modalities",
            "data.architecture.tokenizer", "data.architecture.instruct_type", "data.top_provider",
            "data.top_provider.context_length", "data.top_provider.max_completion_tokens",
            "data.top_provider.is_moderated", "data.supported_parameters",
        ],
    ),
    ("ListModelEndpoints", "get", "/connector/v1/models/{author}/{slug}/endpoints",
        &[
            "author", "slug",
        ],
        &[
            "id", "name", "created", "description", "architecture", "endpoints", "endpoints.name",
            "endpoints.provider_name", "endpoints.context_length", "endpoints.pricing",
            "endpoints.quantization", "endpoints.max_completion_tokens",
            "endpoints.max_prompt_tokens", "endpoints.supported_parameters", "endpoints.status",
            "endpoints.uptime_last_30m", "endpoints.tag",
        ],
    ),
    ("GetCredits", "get", "/connector/v1/credits",
        &[],
        &[
            "total_credits", "total_usage", "remaining",
        ],
    ),
    ("GetGeneration", "get", "/connector/v1/generation",
        &[
            "id",
        ],
        &[
            "id", "model", "provider_name", "total_cost", "created_at", "origin", "usage",
            "is_byok", "upstream_id", "cache_discount", "app_id", "streamed", "cancelled",
            "latency", "moderation_latency", "generation_time", "finish_reason",
            "native_finish_reason", "tokens_prompt", "tokens_completion", "native_tokens_prompt",
            "native_tokens_completion", "native_tokens_reasoning", "num_media_prompt",
            "num_media_completion", "num_search_results", "provider_responses",
        ],
    ),
];

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("connector")
}

/// The field at a dotted path under a schema, walking through array items.
fn field<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(schema, |schema, name| {
        let schema = if schema["type"] == "array" {
            &schema["items"]
        } else {
            schema
        };
        schema["properties"].get(name)
    })
}

fn operation<'a>(definition: &'a Value, method: &str, path: &str) -> &'a Value {
    &definition["paths"][path][method]
}

fn body_schema<'a>(definition: &'a Value, method: &str, path: &str) -> &'a Value {
    let parameters = operation(definition, method, path)["parameters"]
        .as_array()
        .unwrap();
    &parameters.iter().find(|p| p["in"] == "body").unwrap()["schema"]
}

#[test]
fn the_committed_connector_folder_is_what_the_generator_writes() {
    let mut stale = Vec::new();
    for (name, bytes) in connector::files(None) {
        let committed = std::fs::read(committed_dir().join(name)).unwrap_or_default();
        if committed != bytes {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "connector/ is stale ({stale:?}): run `cargo run -- write-connector` and commit it"
    );
}

#[test]
fn the_committed_definition_uses_the_placeholder_host_over_https() {
    let text = std::fs::read_to_string(committed_dir().join("apiDefinition.swagger.json")).unwrap();
    let definition: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(definition["host"], "openrouter-connector.example.com");
    assert_eq!(definition["schemes"], json!(["https"]));
    assert_eq!(definition["basePath"], "/");
    assert!(text.ends_with("}\n"));
}

#[test]
fn the_definition_passes_the_style_lint() {
    let problems = lint::lint(&connector::definition());
    let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "lint problems:\n{}", listed.join("\n"));
}

#[test]
fn the_lint_names_the_path_of_each_broken_rule() {
    let mut definition = connector::definition();
    let chat = "/connector/v1/chat/completions";
    let properties =
        &mut definition["paths"][chat]["post"]["parameters"][0]["schema"]["properties"];
    properties["stop"] = json!({"oneOf": [{"type": "string"}], "nullable": true});
    properties["seed"]["type"] = json!(["integer", "null"]);
    properties["user"]
        .as_object_mut()
        .unwrap()
        .remove("x-ms-summary");
    definition["paths"][chat]["post"]["summary"] = json!("Chat With A Model.");
    definition["paths"][chat]["post"]["responses"]["429"]["schema"] =
        json!({"$ref": "#/definitions/Nowhere"});
    let problems: Vec<String> = lint::lint(&definition)
        .iter()
        .map(ToString::to_string)
        .collect();
    let body = format!("$.paths['{chat}'].post.parameters[0].schema.properties");
    for expected in [
        format!("{body}.stop.oneOf"),
        format!("{body}.stop.nullable"),
        format!("{body}.seed.type"),
        format!("{body}.user.x-ms-summary"),
        format!("$.paths['{chat}'].post.summary"),
        format!("$.paths['{chat}'].post.responses.429.schema"),
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(&expected)),
            "{expected} not in {problems:#?}"
        );
    }
}

#[test]
fn the_six_operation_ids_a_maker_sees_are_the_published_connectors() {
    let published =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/api/fixtures/powerplatform-openrouter-connector/apiDefinition.swagger.json",
        ))
        .unwrap();
    let published: Value = serde_json::from_str(&published).unwrap();
    let ids = |definition: &Value| {
        let mut ids: Vec<String> = definition["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            // The designer's own helper (`GetOutputSchema`, contract 4.9) is internal: no
            // maker sees it among the actions.
            .filter(|operation| operation["x-ms-visibility"] != "internal")
            .map(|operation| operation["operationId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let ours = ids(&connector::definition());
    assert_eq!(ours, ids(&published));
    assert_eq!(ours.len(), 6);
}

#[test]
fn every_contract_field_is_in_the_definition_with_a_description_and_a_display_name() {
    let definition = connector::definition();
    let mut missing = Vec::new();
    for (id, method, path, inputs, outputs) in CONTRACT {
        let operation = operation(&definition, method, path);
        assert_eq!(operation["operationId"], *id, "{path}");
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let body = parameters
            .iter()
            .find(|p| p["in"] == "body")
            .map(|p| p["schema"].clone());
        for name in *inputs {
            let found = parameters
                .iter()
                .find(|p| p["name"] == *name && p["in"] != "body")
                .or_else(|| body.as_ref().and_then(|schema| field(schema, name)));
            if !found.is_some_and(described) {
                missing.push(format!("{id} input {name}"));
            }
        }
        let answer = &operation["responses"]["200"]["schema"];
        for name in *outputs {
            if !field(answer, name).is_some_and(described) {
                missing.push(format!("{id} output {name}"));
            }
        }
    }
    assert!(missing.is_empty(), "missing or undescribed: {missing:#?}");
}

fn described(value: &Value) -> bool {
    value["description"].as_str().is_some_and(|d| !d.is_empty())
        && value["x-ms-summary"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
}

#[test]
fn model_is_a_dropdown_fed_by_list_models_and_shown_first() {
    let definition = connector::definition();
    for path in [
        "/connector/v1/chat/completions",
        "/connector/v1/completions",
    ] {
        let model = &body_schema(&definition, "post", path)["properties"]["model"];
        assert_eq!(
            model["x-ms-dynamic-values"],
            json!({"operationId": "ListModels", "value-collection": "data", "value-path": "id", "value-title": "name"}),
            "{path}"
        );
        assert_eq!(model["x-ms-visibility"], "important", "{path}");
    }
    let list = &operation(&definition, "get", "/connector/v1/models")["responses"]["200"]["schema"];
    assert_eq!(field(list, "data.id").unwrap()["type"], "string");
    assert_eq!(field(list, "data.name").unwrap()["type"], "string");
}

#[test]
fn unions_take_their_simple_form_as_section_7a_says() {
    let definition = connector::definition();
    let chat = body_schema(&definition, "post", "/connector/v1/chat/completions");
    assert_eq!(chat["properties"]["stop"]["type"], "array");
    assert_eq!(
        chat["properties"]["stop"]["items"],
        json!({"type": "string"})
    );
    assert_eq!(chat["properties"]["response_format"]["type"], "string");
    assert_eq!(
        chat["properties"]["response_format"]["enum"],
        json!(["text", "json_object", "json_schema"])
    );
    assert_eq!(chat["properties"]["tool_choice"]["type"], "string");
    assert_eq!(field(chat, "messages.content").unwrap()["type"], "string");
    assert_eq!(
        chat["properties"]["repetition_penalty"]["exclusiveMinimum"],
        true
    );
}

#[test]
fn the_api_key_goes_bare_in_authorization() {
    let definition = connector::definition();
    assert_eq!(
        definition["securityDefinitions"]["api_key"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(key, _)| *key != "description")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<serde_json::Map<_, _>>(),
        *json!({"type": "apiKey", "in": "header", "name": "Authorization"})
            .as_object()
            .unwrap()
    );
    let properties: Value = serde_json::from_str(&connector::api_properties_json()).unwrap();
    assert_eq!(
        properties["properties"]["connectionParameters"]["api_key"]["type"],
        "securestring"
    );
}

#[tokio::test]
async fn a_bare_key_in_authorization_is_accepted_as_the_connector_sends_it() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url("/connector/v1/credits"))
        .header("Authorization", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let upstream = app.only_upstream_request();
    assert_eq!(
        upstream.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[test]
fn the_icon_is_a_square_png_of_at_least_100_pixels() {
    let icon = std::fs::read(committed_dir().join("icon.png")).unwrap();
    assert_eq!(&icon[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(icon[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(icon[20..24].try_into().unwrap());
    assert_eq!(width, height);
    assert!((100..=230).contains(&width), "{width} px");
}

#[test]
fn the_readme_has_the_sections_of_the_connectors_repository() {
    let readme = std::fs::read_to_string(committed_dir().join("readme.md")).unwrap();
    for heading in [
        "## Publisher:",
        "## Prerequisites",
        "## Supported Operations",
        "## Obtaining Credentials",
        "## Known Issues and Limitations",
        "100 calls per 60 seconds",
    ] {
        assert!(readme.contains(heading), "{heading}");
    }
    for (id, ..) in CONTRACT {
        assert!(readme.contains(&format!("(`{id}`)")), "{id}");
    }
}

#[test]
fn write_folder_writes_the_five_files_for_a_public_url() {
    let dir = std::env::temp_dir().join(format!("connector-{}", uuid::Uuid::new_v4()));
    let public = "https://flows.example.com:8443/openrouter".parse().unwrap();
    connector::write_folder(&dir, Some(&public)).unwrap();
    let definition: Value =
        serde_json::from_slice(&std::fs::read(dir.join("apiDefinition.swagger.json")).unwrap())
            .unwrap();
    assert_eq!(definition["host"], "flows.example.com:8443");
    assert_eq!(definition["basePath"], "/openrouter");
    for name in [
        "apiProperties.json",
        "settings.json",
        "readme.md",
        "icon.png",
    ] {
        assert!(dir.join(name).is_file(), "{name}");
    }
    let readme = std::fs::read_to_string(dir.join("readme.md")).unwrap();
    assert!(readme.contains("https://flows.example.com:8443/openrouter"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_served_definition_uses_public_base_url_when_it_is_set() {
    let app =
        spawn_app_with(|s| s.public_base_url = Some("https://flows.example.com".parse().unwrap()))
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
    assert_eq!(definition["host"], "flows.example.com");
    assert_eq!(definition["schemes"], json!(["https"]));
    let mut expected = connector::definition();
    let public = "https://flows.example.com".parse().unwrap();
    connector::apply(&public, &mut expected);
    assert_eq!(definition, expected);
}

#[tokio::test]
async fn the_served_definitions_use_the_forwarded_host_without_public_base_url() {
    let app = spawn_app().await;
    // The actions' connector, and the MCP server's.
    for path in [DEFINITION, "/connector/mcp/apiDefinition.swagger.json"] {
        let response = app
            .http
            .get(app.url(path))
            .header("X-Forwarded-Host", "flows.example.com")
            .header("X-Forwarded-Proto", "https")
            .send()
            .await
            .unwrap();
        let (status, definition) = read(response).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(definition["host"], "flows.example.com", "{path}");
        assert_eq!(definition["schemes"], json!(["https"]), "{path}");
    }
}

#[tokio::test]
async fn without_proxy_headers_the_served_host_is_the_one_called() {
    let app = spawn_app().await;
    let (status, definition) = read(app.http.get(app.url(DEFINITION)).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let called = app.address.trim_start_matches("http://");
    assert_eq!(definition["host"], called);
    assert_eq!(definition["schemes"], json!(["http"]));
}

#[tokio::test]
async fn the_served_properties_are_the_committed_file_and_need_no_key() {
    let app = spawn_app().await;
    let response = app.http.get(app.url(PROPERTIES)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let served = response.text().await.unwrap();
    let committed = std::fs::read_to_string(committed_dir().join("apiProperties.json")).unwrap();
    assert_eq!(served, committed);
}
