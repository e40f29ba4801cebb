//! The `GetGeneration` action: the record OpenRouter keeps of one generation (cost, tokens,
//! timings, the provider attempts).

use actix_web::{HttpRequest, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use utoipa::{IntoParams, ToSchema};

use super::flat::{decode, unwrap_data};
use super::input::{ActionInput, Call, Fields, check};
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::{Caller, OpenRouterClient};
use crate::routes;
use crate::state::AppState;

/// Which generation to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GenerationQuery {
    /// The generation's id, as Completion or Chat Completion returned it in `id` (`gen-...`).
    #[param(pattern = "^[!-~]{1,256}$")]
    pub id: String,
}

impl ActionInput for GenerationQuery {
    fn parse(req: &HttpRequest, _: Bytes) -> Result<Self, ApiError> {
        let mut fields = Fields::from_query(req.query_string())?;
        // Blanks are refused below, not trimmed: `" gen-1"` is not `gen-1`.
        let id = fields.require_text("id")?;
        fields.finish()?;
        GenerationQuery::new(id)
    }
}

impl GenerationQuery {
    /// The query for the generation `id`: at most 256 printable ASCII characters, no blanks.
    pub fn new(id: String) -> Result<GenerationQuery, ApiError> {
        check(
            !id.is_empty()
                && id.len() <= 256
                && id.bytes().all(|b| b.is_ascii_graphic() && b != b'%'),
            "id",
            "must be a generation id such as `gen-1770044149-miW3zzivqGfQNbG1F8Rl`, without \
             blanks",
        )?;
        Ok(GenerationQuery { id })
    }
}

/// OpenRouter's record of one generation.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Generation {
    /// The generation's id.
    pub id: String,
    /// The model that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The provider that served it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    /// What the generation cost, in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<f64>,
    /// When it was made (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The web origin of the caller, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The credits charged, in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<f64>,
    /// Whether it ran on your own provider key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_byok: Option<bool>,
    /// The provider's own id for the generation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_id: Option<String>,
    /// What prompt caching saved, in USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_discount: Option<f64>,
    /// The OpenRouter app the call was attributed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub app_id: Option<Number>,
    /// Whether the answer was streamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streamed: Option<bool>,
    /// Whether the generation was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled: Option<bool>,
    /// Time to the first token, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub latency: Option<Number>,
    /// Time spent on moderation, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub moderation_latency: Option<Number>,
    /// Time spent generating, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub generation_time: Option<Number>,
    /// Why the answer ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// The provider's own word for why the answer ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_finish_reason: Option<String>,
    /// Prompt tokens, as OpenRouter counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub tokens_prompt: Option<Number>,
    /// Completion tokens, as OpenRouter counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub tokens_completion: Option<Number>,
    /// Prompt tokens, as the provider counts them (what you pay for).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub native_tokens_prompt: Option<Number>,
    /// Completion tokens, as the provider counts them (what you pay for).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub native_tokens_completion: Option<Number>,
    /// Reasoning tokens, as the provider counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub native_tokens_reasoning: Option<Number>,
    /// Images, audio or files in the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub num_media_prompt: Option<Number>,
    /// Images, audio or files in the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub num_media_completion: Option<Number>,
    /// Web search results given to the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub num_search_results: Option<Number>,
    /// Each provider tried, in order, with its status and latency.
    #[schema(value_type = Vec<Object>)]
    pub provider_responses: Vec<Value>,
    /// Other details OpenRouter sends, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// Get a generation
///
/// Returns OpenRouter's record of one generation: its cost, token counts, timings, finish
/// reason and every provider tried. The record appears a few seconds after the generation.
#[utoipa::path(
    get,
    path = routes::GET_GENERATION.path,
    operation_id = routes::GET_GENERATION.operation_id,
    tag = "Connector actions",
    params(GenerationQuery),
    responses(
        (status = 200, description = "The generation's record.", body = Generation),
        (status = 400, description = "`id` is missing or empty.", body = ErrorBody),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 404, description = "No such generation (yet: records appear a few seconds after the generation).", body = ErrorBody),
        (status = 429, description = "Too many calls; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter failed.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_generation(
    call: Call<GenerationQuery>,
    state: web::Data<AppState>,
) -> Result<web::Json<Generation>, ApiError> {
    Ok(web::Json(
        generation(&state.client, call.caller(), &call.input).await?,
    ))
}

/// OpenRouter's record of the generation `query` names, asked for `caller` (also the MCP tool
/// `get_generation`).
pub async fn generation(
    client: &OpenRouterClient,
    caller: Caller<'_>,
    query: &GenerationQuery,
) -> Result<Generation, ApiError> {
    let answer = client.generation(caller, &query.id).await?;
    decode(unwrap_data(answer))
}
