//! The style checker of a Power Platform definition: Swagger 2.0 keywords only (no unions,
//! `allOf`, `nullable` or 3.x keywords), every `$ref` resolving, operationIds, summaries and
//! descriptions as Microsoft asks, `x-ms-summary` and a description on every parameter and
//! field, the model dropdown, the contract's error statuses, and the size limit. Each problem
//! names the offending path.

mod fields;
mod vocabulary;
mod wording;

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use vocabulary::{OPERATION_KEYS, ROOT_KEYS};
pub use wording::{is_sentence_case, is_title_case};

/// Swagger 2.0's rule for `host`: `^[^{}/ :\\]+(?::\d+)?$`.
fn swagger_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty() && !name.contains(['{', '}', '/', ' ', ':', '\\']);
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    name_ok && port_ok
}

/// Power Platform refuses definitions of 1 MB or more.
pub const MAX_BYTES: usize = 1_000_000;

/// Top-level body fields that every maker fills in: always shown.
const IMPORTANT_FIELDS: &[&str] = &["model", "content", "prompt", "system"];

/// The statuses of the contract's section 5, each documented on every operation.
#[rustfmt::skip]
const ERROR_STATUSES: &[&str] = &[
    "400", "401", "402", "403", "404", "405", "413", "429", "502", "503", "504",
];

/// One broken rule, at a path such as `$.paths['/connector/v1/models'].get.summary`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem of `definition`; none when it follows the rules.
pub fn lint(definition: &Value) -> Vec<Problem> {
    let mut lint = Lint {
        root: definition,
        operation_ids: HashSet::new(),
        problems: Vec::new(),
    };
    lint.document();
    lint.problems
}

struct Lint<'a> {
    root: &'a Value,
    operation_ids: HashSet<&'a str>,
    problems: Vec<Problem>,
}

impl<'a> Lint<'a> {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn keys(&mut self, path: &str, object: &Map<String, Value>, allowed: &[&[&str]]) {
        for key in object.keys() {
            let vendor = key.starts_with("x-") && !key.starts_with("x-ms-");
            if !vendor && !allowed.iter().any(|set| set.contains(&key.as_str())) {
                self.problem(
                    &child(path, key),
                    format!("`{key}` is not a Swagger 2.0 / Power Platform keyword here"),
                );
            }
        }
    }

    fn document(&mut self) {
        let root = self.root;
        let Some(object) = root.as_object() else {
            return self.problem("$", "the definition is not a JSON object");
        };
        self.keys("$", object, &[ROOT_KEYS]);
        if root["swagger"] != "2.0" {
            self.problem("$.swagger", "must be \"2.0\"");
        }
        let size = serde_json::to_string(root).map_or(usize::MAX, |text| text.len());
        if size >= MAX_BYTES {
            self.problem(
                "$",
                format!("{size} bytes; Power Platform takes less than {MAX_BYTES}"),
            );
        }
        nulls(root, "$", &mut self.problems);
        self.info();
        self.host();
        self.security();
        let paths = root["paths"].as_object().into_iter().flatten();
        self.operation_ids = paths
            .flat_map(|(_, item)| item.as_object().into_iter().flat_map(|i| i.values()))
            .filter_map(|operation| operation["operationId"].as_str())
            .collect();
        for (template, item) in root["paths"].as_object().into_iter().flatten() {
            let path = child("$.paths", template);
            for (method, operation) in item.as_object().into_iter().flatten() {
                self.operation(&child(&path, method), template, operation);
            }
        }
        for (name, schema) in root["definitions"].as_object().into_iter().flatten() {
            self.schema(&child("$.definitions", name), schema);
        }
    }

    fn info(&mut self) {
        let info = &self.root["info"];
        let title = info["title"].as_str().unwrap_or_default();
        let words: Vec<String> = title
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase)
            .collect();
        if title.is_empty()
            || title.chars().count() > 30
            || words.iter().any(|w| w == "api" || w == "connector")
        {
            self.problem(
                "$.info.title",
                "a title of 1 to 30 characters without \"API\" or \"Connector\"",
            );
        }
        let length = info["description"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .count();
        if !(30..=500).contains(&length) {
            self.problem(
                "$.info.description",
                "a description of 30 to 500 characters",
            );
        }
        if info["version"].as_str().is_none_or(str::is_empty) {
            self.problem("$.info.version", "a version is required");
        }
        let metadata = self.root["x-ms-connector-metadata"]
            .as_array()
            .into_iter()
            .flatten();
        let names: Vec<&str> = metadata
            .filter_map(|entry| entry["propertyName"].as_str())
            .collect();
        for required in ["Website", "Privacy policy", "Categories"] {
            if !names.contains(&required) {
                self.problem(
                    "$.x-ms-connector-metadata",
                    format!("needs a `{required}` entry"),
                );
            }
        }
    }

    fn host(&mut self) {
        let host = self.root["host"].as_str().unwrap_or_default();
        if !swagger_host(host) {
            self.problem("$.host", "a host name (and port) without scheme or path");
        }
        if !self.root["basePath"]
            .as_str()
            .is_some_and(|p| p.starts_with('/'))
        {
            self.problem("$.basePath", "must start with `/`");
        }
        let schemes = self.root["schemes"].as_array().into_iter().flatten();
        if schemes.clone().count() == 0 || schemes.into_iter().any(|s| s != "http" && s != "https")
        {
            self.problem("$.schemes", "`http` and/or `https`");
        }
    }

    fn security(&mut self) {
        let definitions = self.root["securityDefinitions"].as_object();
        if definitions.is_none_or(Map::is_empty) {
            self.problem("$.securityDefinitions", "the API key must be declared");
        }
        for requirement in self.root["security"].as_array().into_iter().flatten() {
            for name in requirement.as_object().into_iter().flat_map(|r| r.keys()) {
                if definitions.is_none_or(|d| !d.contains_key(name)) {
                    self.problem(
                        "$.security",
                        format!("`{name}` is not in securityDefinitions"),
                    );
                }
            }
        }
    }

    fn operation(&mut self, path: &str, template: &str, operation: &'a Value) {
        let Some(object) = operation.as_object() else {
            return self.problem(path, "an operation must be an object");
        };
        self.keys(path, object, &[OPERATION_KEYS]);
        let id = operation["operationId"].as_str().unwrap_or_default();
        let pascal = id.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric());
        if !pascal {
            self.problem(
                &child(path, "operationId"),
                "an operationId in PascalCase is required",
            );
        }
        let summary = operation["summary"].as_str().unwrap_or_default();
        if summary.is_empty()
            || summary.chars().count() > 80
            || summary.ends_with(|c: char| c.is_ascii_punctuation())
            || !is_sentence_case(summary)
        {
            self.problem(
                &child(path, "summary"),
                "a summary in sentence case, at most 80 characters, without trailing punctuation",
            );
        }
        let description = operation["description"].as_str().unwrap_or_default();
        if !description.ends_with('.') || description == summary {
            self.problem(
                &child(path, "description"),
                "a description, other than the summary, ending with a period",
            );
        }
        self.visibility(path, operation);
        let parameters = operation["parameters"].as_array().into_iter().flatten();
        for (index, parameter) in parameters.enumerate() {
            self.parameter(&format!("{path}.parameters[{index}]"), parameter);
        }
        for name in template
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}'))
            .map(|(name, _)| name)
        {
            let declared = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == name && p["in"] == "path");
            if !declared {
                self.problem(
                    &child(path, "parameters"),
                    format!("the path parameter `{name}` is not declared"),
                );
            }
        }
        let responses = child(path, "responses");
        let Some(answers) = operation["responses"].as_object() else {
            return self.problem(&responses, "responses are required");
        };
        if !answers.keys().any(|status| status.starts_with('2')) {
            self.problem(&responses, "a successful (2xx) response is required");
        }
        for status in ERROR_STATUSES {
            let error = answers.get(*status).map(|r| self.resolve(&r["schema"]));
            let shaped =
                error.is_some_and(|s| !s["properties"]["error"]["properties"]["message"].is_null());
            if !shaped {
                self.problem(
                    &child(&responses, status),
                    "must be documented with the error schema",
                );
            }
        }
        for (status, response) in answers {
            self.response(&child(&responses, status), response);
        }
    }
}

/// `path.key`, or `path['key']` for a key that is not a plain name.
fn child(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if plain && !key.is_empty() {
        format!("{path}.{key}")
    } else {
        format!("{path}['{key}']")
    }
}

fn field_path(path: &str, name: &str) -> String {
    child(&child(path, "properties"), name)
}

fn nulls(value: &Value, path: &str, problems: &mut Vec<Problem>) {
    match value {
        Value::Null => problems.push(Problem {
            path: path.to_owned(),
            message: "`null` has no place in the definition".to_owned(),
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, item)| nulls(item, &format!("{path}[{i}]"), problems)),
        Value::Object(map) => map
            .iter()
            .for_each(|(key, item)| nulls(item, &child(path, key), problems)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_awkward_keys_in_brackets() {
        assert_eq!(
            child("$.paths", "/connector/v1/models"),
            "$.paths['/connector/v1/models']"
        );
        assert_eq!(
            child("$.definitions", "ErrorBody"),
            "$.definitions.ErrorBody"
        );
    }
}
