//! The one route table: every path the service answers, its method and its operationId. The
//! App's routes, the metrics' `operation` label, the OpenAPI attributes and the connector's
//! extension table all read it, so a path is written once.

use actix_web::dev::HttpServiceFactory;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};

use crate::error::ApiError;

/// The methods a route answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Methods {
    /// `GET` only (and `405` with `Allow: GET` to any other).
    Get,
    /// `POST` only (and `405` with `Allow: POST` to any other).
    Post,
    /// Every method the pass-through forwards.
    Forwarded,
}

impl Methods {
    /// The `Allow` header for a wrong method.
    pub const fn allow(self) -> &'static str {
        match self {
            Methods::Get => "GET",
            Methods::Post => "POST",
            Methods::Forwarded => "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        }
    }
}

/// One route: its path as actix matches it, its methods and its operationId (also the
/// `operation` label of its metrics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The path pattern, as actix-web and OpenAPI write it (`{author}` is a segment).
    pub path: &'static str,
    /// The methods it answers.
    pub methods: Methods,
    /// The operationId: the published connector's for the six actions.
    pub operation_id: &'static str,
}

const fn route(path: &'static str, methods: Methods, operation_id: &'static str) -> Route {
    Route {
        path,
        methods,
        operation_id,
    }
}

/// Completion (contract 4.2).
pub const COMPLETION: Route = route("/connector/v1/completions", Methods::Post, "Completion");
/// Chat Completion (contract 4.1).
pub const CHAT_COMPLETION: Route = route(
    "/connector/v1/chat/completions",
    Methods::Post,
    "ChatCompletion",
);
/// List Models (contract 4.3).
pub const LIST_MODELS: Route = route("/connector/v1/models", Methods::Get, "ListModels");
/// List Model Endpoints (contract 4.4).
pub const LIST_MODEL_ENDPOINTS: Route = route(
    "/connector/v1/models/{author}/{slug}/endpoints",
    Methods::Get,
    "ListModelEndpoints",
);
/// Get Credits (contract 4.5).
pub const GET_CREDITS: Route = route("/connector/v1/credits", Methods::Get, "GetCredits");
/// Get Generation (contract 4.6).
pub const GET_GENERATION: Route = route("/connector/v1/generation", Methods::Get, "GetGeneration");
/// The schema of Chat Completion's `parsed` for a maker's JSON Schema (contract 4.9): an
/// internal operation the designer calls for dynamic content.
pub const GET_OUTPUT_SCHEMA: Route = route(
    "/connector/v1/output-schema",
    Methods::Post,
    "GetOutputSchema",
);
/// The poll of an async job (contract 4.7).
pub const GET_JOB: Route = route("/connector/v1/jobs/{id}", Methods::Get, "GetJob");
/// The MCP server for Copilot Studio agents (contract section 9): Streamable HTTP, stateless.
pub const MCP: Route = route("/mcp", Methods::Post, "InvokeMCP");
/// The Copilot Studio connector of the MCP server (Swagger 2.0, one `InvokeMCP` operation).
pub const MCP_CONNECTOR_DEFINITION: Route = route(
    "/connector/mcp/apiDefinition.swagger.json",
    Methods::Get,
    "McpConnectorDefinition",
);
/// The properties of the MCP server's connector.
pub const MCP_CONNECTOR_PROPERTIES: Route = route(
    "/connector/mcp/apiProperties.json",
    Methods::Get,
    "McpConnectorProperties",
);
/// Liveness.
pub const LIVE: Route = route("/health/live", Methods::Get, "Live");
/// Readiness.
pub const READY: Route = route("/health/ready", Methods::Get, "Ready");
/// The OpenRouter-compatible pass-through (contract 7); `{rest}` is everything below.
pub const PASS_THROUGH: Route = route("/api/v1/{rest}", Methods::Forwarded, "PassThrough");
/// The Power Platform definition (Swagger 2.0) of this deployment.
pub const CONNECTOR_DEFINITION: Route = route(
    "/connector/apiDefinition.swagger.json",
    Methods::Get,
    "ConnectorDefinition",
);
/// The connector's properties.
pub const CONNECTOR_PROPERTIES: Route = route(
    "/connector/apiProperties.json",
    Methods::Get,
    "ConnectorProperties",
);
/// Prometheus metrics.
pub const METRICS: Route = route("/metrics", Methods::Get, "Metrics");
/// The OpenAPI 3.1 document.
pub const OPENAPI: Route = route("/openapi.json", Methods::Get, "OpenApi");
/// Swagger UI and its assets.
pub const SWAGGER_UI: Route = route("/swagger-ui/{_:.*}", Methods::Get, "Docs");

/// Every route, in the order they are mounted.
pub const ROUTES: &[Route] = &[
    COMPLETION,
    CHAT_COMPLETION,
    LIST_MODELS,
    LIST_MODEL_ENDPOINTS,
    GET_CREDITS,
    GET_GENERATION,
    GET_OUTPUT_SCHEMA,
    GET_JOB,
    MCP,
    LIVE,
    READY,
    PASS_THROUGH,
    CONNECTOR_DEFINITION,
    CONNECTOR_PROPERTIES,
    MCP_CONNECTOR_DEFINITION,
    MCP_CONNECTOR_PROPERTIES,
    METRICS,
    OPENAPI,
    SWAGGER_UI,
];

/// The six connector actions, by the published connector's operationIds.
pub const ACTIONS: &[Route] = &[
    COMPLETION,
    CHAT_COMPLETION,
    LIST_MODELS,
    LIST_MODEL_ENDPOINTS,
    GET_CREDITS,
    GET_GENERATION,
];

/// The actix-web pattern of the pass-through: `{rest}` spans slashes.
pub const PASS_THROUGH_PATTERN: &str = "/api/v1/{rest:.*}";

/// Mounts `handler` at `route`, answering `405` with `Allow` to any other method than the
/// route's.
pub fn mount<F, Args>(route: Route, handler: F) -> impl HttpServiceFactory
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    let method = match route.methods {
        Methods::Get => web::get(),
        Methods::Post => web::post(),
        Methods::Forwarded => web::route(),
    };
    let allow = route.methods.allow();
    web::resource(route.path)
        .app_data(Operation(route.operation_id))
        .route(method.to(handler))
        .default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
        }))
}

/// For a route served by a library that answers its method only (the documents): a `405`
/// with `Allow` to every other method, registered after it.
pub fn refuse_other_methods(route: Route) -> impl HttpServiceFactory {
    let allow = route.methods.allow();
    web::resource(route.path)
        .to(move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) })
}

/// The `operation` label for a request that matched `pattern` (actix's match pattern), or
/// `Unmatched`.
pub fn operation(pattern: Option<&str>) -> &'static str {
    let Some(pattern) = pattern else {
        return "Unmatched";
    };
    if pattern == PASS_THROUGH_PATTERN {
        return PASS_THROUGH.operation_id;
    }
    ROUTES
        .iter()
        .find(|route| route.path == pattern)
        .map_or(SWAGGER_UI.operation_id, |route| route.operation_id)
}

/// The operation a mounted resource serves, kept in its app data so that what routed a request
/// is known afterwards without matching its path again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation(pub &'static str);

/// The operationId of the route that served `req`: from its resource's [`Operation`], else
/// (documents, unmatched paths) by matching its path against the route table again.
pub fn operation_of(req: &actix_web::HttpRequest) -> &'static str {
    match req.app_data::<Operation>() {
        Some(Operation(id)) => id,
        None => operation(req.match_pattern().as_deref()),
    }
}

/// How an MCP message ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum McpOutcome {
    /// Answered with a result (or accepted, for a notification).
    Answered,
    /// A tool call answered with a tool error (`isError: true`): upstream's, the limit's, or
    /// arguments that break the tool's schema.
    ToolError,
    /// Answered with a JSON-RPC error: a message that could not be read or served.
    ProtocolError,
}

impl McpOutcome {
    /// The `outcome` label.
    pub const fn as_str(self) -> &'static str {
        match self {
            McpOutcome::Answered => "ok",
            McpOutcome::ToolError => "tool_error",
            McpOutcome::ProtocolError => "protocol_error",
        }
    }
}

/// One MCP message as metrics and the request's log line name it: its method and tool (each
/// one of a known few, never what the caller wrote), how it ended, and an error's kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpMessage {
    /// The JSON-RPC method (`tools/call`, …), `batch`, or `other` for one the server lacks.
    pub method: &'static str,
    /// The tool called, or `other` for an unknown one; `None` for other methods.
    pub tool: Option<&'static str>,
    /// How it ended.
    pub outcome: McpOutcome,
    /// The error's kind for the log line, never a value the caller sent.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_id_and_path_is_written_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert_ne!(a.path, b.path);
                assert_ne!(a.operation_id, b.operation_id);
            }
        }
    }

    #[test]
    fn a_matched_pattern_is_labelled_with_its_operation_id() {
        assert_eq!(operation(Some("/connector/v1/models")), "ListModels");
        assert_eq!(operation(Some(PASS_THROUGH_PATTERN)), "PassThrough");
        assert_eq!(operation(Some("/swagger-ui")), "Docs");
        assert_eq!(operation(None), "Unmatched");
    }
}
