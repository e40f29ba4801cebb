//! The `ListModels` action: every model on OpenRouter, optionally filtered; it also feeds the
//! `model` dropdown of the other actions.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::flat::decode;
use super::input::{ActionInput, Call, Fields};
use super::models::Model;
use super::models_fast::flat_model_list;
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::{Caller, OpenRouterClient};
use crate::routes;
use crate::state::AppState;

/// Filters for the model list, all optional and forwarded to OpenRouter.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListModelsQuery {
    /// Only models of this use case, e.g. `programming`, `roleplay`, `marketing`.
    pub category: Option<String>,
    /// Only models supporting these parameters, comma-separated, e.g. `tools,response_format`.
    pub supported_parameters: Option<String>,
    /// Only models giving out these modalities, comma-separated, e.g. `text,image`; `all` for every model.
    pub output_modalities: Option<String>,
}

impl ActionInput for ListModelsQuery {
    fn parse(req: &HttpRequest, _: Bytes) -> Result<Self, ApiError> {
        let mut fields = Fields::from_query(req.query_string())?;
        let query = ListModelsQuery {
            category: fields.take("category")?,
            supported_parameters: fields.take("supported_parameters")?,
            output_modalities: fields.take("output_modalities")?,
        };
        fields.finish()?;
        Ok(query)
    }
}

impl ListModelsQuery {
    fn pairs(&self) -> Vec<(&str, &str)> {
        [
            ("category", &self.category),
            ("supported_parameters", &self.supported_parameters),
            ("output_modalities", &self.output_modalities),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .collect()
    }
}

/// The models.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct ModelList {
    /// Every model that matches.
    pub data: Vec<Model>,
    /// Other fields OpenRouter sends beside the list, kept as they are.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// List models
///
/// Lists every model available on OpenRouter with its id, name, description, context length,
/// prices and supported parameters, optionally filtered by category, parameter or output.
#[utoipa::path(
    get,
    path = routes::LIST_MODELS.path,
    operation_id = routes::LIST_MODELS.operation_id,
    tag = "Connector actions",
    params(ListModelsQuery),
    responses(
        (status = 200, description = "The models.", body = ModelList),
        (status = 400, description = "An unknown or malformed query parameter; `metadata.field` names it.", body = ErrorBody),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 429, description = "Too many calls; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter failed.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list_models(
    call: Call<ListModelsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let flat = state
        .client
        .models(
            call.caller(),
            &call.input.pairs(),
            flat_model_list,
            checked_model_list,
        )
        .await?;
    // What `web::Json` answers, with the text written once.
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(flat))
}

/// The models matching `query`, asked of OpenRouter for `caller` and read whole (the MCP tool
/// `list_models` picks from them; the action hands OpenRouter's bytes on by the fast path).
pub async fn model_list(
    client: &OpenRouterClient,
    caller: Caller<'_>,
    query: &ListModelsQuery,
) -> Result<ModelList, ApiError> {
    client
        .models(caller, &query.pairs(), |_| None, decode)
        .await
}

/// The flat list the `Value` path writes: the checked answer decoded into [`ModelList`]. Writing
/// it cannot fail (names are strings, numbers are finite); were it to, that is OpenRouter's
/// answer not being one the service can give.
pub fn checked_model_list(answer: Value) -> Result<Vec<u8>, ApiError> {
    let list: ModelList = decode(answer)?;
    serde_json::to_vec(&list).map_err(|error| {
        ApiError::upstream_failed(format!(
            "OpenRouter's model list cannot be written: {error}."
        ))
    })
}
