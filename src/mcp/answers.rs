//! What each tool answers an agent: the actions' answers cut to what a planner reads (a model
//! list of a few hundred bytes a model, not OpenRouter's catalogue), prices per million tokens.
//! Each type is the `structuredContent` its tool's `outputSchema` describes: a field without a
//! value is left out, never `null`.

use serde::Serialize;
use serde_json::{Number, Value};

use crate::actions::chat_answer::ChatCompletionResponse;
use crate::actions::get_credits::Credits;
use crate::actions::get_generation::Generation;
use crate::actions::list_model_endpoints::{Endpoint, ModelEndpoints};
use crate::actions::models::{Model, Pricing};

/// The `chat` tool's answer.
#[derive(Debug, Serialize)]
pub struct ChatAnswer {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refusal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parsed: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<ImageNote>,
}

/// A picture the model drew, named in the answer; its bytes go in an image content block.
#[derive(Debug, Serialize)]
struct ImageNote {
    name: String,
    content_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// A picture's bytes, for an MCP image content block.
#[derive(Debug, PartialEq)]
pub struct Picture {
    /// Base64.
    pub data: String,
    /// Its MIME type.
    pub mime_type: String,
}

impl ChatAnswer {
    /// The answer of Chat Completion, and the pictures in it.
    pub fn of(answer: ChatCompletionResponse) -> (ChatAnswer, Vec<Picture>) {
        let mut pictures = Vec::new();
        let images = answer
            .images
            .into_iter()
            .map(|image| {
                if let Some(data) = image.content {
                    pictures.push(Picture {
                        data,
                        mime_type: image.content_type.clone(),
                    });
                }
                ImageNote {
                    name: image.name,
                    content_type: image.content_type,
                    url: image.url,
                }
            })
            .collect();
        let usage = answer.usage.as_ref();
        let chat = ChatAnswer {
            text: answer.content,
            refusal: answer.refusal,
            // JSON `null` is a value the schema may allow, yet a field of `null` is one left out.
            parsed: answer.parsed.filter(|parsed| !parsed.is_null()),
            model: answer.model,
            provider: answer.provider,
            finish_reason: answer.finish_reason,
            generation_id: answer.id,
            prompt_tokens: usage.and_then(|usage| usage.prompt_tokens),
            completion_tokens: usage.and_then(|usage| usage.completion_tokens),
            cost: usage.and_then(|usage| usage.cost),
            images,
        };
        (chat, pictures)
    }
}

/// The `list_models` tool's answer.
#[derive(Debug, Serialize)]
pub struct ModelChoices {
    models: Vec<ModelNote>,
    total: usize,
}

#[derive(Debug, Serialize)]
struct ModelNote {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_length: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_price: Option<f64>,
}

/// What an agent asked `list_models` for beyond OpenRouter's own filters.
#[derive(Debug, Default)]
pub struct ModelFilter {
    /// Words that must each appear in the id, name or description (any letter case).
    pub search: Vec<String>,
    /// A modality the model must take in.
    pub input_modality: Option<String>,
    /// A modality the model must give out.
    pub output_modality: Option<String>,
    /// Whether the model must (or must not) call tools.
    pub supports_tools: Option<bool>,
    /// The highest prompt price, in USD per million tokens.
    pub max_prompt_price: Option<f64>,
    /// The most models to list.
    pub limit: usize,
}

impl ModelFilter {
    fn keeps(&self, model: &Model) -> bool {
        let words = || {
            [
                Some(&model.id),
                model.name.as_ref(),
                model.description.as_ref(),
            ]
            .into_iter()
            .flatten()
        };
        let found = |word: &String| words().any(|text| text.to_lowercase().contains(word));
        let has = |list: Option<&Vec<String>>, wanted: &Option<String>| match wanted {
            None => true,
            Some(wanted) => list.is_some_and(|list| list.contains(wanted)),
        };
        let architecture = model.architecture.as_ref();
        let tools = model.supported_parameters.iter().any(|p| p == "tools");
        let price = per_million(model.pricing.as_ref().and_then(|p| p.prompt.as_deref()));
        self.search.iter().all(found)
            && has(
                architecture.map(|a| &a.input_modalities),
                &self.input_modality,
            )
            && has(
                architecture.map(|a| &a.output_modalities),
                &self.output_modality,
            )
            && self.supports_tools.is_none_or(|wanted| wanted == tools)
            && self
                .max_prompt_price
                .is_none_or(|most| price.is_some_and(|price| price <= most))
    }
}

impl ModelChoices {
    /// The models of `list` that `filter` keeps, at most its limit.
    pub fn of(list: Vec<Model>, filter: &ModelFilter) -> ModelChoices {
        let kept: Vec<Model> = list.into_iter().filter(|m| filter.keeps(m)).collect();
        let total = kept.len();
        let models = kept
            .into_iter()
            .take(filter.limit)
            .map(|model| {
                let (prompt_price, completion_price) = prices(model.pricing.as_ref());
                ModelNote {
                    id: model.id,
                    name: model.name,
                    context_length: model.context_length.as_ref().and_then(whole),
                    prompt_price,
                    completion_price,
                }
            })
            .collect();
        ModelChoices { models, total }
    }
}

/// The `get_model_endpoints` tool's answer.
#[derive(Debug, Serialize)]
pub struct ProviderChoices {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    endpoints: Vec<ProviderNote>,
}

#[derive(Debug, Serialize)]
struct ProviderNote {
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_length: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quantization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uptime_last_30m: Option<f64>,
}

impl ProviderChoices {
    /// The providers of List Model Endpoints' answer.
    pub fn of(model: ModelEndpoints) -> ProviderChoices {
        let endpoint = |endpoint: Endpoint| {
            let (prompt_price, completion_price) = prices(endpoint.pricing.as_ref());
            ProviderNote {
                provider: endpoint.provider_name.or(endpoint.name),
                context_length: endpoint.context_length.as_ref().and_then(whole),
                max_completion_tokens: endpoint.max_completion_tokens.as_ref().and_then(whole),
                prompt_price,
                completion_price,
                quantization: endpoint.quantization,
                uptime_last_30m: endpoint.uptime_last_30m.as_ref().and_then(Number::as_f64),
            }
        };
        ProviderChoices {
            id: model.id,
            name: model.name,
            endpoints: model.endpoints.into_iter().map(endpoint).collect(),
        }
    }
}

/// The `get_credits` tool's answer.
#[derive(Debug, Serialize)]
pub struct CreditsNote {
    total_credits: f64,
    total_usage: f64,
    remaining: f64,
}

impl CreditsNote {
    /// Get Credits' three totals.
    pub fn of(credits: Credits) -> CreditsNote {
        CreditsNote {
            total_credits: credits.total_credits,
            total_usage: credits.total_usage,
            remaining: credits.remaining,
        }
    }
}

/// The `get_generation` tool's answer.
#[derive(Debug, Serialize)]
pub struct GenerationNote {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_tokens: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_time_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled: Option<bool>,
}

impl GenerationNote {
    /// Get Generation's record, with the token counts that are billed (the provider's own,
    /// else OpenRouter's).
    pub fn of(record: Generation) -> GenerationNote {
        let count = |native: &Option<Number>, ours: &Option<Number>| {
            native
                .as_ref()
                .and_then(whole)
                .or(ours.as_ref().and_then(whole))
        };
        GenerationNote {
            prompt_tokens: count(&record.native_tokens_prompt, &record.tokens_prompt),
            completion_tokens: count(&record.native_tokens_completion, &record.tokens_completion),
            reasoning_tokens: record.native_tokens_reasoning.as_ref().and_then(whole),
            latency_ms: record.latency.as_ref().and_then(Number::as_f64),
            generation_time_ms: record.generation_time.as_ref().and_then(Number::as_f64),
            id: record.id,
            model: record.model,
            provider: record.provider_name,
            total_cost: record.total_cost.filter(|cost| cost.is_finite()),
            created_at: record.created_at,
            finish_reason: record.finish_reason,
            cancelled: record.cancelled,
        }
    }
}

/// A count OpenRouter sent as a number: an integer, or a float with no fraction.
fn whole(number: &Number) -> Option<i64> {
    number.as_i64().or_else(|| {
        let float = number.as_f64()?;
        let fits = float.fract() == 0.0 && float.abs() < 9.0e15;
        fits.then_some(float as i64)
    })
}

fn prices(pricing: Option<&Pricing>) -> (Option<f64>, Option<f64>) {
    (
        per_million(pricing.and_then(|p| p.prompt.as_deref())),
        per_million(pricing.and_then(|p| p.completion.as_deref())),
    )
}

/// A price per token, as OpenRouter writes it (`"0.00000015"`), in USD per million tokens
/// (`0.15`), to a millionth of a dollar. Variable prices (`"-1"`) and what is not a number
/// have none.
pub fn per_million(per_token: Option<&str>) -> Option<f64> {
    let per_token: f64 = per_token?.trim().parse().ok()?;
    let price = (per_token * 1e12).round() / 1e6;
    (price.is_finite() && price >= 0.0).then_some(price)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_per_token_becomes_one_per_million_without_float_dust() {
        assert_eq!(per_million(Some("0.00000015")), Some(0.15));
        assert_eq!(per_million(Some("0.000003")), Some(3.0));
        assert_eq!(per_million(Some("0")), Some(0.0));
    }

    #[test]
    fn a_variable_or_unreadable_price_has_none() {
        for text in ["-1", "free", "", "1e400", "NaN"] {
            assert_eq!(per_million(Some(text)), None, "{text}");
        }
        assert_eq!(per_million(None), None);
    }

    #[test]
    fn a_count_sent_as_a_float_without_fraction_is_whole() {
        assert_eq!(whole(&Number::from_f64(128000.0).unwrap()), Some(128000));
        assert_eq!(whole(&Number::from_f64(1.5).unwrap()), None);
        assert_eq!(whole(&Number::from(7u64)), Some(7));
    }
}
