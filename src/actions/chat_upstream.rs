//! Chat Completion's OpenRouter body, written straight from the request into the bytes sent
//! upstream. The small members (options, `extra`, tools, plugins, `stream`) are gathered as JSON
//! values, in the order they go upstream; `messages`, which carries the text and any files, is
//! written from the request itself, so a file's base64 is never copied on its way into the body
//! (contract 4.8: a body of up to 32 MiB is held once, not once per step).

use bytes::Bytes;
use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::chat_completion::ChatCompletionRequest;
use crate::error::ApiError;

/// The name of the member written from the request rather than from [`UpstreamChat`]'s values.
pub(super) const MESSAGES: &str = "messages";

/// Room for the members gathered as values (model, options, tools, plugins), beyond the
/// request's long texts; a body needing more grows its buffer once.
const MEMBERS_BYTES: usize = 16 * 1024;

/// OpenRouter's `/chat/completions` body for a request, borrowing it.
#[derive(Debug)]
pub struct UpstreamChat<'a> {
    /// Every member in the order written; `messages` holds its place here with `null`.
    members: Map<String, Value>,
    request: &'a ChatCompletionRequest,
}

impl<'a> UpstreamChat<'a> {
    /// The body of `request`, whose other members are `members` (`messages` among them, in its
    /// place).
    pub(super) fn new(members: Map<String, Value>, request: &'a ChatCompletionRequest) -> Self {
        UpstreamChat { members, request }
    }

    /// The body's bytes, written once into a buffer sized from the request's long texts (so a
    /// large file is not copied again as the buffer grows).
    pub fn to_bytes(&self) -> Result<Bytes, ApiError> {
        let mut body = Vec::with_capacity(self.size_hint());
        serde_json::to_writer(&mut body, self).map_err(|error| {
            ApiError::upstream_failed(format!(
                "The request to OpenRouter could not be written: {error}."
            ))
        })?;
        Ok(Bytes::from(body))
    }

    /// About the size of the body: its long texts and files, an eighth more for escapes, and
    /// room for the rest.
    fn size_hint(&self) -> usize {
        let request = self.request;
        let texts = [&request.content, &request.system, &request.image_url]
            .into_iter()
            .flatten()
            .map(String::len)
            .chain(request.files.iter().flatten().map(|file| file.size_hint()))
            .fold(0usize, usize::saturating_add);
        texts
            .saturating_add(texts / 8)
            .saturating_add(MEMBERS_BYTES)
    }
}

impl Serialize for UpstreamChat<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut body = serializer.serialize_map(Some(self.members.len()))?;
        for (name, value) in &self.members {
            if name == MESSAGES {
                body.serialize_entry(name, &Messages(self.request))?;
            } else {
                body.serialize_entry(name, value)?;
            }
        }
        body.end()
    }
}

/// `messages`: the system prompt, the earlier turns, then `content` with its image and files.
struct Messages<'a>(&'a ChatCompletionRequest);

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let request = self.0;
        let mut messages = serializer.serialize_seq(None)?;
        if let Some(system) = &request.system {
            messages.serialize_element(&Turn {
                role: "system",
                content: system,
            })?;
        }
        for message in request.messages.iter().flatten() {
            messages.serialize_element(&message.upstream())?;
        }
        if let Some(content) = &request.content {
            let role = request.role.unwrap_or_default();
            if request.image_url.is_none() && request.files.is_none() {
                messages.serialize_element(&Turn { role, content })?;
            } else {
                messages.serialize_element(&Turn {
                    role,
                    content: Parts(request, content),
                })?;
            }
        }
        messages.end()
    }
}

/// One message: `{"role": …, "content": …}`.
#[derive(Serialize)]
struct Turn<R, C> {
    role: R,
    content: C,
}

/// `content` as parts: its text, then the image, then each file.
struct Parts<'a>(&'a ChatCompletionRequest, &'a str);

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Parts(request, text) = *self;
        let mut parts = serializer.serialize_seq(None)?;
        parts.serialize_element(&Tagged("text", "text", text))?;
        if let Some(url) = &request.image_url {
            parts.serialize_element(&Tagged("image_url", "image_url", ImageUrl { url }))?;
        }
        for file in request.files.iter().flatten() {
            parts.serialize_element(file)?;
        }
        parts.end()
    }
}

/// `{"type": <.0>, <.1>: <.2>}`.
struct Tagged<T>(&'static str, &'static str, T);

impl<T: Serialize> Serialize for Tagged<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut part = serializer.serialize_struct("Part", 2)?;
        part.serialize_field("type", self.0)?;
        part.serialize_field(self.1, &self.2)?;
        part.end()
    }
}

#[derive(Serialize)]
struct ImageUrl<'a> {
    url: &'a str,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::actions::input::ActionInput;

    fn request(body: Value) -> ChatCompletionRequest {
        let http = actix_web::test::TestRequest::post().to_http_request();
        ChatCompletionRequest::parse(&http, body.to_string().into()).unwrap()
    }

    /// The body as the `Value` path built it before the messages were written from the
    /// request: the same members, and `messages` as a value made of copies.
    fn value_path(request: &ChatCompletionRequest) -> Vec<u8> {
        let upstream = request.to_upstream();
        let mut messages = Vec::new();
        if let Some(system) = &request.system {
            messages.push(json!({"role": "system", "content": system}));
        }
        for message in request.messages.iter().flatten() {
            messages.push(serde_json::to_value(message.upstream()).unwrap());
        }
        if let Some(content) = &request.content {
            let content = if request.image_url.is_none() && request.files.is_none() {
                json!(content)
            } else {
                let mut parts = vec![json!({"type": "text", "text": content})];
                if let Some(url) = &request.image_url {
                    parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
                }
                for file in request.files.iter().flatten() {
                    parts.push(serde_json::to_value(file).unwrap());
                }
                Value::Array(parts)
            };
            messages.push(json!({"role": request.role.unwrap_or_default(), "content": content}));
        }
        let mut body = upstream.members.clone();
        body[MESSAGES] = Value::Array(messages);
        serde_json::to_vec(&body).unwrap()
    }

    #[test]
    fn the_body_is_written_byte_for_byte_as_the_value_path_wrote_it() {
        let pdf = "JVBERi0xLjcKJSVFT0YK";
        for body in [
            json!({"content": "Hi \"there\"\n"}),
            json!({"content": "Read", "files": []}),
            json!({"messages": [{"role": "user", "content": "only turns"}]}),
            json!({
                "extra": {"z": 1, "plugins": [{"id": "file-parser"}, {"id": "x"}], "stream": true,
                          "messages": "overwritten", "temperature": 2},
                "temperature": 0.5,
                "model": "openai/gpt-4o-mini",
                "system": "Be brief.",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "earlier"}], "name": "ann"},
                    {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                        "name": "add", "arguments": "{}"}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "4"}
                ],
                "content": "Read these",
                "role": "assistant",
                "image_url": "https://example.com/cat.png",
                "files": [
                    {"$content-type": "application/pdf", "$content": pdf},
                    {"content": format!("data:application/pdf;base64,{pdf}"), "name": "b.pdf"},
                    {"content": "aGkK", "name": "notes.txt"},
                    {"url": "https://example.com/x.png"}
                ],
                "pdf_engine": "pdf-text",
                "web_search": true,
                "response_format": "json_schema",
                "json_schema": {"name": "n", "schema": {"type": "object"}},
                "tools": [{"name": "add", "parameters": {"type": "object"}}],
                "tool_choice": "add",
                "parallel_tool_calls": false
            }),
        ] {
            let request = request(body.clone());
            let written = request.to_upstream().to_bytes().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&value_path(&request)),
                "{body}"
            );
        }
    }

    #[test]
    fn the_buffer_is_sized_for_the_files_so_it_never_grows() {
        let pdf = format!("JVBERi0x{}", "A".repeat(400_000));
        let request = request(json!({
            "content": "Read",
            "files": [{"$content-type": "application/pdf", "$content": pdf}]
        }));
        let upstream = request.to_upstream();
        let written = upstream.to_bytes().unwrap();
        assert!(written.len() <= upstream.size_hint(), "{}", written.len());
    }
}
