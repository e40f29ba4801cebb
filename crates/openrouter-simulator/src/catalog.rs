//! The model catalogue: `GET /models` and `GET /models/{author}/{slug}/endpoints`.

use bytes::Bytes;
use serde_json::{Value, json};

/// The facts a catalogue entry is built from.
struct ModelSpec {
    id: String,
    canonical_slug: String,
    hugging_face_id: &'static str,
    name: String,
    created: u64,
    description: String,
    context_length: u64,
    inputs: &'static [&'static str],
    tokenizer: &'static str,
    instruct_type: Option<&'static str>,
    prompt: &'static str,
    completion: &'static str,
    max_completion_tokens: Option<u64>,
    knowledge_cutoff: Option<&'static str>,
}

/// A real-looking model, as a constant table row.
struct Known {
    id: &'static str,
    dated: &'static str,
    hf: &'static str,
    name: &'static str,
    created: u64,
    ctx: u64,
    inputs: &'static [&'static str],
    tokenizer: &'static str,
    instruct: Option<&'static str>,
    prices: (&'static str, &'static str),
    max: Option<u64>,
}

/// Input modalities of the multimodal models.
const MULTI: &[&str] = &["text", "image", "file"];

/// The real-looking models listed first.
const KNOWN: &[Known] = &[
    Known {
        id: "openai/gpt-4o-mini",
        dated: "-2024-07-18",
        hf: "",
        name: "OpenAI: GPT-4o-mini",
        created: 1_721_260_800,
        ctx: 128_000,
        inputs: MULTI,
        tokenizer: "GPT",
        instruct: None,
        prices: ("0.00000015", "0.0000006"),
        max: Some(16_384),
    },
    Known {
        id: "anthropic/claude-sonnet-4.5",
        dated: "-20250929",
        hf: "",
        name: "Anthropic: Claude Sonnet 4.5",
        created: 1_759_161_676,
        ctx: 1_000_000,
        inputs: MULTI,
        tokenizer: "Claude",
        instruct: None,
        prices: ("0.000003", "0.000015"),
        max: Some(64_000),
    },
    Known {
        id: "google/gemini-2.5-flash",
        dated: "",
        hf: "",
        name: "Google: Gemini 2.5 Flash",
        created: 1_750_172_488,
        ctx: 1_048_576,
        inputs: &["text", "image", "file", "audio", "video"],
        tokenizer: "Gemini",
        instruct: None,
        prices: ("0.0000003", "0.0000025"),
        max: Some(65_535),
    },
    Known {
        id: "x-ai/grok-4",
        dated: "-07-09",
        hf: "",
        name: "xAI: Grok 4",
        created: 1_752_087_689,
        ctx: 256_000,
        inputs: MULTI,
        tokenizer: "Grok",
        instruct: None,
        prices: ("0.000003", "0.000015"),
        max: None,
    },
    Known {
        id: "meta-llama/llama-3.1-405b-instruct",
        dated: "",
        hf: "meta-llama/Llama-3.1-405B-Instruct",
        name: "Meta: Llama 3.1 405B Instruct",
        created: 1_721_692_800,
        ctx: 131_072,
        inputs: &["text"],
        tokenizer: "Llama3",
        instruct: Some("llama3"),
        prices: ("0.0000008", "0.0000008"),
        max: None,
    },
];

/// The real-looking models as specs.
fn known() -> impl Iterator<Item = ModelSpec> {
    KNOWN.iter().map(|k| ModelSpec {
        id: k.id.to_string(),
        canonical_slug: format!("{}{}", k.id, k.dated),
        hugging_face_id: k.hf,
        name: k.name.to_string(),
        created: k.created,
        description: format!("{} as served by the local OpenRouter simulator.", k.name),
        context_length: k.ctx,
        inputs: k.inputs,
        tokenizer: k.tokenizer,
        instruct_type: k.instruct,
        prompt: k.prices.0,
        completion: k.prices.1,
        max_completion_tokens: k.max,
        knowledge_cutoff: Some("2024-10-01"),
    })
}

/// The spec of the `index`-th listed model (0-based); past the known ones, generated models.
fn nth(index: usize, known: &mut impl Iterator<Item = ModelSpec>) -> ModelSpec {
    known.next().unwrap_or_else(|| {
        let n = index + 1;
        let id = format!("simulator/model-{n:03}");
        ModelSpec {
            canonical_slug: id.clone(),
            id,
            hugging_face_id: "",
            name: format!("Simulator: Model {n}"),
            created: 1_700_000_000 + u64::try_from(n).unwrap_or(0) * 3_600,
            description: format!("Generated model number {n} of the local OpenRouter simulator."),
            context_length: 32_768,
            inputs: &["text"],
            tokenizer: "Other",
            instruct_type: None,
            prompt: "0.000001",
            completion: "0.000002",
            max_completion_tokens: None,
            knowledge_cutoff: None,
        }
    })
}

/// The `architecture` object of a model.
fn architecture(m: &ModelSpec) -> Value {
    json!({
        "modality": format!("{}->text", m.inputs.join("+")),
        "input_modalities": m.inputs,
        "output_modalities": ["text"],
        "tokenizer": m.tokenizer,
        "instruct_type": m.instruct_type
    })
}

/// The parameters every simulated model supports.
const SUPPORTED: &[&str] = &[
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "max_tokens",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "structured_outputs",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
];

/// One `/models` entry in the real shape (see the x-ai/grok-4.20 capture).
fn entry(m: &ModelSpec) -> Value {
    json!({
        "id": m.id,
        "canonical_slug": m.canonical_slug,
        "hugging_face_id": m.hugging_face_id,
        "name": m.name,
        "created": m.created,
        "description": m.description,
        "context_length": m.context_length,
        "architecture": architecture(m),
        "pricing": {"prompt": m.prompt, "completion": m.completion, "request": "0", "image": "0"},
        "top_provider": {
            "context_length": m.context_length,
            "max_completion_tokens": m.max_completion_tokens,
            "is_moderated": m.id.starts_with("openai/")
        },
        "per_request_limits": null,
        "supported_parameters": SUPPORTED,
        "default_parameters": {
            "temperature": null, "top_p": null, "top_k": null, "frequency_penalty": null,
            "presence_penalty": null, "repetition_penalty": null
        },
        "knowledge_cutoff": m.knowledge_cutoff,
        "expiration_date": null,
        "links": {"details": format!("/api/v1/models/{}/endpoints", m.canonical_slug)}
    })
}

/// The serialized `GET /models` body with `count` models.
pub(crate) fn models_body(count: usize) -> Bytes {
    let mut known = known();
    let data: Vec<Value> = (0..count).map(|i| entry(&nth(i, &mut known))).collect();
    Bytes::from(json!({ "data": data }).to_string())
}

/// Whether OpenRouter would know `id` in a catalogue of `count` listed models: the
/// real-looking models, the generated `simulator/model-NNN` ones, and `openrouter/auto`; a
/// variant suffix such as `:free` or `:online` names the same model.
pub(crate) fn is_known(id: &str, count: usize) -> bool {
    let base = id.split_once(':').map_or(id, |(base, _)| base);
    if base == "openrouter/auto" || KNOWN.iter().any(|k| k.id == base) {
        return true;
    }
    base.strip_prefix("simulator/model-")
        .and_then(|n| n.parse::<usize>().ok())
        .is_some_and(|n| n > KNOWN.len() && n <= count)
}

/// The `GET /models/{author}/{slug}/endpoints` body for model `author/slug`.
pub(crate) fn endpoints(author: &str, slug: &str) -> Value {
    let id = format!("{author}/{slug}");
    let spec = known().find(|m| m.id == id).unwrap_or_else(|| ModelSpec {
        canonical_slug: id.clone(),
        hugging_face_id: "",
        name: format!("{author}: {slug}"),
        created: 1_700_000_000,
        description: format!("{id} as served by the local OpenRouter simulator."),
        context_length: 32_768,
        inputs: &["text"],
        tokenizer: "Other",
        instruct_type: None,
        prompt: "0.000001",
        completion: "0.000002",
        max_completion_tokens: Some(4_096),
        knowledge_cutoff: None,
        id: id.clone(),
    });
    let provider = match author {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "google" => "Google",
        "x-ai" => "xAI",
        "meta-llama" => "DeepInfra",
        _ => "Simulator",
    };
    let model_name = spec
        .name
        .split_once(": ")
        .map_or(spec.name.as_str(), |(_, n)| n);
    json!({"data": {
        "id": spec.id,
        "name": model_name,
        "created": spec.created,
        "description": spec.description,
        "architecture": architecture(&spec),
        "endpoints": [{
            "name": format!("{provider} | {}", spec.canonical_slug),
            "model_id": spec.id,
            "model_name": model_name,
            "context_length": spec.context_length,
            "pricing": {"prompt": spec.prompt, "completion": spec.completion, "request": "0", "image": "0"},
            "provider_name": provider,
            "tag": provider.to_ascii_lowercase(),
            "quantization": "fp16",
            "max_completion_tokens": spec.max_completion_tokens,
            "max_prompt_tokens": spec.context_length,
            "supported_parameters": SUPPORTED,
            "status": 0,
            "uptime_last_30m": 99.5,
            "uptime_last_5m": 100,
            "uptime_last_1d": 99.8,
            "supports_implicit_caching": true,
            "latency_last_30m": {"p50": 0.25, "p75": 0.35, "p90": 0.48, "p99": 0.85},
            "throughput_last_30m": {"p50": 45.2, "p75": 38.5, "p90": 28.3, "p99": 15.1}
        }]
    }})
}
