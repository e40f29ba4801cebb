//! The model description that List Models and List Model Endpoints share.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};
use utoipa::ToSchema;

/// Prices in USD per token (or per request or image), as the strings OpenRouter sends.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Pricing {
    /// Per prompt token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Per completion token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion: Option<String>,
    /// Per request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Per input image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Other prices OpenRouter sends (such as `web_search` or `input_cache_read`).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// What a model takes in and gives out.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Architecture {
    /// Inputs and outputs in one, e.g. `text+image->text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modality: Option<String>,
    /// What the model takes in, e.g. `text`, `image`, `file`.
    pub input_modalities: Vec<String>,
    /// What the model gives out, e.g. `text`.
    pub output_modalities: Vec<String>,
    /// The tokenizer family, e.g. `GPT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// The instruction format, e.g. `chatml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruct_type: Option<String>,
    /// Other details OpenRouter sends.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// One model on OpenRouter.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Model {
    /// The id to pass as `model`, e.g. `openai/gpt-4o-mini`.
    pub id: String,
    /// A display name, e.g. `OpenAI: GPT-4o-mini`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the model is good at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the model was added, in Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub created: Option<Number>,
    /// The most tokens of prompt and answer together.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub context_length: Option<Number>,
    /// What the model costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// What the model takes in and gives out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// The limits of the provider that serves the model best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_provider: Option<TopProvider>,
    /// The request parameters the model supports, e.g. `tools`, `response_format`.
    pub supported_parameters: Vec<String>,
    /// Other details OpenRouter sends (such as `canonical_slug` or `knowledge_cutoff`).
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// The limits of the provider that serves a model best.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct TopProvider {
    /// The most tokens of prompt and answer together.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub context_length: Option<Number>,
    /// The most tokens the model may generate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub max_completion_tokens: Option<Number>,
    /// Whether OpenRouter moderates the model's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_moderated: Option<bool>,
    /// Other details OpenRouter sends.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}
