//! `Loose`: an upstream JSON value read as it is and in its order, borrowing the answer's text
//! wherever a string has no escapes. The fast readers of the actions keep in it what they do not
//! know, and walk it where the slow path walks a `serde_json::Value`, without building an
//! `IndexMap` for every object.
//!
//! Two rules keep its answers those of the `Value` path exactly:
//! - written out, it leaves out every `null`, at any depth, as [`super::flat::prune_nulls`] does;
//! - read, it refuses an object that holds a name twice (a `Value` keeps the last value where the
//!   first one stood), so that a fast reader falls back to the `Value` path instead of answering
//!   otherwise.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};

/// A JSON value read from upstream.
#[derive(Clone, Debug, PartialEq)]
pub enum Loose<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json` reads it.
    Number(Number),
    /// A string.
    Text(Cow<'a, str>),
    /// An array, in order.
    Array(Vec<Loose<'a>>),
    /// An object, in order.
    Object(Members<'a>),
}

/// An object's members in the order upstream wrote them, each name once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Members<'a>(pub Vec<(Cow<'a, str>, Loose<'a>)>);

impl<'a> Loose<'a> {
    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Loose::Null)
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Loose::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The member `name` of an object (`Value::get` with a name).
    pub fn get(&self, name: &str) -> Option<&Loose<'a>> {
        match self {
            Loose::Object(members) => members.get(name),
            _ => None,
        }
    }

    /// Removes every `null`, in objects and arrays, at any depth (`prune_nulls`).
    pub fn prune(&mut self) {
        match self {
            Loose::Object(members) => members.prune(),
            Loose::Array(items) => {
                items.retain(|item| !item.is_null());
                items.iter_mut().for_each(Loose::prune);
            }
            _ => {}
        }
    }

    /// The same value as a `serde_json::Value`.
    pub fn into_value(self) -> Value {
        match self {
            Loose::Null => Value::Null,
            Loose::Bool(flag) => Value::Bool(flag),
            Loose::Number(number) => Value::Number(number),
            Loose::Text(text) => Value::String(text.into_owned()),
            Loose::Array(items) => Value::Array(items.into_iter().map(Loose::into_value).collect()),
            Loose::Object(members) => Value::Object(members.into_map()),
        }
    }
}

impl<'a> Members<'a> {
    /// The value of member `name`.
    pub fn get(&self, name: &str) -> Option<&Loose<'a>> {
        self.0
            .iter()
            .find_map(|(key, value)| (key == name).then_some(value))
    }

    /// Whether there is a member `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }

    /// Takes member `name` out the way `serde_json::Map::remove` does with `preserve_order`: the
    /// last member moves into its place (`swap_remove`), which is the order the `Value` path
    /// leaves the other members in.
    pub fn take(&mut self, name: &str) -> Option<Loose<'a>> {
        let at = self.0.iter().position(|(key, _)| key == name)?;
        Some(self.0.swap_remove(at).1)
    }

    /// Removes every `null` member, and every `null` below (`prune_nulls`).
    pub fn prune(&mut self) {
        self.0.retain(|(_, value)| !value.is_null());
        for (_, value) in &mut self.0 {
            value.prune();
        }
    }

    /// Keeps only the members whose name passes `keep`, in order.
    pub fn retain_names(&mut self, keep: impl Fn(&str) -> bool) {
        self.0.retain(|(name, _)| keep(name));
    }

    /// Adds a member at the end (the caller knows the name is new).
    pub fn push(&mut self, name: Cow<'a, str>, value: Loose<'a>) {
        self.0.push((name, value));
    }

    /// The same members as a `serde_json::Map`, in order.
    pub fn into_map(self) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.0.len());
        for (name, value) in self.0 {
            map.insert(name.into_owned(), value.into_value());
        }
        map
    }
}

/// Whether two members have the same name.
pub fn has_duplicate(members: &Members<'_>) -> bool {
    let members = &members.0;
    if members.len() <= 16 {
        return members
            .iter()
            .enumerate()
            .any(|(at, (name, _))| members.iter().skip(at + 1).any(|(other, _)| other == name));
    }
    let mut sorted: Vec<&str> = members.iter().map(|(name, _)| name.as_ref()).collect();
    sorted.sort_unstable();
    sorted.windows(2).any(|pair| pair.first() == pair.last())
}

/// The error of an object that holds a name twice: the fast reader gives way to the `Value`
/// path, which keeps the last value.
pub fn duplicate_name<E: de::Error>() -> E {
    E::custom("a name appears twice in an object")
}

impl Serialize for Loose<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Loose::Null => serializer.serialize_unit(),
            Loose::Bool(flag) => serializer.serialize_bool(*flag),
            Loose::Number(number) => number.serialize(serializer),
            Loose::Text(text) => serializer.serialize_str(text),
            Loose::Array(items) => {
                let mut seq = serializer.serialize_seq(None)?;
                for item in items.iter().filter(|item| !item.is_null()) {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Loose::Object(members) => members.serialize(serializer),
        }
    }
}

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in &self.0 {
            if !value.is_null() {
                map.serialize_entry(name.as_ref(), value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Loose<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Loose<'de>, E> {
        Ok(Loose::Bool(flag))
    }

    fn visit_i64<E>(self, number: i64) -> Result<Loose<'de>, E> {
        Ok(Loose::Number(number.into()))
    }

    fn visit_u64<E>(self, number: u64) -> Result<Loose<'de>, E> {
        Ok(Loose::Number(number.into()))
    }

    fn visit_f64<E>(self, number: f64) -> Result<Loose<'de>, E> {
        // As `Value` reads it: a number JSON cannot hold is `null`.
        Ok(Number::from_f64(number).map_or(Loose::Null, Loose::Number))
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Loose<'de>, E> {
        Ok(Loose::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Loose<'de>, E> {
        Ok(Loose::Text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Loose<'de>, E> {
        Ok(Loose::Text(Cow::Owned(text)))
    }

    fn visit_unit<E>(self) -> Result<Loose<'de>, E> {
        Ok(Loose::Null)
    }

    fn visit_none<E>(self) -> Result<Loose<'de>, E> {
        Ok(Loose::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Loose<'de>, D::Error> {
        Loose::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Loose::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose<'de>, A::Error> {
        let mut members = Members::default();
        while let Some(name) = map.next_key::<Name<'de>>()? {
            members.push(name.text()?, map.next_value()?);
        }
        if has_duplicate(&members) {
            return Err(duplicate_name());
        }
        Ok(Loose::Object(members))
    }
}

/// An object's member name, as its bytes: read without `serde_json`'s checks of a string (so
/// that a name compared with known ones costs no more than the comparison), which [`Name::text`]
/// makes before the name is kept. A name with escapes is refused: the fast readers give way.
#[derive(Clone, Copy, Debug)]
pub struct Name<'a>(pub &'a [u8]);

impl<'a> Name<'a> {
    /// The name as text, checked as `serde_json` checks a string: no control character, UTF-8.
    pub fn text<E: de::Error>(self) -> Result<Cow<'a, str>, E> {
        if self.0.iter().any(|byte| *byte < 0x20) {
            return Err(E::custom("a control character in a name"));
        }
        std::str::from_utf8(self.0)
            .map(Cow::Borrowed)
            .map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a name without escapes")
    }

    fn visit_borrowed_bytes<E>(self, bytes: &'de [u8]) -> Result<Name<'de>, E> {
        Ok(Name(bytes))
    }
}
