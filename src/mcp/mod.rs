//! The MCP server for Copilot Studio agents (contract section 9): `POST /mcp`, MCP's Streamable
//! HTTP transport without sessions, so any replica answers any message. Each message is read
//! as JSON-RPC ([`jsonrpc`]), served (`initialize`, `ping`, `tools/list`, `tools/call` of the
//! [`tools`]), and answered as JSON or as one Server-Sent Event, as the client's `Accept`
//! prefers. A tool call is an action of the connector run for the caller's key and charged
//! against its limit; what goes wrong in it is a tool error the agent reads, while a message
//! the server cannot serve is a JSON-RPC error.

pub mod answers;
pub mod arguments;
pub mod call;
pub mod jsonrpc;
mod reply;
mod results;
pub mod tools;

use std::time::{Duration, Instant};

use actix_web::http::header::ContentType;
use futures_util::future::join_all;

use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use crate::actions::input::read_body;
use crate::body_budget::BodyReservation;
use crate::connection::Connection;
use crate::domain::PublicUrl;
use crate::error::ApiError;
use crate::metrics;
use crate::openrouter::Caller;
use crate::request_id::RequestId;
use crate::routes;
use crate::routes::{McpMessage, McpOutcome};
use crate::state::AppState;
use jsonrpc::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, Message, PARSE_ERROR, RpcError};
use results::{failure, success};
use tools::Tool;

/// The protocol revisions served, newest first.
pub const PROTOCOL_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];

/// The revision a request without `MCP-Protocol-Version` is taken to speak, as the 2025-06-18
/// revision asks.
const ASSUMED_VERSION: &str = "2025-03-26";

/// The header naming the revision a client negotiated.
const VERSION_HEADER: &str = "mcp-protocol-version";

/// The most messages of one batch (2025-03-26 only): each tool call in it is charged.
const MOST_IN_A_BATCH: usize = 32;

/// How this server introduces itself to an agent.
const INSTRUCTIONS: &str = "Tools for every model on OpenRouter. Use `chat` to ask a model \
    (give `model`, e.g. `openai/gpt-4o-mini`; `json_schema` for answers as fields; `file_url` \
    to read a PDF or image; `image_output` with an image model to draw). Use `list_models` to \
    find a model by words, modality, tool support or price, and `get_model_endpoints` for its \
    providers. `get_credits` tells what the account has left; `get_generation` what one \
    answer cost.";

/// The deployment's `PUBLIC_BASE_URL`, whose web pages may call the server (see
/// [`reply::refuse_foreign_origin`]).
#[derive(Debug, Clone)]
pub struct PublicOrigin(pub Option<PublicUrl>);

/// Mounts `POST /mcp` (and `405` with `Allow: POST` to other methods), with the deployment's
/// public address.
pub fn configure(origin: web::Data<PublicOrigin>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .app_data(origin)
            .service(routes::mount(routes::MCP, invoke));
    }
}

/// `POST /mcp`: one JSON-RPC message (or, in the 2025-03-26 revision, a batch).
#[utoipa::path(
    post,
    path = routes::MCP.path,
    operation_id = routes::MCP.operation_id,
    tag = "MCP",
    request_body(
        content = Value,
        description = "A JSON-RPC 2.0 message of MCP (or, in 2025-03-26, an array of them): `initialize`, `notifications/initialized`, `ping`, `tools/list` or `tools/call`.",
        example = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "chat", "arguments": {"prompt": "Hello", "model": "openai/gpt-4o-mini"}}})
    ),
    responses(
        (status = 200, description = "The JSON-RPC answer: a result, or an error for a method or parameters the server cannot serve. An array of them for a batch. As `text/event-stream` (one event) when `Accept` prefers it.", body = Value),
        (status = 202, description = "A notification or response, accepted: no body."),
        (status = 400, description = "Malformed JSON (`-32700`), not a JSON-RPC message or an unsupported `MCP-Protocol-Version` (`-32600`); the body is a JSON-RPC error.", body = Value),
        (status = 401, description = "No OpenRouter key.", body = crate::error::ErrorBody),
        (status = 403, description = "A web page of another origin sent it.", body = crate::error::ErrorBody),
        (status = 413, description = "The request body is too large.", body = crate::error::ErrorBody),
        (status = 503, description = "The service is restarting or busy; retry after `Retry-After`.", body = crate::error::ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn invoke(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    reply::refuse_foreign_origin(&req)?;
    let connection = Connection::uncharged(&req, &state)?;
    let mut room = BodyReservation::default();
    let body = read_body(&req, payload.into_inner(), &state, &mut room).await?;
    let request_id = RequestId::extract(&req)
        .await
        .unwrap_or_else(|_| RequestId::from_caller(None));
    let server = Server {
        req: &req,
        state: &state,
        connection: &connection,
        request_id: &request_id,
        stats: metrics::upstream_stats(&req),
    };
    let value = match serde_json::from_slice::<Value>(&body) {
        Ok(value) => value,
        Err(error) => {
            let problem = RpcError::new(
                PARSE_ERROR,
                format!("The body is not JSON: {error}. Send one JSON-RPC 2.0 message."),
            );
            return Ok(server.refuse(Value::Null, problem));
        }
    };
    drop(body);
    let version = req
        .headers()
        .get(VERSION_HEADER)
        .map(|value| value.to_str().unwrap_or_default().trim().to_owned());
    match value {
        Value::Array(batch) => server.batch(batch, version.as_deref()).await,
        single => server.single(single, version.as_deref()).await,
    }
}

/// One `POST /mcp` being served.
struct Server<'a> {
    req: &'a HttpRequest,
    state: &'a AppState,
    connection: &'a Connection,
    request_id: &'a RequestId,
    stats: crate::openrouter::UpstreamStats,
}

/// What serving one message came to: its answer (none for a notification) and its labels.
struct Served {
    answer: Option<Value>,
    labels: McpMessage,
}

impl Server<'_> {
    async fn single(&self, value: Value, version: Option<&str>) -> Result<HttpResponse, ApiError> {
        let message = Message::read(value);
        let initializing =
            matches!(&message, Message::Request { method, .. } if method == "initialize");
        if !initializing && let Some(problem) = unsupported(version) {
            let id = match &message {
                Message::Request { id, .. } | Message::Invalid { id, .. } => id.clone(),
                Message::Notification | Message::Response => Value::Null,
            };
            return Ok(self.refuse(id, problem));
        }
        if let Message::Invalid { id, why } = message {
            return Ok(self.refuse(id, RpcError::new(INVALID_REQUEST, invalid_words(why))));
        }
        let served = self.serve(message).await;
        self.req.extensions_mut().insert(served.labels);
        Ok(match served.answer {
            Some(answer) => reply::answer(self.req, &answer),
            None => HttpResponse::Accepted().finish(),
        })
    }

    async fn batch(
        &self,
        batch: Vec<Value>,
        version: Option<&str>,
    ) -> Result<HttpResponse, ApiError> {
        let version = version.unwrap_or(ASSUMED_VERSION);
        if let Some(problem) = unsupported(Some(version)) {
            return Ok(self.refuse(Value::Null, problem));
        }
        if version != ASSUMED_VERSION {
            let problem = RpcError::new(
                INVALID_REQUEST,
                format!(
                    "Batches are part of MCP 2025-03-26 only; in {version}, send one message \
                     per request."
                ),
            );
            return Ok(self.refuse(Value::Null, problem));
        }
        if batch.is_empty() || batch.len() > MOST_IN_A_BATCH {
            let problem = RpcError::new(
                INVALID_REQUEST,
                format!("A batch holds 1 to {MOST_IN_A_BATCH} messages."),
            );
            return Ok(self.refuse(Value::Null, problem));
        }
        // The messages are served at once (tool calls wait on OpenRouter side by side, within
        // `MAX_CONCURRENT_UPSTREAM`), their answers kept in the batch's order.
        let served = join_all(batch.into_iter().map(|value| async move {
            match Message::read(value) {
                Message::Invalid { id, why } => {
                    let problem = RpcError::new(INVALID_REQUEST, invalid_words(why));
                    let labels = protocol_error("invalid", &problem);
                    self.state.metrics.mcp_message(&labels, Duration::ZERO);
                    Served {
                        answer: Some(jsonrpc::error(id, &problem)),
                        labels,
                    }
                }
                message => self.serve(message).await,
            }
        }))
        .await;
        let answers: Vec<Value> = served.into_iter().filter_map(|s| s.answer).collect();
        self.req.extensions_mut().insert(McpMessage {
            method: "batch",
            tool: None,
            outcome: McpOutcome::Answered,
            error: None,
        });
        Ok(if answers.is_empty() {
            HttpResponse::Accepted().finish()
        } else {
            reply::answer(self.req, &Value::Array(answers))
        })
    }

    /// A message refused before it could be served: HTTP `400` with a JSON-RPC error.
    fn refuse(&self, id: Value, problem: RpcError) -> HttpResponse {
        let method = match problem.code {
            PARSE_ERROR => "unparsed",
            _ => "invalid",
        };
        let labels = protocol_error(method, &problem);
        self.state.metrics.mcp_message(&labels, Duration::ZERO);
        self.req.extensions_mut().insert(labels);
        HttpResponse::BadRequest()
            .content_type(ContentType::json())
            .body(jsonrpc::error(id, &problem).to_string())
    }

    /// Serves a message that is not invalid, and counts it.
    async fn serve(&self, message: Message) -> Served {
        let started = Instant::now();
        let Message::Request { id, method, params } = message else {
            let labels = answered("notification");
            self.state.metrics.mcp_message(&labels, Duration::ZERO);
            return Served {
                answer: None,
                labels,
            };
        };
        let (answer, labels) = match method.as_str() {
            "initialize" => match initialize(params.as_ref()) {
                Ok(result) => (jsonrpc::result(id, result), answered("initialize")),
                Err(problem) => (
                    jsonrpc::error(id, &problem),
                    protocol_error("initialize", &problem),
                ),
            },
            "ping" => (jsonrpc::result(id, json!({})), answered("ping")),
            "tools/list" => (
                jsonrpc::result(id, tools::listing().clone()),
                answered("tools/list"),
            ),
            "tools/call" => self.call_tool(id, params).await,
            _ => {
                let problem = RpcError::new(
                    METHOD_NOT_FOUND,
                    "This server has no such method; it serves initialize, ping, tools/list \
                     and tools/call.",
                );
                (
                    jsonrpc::error(id, &problem),
                    protocol_error("other", &problem),
                )
            }
        };
        self.state.metrics.mcp_message(&labels, started.elapsed());
        Served {
            answer: Some(answer),
            labels,
        }
    }

    /// A `tools/call`: charged once read (contract section 3), whatever it asks; then its
    /// parameters (`-32602`), its arguments against the tool's schema, and the tool.
    async fn call_tool(&self, id: Value, params: Option<Value>) -> (Value, McpMessage) {
        let (params, named) = tool_params(params);
        let label = Some(named.map_or("other", Tool::name));
        match self.state.limiter.charge(self.connection.id()).await {
            Ok(admission) => {
                self.req.extensions_mut().insert(admission);
            }
            Err(refusal) => {
                let error = ApiError::from(refusal);
                if matches!(error, ApiError::RateLimited { .. }) {
                    self.state.metrics.limiter_rejection();
                }
                return (
                    jsonrpc::result(id, failure(named, &error)),
                    failed(label, &error),
                );
            }
        }
        let (tool, arguments) = match params {
            Ok(params) => params,
            Err(problem) => {
                let mut labels = protocol_error("tools/call", &problem);
                labels.tool = label;
                return (jsonrpc::error(id, &problem), labels);
            }
        };
        let arguments = match arguments::checked(tool, arguments) {
            Ok(arguments) => arguments,
            Err(error) => {
                return (
                    jsonrpc::result(id, failure(Some(tool), &error)),
                    failed(label, &error),
                );
            }
        };
        let caller = Caller {
            key: self.connection.key(),
            request_id: self.request_id,
            stats: &self.stats,
        };
        match call::run(tool, arguments, &self.state.client, caller).await {
            Ok(answer) => {
                let labels = McpMessage {
                    tool: label,
                    ..answered("tools/call")
                };
                (jsonrpc::result(id, success(answer)), labels)
            }
            Err(error) => (
                jsonrpc::result(id, failure(Some(tool), &error)),
                failed(label, &error),
            ),
        }
    }
}

/// A `tools/call`'s tool and arguments, or why they cannot be served; and the tool, where one
/// was named, for the labels.
#[allow(clippy::type_complexity, reason = "one pair, read once")]
fn tool_params(
    params: Option<Value>,
) -> (Result<(Tool, Map<String, Value>), RpcError>, Option<Tool>) {
    let invalid = |message: String| Err(RpcError::new(INVALID_PARAMS, message));
    let Some(Value::Object(mut params)) = params else {
        let why = "tools/call needs `params`: an object with the tool's `name` and `arguments`.";
        return (invalid(why.to_owned()), None);
    };
    let Some(Value::String(name)) = params.remove("name") else {
        let why = "tools/call needs `params.name`, the tool's name, as a string.";
        return (invalid(why.to_owned()), None);
    };
    let Some(tool) = Tool::named(&name) else {
        let names: Vec<&str> = Tool::ALL.iter().map(|tool| tool.name()).collect();
        let why = format!(
            "There is no tool `{}`; the tools are {}.",
            name.chars().take(64).collect::<String>(),
            names.join(", ")
        );
        return (invalid(why), None);
    };
    match params.remove("arguments") {
        None | Some(Value::Null) => (Ok((tool, Map::new())), Some(tool)),
        Some(Value::Object(arguments)) => (Ok((tool, arguments)), Some(tool)),
        Some(_) => {
            let why = format!("The arguments of `{}` must be an object.", tool.name());
            (invalid(why), Some(tool))
        }
    }
}

/// The `initialize` result: the client's revision when this server speaks it, else the newest.
fn initialize(params: Option<&Value>) -> Result<Value, RpcError> {
    let asked = params
        .and_then(|params| params.get("protocolVersion"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::new(
                INVALID_PARAMS,
                "initialize needs `params.protocolVersion`: the MCP revision the client speaks, \
                 e.g. 2025-06-18.",
            )
        })?;
    let version = PROTOCOL_VERSIONS
        .into_iter()
        .find(|version| *version == asked)
        .unwrap_or(PROTOCOL_VERSIONS[0]);
    Ok(json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {
            "name": "openrouter-connector",
            "title": "OpenRouter",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "instructions": INSTRUCTIONS,
    }))
}

/// `-32600` for an `MCP-Protocol-Version` this server does not speak.
fn unsupported(version: Option<&str>) -> Option<RpcError> {
    let version = version?;
    if PROTOCOL_VERSIONS.contains(&version) {
        return None;
    }
    Some(RpcError::new(
        INVALID_REQUEST,
        format!(
            "This server does not speak MCP-Protocol-Version `{}`; it speaks {}.",
            version.chars().take(32).collect::<String>(),
            PROTOCOL_VERSIONS.join(", ")
        ),
    ))
}

fn invalid_words(why: &str) -> String {
    format!("Not a JSON-RPC 2.0 message: {why}.")
}

fn answered(method: &'static str) -> McpMessage {
    McpMessage {
        method,
        tool: None,
        outcome: McpOutcome::Answered,
        error: None,
    }
}

fn protocol_error(method: &'static str, problem: &RpcError) -> McpMessage {
    McpMessage {
        method,
        tool: None,
        outcome: McpOutcome::ProtocolError,
        error: Some(problem.for_log()),
    }
}

fn failed(tool: Option<&'static str>, error: &ApiError) -> McpMessage {
    McpMessage {
        method: "tools/call",
        tool,
        outcome: McpOutcome::ToolError,
        error: Some(error.for_log()),
    }
}
