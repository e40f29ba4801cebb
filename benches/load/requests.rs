//! The requests the benchmark sends: OpenRouter's chat body, the ChatCompletion action's body
//! and the MCP `chat` tool call (about 1 KB each), the streaming body, and the templates built
//! from them for each path.

use crate::generator::{Keys, Template};

const PROMPT: &str = "Summarise this note for the weekly Power Automate digest, in two sentences. ";
const NOTE: &str = "The quarterly report lists revenue, costs and open risks for each region. ";

/// About 1 KB of text.
fn long_text() -> String {
    let mut text = PROMPT.to_owned();
    while text.len() < 880 {
        text.push_str(NOTE);
    }
    text
}

/// OpenRouter's chat body, about 1 KB.
fn chat_body(stream: bool) -> Vec<u8> {
    let content = if stream {
        "Say hello to the benchmark in a few short words".to_owned()
    } else {
        long_text()
    };
    serde_json::json!({
        "model": "openai/gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": content}
        ],
        "temperature": 0.3,
        "max_tokens": 200,
        "stream": stream
    })
    .to_string()
    .into_bytes()
}

/// The ChatCompletion action's body, about 1 KB.
fn action_body() -> Vec<u8> {
    serde_json::json!({
        "model": "openai/gpt-4o-mini",
        "system": "Answer briefly.",
        "content": long_text(),
        "temperature": 0.3,
        "max_tokens": 200
    })
    .to_string()
    .into_bytes()
}

/// The MCP server's `tools/call` of `chat` with the same prompt, about 1 KB.
fn tool_call_body() -> Vec<u8> {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {
            "model": "openai/gpt-4o-mini",
            "system": "Answer briefly.",
            "prompt": long_text(),
            "temperature": 0.3,
            "max_tokens": 200
        }}
    })
    .to_string()
    .into_bytes()
}

fn template(method: &'static str, path: &str, body: Option<Vec<u8>>, keys: Keys) -> Template {
    Template {
        method,
        path: path.to_owned(),
        body,
        keys,
    }
}

/// A non-streaming chat call to OpenRouter's API (direct, through nginx, or the pass-through).
pub fn chat(keys: Keys) -> Template {
    template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(false)),
        keys,
    )
}

/// A streaming chat call (`stream: true`) to OpenRouter's API.
pub fn stream(keys: Keys) -> Template {
    template(
        "POST",
        "/api/v1/chat/completions",
        Some(chat_body(true)),
        keys,
    )
}

/// The connector's ChatCompletion action.
pub fn action(keys: Keys) -> Template {
    template(
        "POST",
        "/connector/v1/chat/completions",
        Some(action_body()),
        keys,
    )
}

/// The MCP server's `chat` tool.
pub fn tool_call(keys: Keys) -> Template {
    template("POST", "/mcp", Some(tool_call_body()), keys)
}

/// OpenRouter's `GET /models` (350 models from the simulator).
pub fn models(keys: Keys) -> Template {
    template("GET", "/api/v1/models", None, keys)
}

/// The connector's ListModels action.
pub fn list_models(keys: Keys) -> Template {
    template("GET", "/connector/v1/models", None, keys)
}
