//! Chat Completion's fast reader: OpenRouter's `chat.completion` read from its bytes into an
//! ordered tree that borrows the answer's text ([`Loose`]), and flattened into the
//! [`ChatCompletionResponse`] the `Value` path ([`ChatCompletionResponse::from_upstream`]) makes of
//! the same answer, field for field, so that it is written once and the same.
//!
//! The unknown members of the answer, of a choice and of its message are kept in the order the
//! `Value` path leaves them in, which is not upstream's: `serde_json::Map::remove` with
//! `preserve_order` moves the last member into the place of the one it takes out. [`Members::take`]
//! does the same, in the same sequence, so the order callers see does not change.
//!
//! It reads only what it is sure of: an answer whose shape the `Value` path would refuse, or
//! that holds a name twice, gives `None`, and the action falls back to the `Value` path.

use super::chat_answer::{CHOICE_FIELDS, ChatChoice, ChatCompletionResponse, RESPONSE_FIELDS};
use super::flat_fast::{
    content_text, flat_usage, take_integer, take_object, take_text, unknown, usable_message,
};
use super::loose::{Loose, Members};
use super::messages::ToolCall;

/// The flat answer to a `200` of `/chat/completions` whose bytes are `body`; `None` when only
/// the `Value` path can say what to answer.
pub fn flat_chat(body: &[u8]) -> Option<ChatCompletionResponse> {
    let Loose::Object(mut top) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    if !has_chat_shape(&top) {
        return None;
    }
    top.prune();
    let Some(Loose::Array(choices)) = top.take("choices") else {
        return None;
    };
    let choices = choices
        .into_iter()
        .enumerate()
        .map(|(position, choice)| flat_choice(position, choice))
        .collect::<Option<Vec<ChatChoice>>>()?;
    let first = choices.first()?;
    // In the order the `Value` path takes them out, which decides the unknown members' order.
    Some(ChatCompletionResponse {
        id: take_text(&mut top, "id"),
        model: take_text(&mut top, "model"),
        provider: take_text(&mut top, "provider"),
        created: take_integer(&mut top, "created"),
        role: first.role.clone(),
        content: first.content.clone(),
        parsed: None,
        images: Vec::new(),
        reasoning: first.reasoning.clone(),
        refusal: first.refusal.clone(),
        finish_reason: first.finish_reason.clone(),
        native_finish_reason: first.native_finish_reason.clone(),
        tool_calls: first.tool_calls.clone(),
        usage: take_object(&mut top, "usage").map(flat_usage),
        system_fingerprint: take_text(&mut top, "system_fingerprint").filter(|s| !s.is_empty()),
        choices,
        other: unknown(top, RESPONSE_FIELDS),
    })
}

/// `ChatChoice::from_upstream`, on a pruned choice.
fn flat_choice(position: usize, choice: Loose<'_>) -> Option<ChatChoice> {
    let Loose::Object(mut choice) = choice else {
        return None;
    };
    let Some(Loose::Object(mut message)) = choice.take("message") else {
        return None;
    };
    let tool_calls = match message.take("tool_calls") {
        Some(Loose::Array(calls)) => calls.iter().map(tool_call).collect(),
        _ => Vec::new(),
    };
    let index = take_integer(&mut choice, "index").unwrap_or(position as i64);
    let role = take_text(&mut message, "role").unwrap_or_else(|| "assistant".to_owned());
    let content = content_text(message.take("content"));
    // Pictures are rare and large: the `Value` path reads them (an empty list, which real
    // answers carry, is no picture).
    // Taken where the `Value` path takes it, which decides the unknown members' order.
    match message.take("images") {
        None => {}
        Some(Loose::Array(images)) if images.is_empty() => {}
        Some(_) => return None,
    }
    let reasoning = take_text(&mut message, "reasoning");
    let refusal = take_text(&mut message, "refusal");
    let finish_reason = take_text(&mut choice, "finish_reason");
    let native_finish_reason = take_text(&mut choice, "native_finish_reason");
    // The choice's other members, then the message's that the choice does not have.
    let mut other = choice;
    for (name, value) in message.0 {
        if !other.contains(&name) {
            other.push(name, value);
        }
    }
    Some(ChatChoice {
        index,
        role,
        content,
        images: Vec::new(),
        reasoning,
        refusal,
        finish_reason,
        native_finish_reason,
        tool_calls,
        other: unknown(other, CHOICE_FIELDS),
    })
}

/// `ToolCall::from_value`, on a pruned call.
fn tool_call(call: &Loose<'_>) -> ToolCall {
    let function = call.get("function").unwrap_or(call);
    let text = |value: Option<&Loose<'_>>| match value {
        Some(Loose::Text(text)) => text.to_string(),
        Some(Loose::Null) | None => String::new(),
        // `Value`'s `to_string`: the compact JSON text.
        Some(other) => serde_json::to_string(other).unwrap_or_default(),
    };
    ToolCall {
        id: text(call.get("id")),
        kind: call
            .get("type")
            .and_then(Loose::as_str)
            .unwrap_or("function")
            .to_owned(),
        name: text(function.get("name")),
        arguments: text(function.get("arguments")),
    }
}

/// `Shape::Chat`, on the answer as read (before its `null`s are pruned): a non-empty `choices`
/// array of objects, each with a `message` object whose `content` is text, content parts or
/// nothing and whose `tool_calls` are objects or nothing.
pub fn has_chat_shape(top: &Members<'_>) -> bool {
    let Some(Loose::Array(choices)) = top.get("choices") else {
        return false;
    };
    !choices.is_empty()
        && choices.iter().all(|choice| match choice.get("message") {
            Some(Loose::Object(message)) => usable_message(message),
            _ => false,
        })
}
