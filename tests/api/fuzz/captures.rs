//! Upstream answers to fuzz with: the real captures and the spec's examples, and random
//! mutations of them (members deleted, replaced by other types or `null`, added).

use std::fs;

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};

use super::{json_value, key};
use crate::helpers::captures_dir;

/// Every JSON body among the captures and the spec's examples whose name passes `keep`.
pub(super) fn documents(keep: impl Fn(&str) -> bool) -> Vec<Value> {
    let mut found = Vec::new();
    for folder in [
        "chat-completions",
        "completions",
        "credits",
        "generation",
        "models",
        "errors",
        "spec-examples",
    ] {
        let Ok(entries) = fs::read_dir(captures_dir().join(folder)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            let readable = name.ends_with(".response.json")
                || name.ends_with(".raw.txt")
                || (name.ends_with(".json")
                    && !name.contains(".request.")
                    && !name.contains(".sse."));
            if !readable || !keep(&name) {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            if let Ok(value) = serde_json::from_str::<Value>(text.trim()) {
                if folder == "models" {
                    found.push(json!({"data": [value.clone()]}));
                }
                found.push(value);
            }
        }
    }
    assert!(
        !found.is_empty(),
        "no captures in {}",
        captures_dir().display()
    );
    found
}

/// Where a value sits in a document.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    At(usize),
}

/// One change to a document: at the node that `at` picks (among all, or among those under
/// `named`), delete it, replace it, or add a member to it.
#[derive(Clone, Debug)]
enum Mutation {
    Delete {
        at: Index,
    },
    Replace {
        at: Index,
        with: Value,
    },
    ReplaceNamed {
        named: &'static str,
        at: Index,
        with: Value,
    },
    Insert {
        at: Index,
        key: String,
        value: Value,
    },
}

/// Keys whose values the flattening reads, to aim mutations at.
const FLAT_KEYS: &[&str] = &[
    "choices",
    "message",
    "delta",
    "content",
    "role",
    "text",
    "tool_calls",
    "function",
    "arguments",
    "name",
    "id",
    "index",
    "finish_reason",
    "reasoning",
    "refusal",
    "usage",
    "prompt_tokens_details",
    "cached_tokens",
    "created",
    "model",
    "provider",
    "data",
    "endpoints",
    "pricing",
    "architecture",
    "top_provider",
    "supported_parameters",
    "input_modalities",
    "total_credits",
    "total_usage",
    "remaining",
    "provider_responses",
    "error",
    "code",
    "message",
    "metadata",
    "http_status",
    "retry_after_seconds",
    "system_fingerprint",
];

fn mutation() -> BoxedStrategy<Mutation> {
    let replacement = prop_oneof![
        2 => json_value(),
        1 => Just(Value::Null),
        1 => select(vec![json!(""), json!([]), json!({}), json!(0), json!("x"), json!(true)]),
    ];
    prop_oneof![
        2 => any::<Index>().prop_map(|at| Mutation::Delete { at }),
        2 => (any::<Index>(), replacement.clone())
            .prop_map(|(at, with)| Mutation::Replace { at, with }),
        4 => (select(FLAT_KEYS), any::<Index>(), replacement)
            .prop_map(|(named, at, with)| Mutation::ReplaceNamed { named, at, with }),
        1 => (any::<Index>(), key(), json_value())
            .prop_map(|(at, key, value)| Mutation::Insert { at, key, value }),
    ]
    .boxed()
}

fn paths(value: &Value, here: &mut Vec<Step>, all: &mut Vec<Vec<Step>>) {
    all.push(here.clone());
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                here.push(Step::Key(key.clone()));
                paths(inner, here, all);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                here.push(Step::At(index));
                paths(inner, here, all);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, step| match step {
        Step::Key(key) => node.get_mut(key.as_str()),
        Step::At(index) => node.get_mut(*index),
    })
}

fn mutate(mut value: Value, mutations: &[Mutation]) -> Value {
    for mutation in mutations {
        let mut all = Vec::new();
        paths(&value, &mut Vec::new(), &mut all);
        let pick = |at: &Index, among: Vec<Vec<Step>>| {
            (!among.is_empty()).then(|| among[at.index(among.len())].clone())
        };
        match mutation {
            Mutation::Delete { at } => {
                let Some(mut path) = pick(at, all) else {
                    continue;
                };
                let Some(last) = path.pop() else { continue };
                match (node(&mut value, &path), last) {
                    (Some(Value::Object(map)), Step::Key(key)) => {
                        map.shift_remove(&key);
                    }
                    (Some(Value::Array(items)), Step::At(index)) if index < items.len() => {
                        items.remove(index);
                    }
                    _ => {}
                }
            }
            Mutation::Replace { at, with } => {
                if let Some(path) = pick(at, all)
                    && let Some(target) = node(&mut value, &path)
                {
                    *target = with.clone();
                }
            }
            Mutation::ReplaceNamed { named, at, with } => {
                let among = all
                    .into_iter()
                    .filter(|path| matches!(path.last(), Some(Step::Key(key)) if key == named))
                    .collect();
                if let Some(path) = pick(at, among)
                    && let Some(target) = node(&mut value, &path)
                {
                    *target = with.clone();
                }
            }
            Mutation::Insert {
                at,
                key,
                value: inner,
            } => {
                if let Some(path) = pick(at, all)
                    && let Some(target) = node(&mut value, &path)
                {
                    match target {
                        Value::Object(map) => {
                            map.insert(key.clone(), inner.clone());
                        }
                        Value::Array(items) => items.push(inner.clone()),
                        other => {
                            *other = Value::Object(Map::from_iter([(key.clone(), inner.clone())]))
                        }
                    }
                }
            }
        }
    }
    value
}

/// A capture with a few random changes, or now and then any JSON at all.
pub(super) fn upstream_document(seeds: Vec<Value>) -> BoxedStrategy<Value> {
    prop_oneof![
        6 => (select(seeds), prop::collection::vec(mutation(), 0..6))
            .prop_map(|(seed, mutations)| mutate(seed, &mutations)),
        1 => json_value(),
    ]
    .boxed()
}
