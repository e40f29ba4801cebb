//! The `ListModelEndpoints` action: the providers that serve one model, with their prices,
//! limits and uptime.

use actix_web::{FromRequest, HttpRequest, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use utoipa::{IntoParams, ToSchema};

use super::flat::{decode, unwrap_data};
use super::input::{ActionInput, Call, Fields, check};
use super::models::{Architecture, Pricing};
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::{Caller, OpenRouterClient};
use crate::routes;
use crate::state::AppState;

/// The model to look up, as the two halves of its id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ModelPath {
    /// The model's author, the part of its id before the `/`, e.g. `openai`.
    pub author: String,
    /// The model's slug, the part of its id after the `/`, e.g. `gpt-4o-mini` or
    /// `gemini-2.5-flash:free`.
    pub slug: String,
}

impl ActionInput for ModelPath {
    fn parse(req: &HttpRequest, _: Bytes) -> Result<Self, ApiError> {
        Fields::from_query(req.query_string())?.finish()?;
        let (author, slug) = web::Path::<(String, String)>::extract(req)
            .into_inner()
            .map_err(|_| {
                ApiError::invalid(
                    "author",
                    "The path must be /connector/v1/models/{author}/{slug}/endpoints.",
                )
            })?
            .into_inner();
        ModelPath::new(author, slug)
    }
}

impl ModelPath {
    /// The path of the model `author/slug`; each half non-empty, without `/`, blanks, `%` or
    /// control characters, and not `.` or `..`.
    pub fn new(author: String, slug: String) -> Result<ModelPath, ApiError> {
        for (name, value) in [("author", &author), ("slug", &slug)] {
            // Blanks are refused, not trimmed: `" openai"` is not `openai`.
            check(!value.is_empty(), name, "must not be empty")?;
            check(
                !value.contains('/'),
                name,
                "must not contain `/`; give the id's two halves as author and slug",
            )?;
            check(
                value != "." && value != "..",
                name,
                "must be a model id part, not `.` or `..`",
            )?;
            check(
                !value
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '%' || c == '\u{FFFD}'),
                name,
                "must not contain spaces, `%`, control characters or bytes that are not UTF-8",
            )?;
        }
        Ok(ModelPath { author, slug })
    }
}

/// A model and the providers that serve it.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ModelEndpoints {
    /// The model's id.
    pub id: String,
    /// The model's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the model was added, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub created: Option<Number>,
    /// What the model is good at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What the model takes in and gives out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// The providers serving the model.
    pub endpoints: Vec<Endpoint>,
    /// Other details OpenRouter sends.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// One provider serving a model.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Endpoint {
    /// The endpoint's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The provider, e.g. `OpenAI`; usable in `provider.order`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// The most tokens of prompt and answer together.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub context_length: Option<Number>,
    /// What this provider charges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// The weights' precision, e.g. `fp8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// The most tokens this provider generates.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub max_completion_tokens: Option<Number>,
    /// The most prompt tokens this provider takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub max_prompt_tokens: Option<Number>,
    /// The request parameters this provider supports.
    pub supported_parameters: Vec<String>,
    /// The provider's state (0 is normal; below 0 is degraded).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub status: Option<Number>,
    /// The share of successful calls in the last 30 minutes, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub uptime_last_30m: Option<Number>,
    /// The provider's tag, usable in `provider.order`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Other details OpenRouter sends (such as latency and throughput figures).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// List a model's providers
///
/// Lists the providers that serve one model, with each one's prices, context length, limits,
/// supported parameters and recent uptime, to choose `provider` routing.
#[utoipa::path(
    get,
    path = routes::LIST_MODEL_ENDPOINTS.path,
    operation_id = routes::LIST_MODEL_ENDPOINTS.operation_id,
    tag = "Connector actions",
    params(ModelPath),
    responses(
        (status = 200, description = "The model and its providers.", body = ModelEndpoints),
        (status = 400, description = "`author` or `slug` is empty or holds a `/`.", body = ErrorBody),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 404, description = "No such model.", body = ErrorBody),
        (status = 429, description = "Too many calls; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter failed.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_model_endpoints(
    call: Call<ModelPath>,
    state: web::Data<AppState>,
) -> Result<web::Json<ModelEndpoints>, ApiError> {
    Ok(web::Json(
        model_endpoints(&state.client, call.caller(), &call.input).await?,
    ))
}

/// The providers serving the model at `path`, asked for `caller` (also the MCP tool
/// `get_model_endpoints`).
pub async fn model_endpoints(
    client: &OpenRouterClient,
    caller: Caller<'_>,
    path: &ModelPath,
) -> Result<ModelEndpoints, ApiError> {
    let answer = client
        .model_endpoints(caller, &path.author, &path.slug)
        .await?;
    decode(unwrap_data(answer))
}
