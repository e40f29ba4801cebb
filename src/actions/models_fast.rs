//! List Models' fast reader: OpenRouter's model list read from its bytes by a strict
//! [`Scanner`], one model at a time into reused typed structs that borrow the answer's bytes,
//! each model written out as soon as it is read, byte for byte what the `Value` path
//! ([`super::flat::decode`] into [`super::list_models::ModelList`]) writes for the same answer:
//! the same members in the same order, `null`s left out at every depth, the same defaults,
//! unknown members kept in upstream's order.
//!
//! It reads only what it is sure of: anything else (a member of an unexpected type, a model
//! without a string `id`, a name given twice, a body that is not one JSON object) gives `None`,
//! and the action falls back to the `Value` path, which then answers, or fails, as it always did.

use super::json_scan::{Kind, Names, Num, Scanner, Str, copy_member};

/// The flat model list written from `body`, an upstream `200`'s bytes; `None` when only the
/// `Value` path can say what to answer.
pub fn flat_model_list(body: &[u8]) -> Option<Vec<u8>> {
    let mut scanner = Scanner::new(body)?;
    // The flat list is about as long as upstream's (less its blanks and `null`s).
    let mut out = Vec::with_capacity(body.len());
    // The members beside `data`, written after it: `,"name":value` each.
    let mut tail = Vec::new();
    let mut data = false;
    let mut model = Model::default();
    scanner.object(|scanner, name| {
        if name.bytes() != b"data" {
            return copy_member(scanner, &mut tail, name, true).map(drop);
        }
        data = true;
        out.extend_from_slice(b"{\"data\":[");
        let mut first = true;
        scanner.array(|scanner| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            model.read(scanner)?;
            model.write(&mut out)
        })?;
        out.push(b']');
        Some(())
    })?;
    if !data || !scanner.at_end() {
        return None;
    }
    out.extend_from_slice(&tail);
    out.push(b'}');
    Some(out)
}

/// A string, or `null` (`Some(None)`); anything else gives way.
fn text<'a>(scanner: &mut Scanner<'a>) -> Option<Option<Str<'a>>> {
    match scanner.kind()? {
        Kind::Null => scanner.null().map(|()| None),
        Kind::String => scanner.string().map(Some),
        _ => None,
    }
}

/// A number, or `null`.
fn number<'a>(scanner: &mut Scanner<'a>) -> Option<Option<Num<'a>>> {
    match scanner.kind()? {
        Kind::Null => scanner.null().map(|()| None),
        Kind::Number => scanner.number().map(Some),
        _ => None,
    }
}

/// `true`, `false`, or `null`.
fn flag(scanner: &mut Scanner<'_>) -> Option<Option<bool>> {
    match scanner.kind()? {
        Kind::Null => scanner.null().map(|()| None),
        Kind::Bool => scanner.bool().map(Some),
        _ => None,
    }
}

/// An array of strings whose `null` items are left out (the `Value` path prunes them before it
/// reads a `Vec<String>`), or `null` (then `items` stays empty), into reused room.
fn texts<'a>(scanner: &mut Scanner<'a>, items: &mut Vec<Str<'a>>) -> Option<()> {
    items.clear();
    match scanner.kind()? {
        Kind::Null => scanner.null(),
        Kind::Array => scanner.array(|scanner| {
            items.extend(text(scanner)?);
            Some(())
        }),
        _ => None,
    }
}

/// An object into reused room: `null` leaves it absent; `read` reads its members.
fn object<'a, T: Read<'a>>(scanner: &mut Scanner<'a>, value: &mut T) -> Option<bool> {
    match scanner.kind()? {
        Kind::Null => scanner.null().map(|()| false),
        Kind::Object => value.read(scanner).map(|()| true),
        _ => None,
    }
}

/// An object read member by member into reused room, and written flat.
trait Read<'a> {
    /// Reads the object, forgetting the last one read.
    fn read(&mut self, scanner: &mut Scanner<'a>) -> Option<()>;
    /// Writes it, as its `Value`-path twin in `models.rs` is written: the declared members in
    /// their order, then the unknown ones (the `#[serde(flatten)]` map).
    fn write(&self, out: &mut Vec<u8>) -> Option<()>;
}

/// Writes a flat object: `{`, members, the unknown ones (`,"name":value` each), `}`.
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

    fn text(&mut self, name: &str, value: Option<&Str<'_>>) -> Option<()> {
        if let Some(value) = value {
            self.name(name);
            value.write(self.out)?;
        }
        Some(())
    }

    fn texts(&mut self, name: &str, items: &[Str<'_>]) -> Option<()> {
        self.name(name);
        self.out.push(b'[');
        for (at, item) in items.iter().enumerate() {
            if at > 0 {
                self.out.push(b',');
            }
            item.write(self.out)?;
        }
        self.out.push(b']');
        Some(())
    }

    fn number(&mut self, name: &str, value: Option<&Num<'_>>) -> Option<()> {
        if let Some(value) = value {
            self.name(name);
            value.write(self.out)?;
        }
        Some(())
    }

    fn flag(&mut self, name: &str, value: Option<bool>) {
        if let Some(flag) = value {
            self.name(name);
            self.out
                .extend_from_slice(if flag { b"true" } else { b"false" });
        }
    }

    fn object<'a, T: Read<'a>>(&mut self, name: &str, value: &T, present: bool) -> Option<()> {
        if present {
            self.name(name);
            value.write(self.out)?;
        }
        Some(())
    }

    /// The unknown members, then the end.
    fn close(self, tail: &[u8]) {
        let tail = match self.first {
            // Nothing written yet: no comma before the first unknown member.
            true => tail.get(1..).unwrap_or_default(),
            false => tail,
        };
        self.out.extend_from_slice(tail);
        self.out.push(b'}');
    }
}

#[derive(Default)]
struct Model<'a> {
    names: Names<'a>,
    id: Option<Str<'a>>,
    name: Option<Str<'a>>,
    description: Option<Str<'a>>,
    created: Option<Num<'a>>,
    context_length: Option<Num<'a>>,
    pricing: (bool, Pricing<'a>),
    architecture: (bool, Architecture<'a>),
    top_provider: (bool, TopProvider<'a>),
    supported_parameters: Vec<Str<'a>>,
    tail: Vec<u8>,
}

impl<'a> Read<'a> for Model<'a> {
    fn read(&mut self, scanner: &mut Scanner<'a>) -> Option<()> {
        self.id = None;
        self.name = None;
        self.description = None;
        self.created = None;
        self.context_length = None;
        self.pricing.0 = false;
        self.architecture.0 = false;
        self.top_provider.0 = false;
        self.supported_parameters.clear();
        self.tail.clear();
        self.names.clear();
        scanner.members(|scanner, name| {
            match name.bytes() {
                // `null` is no id: the `Value` path refuses the list.
                b"id" => {
                    self.names.known(0)?;
                    self.id = Some(text(scanner)??);
                }
                b"name" => {
                    self.names.known(1)?;
                    self.name = text(scanner)?;
                }
                b"description" => {
                    self.names.known(2)?;
                    self.description = text(scanner)?;
                }
                b"created" => {
                    self.names.known(3)?;
                    self.created = number(scanner)?;
                }
                b"context_length" => {
                    self.names.known(4)?;
                    self.context_length = number(scanner)?;
                }
                b"pricing" => {
                    self.names.known(5)?;
                    self.pricing.0 = object(scanner, &mut self.pricing.1)?;
                }
                b"architecture" => {
                    self.names.known(6)?;
                    self.architecture.0 = object(scanner, &mut self.architecture.1)?;
                }
                b"top_provider" => {
                    self.names.known(7)?;
                    self.top_provider.0 = object(scanner, &mut self.top_provider.1)?;
                }
                b"supported_parameters" => {
                    self.names.known(8)?;
                    texts(scanner, &mut self.supported_parameters)?;
                }
                _ => {
                    self.names.other(&name)?;
                    copy_member(scanner, &mut self.tail, &name, true)?;
                }
            }
            Some(())
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        let mut object = Writer::open(out);
        object.text("id", Some(self.id.as_ref()?))?;
        object.text("name", self.name.as_ref())?;
        object.text("description", self.description.as_ref())?;
        object.number("created", self.created.as_ref())?;
        object.number("context_length", self.context_length.as_ref())?;
        object.object("pricing", &self.pricing.1, self.pricing.0)?;
        object.object("architecture", &self.architecture.1, self.architecture.0)?;
        object.object("top_provider", &self.top_provider.1, self.top_provider.0)?;
        object.texts("supported_parameters", &self.supported_parameters)?;
        object.close(&self.tail);
        Some(())
    }
}

#[derive(Default)]
struct Pricing<'a> {
    names: Names<'a>,
    prompt: Option<Str<'a>>,
    completion: Option<Str<'a>>,
    request: Option<Str<'a>>,
    image: Option<Str<'a>>,
    tail: Vec<u8>,
}

impl<'a> Read<'a> for Pricing<'a> {
    fn read(&mut self, scanner: &mut Scanner<'a>) -> Option<()> {
        self.prompt = None;
        self.completion = None;
        self.request = None;
        self.image = None;
        self.tail.clear();
        self.names.clear();
        scanner.members(|scanner, name| {
            match name.bytes() {
                b"prompt" => {
                    self.names.known(0)?;
                    self.prompt = text(scanner)?;
                }
                b"completion" => {
                    self.names.known(1)?;
                    self.completion = text(scanner)?;
                }
                b"request" => {
                    self.names.known(2)?;
                    self.request = text(scanner)?;
                }
                b"image" => {
                    self.names.known(3)?;
                    self.image = text(scanner)?;
                }
                _ => {
                    self.names.other(&name)?;
                    copy_member(scanner, &mut self.tail, &name, true)?;
                }
            }
            Some(())
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        let mut object = Writer::open(out);
        object.text("prompt", self.prompt.as_ref())?;
        object.text("completion", self.completion.as_ref())?;
        object.text("request", self.request.as_ref())?;
        object.text("image", self.image.as_ref())?;
        object.close(&self.tail);
        Some(())
    }
}

#[derive(Default)]
struct Architecture<'a> {
    names: Names<'a>,
    modality: Option<Str<'a>>,
    input_modalities: Vec<Str<'a>>,
    output_modalities: Vec<Str<'a>>,
    tokenizer: Option<Str<'a>>,
    instruct_type: Option<Str<'a>>,
    tail: Vec<u8>,
}

impl<'a> Read<'a> for Architecture<'a> {
    fn read(&mut self, scanner: &mut Scanner<'a>) -> Option<()> {
        self.modality = None;
        self.input_modalities.clear();
        self.output_modalities.clear();
        self.tokenizer = None;
        self.instruct_type = None;
        self.tail.clear();
        self.names.clear();
        scanner.members(|scanner, name| {
            match name.bytes() {
                b"modality" => {
                    self.names.known(0)?;
                    self.modality = text(scanner)?;
                }
                b"input_modalities" => {
                    self.names.known(1)?;
                    texts(scanner, &mut self.input_modalities)?;
                }
                b"output_modalities" => {
                    self.names.known(2)?;
                    texts(scanner, &mut self.output_modalities)?;
                }
                b"tokenizer" => {
                    self.names.known(3)?;
                    self.tokenizer = text(scanner)?;
                }
                b"instruct_type" => {
                    self.names.known(4)?;
                    self.instruct_type = text(scanner)?;
                }
                _ => {
                    self.names.other(&name)?;
                    copy_member(scanner, &mut self.tail, &name, true)?;
                }
            }
            Some(())
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        let mut object = Writer::open(out);
        object.text("modality", self.modality.as_ref())?;
        object.texts("input_modalities", &self.input_modalities)?;
        object.texts("output_modalities", &self.output_modalities)?;
        object.text("tokenizer", self.tokenizer.as_ref())?;
        object.text("instruct_type", self.instruct_type.as_ref())?;
        object.close(&self.tail);
        Some(())
    }
}

#[derive(Default)]
struct TopProvider<'a> {
    names: Names<'a>,
    context_length: Option<Num<'a>>,
    max_completion_tokens: Option<Num<'a>>,
    is_moderated: Option<bool>,
    tail: Vec<u8>,
}

impl<'a> Read<'a> for TopProvider<'a> {
    fn read(&mut self, scanner: &mut Scanner<'a>) -> Option<()> {
        self.context_length = None;
        self.max_completion_tokens = None;
        self.is_moderated = None;
        self.tail.clear();
        self.names.clear();
        scanner.members(|scanner, name| {
            match name.bytes() {
                b"context_length" => {
                    self.names.known(0)?;
                    self.context_length = number(scanner)?;
                }
                b"max_completion_tokens" => {
                    self.names.known(1)?;
                    self.max_completion_tokens = number(scanner)?;
                }
                b"is_moderated" => {
                    self.names.known(2)?;
                    self.is_moderated = flag(scanner)?;
                }
                _ => {
                    self.names.other(&name)?;
                    copy_member(scanner, &mut self.tail, &name, true)?;
                }
            }
            Some(())
        })
    }

    fn write(&self, out: &mut Vec<u8>) -> Option<()> {
        let mut object = Writer::open(out);
        object.number("context_length", self.context_length.as_ref())?;
        object.number("max_completion_tokens", self.max_completion_tokens.as_ref())?;
        object.flag("is_moderated", self.is_moderated);
        object.close(&self.tail);
        Some(())
    }
}
