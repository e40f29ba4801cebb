//! The JSON Schema a maker types on a Chat Completion card for the model's structured answer,
//! rewritten as the Swagger 2.0 schema the Power Automate designer shows as dynamic content
//! (contract section 4.9): references written out, the connector's conversion rules applied,
//! and a display name on every field.
//!
//! Writing references out can multiply a schema (a reference to a schema that references
//! another twice, twenty times over), so the work is counted as it is done and stops at
//! [`MAX_SCHEMAS`] schemas, [`MAX_SIZE`] bytes or [`MAX_DEPTH`] levels: whatever the maker
//! types, the answer is quick, finite, and never deeper than the stack can take.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use serde_json::{Map, Value, json};

use super::names::display_name;
use super::swagger::{SchemaConverter, collapse, overlay};

/// The most schemas the written-out schema may hold, counting each reference followed.
pub const MAX_SCHEMAS: usize = 10_000;

/// The most levels of schemas inside schemas below the root.
pub const MAX_DEPTH: usize = 32;

/// The most bytes of text (names, descriptions, enum values…) the written-out schema may hold,
/// each JSON value counting [`VALUE_COST`] bytes besides its text.
pub const MAX_SIZE: usize = 2_000_000;

/// What one JSON value costs against [`MAX_SIZE`], besides its text.
const VALUE_COST: usize = 8;

/// How many characters of a reference an error message quotes.
const QUOTED_CHARS: usize = 120;

/// Keywords whose schemas the designer never shows (Swagger 2.0 has no such keyword): they are
/// neither followed nor copied.
const UNSHOWN: &[&str] = &[
    "$defs",
    "definitions",
    "$dynamicRef",
    "$recursiveRef",
    "not",
    "if",
    "then",
    "else",
    "prefixItems",
    "additionalItems",
    "contains",
    "patternProperties",
    "propertyNames",
    "dependentSchemas",
    "dependencies",
    "unevaluatedItems",
    "unevaluatedProperties",
];

/// Why a maker's output schema cannot be shown in the designer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputSchemaError {
    /// The schema is not a JSON object.
    #[error(
        "The output schema must be a JSON object, such as {{\"type\": \"object\", \"properties\": {{…}}}}."
    )]
    NotAnObject,
    /// A reference to a schema outside this one (another file or a URL).
    #[error(
        "The reference `{reference}` at `{path}` points outside the schema: only references into the schema itself, such as `#/$defs/Name`, can be written out."
    )]
    ExternalReference {
        /// Where the reference is, such as `properties.lines.items.$ref`.
        path: String,
        /// The reference as written (its first 120 characters).
        reference: String,
    },
    /// A reference that points at no schema: a pointer to nothing, or not a JSON pointer.
    #[error(
        "The reference `{reference}` at `{path}` points at no schema in this schema: write it as a JSON pointer to one, such as `#/$defs/Name`."
    )]
    UnresolvedReference {
        /// Where the reference is, such as `properties.lines.items.$ref`.
        path: String,
        /// The reference as written (its first 120 characters).
        reference: String,
    },
    /// With its references written out, the schema has too many schemas or too much text.
    #[error(
        "The schema is too large for the designer to show: with its references written out, it holds more than 10,000 schemas or 2 MB of text."
    )]
    TooLarge,
    /// Schemas inside schemas, more than [`MAX_DEPTH`] levels deep.
    #[error(
        "The schema is nested too deeply for the designer to show: more than 32 levels, at `{path}`."
    )]
    TooDeep {
        /// Where the 33rd level starts, in the maker's schema.
        path: String,
    },
}

impl OutputSchemaError {
    /// Where in the maker's schema the trouble is (`properties.lines.items.$ref`), if in one
    /// place.
    pub fn path(&self) -> Option<&str> {
        match self {
            OutputSchemaError::ExternalReference { path, .. }
            | OutputSchemaError::UnresolvedReference { path, .. }
            | OutputSchemaError::TooDeep { path } => Some(path),
            OutputSchemaError::NotAnObject | OutputSchemaError::TooLarge => None,
        }
    }
}

/// The Swagger 2.0 schema the designer shows for `schema`, the JSON Schema a maker typed (or
/// OpenRouter's whole `{name, schema, strict}` form): references inlined, unions reduced to
/// their first member that is not `null`, each field named by its `title` or its key.
pub fn output_schema(schema: &Value) -> Result<Value, OutputSchemaError> {
    let Value::Object(object) = schema else {
        return Err(OutputSchemaError::NotAnObject);
    };
    let (root, prefix) = match wrapped(object) {
        Some(inner) => (inner, "schema"),
        None => (schema, ""),
    };
    let mut inliner = Inliner {
        root,
        prefix,
        open: HashSet::new(),
        trail: Vec::new(),
        targets: HashMap::new(),
        schemas: 0,
        size: 0,
    };
    let start = Here {
        up: None,
        step: Step::Root,
    };
    let inlined = inliner.inline(root, &start, 0)?;
    let components = Map::new();
    let mut converted = SchemaConverter::new(&components).convert(&inlined);
    annotate(&mut converted, None);
    Ok(converted)
}

/// The `schema` of OpenRouter's `{name, schema, strict, description}` form, if `object` is one
/// (and not a schema that merely has fields called `name` and `schema`).
fn wrapped(object: &Map<String, Value>) -> Option<&Value> {
    let inner = object.get("schema").filter(|schema| schema.is_object())?;
    let named = object.get("name").is_some_and(Value::is_string);
    let bare = !object.contains_key("type") && !object.contains_key("properties");
    (named && bare).then_some(inner)
}

/// Names every field for the designer (`x-ms-summary`: its `title`, else its key as words)
/// and types every schema with properties as an object.
fn annotate(schema: &mut Value, key: Option<&str>) {
    let Value::Object(map) = schema else {
        return;
    };
    let has_fields = map.contains_key("properties") || map.contains_key("additionalProperties");
    if has_fields && !map.contains_key("type") {
        map.insert("type".to_owned(), json!("object"));
    }
    if !map.contains_key("x-ms-summary") {
        let title = match map.remove("title") {
            Some(Value::String(title)) => Some(collapse(&title)).filter(|t| !t.is_empty()),
            _ => None,
        };
        if let Some(summary) = title.or_else(|| key.map(display_name)) {
            map.insert("x-ms-summary".to_owned(), json!(summary));
        }
    }
    if let Some(items) = map.get_mut("items") {
        annotate(items, None);
    }
    if let Some(extra) = map.get_mut("additionalProperties") {
        annotate(extra, None);
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            annotate(property, Some(name));
        }
    }
}

/// One step from a schema to a schema inside it, to say where a problem is.
enum Step<'p> {
    /// The maker's schema (or the `schema` of the wrapper).
    Root,
    /// A keyword or a property name.
    Key(&'p str),
    /// A member of an array of schemas (`anyOf[1]`).
    Index(usize),
    /// A schema reached through a reference: its path from the root.
    Jump(Rc<str>),
}

/// Where a schema is in the maker's document: a step, and the place it was taken from.
struct Here<'p> {
    up: Option<&'p Here<'p>>,
    step: Step<'p>,
}

impl<'p> Here<'p> {
    /// The place one step inside this one.
    fn child<'c>(&'c self, step: Step<'c>) -> Here<'c>
    where
        'p: 'c,
    {
        Here {
            up: Some(self),
            step,
        }
    }

    /// This place as the maker reads it: `properties.lines.items.$ref`, after `prefix`.
    fn path(&self, prefix: &str) -> String {
        let mut steps = Vec::new();
        let mut base = prefix.to_owned();
        let mut at: Option<&Here<'_>> = Some(self);
        while let Some(here) = at {
            match &here.step {
                Step::Root => break,
                Step::Jump(path) => {
                    base = path.to_string();
                    break;
                }
                step => steps.push(step),
            }
            at = here.up;
        }
        for step in steps.into_iter().rev() {
            match step {
                Step::Key(key) => push_key(&mut base, key),
                Step::Index(index) => push_index(&mut base, *index),
                Step::Root | Step::Jump(_) => {}
            }
        }
        base
    }
}

/// Writes a maker's schema out without references, counting as it goes.
struct Inliner<'a> {
    /// The document references point into.
    root: &'a Value,
    /// What paths in errors start with: `schema` inside the wrapper.
    prefix: &'static str,
    /// The schemas being written out (by address): a reference back to one is a recursion.
    open: HashSet<usize>,
    /// The same schemas in the order they were opened, to close them again.
    trail: Vec<usize>,
    /// Each reference already resolved (by the address of its text): its target and path.
    targets: HashMap<usize, (&'a Value, Rc<str>)>,
    /// Schemas written out and references followed so far.
    schemas: usize,
    /// Bytes written out so far, as [`MAX_SIZE`] counts them.
    size: usize,
}

impl<'a> Inliner<'a> {
    /// `schema`, at `here` and `depth` levels below the root, with its references replaced by
    /// what they point at and the references' own keywords laid over that.
    fn inline(
        &mut self,
        schema: &'a Value,
        here: &Here<'_>,
        depth: usize,
    ) -> Result<Value, OutputSchemaError> {
        if depth > MAX_DEPTH {
            return Err(OutputSchemaError::TooDeep {
                path: here.path(self.prefix),
            });
        }
        self.charge_schema()?;
        let mark = self.trail.len();
        // A chain of references is followed in a loop, not by recursion: only schemas inside
        // schemas take stack, and those are at most `MAX_DEPTH` deep.
        let mut layers: Vec<&'a Map<String, Value>> = Vec::new();
        let mut jumps: Vec<Here<'static>> = Vec::new();
        let mut node = schema;
        let mut recursion = false;
        loop {
            let address = address(node);
            if !self.open.insert(address) {
                recursion = true;
                break;
            }
            self.trail.push(address);
            let Value::Object(map) = node else { break };
            let Some(reference) = map.get("$ref").filter(|r| r.is_string()) else {
                break;
            };
            self.charge_schema()?;
            let at: &Here<'_> = match jumps.last() {
                Some(jump) => jump,
                None => here,
            };
            let (target, path) = self.resolve(reference, at)?;
            layers.push(map);
            jumps.push(Here {
                up: None,
                step: Step::Jump(path),
            });
            node = target;
        }
        let at: &Here<'_> = match jumps.last() {
            Some(jump) => jump,
            None => here,
        };
        let mut written = match node {
            // A reference back into a schema being written out: an object, so it ends.
            _ if recursion => json!({"type": "object"}),
            Value::Object(map) => {
                Value::Object(self.keywords(map, at, depth, layers.is_empty())?)
            }
            other => {
                self.charge_literal(other)?;
                other.clone()
            }
        };
        for (index, map) in layers.iter().enumerate().rev() {
            let at: &Here<'_> = match index.checked_sub(1).and_then(|i| jumps.get(i)) {
                Some(jump) => jump,
                None => here,
            };
            written = overlay(written, self.keywords(map, at, depth, index == 0)?);
        }
        for address in self.trail.drain(mark..) {
            self.open.remove(&address);
        }
        Ok(written)
    }

    /// The keywords of `map` (but its `$ref`), the schemas among them written out. The `title`
    /// of a schema reached through a reference names the definition, not the field that
    /// refers to it, so it stays only if `own` (the schema is written where it is used).
    fn keywords(
        &mut self,
        map: &'a Map<String, Value>,
        here: &Here<'_>,
        depth: usize,
        own: bool,
    ) -> Result<Map<String, Value>, OutputSchemaError> {
        let mut out = Map::new();
        for (key, value) in map {
            if key == "$ref" || UNSHOWN.contains(&key.as_str()) || (key == "title" && !own) {
                continue;
            }
            self.charge(key.len())?;
            let here = here.child(Step::Key(key));
            let written = match (key.as_str(), value) {
                ("properties", Value::Object(properties)) => {
                    let mut written = Map::new();
                    for (name, property) in properties {
                        self.charge(name.len())?;
                        let here = here.child(Step::Key(name));
                        written.insert(name.clone(), self.inline(property, &here, depth + 1)?);
                    }
                    Value::Object(written)
                }
                ("items" | "additionalProperties", Value::Object(_)) => {
                    self.inline(value, &here, depth + 1)?
                }
                ("items" | "oneOf" | "anyOf" | "allOf", Value::Array(members)) => {
                    let mut written = Vec::with_capacity(members.len().min(MAX_SCHEMAS));
                    for (index, member) in members.iter().enumerate() {
                        let here = here.child(Step::Index(index));
                        written.push(self.inline(member, &here, depth + 1)?);
                    }
                    Value::Array(written)
                }
                _ => {
                    self.charge_literal(value)?;
                    value.clone()
                }
            };
            out.insert(key.clone(), written);
        }
        Ok(out)
    }

    /// The schema `reference` (a `$ref` at `at`) points at, and that schema's path.
    fn resolve(
        &mut self,
        reference: &'a Value,
        at: &Here<'_>,
    ) -> Result<(&'a Value, Rc<str>), OutputSchemaError> {
        let key = address(reference);
        if let Some((target, path)) = self.targets.get(&key) {
            return Ok((target, Rc::clone(path)));
        }
        let text = reference.as_str().unwrap_or_default();
        let prefix = self.prefix;
        let path = || at.child(Step::Key("$ref")).path(prefix);
        let Some(fragment) = text.strip_prefix('#') else {
            return Err(OutputSchemaError::ExternalReference {
                path: path(),
                reference: quoted(text),
            });
        };
        let found = percent_decoded(fragment).and_then(|p| locate(self.root, &p, prefix));
        let Some((target, location)) = found else {
            return Err(OutputSchemaError::UnresolvedReference {
                path: path(),
                reference: quoted(text),
            });
        };
        let location: Rc<str> = location.into();
        self.targets.insert(key, (target, Rc::clone(&location)));
        Ok((target, location))
    }

    /// Counts one schema written out or one reference followed.
    fn charge_schema(&mut self) -> Result<(), OutputSchemaError> {
        self.schemas += 1;
        if self.schemas > MAX_SCHEMAS {
            return Err(OutputSchemaError::TooLarge);
        }
        self.charge(VALUE_COST)
    }

    /// Counts `bytes` written out.
    fn charge(&mut self, bytes: usize) -> Result<(), OutputSchemaError> {
        self.size = self.size.saturating_add(bytes);
        if self.size > MAX_SIZE {
            return Err(OutputSchemaError::TooLarge);
        }
        Ok(())
    }

    /// Counts a value copied as it is (an `enum`, a `default`, a `description`), stopping as
    /// soon as the budget is spent, however large or deep the value.
    fn charge_literal(&mut self, value: &Value) -> Result<(), OutputSchemaError> {
        let mut pending = vec![value];
        while let Some(value) = pending.pop() {
            self.charge(VALUE_COST)?;
            match value {
                Value::String(text) => self.charge(text.len())?,
                Value::Array(items) => {
                    self.affordable(items.len())?;
                    pending.extend(items);
                }
                Value::Object(map) => {
                    self.affordable(map.len())?;
                    for (key, value) in map {
                        self.charge(key.len())?;
                        pending.push(value);
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        Ok(())
    }

    /// Fails if `values` more values cannot fit in what is left of the budget.
    fn affordable(&self, values: usize) -> Result<(), OutputSchemaError> {
        let cost = values.saturating_mul(VALUE_COST);
        if self.size.saturating_add(cost) > MAX_SIZE {
            return Err(OutputSchemaError::TooLarge);
        }
        Ok(())
    }
}

/// A value's identity while the document is borrowed: two references to one schema agree.
fn address(value: &Value) -> usize {
    std::ptr::from_ref(value).addr()
}

/// The schema the JSON pointer `pointer` (already percent-decoded) points at in `root`, and
/// its path after `prefix`; none if it points at nothing or at something not a schema.
fn locate<'a>(root: &'a Value, pointer: &str, prefix: &str) -> Option<(&'a Value, String)> {
    let mut node = root;
    let mut path = prefix.to_owned();
    if !pointer.is_empty() {
        let tokens = pointer.strip_prefix('/')?;
        for token in tokens.split('/') {
            let token = unescaped(token)?;
            node = match node {
                Value::Object(map) => {
                    push_key(&mut path, &token);
                    map.get(&token)?
                }
                Value::Array(items) => {
                    let index = array_index(&token)?;
                    push_index(&mut path, index);
                    items.get(index)?
                }
                _ => return None,
            };
        }
    }
    matches!(node, Value::Object(_) | Value::Bool(_)).then_some((node, path))
}

/// A JSON pointer token with `~1` read as `/` and `~0` as `~`; none for another `~`.
fn unescaped(token: &str) -> Option<String> {
    if !token.contains('~') {
        return Some(token.to_owned());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            },
            other => out.push(other),
        }
    }
    Some(out)
}

/// An array index as a JSON pointer writes it: digits, without leading zeros.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let canonical = token == "0" || !token.starts_with('0');
    (digits && canonical).then(|| token.parse().ok()).flatten()
}

/// A URI fragment with its `%XX` escapes decoded; none if one is broken or not UTF-8.
fn percent_decoded(fragment: &str) -> Option<String> {
    if !fragment.contains('%') {
        return Some(fragment.to_owned());
    }
    let bytes = fragment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let high = char::from(*bytes.get(index + 1)?).to_digit(16)?;
            let low = char::from(*bytes.get(index + 2)?).to_digit(16)?;
            out.push(u8::try_from(high * 16 + low).ok()?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `path` followed by the property or keyword `key`.
fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// `path` followed by the array member `index`.
fn push_index(path: &mut String, index: usize) {
    path.push_str(&format!("[{index}]"));
}

/// At most the first [`QUOTED_CHARS`] characters of `text`, for a message.
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or(text)),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
