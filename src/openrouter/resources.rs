//! One method per OpenRouter resource the connector actions use.

use bytes::Bytes;
use reqwest::Method;
use serde_json::{Value, json};

use std::time::Instant;

use super::caller::Caller;
use super::client::OpenRouterClient;
use super::shape::{Shape, require};
use super::{Retry, Upstream, interpret, is_route_missing};
use crate::error::ApiError;

impl OpenRouterClient {
    /// `POST /chat/completions` with `body` (JSON), read by `fast` or else `checked` (see
    /// `read`).
    pub async fn chat_completion<T>(
        &self,
        caller: Caller<'_>,
        body: &Bytes,
        fast: impl FnOnce(&[u8]) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let answer = self
            .chat_completion_before(caller, body, self.deadline())
            .await?;
        OpenRouterClient::read_chat(answer, fast, checked)
    }

    /// Reads a `POST /chat/completions` answer: by `fast`, or else checked as a chat answer and
    /// read by `checked` (see `read`).
    pub fn read_chat<T>(
        answer: Upstream,
        fast: impl FnOnce(&[u8]) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        read(answer, Shape::Chat, fast, checked)
    }

    async fn chat_completion_before(
        &self,
        caller: Caller<'_>,
        body: &Bytes,
        deadline: Instant,
    ) -> Result<Upstream, ApiError> {
        let url = self.url(&["chat", "completions"], &[]);
        let policy = Retry::OnlyIfRefused;
        self.send_before(caller, Method::POST, url, Some(body), policy, deadline)
            .await
    }

    /// `POST /completions`. When that legacy route is gone (a bare `404` or `405`, so no model
    /// ran), the call is made once more through `/chat/completions` with the prompt as a user
    /// message; the answer's choices then carry `message.content` instead of `text`. The answer
    /// is read by `fast`, told whether it came through `/chat/completions`, or else by `checked`
    /// (see `read`).
    pub async fn completion<T>(
        &self,
        caller: Caller<'_>,
        body: &Value,
        fast: impl FnOnce(&[u8], bool) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        // One deadline for both calls: the fallback gets what is left, not a second timeout.
        let deadline = self.deadline();
        let url = self.url(&["completions"], &[]);
        let policy = Retry::OnlyIfRefused;
        let sent = json_bytes(body)?;
        let answer = self
            .send_before(caller, Method::POST, url, Some(&sent), policy, deadline)
            .await?;
        if !is_route_missing(&answer) {
            return OpenRouterClient::read_completion(answer, false, fast, checked);
        }
        tracing::info!(
            request_id = %caller.request_id.as_str(),
            upstream_status = answer.status.as_u16(),
            "legacy /completions route is gone; asking /chat/completions instead"
        );
        let mut chat = body.clone();
        if let Some(chat) = chat.as_object_mut() {
            let prompt = chat.remove("prompt").unwrap_or_default();
            chat.insert(
                "messages".to_owned(),
                json!([{"role": "user", "content": prompt}]),
            );
        }
        let chat = json_bytes(&chat)?;
        let answer = self.chat_completion_before(caller, &chat, deadline).await?;
        OpenRouterClient::read_completion(answer, true, fast, checked)
    }

    /// Reads a `POST /completions` answer (or, `through_chat`, its `/chat/completions`
    /// fallback's): by `fast`, or else checked and read by `checked` (see `read`).
    pub fn read_completion<T>(
        answer: Upstream,
        through_chat: bool,
        fast: impl FnOnce(&[u8], bool) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let shape = if through_chat {
            Shape::Chat
        } else {
            Shape::Completion
        };
        read(answer, shape, |body| fast(body, through_chat), checked)
    }

    /// `GET /models`, with the filters given, read by `fast` or else `checked` (see `read`).
    pub async fn models<T>(
        &self,
        caller: Caller<'_>,
        query: &[(&str, &str)],
        fast: impl FnOnce(&[u8]) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let url = self.url(&["models"], query);
        let answer = self
            .send(caller, Method::GET, url, None, Retry::Idempotent)
            .await?;
        OpenRouterClient::read_models(answer, fast, checked)
    }

    /// Reads a `GET /models` answer: by `fast`, or else checked as a model list and read by
    /// `checked` (see `read`).
    pub fn read_models<T>(
        answer: Upstream,
        fast: impl FnOnce(&[u8]) -> Option<T>,
        checked: impl FnOnce(Value) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        read(answer, Shape::Models, fast, checked)
    }

    /// `GET /models/{author}/{slug}/endpoints`, both segments percent-encoded.
    pub async fn model_endpoints(
        &self,
        caller: Caller<'_>,
        author: &str,
        slug: &str,
    ) -> Result<Value, ApiError> {
        let url = self.url(&["models", author, slug, "endpoints"], &[]);
        let answer = self
            .send(caller, Method::GET, url, None, Retry::Idempotent)
            .await?;
        require(interpret(answer)?, Shape::Endpoints)
    }

    /// `GET /credits`.
    pub async fn credits(&self, caller: Caller<'_>) -> Result<Value, ApiError> {
        let url = self.url(&["credits"], &[]);
        let answer = self
            .send(caller, Method::GET, url, None, Retry::Idempotent)
            .await?;
        require(interpret(answer)?, Shape::Credits)
    }

    /// `GET /generation?id=`, waiting a few seconds for a record not written yet.
    pub async fn generation(&self, caller: Caller<'_>, id: &str) -> Result<Value, ApiError> {
        let url = self.url(&["generation"], &[("id", id)]);
        let policy = Retry::IdempotentWaitingForRecord;
        let answer = self.send(caller, Method::GET, url, None, policy).await?;
        require(interpret(answer)?, Shape::Generation)
    }
}

/// `value` as the JSON bytes sent upstream. Writing a JSON value cannot fail; were it to, the
/// call cannot be made.
fn json_bytes(value: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|error| {
        ApiError::upstream_failed(format!(
            "The request to OpenRouter could not be written: {error}."
        ))
    })
}

/// Reads an answer the way its action wants it. `fast` may read a successful answer straight
/// from its bytes, and says `None` whenever it cannot be sure to answer exactly what `checked`
/// would; otherwise, and for every other answer, the answer is interpreted as a JSON value, its
/// shape checked, and `checked` reads it. So every error is the one the `Value` path gives.
fn read<T>(
    answer: Upstream,
    shape: Shape,
    fast: impl FnOnce(&[u8]) -> Option<T>,
    checked: impl FnOnce(Value) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    if answer.status.is_success()
        && let Some(read) = fast(&answer.body)
    {
        return Ok(read);
    }
    checked(require(interpret(answer)?, shape)?)
}
