//! Comparing JSON values the way the capture tests need: numbers by value, `null` as absent,
//! extra members allowed, and every difference reported by its path (`$.a.b[0]`).

use serde_json::{Value, json};

/// Equal, with numbers compared by value (`610` and `610.0` are the same credit).
pub fn same(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && b.iter().all(|(k, v)| a.get(k).is_some_and(|x| same(x, v)))
        }
        _ => actual == expected,
    }
}

/// Where `actual` fails to hold every non-null member of `expected`, one line per difference:
/// objects may have more members, arrays must have the same length, scalars must be `same`.
pub fn missing(actual: &Value, expected: &Value) -> Vec<String> {
    let mut out = Vec::new();
    missing_from(actual, &without_nulls(expected.clone()), "$", &mut out);
    out
}

/// The path of every `null` in `value`.
pub fn null_paths(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    nulls_under(value, "$", &mut out);
    out
}

/// A value with every `null` removed, at any depth.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(without_nulls)
                .collect(),
        ),
        other => other,
    }
}

fn missing_from(actual: &Value, expected: &Value, path: &str, out: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (name, value) in e {
                let inner = format!("{path}.{name}");
                match a.get(name) {
                    Some(found) => missing_from(found, value, &inner, out),
                    None => out.push(format!("{inner} is missing (upstream: {value})")),
                }
            }
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (index, (found, value)) in a.iter().zip(e).enumerate() {
                missing_from(found, value, &format!("{path}[{index}]"), out);
            }
        }
        _ if same(actual, expected) => {}
        _ => out.push(format!("{path} is {actual}, upstream sent {expected}")),
    }
}

fn nulls_under(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Null => out.push(path.to_owned()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                nulls_under(item, &format!("{path}[{index}]"), out);
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                nulls_under(item, &format!("{path}.{name}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn same_compares_numbers_by_value_and_everything_else_exactly() {
    assert!(same(&json!({"a": [610, "x"]}), &json!({"a": [610.0, "x"]})));
    assert!(!same(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
    assert!(!same(&json!([1, 2]), &json!([2, 1])));
    assert!(!same(&json!("1"), &json!(1)));
}

#[test]
fn missing_names_each_difference_by_its_path_and_ignores_nulls_and_additions() {
    let expected = json!({"a": 1, "b": null, "c": [{"d": "x"}, null]});
    assert_eq!(
        missing(
            &json!({"a": 1.0, "c": [{"d": "x", "e": 2}], "f": 3}),
            &expected
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        missing(&json!({"c": [{"d": "y"}, 2]}), &expected),
        [
            "$.a is missing (upstream: 1)",
            "$.c is [{\"d\":\"y\"},2], upstream sent [{\"d\":\"x\"}]",
        ]
    );
    assert_eq!(
        missing(&json!({"a": 2, "c": [{}]}), &expected),
        [
            "$.a is 2, upstream sent 1",
            "$.c[0].d is missing (upstream: \"x\")"
        ]
    );
}

#[test]
fn null_paths_finds_every_null_at_any_depth() {
    let value = json!({"a": null, "b": [1, null, {"c": null}], "d": {"e": 0}});
    assert_eq!(null_paths(&value), ["$.a", "$.b[1]", "$.b[2].c"]);
    assert!(null_paths(&json!({"a": [1, {"b": ""}]})).is_empty());
}
