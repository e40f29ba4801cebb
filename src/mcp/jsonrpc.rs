//! JSON-RPC 2.0 as MCP uses it: what one message is (a request, a notification, a response
//! the server never asked for, or something invalid), and the error objects the server answers.

use serde_json::{Map, Value, json};

/// Malformed JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a JSON-RPC message, or not one this transport takes.
pub const INVALID_REQUEST: i64 = -32600;
/// A method the server does not have.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Parameters the method cannot take (an unknown tool, arguments that are not an object).
pub const INVALID_PARAMS: i64 = -32602;

/// One JSON-RPC message, sorted by what the server does with it.
#[derive(Debug, PartialEq)]
pub enum Message {
    /// A call to answer, under its id.
    Request {
        /// The caller's id: a string or an integer, echoed in the answer.
        id: Value,
        /// The method.
        method: String,
        /// The parameters, when given.
        params: Option<Value>,
    },
    /// A message that wants no answer.
    Notification,
    /// An answer to a request of the server's; this server sends none, so it is dropped.
    Response,
    /// Not a JSON-RPC message: answered with `-32600` under the id it carried, if readable.
    Invalid {
        /// The message's id where it had a usable one, else `null`.
        id: Value,
        /// What is wrong, for the error's message.
        why: &'static str,
    },
}

impl Message {
    /// Sorts one message of a body.
    pub fn read(value: Value) -> Message {
        let Value::Object(mut object) = value else {
            return invalid(Value::Null, "a JSON-RPC message must be a JSON object");
        };
        let id = object.remove("id");
        // MCP's ids are strings or integers, never `null`.
        let usable_id = match &id {
            Some(Value::String(_)) => id.clone(),
            Some(Value::Number(number)) if number.is_i64() || number.is_u64() => id.clone(),
            _ => None,
        };
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return invalid(
                usable_id.unwrap_or(Value::Null),
                "`jsonrpc` must be \"2.0\"",
            );
        }
        match object.remove("method") {
            Some(Value::String(method)) => match (id, usable_id) {
                (None, _) => Message::Notification,
                (Some(_), Some(id)) => Message::Request {
                    id,
                    method,
                    params: object.remove("params"),
                },
                (Some(_), None) => invalid(Value::Null, "`id` must be a string or an integer"),
            },
            Some(_) => invalid(
                usable_id.unwrap_or(Value::Null),
                "`method` must be a string",
            ),
            None if usable_id.is_some()
                && (object.contains_key("result") || object.contains_key("error")) =>
            {
                Message::Response
            }
            None => invalid(
                usable_id.unwrap_or(Value::Null),
                "a JSON-RPC message needs a `method` (or a `result` or `error`)",
            ),
        }
    }
}

fn invalid(id: Value, why: &'static str) -> Message {
    Message::Invalid { id, why }
}

/// A JSON-RPC error, answered in place of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// The JSON-RPC code.
    pub code: i64,
    /// A sentence saying what is wrong and what to do.
    pub message: String,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// The error's kind for the request's log line (never the caller's words).
    pub fn for_log(&self) -> String {
        let kind = match self.code {
            PARSE_ERROR => "parse error",
            INVALID_REQUEST => "invalid request",
            METHOD_NOT_FOUND => "method not found",
            INVALID_PARAMS => "invalid params",
            _ => "error",
        };
        format!("JSON-RPC {} ({kind})", self.code)
    }
}

/// The answer to the request `id`: its result.
pub fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// The answer to the request `id` (or `null`): an error.
pub fn error(id: Value, error: &RpcError) -> Value {
    let mut body = Map::new();
    body.insert("code".to_owned(), json!(error.code));
    body.insert("message".to_owned(), json!(error.message));
    json!({"jsonrpc": "2.0", "id": id, "error": body})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_an_id_and_a_method_is_a_request() {
        let message = Message::read(json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}));
        assert_eq!(
            message,
            Message::Request {
                id: json!(7),
                method: "ping".to_owned(),
                params: None
            }
        );
    }

    #[test]
    fn a_message_without_an_id_is_a_notification() {
        let message =
            Message::read(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(message, Message::Notification);
    }

    #[test]
    fn an_answer_to_the_server_is_a_response() {
        let message = Message::read(json!({"jsonrpc": "2.0", "id": "a", "result": {}}));
        assert_eq!(message, Message::Response);
    }

    #[test]
    fn a_null_or_fractional_id_is_invalid() {
        for id in [json!(null), json!(1.5), json!({"a": 1}), json!([1])] {
            let message = Message::read(json!({"jsonrpc": "2.0", "id": id, "method": "ping"}));
            assert!(
                matches!(
                    message,
                    Message::Invalid {
                        id: Value::Null,
                        ..
                    }
                ),
                "{id}"
            );
        }
    }

    #[test]
    fn another_jsonrpc_version_is_invalid_under_its_id() {
        let message = Message::read(json!({"jsonrpc": "1.0", "id": "x", "method": "ping"}));
        assert!(matches!(message, Message::Invalid { id, .. } if id == json!("x")));
    }

    #[test]
    fn what_is_not_an_object_is_invalid() {
        for value in [json!(1), json!("ping"), json!(null), json!([])] {
            assert!(matches!(Message::read(value), Message::Invalid { .. }));
        }
    }
}
