//! `GetOutputSchema` (contract 4.9): the internal operation the Power Automate designer calls
//! for Chat Completion's dynamic content. It turns the JSON Schema a maker typed on the card
//! into the Swagger 2.0 schema of `parsed`, so the schema's fields appear as tokens. It needs a
//! key, never calls OpenRouter, and is not charged against the connection's limit.

use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::input::{ActionInput, Fields, UnchargedCall};
use crate::error::{ApiError, ErrorBody};
use crate::routes;
use crate::schema::output::output_schema;

/// A maker's JSON Schema, as the designer sends it from the Chat Completion card.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct OutputSchemaRequest {
    /// The JSON Schema of the answer: an object, its JSON text, or the whole `{name, schema,
    /// strict}` of Chat Completion's `json_schema`. Empty: no fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub json_schema: Option<Value>,
}

impl ActionInput for OutputSchemaRequest {
    fn parse(req: &HttpRequest, body: Bytes) -> Result<Self, ApiError> {
        Fields::from_query(req.query_string())?.finish()?;
        // The designer may call with no body at all while the card is still empty.
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(OutputSchemaRequest::default());
        }
        let mut fields = Fields::from_body(&body)?;
        let json_schema = fields.take::<Value>("json_schema")?;
        fields.finish()?;
        Ok(OutputSchemaRequest { json_schema })
    }
}

/// Keywords that make an object a schema rather than Chat Completion's `{name, schema, strict}`.
const SCHEMA_KEYWORDS: &[&str] = &[
    "type",
    "properties",
    "items",
    "$ref",
    "anyOf",
    "oneOf",
    "allOf",
    "enum",
    "const",
];

impl OutputSchemaRequest {
    /// The maker's schema as a JSON value; `None` when nothing was typed yet.
    fn schema(self) -> Result<Option<Value>, ApiError> {
        let schema = match OutputSchemaRequest::read(self.json_schema)? {
            // Chat Completion's whole `json_schema` group (the legacy extension sends it), as
            // partly filled as the card is: its `schema`, as an object or as text.
            Some(Value::Object(mut group))
                if group.contains_key("schema")
                    && !SCHEMA_KEYWORDS.iter().any(|key| group.contains_key(*key)) =>
            {
                OutputSchemaRequest::read(group.remove("schema"))?
            }
            other => other,
        };
        if let Some(schema) = &schema {
            // A schema JSON Schema itself calls invalid (`"type": "strin"`) would make an invalid
            // Swagger schema: say so rather than show it.
            if let Err(error) = jsonschema::meta::validate(schema) {
                return Err(ApiError::invalid(
                    "json_schema",
                    format!(
                        "The field `json_schema` is not a valid JSON Schema: at `{}`, {}.",
                        error.instance_path(),
                        error.masked()
                    ),
                ));
            }
        }
        Ok(schema)
    }

    fn read(value: Option<Value>) -> Result<Option<Value>, ApiError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => serde_json::from_str(&text).map(Some).map_err(|error| {
                ApiError::invalid(
                    "json_schema",
                    format!("The field `json_schema` is not valid JSON: {error}."),
                )
            }),
            Some(Value::Object(object)) if object.is_empty() => Ok(None),
            Some(schema @ Value::Object(_)) => Ok(Some(schema)),
            Some(_) => Err(ApiError::invalid(
                "json_schema",
                "The field `json_schema` must be a JSON Schema: an object, or its JSON text.",
            )),
        }
    }
}

/// The schema of `parsed`, for the designer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputSchemaResponse {
    /// `parsed`'s schema in Swagger 2.0 form (the fields a flow shows), or `null` when no
    /// schema was given.
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
}

/// Get output schema
///
/// Internal: the Swagger 2.0 schema of Chat Completion's `parsed` for a JSON Schema. The
/// designer calls it to show the schema's fields as dynamic content.
#[utoipa::path(
    post,
    path = routes::GET_OUTPUT_SCHEMA.path,
    operation_id = routes::GET_OUTPUT_SCHEMA.operation_id,
    tag = "Connector actions",
    request_body(
        content = Option<OutputSchemaRequest>,
        example = json!({"json_schema": {"type": "object", "properties": {"total": {"type": "number", "title": "Total"}}}})
    ),
    responses(
        (status = 200, description = "The schema of `parsed`.", body = OutputSchemaResponse),
        (status = 400, description = "The JSON Schema cannot be read or shown; `metadata.field` names it.", body = ErrorBody),
        (status = 401, description = "No OpenRouter key.", body = ErrorBody),
        (status = 413, description = "The request body is too large.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_output_schema(
    call: UnchargedCall<OutputSchemaRequest>,
) -> Result<HttpResponse, ApiError> {
    let schema = match call.input.schema()? {
        Some(schema) => Some(
            output_schema(&schema)
                .map_err(|error| ApiError::invalid("json_schema", error.to_string()))?,
        ),
        None => None,
    };
    Ok(HttpResponse::Ok().json(OutputSchemaResponse { schema }))
}
