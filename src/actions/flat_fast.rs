//! What the fast readers of Chat Completion and Completion share: the helpers of
//! [`super::flat`] and the message rule of `Shape::Chat`, on a [`Loose`] answer instead of a
//! `serde_json::Value`, each taking members out in the order, and with the effect on the order of
//! the rest, of its `Value` twin.

use serde_json::{Map, Value};

use super::flat::Usage;
use super::loose::{Loose, Members};

/// `Usage::from_upstream`, on pruned usage.
pub fn flat_usage(mut usage: Members<'_>) -> Usage {
    let nested =
        |usage: &Members<'_>, outer: &str, inner: &str| match usage.get(outer)?.get(inner)? {
            Loose::Number(number) => super::flat::whole(number),
            _ => None,
        };
    Usage {
        cached_tokens: nested(&usage, "prompt_tokens_details", "cached_tokens"),
        reasoning_tokens: nested(&usage, "completion_tokens_details", "reasoning_tokens"),
        prompt_tokens: take_integer(&mut usage, "prompt_tokens"),
        completion_tokens: take_integer(&mut usage, "completion_tokens"),
        total_tokens: take_integer(&mut usage, "total_tokens"),
        cost: match usage.take("cost") {
            Some(Loose::Number(number)) => number.as_f64(),
            _ => None,
        },
        other: unknown(usage, &["cached_tokens", "reasoning_tokens"]),
    }
}

/// `flat::take_text`: strings as they are, numbers and booleans written out.
pub fn take_text(members: &mut Members<'_>, name: &str) -> Option<String> {
    match members.take(name)? {
        Loose::Text(text) => Some(text.into_owned()),
        Loose::Number(number) => Some(number.to_string()),
        Loose::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// `flat::take_integer`: whole numbers, floats without a fraction too.
pub fn take_integer(members: &mut Members<'_>, name: &str) -> Option<i64> {
    let Loose::Number(number) = members.take(name)? else {
        return None;
    };
    super::flat::whole(&number)
}

/// `flat::take_object`.
pub fn take_object<'a>(members: &mut Members<'a>, name: &str) -> Option<Members<'a>> {
    match members.take(name)? {
        Loose::Object(inner) => Some(inner),
        _ => None,
    }
}

/// `flat::content_text`: a string as it is, content parts joined by their `text`.
pub fn content_text(content: Option<Loose<'_>>) -> String {
    match content {
        Some(Loose::Text(text)) => text.into_owned(),
        Some(Loose::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Loose::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// `flat::unknown`: the members left, less the names the flat answer writes itself.
pub fn unknown(mut rest: Members<'_>, written: &[&str]) -> Map<String, Value> {
    rest.retain_names(|name| !written.contains(&name));
    rest.into_map()
}

/// A message object whose `content` is text, content parts or nothing, and whose `tool_calls`
/// are objects or nothing (`shape::usable_message`, before `null`s are pruned).
pub fn usable_message(message: &Members<'_>) -> bool {
    let text_or_nothing =
        |value: Option<&Loose<'_>>| matches!(value, None | Some(Loose::Null | Loose::Text(_)));
    let content = match message.get("content") {
        None | Some(Loose::Null | Loose::Text(_)) => true,
        Some(Loose::Array(parts)) => parts
            .iter()
            .all(|part| matches!(part, Loose::Object(part) if text_or_nothing(part.get("text")))),
        _ => false,
    };
    let tool_calls = match message.get("tool_calls") {
        None | Some(Loose::Null) => true,
        Some(Loose::Array(calls)) => calls.iter().all(|call| {
            matches!(call, Loose::Object(call)
                if matches!(call.get("function"), None | Some(Loose::Null | Loose::Object(_))))
        }),
        _ => false,
    };
    content && tool_calls
}
