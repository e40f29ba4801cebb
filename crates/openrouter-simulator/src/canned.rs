//! Default answers for routes with no queued reply, shaped like real OpenRouter traffic.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::State;
use super::catalog;
use super::chat;
use super::recorded::RecordedRequest;
use super::reply::Reply;

/// Whitespace keep-alive padding OpenRouter writes before non-streamed bodies.
pub(crate) const PADDING: &str = "\n         \n\n         \n";

/// Answers a request that has no queued reply.
pub(crate) fn answer(state: &State, request: &RecordedRequest) -> Reply {
    let keys = &state.options.valid_keys;
    let known = || {
        request
            .header("authorization")
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|key| keys.iter().any(|valid| valid == key))
    };
    let reply = if state.options.require_auth && !request.has_bearer() {
        error(401, "Missing Authentication header")
    } else if !keys.is_empty() && !known() {
        error(401, "User not found.")
    } else {
        route(state, request)
    };
    reply.with_header("Access-Control-Allow-Origin", "*")
}

/// Picks the default answer for an authenticated request.
fn route(state: &State, request: &RecordedRequest) -> Reply {
    let path = request.api_path();
    let method = if request.method == "HEAD" {
        "GET"
    } else {
        request.method.as_str()
    };
    match (method, path) {
        ("POST", "/chat/completions") => chat::chat_completion(state, request),
        ("POST", "/completions") => chat::legacy_completion(state, request),
        ("GET", "/models") => Reply::raw(200, "application/json", state.models_body.clone()),
        ("GET", "/credits") => Reply::json(
            200,
            json!({"data": {"total_credits": 610, "total_usage": 321.725553332}}),
        ),
        ("GET", "/generation") => generation(request),
        ("GET", "/key") => Reply::json(200, key()),
        ("GET", p) => match endpoints_target(p) {
            Some((author, slug))
                if state.options.known_models_only
                    && !catalog::is_known(
                        &format!("{author}/{slug}"),
                        state.options.model_count,
                    ) =>
            {
                error(404, "Resource not found")
            }
            Some((author, slug)) => Reply::json(200, catalog::endpoints(&author, &slug)),
            None => error(404, "Not Found"),
        },
        _ => error(404, "Not Found"),
    }
}

/// An OpenRouter error body: `{"error":{"code":N,"message":"..."}}`.
pub(crate) fn error(status: u16, message: &str) -> Reply {
    Reply::error(status, message)
}

/// Splits `/models/{author}/{slug}/endpoints` into its percent-decoded author and slug.
fn endpoints_target(path: &str) -> Option<(String, String)> {
    let inner = path.strip_prefix("/models/")?.strip_suffix("/endpoints")?;
    let (author, slug) = inner.split_once('/')?;
    if author.is_empty() || slug.is_empty() {
        return None;
    }
    Some((
        super::http::percent_decode(author),
        super::http::percent_decode(slug),
    ))
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `n` random ASCII letters and digits.
pub(crate) fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for byte in uuid::Uuid::new_v4().into_bytes() {
            // 248 = 4 * 62: rejecting larger bytes keeps the draw uniform.
            if byte < 248 && out.len() < n {
                out.push(char::from(ALPHABET[usize::from(byte % 62)]));
            }
        }
    }
    out
}

/// A generation id in the real format: `gen-<unix seconds>-<20 alphanumerics>`.
pub(crate) fn generation_id(created: u64) -> String {
    format!("gen-{created}-{}", random_alnum(20))
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SS.000000+00:00`.
pub(crate) fn timestamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000000+00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `GET /generation?id=...`: the spec's full shape, with the requested id.
fn generation(request: &RecordedRequest) -> Reply {
    let id = request.query_param("id").unwrap_or_default();
    if id.trim().is_empty() {
        return error(400, "Missing required query parameter: id");
    }
    let created = now().saturating_sub(2);
    // Two halves: one `json!` this large exceeds the default macro recursion limit.
    let mut data = json!({
            "api_type": "completions",
            "app_id": null,
            "cache_discount": null,
            "cancelled": false,
            "created_at": timestamp(created),
            "data_region": "global",
            "external_user": null,
            "finish_reason": "stop",
            "generation_time": 1200,
            "http_referer": null,
            "id": id,
            "is_byok": false,
            "latency": 1250,
            "model": "openai/gpt-4o-mini",
            "moderation_latency": null,
            "native_finish_reason": "stop",
            "native_tokens_cached": 0,
            "native_tokens_completion": 25,
            "native_tokens_completion_images": 0,
            "native_tokens_prompt": 10,
            "native_tokens_reasoning": 0,
    });
    let rest = json!({
            "num_fetches": 0,
            "num_input_audio_prompt": 0,
            "num_media_completion": 0,
            "num_media_prompt": 0,
            "num_search_results": 0,
            "origin": "",
            "preset_id": null,
            "provider_name": "OpenAI",
            "provider_responses": [{
                "endpoint_id": "ce839073-aa24-4f29-8358-15b319bd05ec",
                "is_byok": false,
                "latency": 1250,
                "model_permaslug": "openai/gpt-4o-mini",
                "provider_name": "OpenAI",
                "status": 200
            }],
            "request_id": format!("req-{created}-{}", random_alnum(20)),
            "router": null,
            "service_tier": null,
            "session_id": null,
            "streamed": false,
            "tokens_completion": 25,
            "tokens_prompt": 10,
            "total_cost": 0.0000165,
            "upstream_id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            "upstream_inference_cost": 0,
            "usage": 0.0000165,
            "user_agent": "",
            "web_search_engine": null
    });
    if let (Some(map), Value::Object(rest)) = (data.as_object_mut(), rest) {
        map.extend(rest);
    }
    Reply::json(200, json!({ "data": data }))
}

/// `GET /key`: the spec example's shape.
fn key() -> Value {
    json!({"data": {
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_monthly": 0,
        "byok_usage_weekly": 0,
        "creator_user_id": "user_2sImuLat0rUser000000000000",
        "expires_at": null,
        "include_byok_in_limit": false,
        "is_free_tier": false,
        "is_management_key": false,
        "is_provisioning_key": false,
        "label": "sk-or-v1-sim...000",
        "limit": 100,
        "limit_remaining": 74.5,
        "limit_reset": "monthly",
        "rate_limit": {
            "interval": "1h",
            "note": "This field is deprecated and safe to ignore.",
            "requests": 1000
        },
        "usage": 25.5,
        "usage_daily": 25.5,
        "usage_monthly": 25.5,
        "usage_weekly": 25.5
    }})
}
