//! List Models' fast reader: OpenRouter's model list read from its bytes into typed structs that
//! borrow the answer's text, one model at a time, each written out as soon as it is read, byte
//! for byte what the `Value` path ([`super::flat::decode`] into
//! [`super::list_models::ModelList`]) writes for the same answer: the same members in the same
//! order, `null`s left out at every depth, the same defaults, unknown members kept in upstream's
//! order.
//!
//! One model's structs are reused for the next (their vectors keep their room), and a string
//! read without escapes is copied out as it is: JSON forbids quotes, backslashes and control
//! characters in it, which are all `serde_json` would escape.
//!
//! It reads only what it is sure of: anything else (a member of an unexpected type, a model
//! without a string `id`, a name given twice, a body that is not one JSON object) gives `None`,
//! and the action falls back to the `Value` path, which then answers, or fails, as it always did.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::loose::{
    Loose, Members, Name, Text, duplicate_name, has_duplicate, write_members, write_number,
    write_text,
};

/// The flat model list written from `body`, an upstream `200`'s bytes; `None` when only the
/// `Value` path can say what to answer.
pub fn flat_model_list(body: &[u8]) -> Option<Vec<u8>> {
    // The flat list is about as long as upstream's (less its blanks and `null`s).
    let mut out = Vec::with_capacity(body.len());
    let mut reader = serde_json::Deserializer::from_slice(body);
    (&mut reader)
        .deserialize_map(ListVisitor { out: &mut out })
        .ok()?;
    reader.end().ok()?;
    Some(out)
}

/// `{"data": [...], ...}`: `data` is required (the shape the `Value` path checks), and written
/// first; the other members after it, in their order.
struct ListVisitor<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> Visitor<'de> for ListVisitor<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a model list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut data = false;
        let mut other = Members::default();
        while let Some(name) = map.next_key::<Name<'de>>()? {
            if name.0 == b"data" {
                if data {
                    return Err(duplicate_name());
                }
                data = true;
                self.out.extend_from_slice(b"{\"data\":");
                map.next_value_seed(ModelsSeed { out: self.out })?;
            } else {
                other.push(name.text()?, map.next_value()?);
            }
        }
        if !data {
            return Err(de::Error::missing_field("data"));
        }
        if has_duplicate(&other) {
            return Err(duplicate_name());
        }
        write_members(self.out, &other, true).map_err(de::Error::custom)?;
        self.out.push(b'}');
        Ok(())
    }
}

/// The `data` array, each model written as soon as it is read.
struct ModelsSeed<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for ModelsSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ModelsSeed<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of models")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut model = Model::default();
        let mut first = true;
        while seq.next_element_seed(Fill(&mut model))?.is_some() {
            if !first {
                self.out.push(b',');
            }
            first = false;
            model.write(self.out).map_err(de::Error::custom)?;
        }
        self.out.push(b']');
        Ok(())
    }
}

/// An object read into reused structs: cleared, then filled member by member.
trait Object<'de>: Default {
    const EXPECTING: &'static str;
    /// Forgets the last object read, keeping the room it took.
    fn clear(&mut self);
    /// Reads the value of member `name`, when it is one this object knows.
    fn known<A: MapAccess<'de>>(&mut self, name: &[u8], map: &mut A) -> Result<bool, A::Error>;
    /// Where the members it does not know go.
    fn other(&mut self) -> &mut Members<'de>;
    /// Writes the flat object, as its `Value`-path twin in `models.rs` is written: the declared
    /// members in their order, then the unknown ones (the `#[serde(flatten)]` map).
    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

/// Reads one object (not `null`) into `T`.
struct Fill<'t, T>(&'t mut T);

impl<'de, T: Object<'de>> DeserializeSeed<'de> for Fill<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Object<'de>> Visitor<'de> for Fill<'_, T> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.clear();
        while let Some(name) = map.next_key::<Name<'de>>()? {
            if !self.0.known(name.0, &mut map)? {
                let value: Loose<'de> = map.next_value()?;
                self.0.other().push(name.text()?, value);
            }
        }
        if has_duplicate(self.0.other()) {
            return Err(duplicate_name());
        }
        Ok(())
    }
}

/// What a known member that is an object or a list is read into, reusing its room.
trait Fillable<'de> {
    /// Reads a value that is not `null`.
    fn fill<D: Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error>;
}

/// An array of strings whose `null` items are left out, as the `Value` path prunes them before
/// it reads a `Vec<String>`.
impl<'de> Fillable<'de> for Vec<Text<'de>> {
    fn fill<D: Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(FillTexts(self))
    }
}

struct FillTexts<'t, 'de>(&'t mut Vec<Text<'de>>);

impl<'de> Visitor<'de> for FillTexts<'_, 'de> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.clear();
        while let Some(item) = seq.next_element::<Option<Text<'de>>>()? {
            self.0.extend(item);
        }
        Ok(())
    }
}

macro_rules! fillable_objects {
    ($($name:ident),*) => {$(
        impl<'de> Fillable<'de> for $name<'de> {
            fn fill<D: Deserializer<'de>>(&mut self, deserializer: D) -> Result<(), D::Error> {
                Fill(self).deserialize(deserializer)
            }
        }
    )*};
}

fillable_objects!(Pricing, Architecture, TopProvider);

/// A known member: whether it was given (a second one is a name given twice), and its value
/// unless it was `null`. A `Reused` one keeps its room when cleared.
struct Slot<T> {
    given: bool,
    value: Option<T>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            given: false,
            value: None,
        }
    }
}

impl<T> Slot<T> {
    fn clear(&mut self) {
        self.given = false;
        self.value = None;
    }

    fn read<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<bool, A::Error>
    where
        T: de::Deserialize<'de>,
    {
        if std::mem::replace(&mut self.given, true) {
            return Err(duplicate_name());
        }
        self.value = map.next_value()?;
        Ok(true)
    }
}

#[derive(Default)]
struct Reused<T> {
    given: bool,
    present: bool,
    value: T,
}

impl<T> Reused<T> {
    fn clear(&mut self) {
        self.given = false;
        self.present = false;
    }

    fn read<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<bool, A::Error>
    where
        T: Fillable<'de>,
    {
        if std::mem::replace(&mut self.given, true) {
            return Err(duplicate_name());
        }
        map.next_value_seed(ReusedSeed(self))?;
        Ok(true)
    }

    /// The value, unless it was absent or `null`.
    fn get(&self) -> Option<&T> {
        self.present.then_some(&self.value)
    }
}

struct ReusedSeed<'t, T>(&'t mut Reused<T>);

impl<'de, T: Fillable<'de>> DeserializeSeed<'de> for ReusedSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: Fillable<'de>> Visitor<'de> for ReusedSeed<'_, T> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a value or null")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.value.fill(deserializer)?;
        self.0.present = true;
        Ok(())
    }
}

/// Writes the flat members of an object, each `"name":value` after a comma but the first.
struct Writer<'o> {
    out: &'o mut Vec<u8>,
    first: bool,
}

impl<'o> Writer<'o> {
    fn open(out: &'o mut Vec<u8>) -> Writer<'o> {
        out.push(b'{');
        Writer { out, first: true }
    }

    fn name(&mut self, name: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn text(&mut self, name: &str, value: Option<&Text<'_>>) -> serde_json::Result<()> {
        if let Some(Text(text)) = value {
            self.name(name);
            write_text(self.out, text)?;
        }
        Ok(())
    }

    fn texts(&mut self, name: &str, value: Option<&Vec<Text<'_>>>) -> serde_json::Result<()> {
        self.name(name);
        self.out.push(b'[');
        for (at, Text(text)) in value.into_iter().flatten().enumerate() {
            if at > 0 {
                self.out.push(b',');
            }
            write_text(self.out, text)?;
        }
        self.out.push(b']');
        Ok(())
    }

    fn number(&mut self, name: &str, value: Option<&Number>) -> serde_json::Result<()> {
        if let Some(number) = value {
            self.name(name);
            write_number(self.out, number)?;
        }
        Ok(())
    }

    fn flag(&mut self, name: &str, value: Option<bool>) {
        if let Some(flag) = value {
            self.name(name);
            self.out
                .extend_from_slice(if flag { b"true" } else { b"false" });
        }
    }

    fn object<'de, T: Object<'de>>(
        &mut self,
        name: &str,
        value: Option<&T>,
    ) -> serde_json::Result<()> {
        if let Some(value) = value {
            self.name(name);
            value.write(self.out)?;
        }
        Ok(())
    }

    /// The unknown members, then the end of the object.
    fn close(self, other: &Members<'_>) -> serde_json::Result<()> {
        write_members(self.out, other, !self.first)?;
        self.out.push(b'}');
        Ok(())
    }
}

#[derive(Default)]
struct Model<'a> {
    id: Slot<Text<'a>>,
    name: Slot<Text<'a>>,
    description: Slot<Text<'a>>,
    created: Slot<Number>,
    context_length: Slot<Number>,
    pricing: Reused<Pricing<'a>>,
    architecture: Reused<Architecture<'a>>,
    top_provider: Reused<TopProvider<'a>>,
    supported_parameters: Reused<Vec<Text<'a>>>,
    other: Members<'a>,
}

impl<'de> Object<'de> for Model<'de> {
    const EXPECTING: &'static str = "a model";

    fn clear(&mut self) {
        self.id.clear();
        self.name.clear();
        self.description.clear();
        self.created.clear();
        self.context_length.clear();
        self.pricing.clear();
        self.architecture.clear();
        self.top_provider.clear();
        self.supported_parameters.clear();
        self.other.0.clear();
    }

    fn known<A: MapAccess<'de>>(&mut self, name: &[u8], map: &mut A) -> Result<bool, A::Error> {
        match name {
            b"id" => self.id.read(map),
            b"name" => self.name.read(map),
            b"description" => self.description.read(map),
            b"created" => self.created.read(map),
            b"context_length" => self.context_length.read(map),
            b"pricing" => self.pricing.read(map),
            b"architecture" => self.architecture.read(map),
            b"top_provider" => self.top_provider.read(map),
            b"supported_parameters" => self.supported_parameters.read(map),
            _ => Ok(false),
        }
    }

    fn other(&mut self) -> &mut Members<'de> {
        &mut self.other
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // A model without a string `id` is not one the `Value` path answers with.
        let Some(Text(id)) = &self.id.value else {
            return Err(de::Error::missing_field("id"));
        };
        let mut object = Writer::open(out);
        object.name("id");
        write_text(object.out, id)?;
        object.text("name", self.name.value.as_ref())?;
        object.text("description", self.description.value.as_ref())?;
        object.number("created", self.created.value.as_ref())?;
        object.number("context_length", self.context_length.value.as_ref())?;
        object.object("pricing", self.pricing.get())?;
        object.object("architecture", self.architecture.get())?;
        object.object("top_provider", self.top_provider.get())?;
        object.texts("supported_parameters", self.supported_parameters.get())?;
        object.close(&self.other)
    }
}

#[derive(Default)]
struct Pricing<'a> {
    prompt: Slot<Text<'a>>,
    completion: Slot<Text<'a>>,
    request: Slot<Text<'a>>,
    image: Slot<Text<'a>>,
    other: Members<'a>,
}

impl<'de> Object<'de> for Pricing<'de> {
    const EXPECTING: &'static str = "a model's pricing";

    fn clear(&mut self) {
        self.prompt.clear();
        self.completion.clear();
        self.request.clear();
        self.image.clear();
        self.other.0.clear();
    }

    fn known<A: MapAccess<'de>>(&mut self, name: &[u8], map: &mut A) -> Result<bool, A::Error> {
        match name {
            b"prompt" => self.prompt.read(map),
            b"completion" => self.completion.read(map),
            b"request" => self.request.read(map),
            b"image" => self.image.read(map),
            _ => Ok(false),
        }
    }

    fn other(&mut self) -> &mut Members<'de> {
        &mut self.other
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let mut object = Writer::open(out);
        object.text("prompt", self.prompt.value.as_ref())?;
        object.text("completion", self.completion.value.as_ref())?;
        object.text("request", self.request.value.as_ref())?;
        object.text("image", self.image.value.as_ref())?;
        object.close(&self.other)
    }
}

#[derive(Default)]
struct Architecture<'a> {
    modality: Slot<Text<'a>>,
    input_modalities: Reused<Vec<Text<'a>>>,
    output_modalities: Reused<Vec<Text<'a>>>,
    tokenizer: Slot<Text<'a>>,
    instruct_type: Slot<Text<'a>>,
    other: Members<'a>,
}

impl<'de> Object<'de> for Architecture<'de> {
    const EXPECTING: &'static str = "a model's architecture";

    fn clear(&mut self) {
        self.modality.clear();
        self.input_modalities.clear();
        self.output_modalities.clear();
        self.tokenizer.clear();
        self.instruct_type.clear();
        self.other.0.clear();
    }

    fn known<A: MapAccess<'de>>(&mut self, name: &[u8], map: &mut A) -> Result<bool, A::Error> {
        match name {
            b"modality" => self.modality.read(map),
            b"input_modalities" => self.input_modalities.read(map),
            b"output_modalities" => self.output_modalities.read(map),
            b"tokenizer" => self.tokenizer.read(map),
            b"instruct_type" => self.instruct_type.read(map),
            _ => Ok(false),
        }
    }

    fn other(&mut self) -> &mut Members<'de> {
        &mut self.other
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let mut object = Writer::open(out);
        object.text("modality", self.modality.value.as_ref())?;
        object.texts("input_modalities", self.input_modalities.get())?;
        object.texts("output_modalities", self.output_modalities.get())?;
        object.text("tokenizer", self.tokenizer.value.as_ref())?;
        object.text("instruct_type", self.instruct_type.value.as_ref())?;
        object.close(&self.other)
    }
}

#[derive(Default)]
struct TopProvider<'a> {
    context_length: Slot<Number>,
    max_completion_tokens: Slot<Number>,
    is_moderated: Slot<bool>,
    other: Members<'a>,
}

impl<'de> Object<'de> for TopProvider<'de> {
    const EXPECTING: &'static str = "a model's top provider";

    fn clear(&mut self) {
        self.context_length.clear();
        self.max_completion_tokens.clear();
        self.is_moderated.clear();
        self.other.0.clear();
    }

    fn known<A: MapAccess<'de>>(&mut self, name: &[u8], map: &mut A) -> Result<bool, A::Error> {
        match name {
            b"context_length" => self.context_length.read(map),
            b"max_completion_tokens" => self.max_completion_tokens.read(map),
            b"is_moderated" => self.is_moderated.read(map),
            _ => Ok(false),
        }
    }

    fn other(&mut self) -> &mut Members<'de> {
        &mut self.other
    }

    fn write(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let mut object = Writer::open(out);
        object.number("context_length", self.context_length.value.as_ref())?;
        object.number(
            "max_completion_tokens",
            self.max_completion_tokens.value.as_ref(),
        )?;
        object.flag("is_moderated", self.is_moderated.value);
        object.close(&self.other)
    }
}
