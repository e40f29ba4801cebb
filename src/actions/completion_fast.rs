//! Completion's fast reader: OpenRouter's answer to `/completions` (or, once that route is gone,
//! to `/chat/completions`) read from its bytes into an ordered tree that borrows the answer's
//! text ([`Loose`]), and flattened into the [`CompletionResponse`] the `Value` path
//! ([`CompletionResponse::from_upstream`]) makes of the same answer, field for field, unknown
//! members in the order the `Value` path leaves them in (see [`super::chat_fast`]).
//!
//! It reads only what it is sure of; anything else gives `None`, and the action falls back to
//! the `Value` path.

use super::chat_fast::has_chat_shape;
use super::completion::{CHOICE_FIELDS, CompletionChoice, CompletionResponse, RESPONSE_FIELDS};
use super::flat_fast::{
    content_text, flat_usage, take_integer, take_object, take_text, unknown, usable_message,
};
use super::loose::{Loose, Members};

/// The flat answer to a `200` whose bytes are `body`, from `/chat/completions` when
/// `through_chat` (a stricter shape: every choice has a message), else from `/completions`;
/// `None` when only the `Value` path can say what to answer.
pub fn flat_completion(body: &[u8], through_chat: bool) -> Option<CompletionResponse> {
    let Loose::Object(mut top) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let shaped = if through_chat {
        has_chat_shape(&top)
    } else {
        has_completion_shape(&top)
    };
    if !shaped {
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
        .collect::<Option<Vec<CompletionChoice>>>()?;
    let first = choices.first()?;
    // In the order the `Value` path takes them out, which decides the unknown members' order.
    Some(CompletionResponse {
        id: take_text(&mut top, "id"),
        model: take_text(&mut top, "model"),
        provider: take_text(&mut top, "provider"),
        created: take_integer(&mut top, "created"),
        text: first.text.clone(),
        finish_reason: first.finish_reason.clone(),
        native_finish_reason: first.native_finish_reason.clone(),
        usage: take_object(&mut top, "usage").map(flat_usage),
        choices,
        other: unknown(top, RESPONSE_FIELDS),
    })
}

/// `CompletionChoice::from_upstream`, on a pruned choice.
fn flat_choice(position: usize, choice: Loose<'_>) -> Option<CompletionChoice> {
    let Loose::Object(mut choice) = choice else {
        return None;
    };
    let text = match take_text(&mut choice, "text") {
        Some(text) => text,
        None => {
            let mut message = take_object(&mut choice, "message").unwrap_or_default();
            let text = content_text(message.take("content"));
            message.take("role");
            for (name, value) in message.0 {
                if !choice.contains(&name) {
                    choice.push(name, value);
                }
            }
            text
        }
    };
    Some(CompletionChoice {
        index: take_integer(&mut choice, "index").unwrap_or(position as i64),
        text,
        finish_reason: take_text(&mut choice, "finish_reason"),
        native_finish_reason: take_text(&mut choice, "native_finish_reason"),
        other: unknown(choice, CHOICE_FIELDS),
    })
}

/// `Shape::Completion`, on the answer as read: a non-empty `choices` array of objects, each with
/// a `text` string or a usable `message`.
fn has_completion_shape(top: &Members<'_>) -> bool {
    let Some(Loose::Array(choices)) = top.get("choices") else {
        return false;
    };
    !choices.is_empty()
        && choices.iter().all(|choice| {
            let Loose::Object(choice) = choice else {
                return false;
            };
            matches!(choice.get("text"), Some(Loose::Text(_)))
                || matches!(choice.get("message"), Some(Loose::Object(message)) if usable_message(message))
        })
}
