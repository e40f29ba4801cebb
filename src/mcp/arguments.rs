//! A tool call's arguments, checked against the tool's `inputSchema` (the schema the agent was
//! shown is the one enforced), with messages an agent can act on; and the rules Copilot Studio
//! sets for an input schema, checked on every tool in the tests.

use std::sync::LazyLock;

use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

use super::tools::Tool;
use crate::actions::input::likely_meant;
use crate::error::ApiError;

/// The longest rule quoted back in a message.
const RULE_CHARS: usize = 200;

static VALIDATORS: LazyLock<Vec<Result<Validator, String>>> = LazyLock::new(|| {
    Tool::ALL
        .into_iter()
        .map(|tool| {
            jsonschema::options()
                .offline()
                .build(tool.input_schema())
                .map_err(|error| error.masked().to_string())
        })
        .collect()
});

/// Checks `arguments` against `tool`'s input schema: a `400` for the first break, in words
/// naming the argument and never quoting its value. The arguments are handed back unchanged
/// (the check needs them as one JSON value; taking them spares a copy of a large `file_url`).
///
/// JSON Schema counts `2.0` as an integer, and so does the check: such a value of an integer
/// argument is handed back as `2`, as the actions behind the tools read whole numbers.
pub fn checked(tool: Tool, arguments: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let instance = Value::Object(arguments);
    check(tool, &instance)?;
    let Value::Object(mut arguments) = instance else {
        return Ok(Map::new());
    };
    let properties = &tool.input_schema()["properties"];
    for (name, value) in &mut arguments {
        if properties[name.as_str()]["type"] == "integer"
            && let Some(whole) = value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            && !(value.is_i64() || value.is_u64())
        {
            *value = Value::from(whole as i64);
        }
    }
    Ok(arguments)
}

fn check(tool: Tool, instance: &Value) -> Result<(), ApiError> {
    let validator = VALIDATORS[tool as usize].as_ref().map_err(|error| {
        ApiError::unreadable(format!(
            "The tool's own input schema cannot be checked ({error}); this is a bug."
        ))
    })?;
    let Some(error) = validator.iter_errors(instance).next() else {
        return Ok(());
    };
    let path = error.instance_path().to_string();
    let name = path.trim_start_matches('/');
    Err(match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let unknown = unexpected.first().map(String::as_str).unwrap_or_default();
            let known = known_names(tool);
            let hint = likely_meant(unknown, &known)
                .map(|near| format!(" Did you mean `{near}`?"))
                .unwrap_or_default();
            let takes = if known.is_empty() {
                "It takes none.".to_owned()
            } else {
                format!("Its arguments: {}.", known.join(", "))
            };
            let message = format!(
                "The tool `{}` has no argument `{}`.{hint} {takes}",
                tool.name(),
                cut(unknown),
            );
            ApiError::invalid_name(unknown, message)
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            ApiError::invalid(name, format!("The argument `{name}` is required."))
        }
        _ => {
            let message = format!(
                "The argument `{}` is not valid: {}.",
                cut(name),
                cut(&error.masked().to_string())
            );
            ApiError::invalid(name, message)
        }
    })
}

fn known_names(tool: Tool) -> Vec<String> {
    tool.input_schema()["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(RULE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What Copilot Studio would drop or mis-read in an input schema (contract section 9): a
/// `$ref`, a type array, an integer `exclusiveMinimum`, a property without a description or
/// that is not of a primitive type.
pub fn copilot_studio_problems(schema: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if schema["type"] != "object" {
        problems.push("the input schema is not an object".to_owned());
    }
    walk(schema, "", &mut problems);
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let described = property["description"]
            .as_str()
            .is_some_and(|text| !text.trim().is_empty());
        if !described {
            problems.push(format!("`{name}` has no description"));
        }
        let primitive = matches!(
            property["type"].as_str(),
            Some("string" | "number" | "integer" | "boolean")
        );
        if !primitive {
            problems.push(format!("`{name}` is not of a primitive type"));
        }
    }
    problems
}

fn walk(schema: &Value, at: &str, problems: &mut Vec<String>) {
    match schema {
        Value::Object(object) => {
            for (key, value) in object {
                let here = format!("{at}/{key}");
                match key.as_str() {
                    "$ref" => problems.push(format!("`$ref` at {here}")),
                    "type" if value.is_array() => problems.push(format!("a type array at {here}")),
                    "exclusiveMinimum" if object.get("type") == Some(&Value::from("integer")) => {
                        problems.push(format!("an integer `exclusiveMinimum` at {here}"))
                    }
                    _ => {}
                }
                walk(value, &here, problems);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &format!("{at}/{index}"), problems);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn arguments(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn every_tool_input_schema_is_one_copilot_studio_reads_whole() {
        for tool in Tool::ALL {
            let problems = copilot_studio_problems(tool.input_schema());
            assert!(problems.is_empty(), "{}: {problems:?}", tool.name());
        }
    }

    #[test]
    fn the_check_finds_a_ref_a_type_array_an_integer_exclusive_minimum_and_no_description() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "#/definitions/a", "description": "A."},
                "b": {"type": ["string", "null"], "description": "B."},
                "c": {"type": "integer", "exclusiveMinimum": 0, "description": "C."},
                "d": {"type": "string"},
                "e": {"type": "object", "description": "E."},
            }
        });
        let problems = copilot_studio_problems(&schema);
        for expected in [
            "`$ref` at /properties/a/$ref",
            "a type array at /properties/b/type",
            "an integer `exclusiveMinimum` at /properties/c/exclusiveMinimum",
            "`d` has no description",
            "`e` is not of a primitive type",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected}: {problems:?}"
            );
        }
    }

    fn refusal(tool: Tool, given: Value) -> String {
        checked(tool, arguments(given))
            .unwrap_err()
            .body()
            .error
            .message
    }

    #[test]
    fn a_misspelt_argument_is_named_with_the_one_meant() {
        let error = refusal(Tool::Chat, json!({"promt": "hi"}));
        assert!(error.contains("no argument `promt`"), "{error}");
        assert!(error.contains("Did you mean `prompt`?"), "{error}");
    }

    #[test]
    fn a_missing_argument_is_named() {
        let error = refusal(Tool::Chat, json!({}));
        assert_eq!(error, "The argument `prompt` is required.");
    }

    #[test]
    fn an_out_of_range_value_is_named_without_quoting_the_prompt() {
        let secret = "do not echo this prompt";
        let error = refusal(Tool::Chat, json!({"prompt": secret, "temperature": 7}));
        assert!(error.contains("`temperature`"), "{error}");
        assert!(!error.contains(secret), "{error}");
    }

    #[test]
    fn a_wrong_type_is_named() {
        let error = refusal(Tool::ListModels, json!({"limit": "ten"}));
        assert!(error.contains("`limit`"), "{error}");
    }

    #[test]
    fn good_arguments_pass() {
        let good =
            json!({"prompt": "hi", "temperature": 0.2, "max_tokens": 10, "web_search": true});
        let passed = checked(Tool::Chat, arguments(good.clone())).unwrap();
        assert_eq!(Value::Object(passed), good);
        assert!(checked(Tool::GetCredits, Map::new()).is_ok());
    }

    #[test]
    fn a_whole_number_written_as_a_float_becomes_an_integer() {
        let passed = checked(Tool::ListModels, arguments(json!({"limit": 2.0}))).unwrap();
        assert_eq!(passed["limit"], json!(2));
        assert!(passed["limit"].is_u64() || passed["limit"].is_i64());
        let error = refusal(Tool::ListModels, json!({"limit": 2.5}));
        assert!(error.contains("`limit`"), "{error}");
    }

    #[test]
    fn a_tool_without_arguments_says_so() {
        let error = refusal(Tool::GetCredits, json!({"x": 1}));
        assert!(error.ends_with("It takes none."), "{error}");
    }
}
