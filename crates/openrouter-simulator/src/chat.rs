//! Default answers for `POST /chat/completions` and the legacy `POST /completions`.

use serde_json::{Map, Value, json};

use super::State;
use super::canned::{PADDING, error, generation_id, now, random_alnum};
use super::catalog;
use super::forms;
use super::recorded::RecordedRequest;
use super::reply::Reply;

/// Model used when the request names none.
const DEFAULT_MODEL: &str = "openai/gpt-4o-mini";
/// Comment events OpenRouter sends while it waits for the provider.
const PROCESSING: &str = ": OPENROUTER PROCESSING\n\n";

/// What the request asked for, in the parts the defaults use.
struct Ask {
    model: String,
    stream: bool,
    prompt_tokens: u64,
}

/// Parses the body as a JSON object; `None` when it is not one.
fn parse_object(request: &RecordedRequest) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Reads `model` (or the first of `models`), `stream` and a rough prompt size.
fn ask(body: &Map<String, Value>, prompt_chars: usize) -> Ask {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .or_else(|| body.get("models")?.get(0)?.as_str())
        .unwrap_or(DEFAULT_MODEL)
        .to_string();
    Ask {
        model,
        stream: body.get("stream").and_then(Value::as_bool) == Some(true),
        prompt_tokens: tokens(prompt_chars) + 4,
    }
}

/// OpenRouter's `400` for a model it does not know, as recorded (`acme/fake-1.0 is not a valid
/// model ID`), when the request names one (in `model` or `models`) and the simulator checks.
fn unknown_model(state: &State, body: &Map<String, Value>) -> Option<Reply> {
    if !state.options.known_models_only {
        return None;
    }
    let named = body
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .into_iter()
        .chain(
            body.get("models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
    let unknown = named
        .into_iter()
        .find(|id| !catalog::is_known(id, state.options.model_count))?;
    Some(Reply::json(
        400,
        json!({"error": {
            "code": 400,
            "message": format!("{unknown} is not a valid model ID"),
            "metadata": {"error_type": "invalid_request", "availability": {
                "code": "model_not_found", "retryable": false, "requested_models": [unknown]
            }}
        }}),
    ))
}

/// A rough token count: one token per four characters, at least one.
fn tokens(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4).max(1)).unwrap_or(u64::MAX)
}

/// The provider that serves a model, named the way OpenRouter reports it.
fn provider(model: &str) -> &'static str {
    match model.split('/').next().unwrap_or_default() {
        "openai" => "OpenAI",
        "anthropic" => "Anthropic",
        "google" => "Google",
        "x-ai" => "xAI",
        "mistralai" => "Mistral",
        "meta-llama" => "DeepInfra",
        "deepseek" => "DeepSeek",
        _ => "Simulator",
    }
}

/// The text of a message's `content`: a string, or the `text` parts of an array joined by spaces.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Real-shaped usage with a price like gpt-4o-mini's.
fn usage(prompt: u64, completion: u64) -> Value {
    let prompt_cost = prompt as f64 * 0.000_000_15;
    let completion_cost = completion as f64 * 0.000_000_6;
    let cost = prompt_cost + completion_cost;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost": cost,
        "is_byok": false,
        "prompt_tokens_details": {"cached_tokens": 0},
        "cost_details": {
            "upstream_inference_cost": cost,
            "upstream_inference_prompt_cost": prompt_cost,
            "upstream_inference_completions_cost": completion_cost
        },
        "completion_tokens_details": {"reasoning_tokens": 0}
    })
}

/// Splits text into stream pieces: the first word, then each following word with its leading space.
fn pieces(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_string()
            } else {
                format!(" {w}")
            }
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// The function to call, when the request has tools and asks (or hints) for a call.
fn tool_to_call(body: &Map<String, Value>, last_user: &str) -> Option<String> {
    let tools = body.get("tools")?.as_array()?;
    let first = tools
        .first()?
        .pointer("/function/name")?
        .as_str()?
        .to_string();
    let hinted = last_user
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case("tool") || w.eq_ignore_ascii_case("tools"));
    match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => None,
        Some(Value::String(s)) if s == "required" => Some(first),
        Some(Value::Object(choice)) => Some(
            choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .map_or(first, str::to_string),
        ),
        _ => hinted.then_some(first),
    }
}

/// Joins SSE events into one paced stream reply.
fn stream_reply(state: &State, events: Vec<String>) -> Reply {
    let mut all = PROCESSING.repeat(3);
    for event in events {
        all.push_str("data: ");
        all.push_str(&event);
        all.push_str("\n\n");
    }
    all.push_str("data: [DONE]\n\n");
    Reply::sse(all).chunk_delay(state.options.sse_chunk_delay)
}

/// A padded, non-streamed JSON body as OpenRouter sends it.
fn padded_json(body: &Value) -> Reply {
    let text = format!("{PADDING}{body}");
    Reply::raw(200, "application/json", text)
}

/// `POST /chat/completions`.
pub(crate) fn chat_completion(state: &State, request: &RecordedRequest) -> Reply {
    let Some(body) = parse_object(request) else {
        return error(400, "Invalid JSON");
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return error(400, "Input required: specify \"prompt\" or \"messages\"");
    };
    if let Some(refusal) = unknown_model(state, &body) {
        return refusal;
    }
    let prompt_chars = messages
        .iter()
        .map(|m| content_text(m.get("content")).len())
        .sum();
    let ask = ask(&body, prompt_chars);
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content")))
        .unwrap_or_default();
    let text =
        forms::json_answer(&body, &last_user).unwrap_or_else(|| format!("Echo: {last_user}"));
    let tool = tool_to_call(&body, &last_user);
    let created = now();
    let id = generation_id(created);
    let call = tool.map(|name| (format!("call_{}", random_alnum(24)), name));
    let completion_tokens = if call.is_some() {
        12
    } else {
        tokens(text.len())
    };
    let usage = usage(ask.prompt_tokens, completion_tokens);
    let provider = provider(&ask.model);
    let chunk = |choice: Value, usage: Option<&Value>| {
        let mut c = json!({
            "id": id, "provider": provider, "model": ask.model,
            "object": "chat.completion.chunk", "created": created, "choices": [choice]
        });
        if let (Some(u), Some(map)) = (usage, c.as_object_mut()) {
            map.insert("usage".to_string(), u.clone());
        }
        c.to_string()
    };
    let delta = |delta: Value, finish: Option<&str>| {
        json!({"index": 0, "delta": delta, "finish_reason": finish,
               "native_finish_reason": finish, "logprobs": null})
    };
    let empty = json!({"role": "assistant", "content": ""});
    let finish = if call.is_some() { "tool_calls" } else { "stop" };
    if ask.stream {
        let mut events = vec![chunk(delta(empty.clone(), None), None)];
        match &call {
            Some((call_id, name)) => {
                let head = json!({"index": 0, "id": call_id, "type": "function",
                                  "function": {"name": name, "arguments": ""}});
                let args = json!({"index": 0, "function": {"arguments": "{}"}});
                for tc in [head, args] {
                    let d = json!({"role": "assistant", "content": "", "tool_calls": [tc]});
                    events.push(chunk(delta(d, None), None));
                }
            }
            None => {
                for piece in pieces(&text) {
                    let d = json!({"role": "assistant", "content": piece});
                    events.push(chunk(delta(d, None), None));
                }
            }
        }
        events.push(chunk(delta(empty.clone(), Some(finish)), None));
        events.push(chunk(delta(empty, None), Some(&usage)));
        return stream_reply(state, events);
    }
    let mut message =
        json!({"role": "assistant", "content": text, "refusal": null, "reasoning": null});
    if let (Some((call_id, name)), Some(map)) = (&call, message.as_object_mut()) {
        map.insert("content".to_string(), json!(""));
        map.insert(
            "tool_calls".to_string(),
            json!([{"id": call_id, "index": 0, "type": "function",
                    "function": {"name": name, "arguments": "{}"}}]),
        );
    }
    if let (Some(images), Some(map)) = (forms::images(&body), message.as_object_mut()) {
        map.insert("images".to_string(), images);
    }
    padded_json(&json!({
        "id": id, "provider": provider, "model": ask.model, "object": "chat.completion",
        "created": created, "system_fingerprint": null,
        "choices": [{"logprobs": null, "finish_reason": finish, "native_finish_reason": finish,
                     "index": 0, "message": message}],
        "usage": usage
    }))
}

/// `POST /completions`: the legacy text completion, shaped like the real capture.
pub(crate) fn legacy_completion(state: &State, request: &RecordedRequest) -> Reply {
    let Some(body) = parse_object(request) else {
        return error(400, "Invalid JSON");
    };
    let prompt = match body.get("prompt") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return error(400, "Input required: specify \"prompt\" or \"messages\""),
    };
    if let Some(refusal) = unknown_model(state, &body) {
        return refusal;
    }
    let ask = ask(&body, prompt.len());
    let text = format!("Echo: {prompt}");
    let created = now();
    let id = generation_id(created);
    let provider = provider(&ask.model);
    let completion_tokens = tokens(text.len());
    if ask.stream {
        let chunk = |text: &str, finish: Option<&str>| {
            json!({
                "id": id, "provider": provider, "model": ask.model,
                "object": "chat.completion.chunk", "created": created,
                "choices": [{"index": 0, "text": text, "finish_reason": finish,
                             "native_finish_reason": finish, "logprobs": null}]
            })
            .to_string()
        };
        let mut events: Vec<String> = pieces(&text).iter().map(|p| chunk(p, None)).collect();
        events.push(chunk("", Some("stop")));
        let mut last = json!({
            "id": id, "provider": provider, "model": ask.model,
            "object": "chat.completion.chunk", "created": created,
            "choices": [{"index": 0, "text": "", "finish_reason": null,
                         "native_finish_reason": null, "logprobs": null}]
        });
        if let Some(map) = last.as_object_mut() {
            map.insert(
                "usage".to_string(),
                usage(ask.prompt_tokens, completion_tokens),
            );
        }
        events.push(last.to_string());
        return stream_reply(state, events);
    }
    padded_json(&json!({
        "id": id, "provider": provider, "model": ask.model, "object": "chat.completion",
        "created": created,
        "choices": [{"logprobs": null, "finish_reason": "stop", "native_finish_reason": "stop",
                     "index": 0, "text": text, "reasoning": null}],
        "system_fingerprint": "",
        "usage": {
            "completion_tokens": completion_tokens,
            "prompt_tokens": ask.prompt_tokens,
            "total_tokens": ask.prompt_tokens + completion_tokens
        }
    }))
}
