//! What checking an answer against a JSON Schema may cost, bounded before the check is built.
//!
//! A validator follows every reference where it stands, so a short schema whose definitions
//! each refer to the one below ten times, ten levels deep, is checked as ten billion schemas:
//! minutes of a worker thread per answer, with no deadline. So a schema is measured first, as
//! the tree it becomes with its references followed (a reference back into its own path is a
//! recursion the validator walks only as deep as the answer, and counts once), and refused when
//! that tree holds more than a budget of JSON values. A reference this cannot follow (by `$id`,
//! dynamic, or to nothing) is refused too: what cannot be measured cannot be bounded.

use std::collections::HashMap;

use serde_json::Value;

/// Why a schema's check cannot be bounded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckCost {
    /// With its references followed, the schema holds more than the budget of JSON values
    /// (or goes deeper than 256 levels).
    #[error(
        "with its references followed it holds more than {budget} JSON values or 256 levels, too many to check an answer against quickly"
    )]
    TooLarge {
        /// The budget it went over.
        budget: usize,
    },
    /// A reference that is not a local JSON pointer or `$anchor` of this schema.
    #[error(
        "its reference `{reference}` is not one to a place in the schema itself (write it as `#/$defs/Name`)"
    )]
    Unfollowable {
        /// The reference, cut to 120 characters.
        reference: String,
    },
}

/// What the measure found of a schema within the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// How many times the tree refers back into its own path: with two or more, a check may
    /// follow each of them at every level of the answer (`{"allOf": [{"items": {"$ref": "#"}},
    /// {"items": {"$ref": "#"}}]}` doubles its work per level), so the answer's depth must be
    /// bounded too (see [`recursion_allows`]).
    pub recursions: usize,
}

/// The most schemas a recursive schema may have checked along an answer's depth:
/// `recursions ^ depth`.
pub const RECURSION_BUDGET: f64 = 1e6;

/// Whether an answer `depth` levels deep may be checked against a schema measured as
/// `measure`: always with at most one recursion, else while `recursions ^ depth` stays within
/// [`RECURSION_BUDGET`] (two recursions: 19 levels; ten: 6).
pub fn recursion_allows(measure: Measure, depth: usize) -> bool {
    measure.recursions < 2
        || (measure.recursions as f64).powi(depth.min(1_000) as i32) <= RECURSION_BUDGET
}

/// How deep `value` nests (a scalar is 0, `[1]` is 1).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(object) => 1 + object.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `schema`, its references followed, holds at most `budget` JSON values; and how
/// often it refers back into its own path.
pub fn within(schema: &Value, budget: usize) -> Result<Measure, CheckCost> {
    let mut anchors = HashMap::new();
    collect_anchors(schema, &mut anchors, 0);
    let mut walk = Walk {
        root: schema,
        anchors,
        budget,
        seen: 0,
        recursions: 0,
        // A reference to the root is a recursion too.
        path: vec![schema as *const Value],
    };
    walk.value(schema, 0)?;
    Ok(Measure {
        recursions: walk.recursions,
    })
}

/// The most levels the walk goes down, references followed included: well within a worker
/// thread's stack.
const MAX_DEPTH: usize = 256;

struct Walk<'a> {
    root: &'a Value,
    anchors: HashMap<&'a str, &'a Value>,
    budget: usize,
    seen: usize,
    recursions: usize,
    /// The schemas whose references are being followed, by address: a reference to one of
    /// them is a recursion.
    path: Vec<*const Value>,
}

impl<'a> Walk<'a> {
    fn value(&mut self, value: &'a Value, depth: usize) -> Result<(), CheckCost> {
        self.seen += 1;
        if self.seen > self.budget || depth > MAX_DEPTH {
            return Err(CheckCost::TooLarge {
                budget: self.budget,
            });
        }
        match value {
            Value::Object(object) => {
                for keyword in ["$dynamicRef", "$recursiveRef"] {
                    if let Some(reference) = object.get(keyword) {
                        return Err(unfollowable(reference));
                    }
                }
                if let Some(reference) = object.get("$ref") {
                    let target = self.target(reference)?;
                    let address = target as *const Value;
                    if self.path.contains(&address) {
                        self.recursions += 1;
                    } else {
                        self.path.push(address);
                        let walked = self.value(target, depth + 1);
                        self.path.pop();
                        walked?;
                    }
                }
                for (keyword, member) in object {
                    match keyword.as_str() {
                        // Definitions are checked only where a reference leads to them, and
                        // are counted there (walked here too, a recursion would count twice).
                        "$defs" | "definitions" => self.count(member, depth + 1)?,
                        // Data, not schemas: a `{"$ref": …}` inside is not a reference.
                        "enum" | "const" | "examples" | "default" => {
                            self.count(member, depth + 1)?
                        }
                        _ => self.value(member, depth + 1)?,
                    }
                }
                Ok(())
            }
            Value::Array(items) => items
                .iter()
                .try_for_each(|item| self.value(item, depth + 1)),
            _ => Ok(()),
        }
    }

    /// Counts `value`'s JSON values against the budget without reading it as schemas.
    fn count(&mut self, value: &'a Value, depth: usize) -> Result<(), CheckCost> {
        self.seen += 1;
        if self.seen > self.budget || depth > MAX_DEPTH {
            return Err(CheckCost::TooLarge {
                budget: self.budget,
            });
        }
        match value {
            Value::Object(object) => object
                .values()
                .try_for_each(|member| self.count(member, depth + 1)),
            Value::Array(items) => items
                .iter()
                .try_for_each(|item| self.count(item, depth + 1)),
            _ => Ok(()),
        }
    }

    fn target(&self, reference: &Value) -> Result<&'a Value, CheckCost> {
        let text = reference.as_str().ok_or_else(|| unfollowable(reference))?;
        let found = match text.strip_prefix('#') {
            Some("") => Some(self.root),
            Some(pointer) if pointer.starts_with('/') => self.root.pointer(&unescape(pointer)),
            Some(anchor) => self.anchors.get(anchor).copied(),
            None => None,
        };
        found.ok_or_else(|| unfollowable(reference))
    }
}

/// A JSON pointer from a URI fragment: `%25` and the like decoded (the pointer's own `~0` and
/// `~1` are left to `Value::pointer`).
fn unescape(pointer: &str) -> String {
    let bytes = pointer.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| pointer.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every `$anchor` and `$dynamicAnchor` of the schema, to the schema that names it (to a
/// depth the JSON reader already bounds).
fn collect_anchors<'a>(value: &'a Value, anchors: &mut HashMap<&'a str, &'a Value>, depth: usize) {
    if depth > 256 {
        return;
    }
    match value {
        Value::Object(object) => {
            for keyword in ["$anchor", "$dynamicAnchor"] {
                if let Some(Value::String(name)) = object.get(keyword) {
                    anchors.entry(name.as_str()).or_insert(value);
                }
            }
            for member in object.values() {
                collect_anchors(member, anchors, depth + 1);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_anchors(item, anchors, depth + 1);
            }
        }
        _ => {}
    }
}

fn unfollowable(reference: &Value) -> CheckCost {
    let text = match reference {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    CheckCost::Unfollowable {
        reference: text.chars().take(120).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Definitions `a0`…`a{levels}`, each referring `fan` times to the one below.
    fn fanned(levels: usize, fan: usize) -> Value {
        let mut defs = serde_json::Map::new();
        defs.insert("a0".to_owned(), json!({"type": "object"}));
        for level in 1..=levels {
            let refs: Vec<Value> = (0..fan)
                .map(|_| json!({"$ref": format!("#/$defs/a{}", level - 1)}))
                .collect();
            defs.insert(format!("a{level}"), json!({"allOf": refs}));
        }
        json!({"$defs": defs, "$ref": format!("#/$defs/a{levels}")})
    }

    #[test]
    fn references_that_multiply_past_the_budget_are_refused() {
        let error = within(&fanned(10, 10), 20_000).unwrap_err();
        assert_eq!(error, CheckCost::TooLarge { budget: 20_000 });
    }

    #[test]
    fn a_few_shared_references_are_within_the_budget() {
        assert_eq!(within(&fanned(3, 3), 20_000), Ok(Measure { recursions: 0 }));
    }

    #[test]
    fn a_recursive_schema_counts_its_recursion_once() {
        let tree = json!({
            "$defs": {"node": {"type": "object", "properties": {
                "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}
            }}},
            "$ref": "#/$defs/node"
        });
        assert_eq!(within(&tree, 100), Ok(Measure { recursions: 1 }));
        assert_eq!(
            within(&json!({"items": {"$ref": "#"}}), 10),
            Ok(Measure { recursions: 1 })
        );
        assert!(recursion_allows(Measure { recursions: 1 }, 128));
    }

    #[test]
    fn anchors_are_followed_so_they_cannot_hide_a_fan_out() {
        let mut schema = fanned(10, 10);
        let defs = schema["$defs"].as_object_mut().unwrap();
        for level in 0..=10 {
            let def = defs.get_mut(&format!("a{level}")).unwrap();
            def["$anchor"] = json!(format!("n{level}"));
            if let Some(refs) = def.get_mut("allOf") {
                for reference in refs.as_array_mut().unwrap() {
                    reference["$ref"] = json!(format!("#n{}", level - 1));
                }
            }
        }
        assert!(matches!(
            within(&schema, 20_000),
            Err(CheckCost::TooLarge { .. })
        ));
    }

    #[test]
    fn a_reference_that_cannot_be_followed_is_refused() {
        for reference in [
            "https://example.com/s.json",
            "#/nowhere",
            "#missing",
            "item.json",
        ] {
            let schema = json!({"properties": {"a": {"$ref": reference}}});
            assert!(
                matches!(within(&schema, 100), Err(CheckCost::Unfollowable { .. })),
                "{reference}"
            );
        }
        let dynamic = json!({"$dynamicRef": "#meta"});
        assert!(matches!(
            within(&dynamic, 100),
            Err(CheckCost::Unfollowable { .. })
        ));
    }

    #[test]
    fn a_pointer_with_escapes_is_followed() {
        let schema = json!({"$defs": {"a b": {"type": "string"}, "c/d": {"type": "integer"}},
            "properties": {"x": {"$ref": "#/$defs/a%20b"}, "y": {"$ref": "#/$defs/c~1d"}}});
        assert!(within(&schema, 100).is_ok());
    }

    #[test]
    fn recursions_that_fan_out_bound_the_answers_depth() {
        let two = json!({"allOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]});
        let measure = within(&two, 100).unwrap();
        assert_eq!(measure.recursions, 2);
        assert!(recursion_allows(measure, 19));
        assert!(!recursion_allows(measure, 21));
        assert_eq!(depth(&json!([[[1]], {"a": {}}])), 3);
    }

    #[test]
    fn a_chain_of_references_deeper_than_the_stack_allows_is_refused() {
        let mut defs = serde_json::Map::new();
        for level in 0..1_000 {
            defs.insert(
                format!("d{level}"),
                json!({"$ref": format!("#/$defs/d{}", level + 1)}),
            );
        }
        defs.insert("d1000".to_owned(), json!({"type": "string"}));
        let schema = json!({"$defs": defs, "$ref": "#/$defs/d0"});
        assert!(matches!(
            within(&schema, 1_000_000),
            Err(CheckCost::TooLarge { .. })
        ));
    }

    #[test]
    fn one_recursive_reference_reached_by_two_paths_counts_twice() {
        let schema = json!({
            "$defs": {
                "node": {"allOf": [{"$ref": "#/$defs/x"}, {"$ref": "#/$defs/x"}]},
                "x": {"items": {"$ref": "#/$defs/node"}}
            },
            "$ref": "#/$defs/node"
        });
        assert_eq!(within(&schema, 1_000).unwrap().recursions, 2);
    }

    #[test]
    fn a_reference_inside_data_is_not_followed() {
        let schema =
            json!({"const": {"$ref": "https://example.com/x"}, "enum": [{"$ref": "#/no"}]});
        assert_eq!(within(&schema, 100), Ok(Measure { recursions: 0 }));
    }
}
