//! `GenerationOptions`: the tuning, routing, reasoning and `extra` fields that Completion and
//! Chat Completion share, read strictly and written upstream under OpenRouter's names.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::input::{Fields, blank_as_none, check};
use crate::error::ApiError;

/// Tuning, routing and reasoning parameters, all optional.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct GenerationOptions {
    /// The most tokens the model may generate (at least 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, example = 256)]
    pub max_tokens: Option<i32>,
    /// Randomness, from 0 (focused) to 2 (very random).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    /// Nucleus sampling: consider only the tokens within this probability mass (0 to 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub top_p: Option<f64>,
    /// Consider only this many most likely tokens at each step (0 means no limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub top_k: Option<i32>,
    /// The least probability of a token, relative to the most likely one (0 to 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub min_p: Option<f64>,
    /// Consider only tokens with enough probability relative to the most likely one (0 to 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1)]
    pub top_a: Option<f64>,
    /// Discourage tokens in proportion to how often they already appeared (-2 to 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub frequency_penalty: Option<f64>,
    /// Discourage tokens that already appeared at all (-2 to 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = -2, maximum = 2)]
    pub presence_penalty: Option<f64>,
    /// Discourage repeating tokens from the input (above 0, at most 2; 1 means no change).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(exclusive_minimum = 0, maximum = 2)]
    pub repetition_penalty: Option<f64>,
    /// A seed for repeatable sampling, where the model supports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Up to 4 texts that end the generation when produced; a single text is accepted too.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::forms::StopForm>)]
    pub stop: Option<Vec<String>>,
    /// Return the log probabilities of the output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many most likely tokens to return at each position, with their log probabilities
    /// (0 to 20; needs `logprobs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 20)]
    pub top_logprobs: Option<u32>,
    /// An id for the end user, for OpenRouter's abuse detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Fallback models, tried in order when the first one is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// How OpenRouter picks the provider that serves the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderPreferences>,
    /// Prompt transforms such as `middle-out`, which compresses a prompt that is too long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transforms: Option<Vec<String>>,
    /// How much the model thinks before it answers, for reasoning models.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// Any other OpenRouter parameter, merged into the upstream request as is. A named field
    /// wins over the same key here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Map<String, Value>>,
}

/// How OpenRouter picks the provider that serves the model.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ProviderPreferences {
    /// Provider slugs to try in this order, e.g. `["openai", "azure"]`.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub order: Option<Vec<String>>,
    /// Use only these providers.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub only: Option<Vec<String>>,
    /// Never use these providers.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub ignore: Option<Vec<String>>,
    /// Whether other providers may serve the request when the preferred ones are unavailable.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_fallbacks: Option<bool>,
    /// Use only providers that support every parameter of the request.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub require_parameters: Option<bool>,
    /// Whether providers that may store or train on prompts are allowed: `allow` or `deny`.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub data_collection: Option<DataCollection>,
    /// Use only providers with zero data retention.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub zdr: Option<bool>,
    /// Prefer the cheapest (`price`), fastest (`throughput`) or quickest to answer (`latency`).
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub sort: Option<ProviderSort>,
    /// Use only providers serving these quantizations, e.g. `["fp8", "bf16"]`.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantizations: Option<Vec<String>>,
    /// The most you are willing to pay, in USD per million tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<MaxPrice>,
    /// Other provider preferences OpenRouter accepts, passed through as is.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// Whether providers that may store or train on prompts are allowed.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DataCollection {
    /// Allowed (OpenRouter's default).
    Allow,
    /// Not allowed.
    Deny,
}

/// What to optimise the provider choice for.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderSort {
    /// The lowest price.
    Price,
    /// The most tokens per second.
    Throughput,
    /// The shortest time to the first token.
    Latency,
}

/// The most you are willing to pay, in USD per million tokens (per request or image where
/// stated). Numbers and numeric strings are both accepted and sent as given.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct MaxPrice {
    /// Per million prompt tokens.
    #[serde(
        default,
        deserialize_with = "price",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub prompt: Option<Value>,
    /// Per million completion tokens.
    #[serde(
        default,
        deserialize_with = "price",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub completion: Option<Value>,
    /// Per request.
    #[serde(
        default,
        deserialize_with = "price",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub request: Option<Value>,
    /// Per image.
    #[serde(
        default,
        deserialize_with = "price",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub image: Option<Value>,
}

/// A price: a number of at least 0, or a string holding one (OpenRouter's spec uses strings,
/// its docs numbers).
fn price<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    use serde::de::Error;
    let value = Option::<Value>::deserialize(deserializer)?;
    let number = match &value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) if text.is_empty() => return Ok(None),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        Some(Value::Number(number)) => number.as_f64(),
        Some(_) => None,
    };
    match number {
        Some(number) if number.is_finite() && number >= 0.0 => Ok(value),
        _ => Err(D::Error::custom(
            "expected a price of at least 0, as a number or a numeric string",
        )),
    }
}

/// How much a reasoning model thinks before it answers.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct Reasoning {
    /// How hard to think: `none`, `minimal`, `low`, `medium`, `high` or `xhigh`.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub effort: Option<Effort>,
    /// The most tokens to spend on thinking.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(minimum = 1)]
    pub max_tokens: Option<i32>,
    /// Think, but leave the reasoning out of the answer.
    #[serde(
        default,
        deserialize_with = "blank_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub exclude: Option<bool>,
    /// Other reasoning settings OpenRouter accepts (such as `enabled`), passed through as is.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// How hard a reasoning model thinks.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    /// No reasoning.
    None,
    /// The least reasoning.
    Minimal,
    /// Little reasoning.
    Low,
    /// Some reasoning.
    Medium,
    /// Much reasoning.
    High,
    /// The most reasoning.
    Xhigh,
}

impl GenerationOptions {
    /// Takes the shared fields from a request, checking types and ranges.
    pub fn take_from(fields: &mut Fields) -> Result<GenerationOptions, ApiError> {
        let options = GenerationOptions {
            max_tokens: fields.take("max_tokens")?,
            temperature: fields.take("temperature")?,
            top_p: fields.take("top_p")?,
            top_k: fields.take("top_k")?,
            min_p: fields.take("min_p")?,
            top_a: fields.take("top_a")?,
            frequency_penalty: fields.take("frequency_penalty")?,
            presence_penalty: fields.take("presence_penalty")?,
            repetition_penalty: fields.take("repetition_penalty")?,
            seed: fields.take("seed")?,
            stop: take_stop(fields)?,
            logprobs: fields.take("logprobs")?,
            top_logprobs: fields.take("top_logprobs")?,
            user: fields.take("user")?,
            models: fields.take("models")?,
            provider: fields.take_object("provider", &["max_price"])?,
            transforms: fields.take("transforms")?,
            reasoning: fields.take_object("reasoning", &[])?,
            extra: fields.take("extra")?,
        };
        options.check_ranges()?;
        // Named here so that it is not called unknown and sent to `extra`, where it would be
        // overwritten: the actions answer once, and `false` is what they send anyway.
        let stream: Option<bool> = fields.take("stream")?;
        check(
            stream != Some(true),
            "stream",
            "cannot be true: the connector actions answer once, as Power Platform reads them; \
             stream through the OpenRouter-compatible API under /api/v1/ instead",
        )?;
        Ok(options)
    }

    fn check_ranges(&self) -> Result<(), ApiError> {
        let within = |value: Option<f64>, low: f64, high: f64| {
            value.is_none_or(|v| v.is_finite() && (low..=high).contains(&v))
        };
        check(
            self.max_tokens.is_none_or(|v| v >= 1),
            "max_tokens",
            "must be at least 1",
        )?;
        check(
            self.top_k.is_none_or(|v| v >= 0),
            "top_k",
            "must be at least 0",
        )?;
        check(
            within(self.temperature, 0.0, 2.0),
            "temperature",
            "must be between 0 and 2",
        )?;
        check(
            within(self.top_p, 0.0, 1.0),
            "top_p",
            "must be between 0 and 1",
        )?;
        check(
            within(self.min_p, 0.0, 1.0),
            "min_p",
            "must be between 0 and 1",
        )?;
        check(
            within(self.top_a, 0.0, 1.0),
            "top_a",
            "must be between 0 and 1",
        )?;
        for (name, value) in [
            ("frequency_penalty", self.frequency_penalty),
            ("presence_penalty", self.presence_penalty),
        ] {
            check(within(value, -2.0, 2.0), name, "must be between -2 and 2")?;
        }
        check(
            within(self.repetition_penalty, 0.0, 2.0) && self.repetition_penalty != Some(0.0),
            "repetition_penalty",
            "must be above 0 and at most 2",
        )?;
        check(
            self.top_logprobs.is_none_or(|v| v <= 20),
            "top_logprobs",
            "must be between 0 and 20",
        )?;
        check(
            self.stop.as_ref().is_none_or(|stop| stop.len() <= 4),
            "stop",
            "may hold at most 4 texts",
        )?;
        for (index, model) in self.models.iter().flatten().enumerate() {
            if let Err(rule) = crate::domain::ModelId::parse(model) {
                check(false, &format!("models[{index}]"), rule)?;
            }
        }
        check(
            self.transforms
                .iter()
                .flatten()
                .all(|item| !item.trim().is_empty()),
            "transforms",
            "must not contain empty texts",
        )?;
        if let Some(provider) = &self.provider {
            // Provider slugs are ids too: blanks are refused, not sent on.
            for (name, list) in [
                ("provider.order", &provider.order),
                ("provider.only", &provider.only),
                ("provider.ignore", &provider.ignore),
            ] {
                check(
                    list.iter().flatten().all(|slug| {
                        !slug.is_empty()
                            && !slug.chars().any(|c| c.is_whitespace() || c.is_control())
                    }),
                    name,
                    "must hold provider slugs without blanks or control characters (e.g. `openai`)",
                )?;
            }
        }
        if let Some(reasoning) = &self.reasoning {
            check(
                reasoning.max_tokens.is_none_or(|v| v >= 1),
                "reasoning.max_tokens",
                "must be at least 1",
            )?;
        }
        Ok(())
    }

    /// Writes these options into an upstream body: `extra` first, then every named field over
    /// it, so a named field wins.
    pub fn write_into(&self, body: &mut Map<String, Value>) {
        if let Some(extra) = &self.extra {
            for (name, value) in extra {
                body.insert(name.clone(), value.clone());
            }
        }
        if let Ok(Value::Object(mut named)) = serde_json::to_value(self) {
            named.remove("extra");
            body.extend(named);
        }
    }
}

/// `stop` is an array of texts; a single text is taken as an array of one.
fn take_stop(fields: &mut Fields) -> Result<Option<Vec<String>>, ApiError> {
    match fields.take::<Value>("stop")? {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(vec![text])),
        Some(other) => super::input::typed("stop", other).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(json: Value) -> Result<GenerationOptions, ApiError> {
        let mut fields = Fields::from_body(json.to_string().as_bytes()).unwrap();
        let options = GenerationOptions::take_from(&mut fields)?;
        fields.finish()?;
        Ok(options)
    }

    fn written(json: Value) -> Value {
        let mut body = Map::new();
        options(json).unwrap().write_into(&mut body);
        Value::Object(body)
    }

    #[test]
    fn a_single_stop_text_becomes_an_array() {
        assert_eq!(written(json!({"stop": "\n"}))["stop"], json!(["\n"]));
    }

    #[test]
    fn out_of_range_values_are_rejected_naming_the_field() {
        for (body, field) in [
            (json!({"temperature": 2.5}), "temperature"),
            (json!({"top_p": -0.1}), "top_p"),
            (json!({"max_tokens": 0}), "max_tokens"),
            (json!({"repetition_penalty": 0}), "repetition_penalty"),
            (json!({"top_logprobs": 21}), "top_logprobs"),
            (json!({"stop": ["a", "b", "c", "d", "e"]}), "stop"),
            (json!({"top_k": -1}), "top_k"),
            // An array where an object is due (serde would read it field by field).
            (json!({"provider": ["a"]}), "provider"),
            (
                json!({"provider": {"max_price": [null, null]}}),
                "provider.max_price",
            ),
            (json!({"reasoning": ["high"]}), "reasoning"),
            // Past the int32 the OpenAPI document promises.
            (json!({"max_tokens": 2_147_483_648_u64}), "max_tokens"),
            (json!({"top_k": 3_000_000_000_u64}), "top_k"),
            (
                json!({"reasoning": {"max_tokens": 4_294_967_295_u64}}),
                "reasoning.max_tokens",
            ),
            (json!({"provider": {"sort": "cheapest"}}), "provider.sort"),
            (
                json!({"provider": {"max_price": {"prompt": "free"}}}),
                "provider.max_price.prompt",
            ),
            (
                json!({"reasoning": {"effort": "extreme"}}),
                "reasoning.effort",
            ),
        ] {
            match options(body.clone()) {
                Err(ApiError::InvalidInput {
                    field: Some(got), ..
                }) => assert_eq!(got, field, "{body}"),
                other => panic!("{body} gave {other:?}"),
            }
        }
    }

    #[test]
    fn named_fields_win_over_extra() {
        let body = written(json!({"temperature": 0.2, "extra": {"temperature": 1.5, "foo": 1}}));
        assert_eq!(body["temperature"], json!(0.2));
        assert_eq!(body["foo"], json!(1));
    }

    #[test]
    fn max_price_accepts_numbers_and_numeric_strings_as_given() {
        let body = written(json!({"provider": {"max_price": {"prompt": 1, "completion": "2.5"}}}));
        assert_eq!(
            body["provider"]["max_price"],
            json!({"prompt": 1, "completion": "2.5"})
        );
    }

    #[test]
    fn unknown_provider_preferences_pass_through() {
        let body =
            written(json!({"provider": {"only": ["xai"], "enforce_distillable_text": true}}));
        assert_eq!(
            body["provider"],
            json!({"only": ["xai"], "enforce_distillable_text": true})
        );
    }
}
