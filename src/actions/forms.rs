//! The second forms some request fields accept, declared as unions in the OpenAPI document so
//! that it tells the truth to pro-code clients and to schemathesis. The Power Platform
//! definition keeps each union's first, simple form (contract section 7a).

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};

use super::messages::ResponseFormat;

/// `none`, `auto`, `required`, or the name of the function to call; OpenRouter's object form
/// (`{"type": "function", "function": {"name": …}}`) is accepted too.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ToolChoiceForm {
    /// A word or a function's name.
    Word(String),
    /// OpenRouter's object form, sent as is.
    Object(Map<String, Value>),
}

/// `text`, `json_object` or `json_schema`; OpenRouter's object form (`{"type": …}`) is
/// accepted too.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ResponseFormatForm {
    /// The kind of answer.
    Kind(ResponseFormat),
    /// OpenRouter's object form, sent as is.
    Object(Map<String, Value>),
}

/// Up to 4 texts that end the generation; a single text is accepted too. Written by hand
/// because utoipa cannot put `maxItems` on one member of a union.
pub struct StopForm;

impl utoipa::PartialSchema for StopForm {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        OneOfBuilder::new()
            .item(
                ArrayBuilder::new()
                    .items(text())
                    .max_items(Some(4))
                    .description(Some("Up to 4 texts.")),
            )
            .item(text().description(Some("One text.")))
            .description(Some(
                "Up to 4 texts that end the generation; a single text is accepted too.",
            ))
            .into()
    }
}

impl ToSchema for StopForm {}

/// A message's text; OpenRouter's array of content parts (text, images, files) is accepted too.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ContentForm {
    /// The text.
    Text(String),
    /// OpenRouter's content parts, sent as is.
    Parts(Vec<Map<String, Value>>),
}

/// A JSON Schema as an object; the same as JSON text is accepted too (makers often paste it).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum SchemaForm {
    /// The schema.
    Object(Map<String, Value>),
    /// The schema as JSON text.
    Text(String),
}
