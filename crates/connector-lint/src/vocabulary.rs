//! The Swagger 2.0 vocabulary, object by object, as Microsoft's `apiDefinition.swagger.schema.json`
//! allows it, less `allOf` (Power Platform flattens poorly what it merges). A key outside these
//! lists (and not a non-Microsoft `x-` extension) is a problem.

/// The keys of the document itself.
#[rustfmt::skip]
pub const ROOT_KEYS: &[&str] = &[
    "swagger", "info", "host", "basePath", "schemes", "consumes", "produces", "paths",
    "definitions", "parameters", "responses", "securityDefinitions", "security", "tags",
    "externalDocs", "x-ms-connector-metadata", "x-ms-capabilities", "x-ms-docs",
];

/// The keys of an operation.
#[rustfmt::skip]
pub const OPERATION_KEYS: &[&str] = &[
    "tags", "summary", "description", "externalDocs", "operationId", "produces", "consumes",
    "parameters", "responses", "schemes", "deprecated", "security", "x-ms-visibility",
    "x-ms-trigger", "x-ms-no-generic-test", "x-ms-safe-operation", "x-ms-capabilities",
    "x-ms-pageable", "x-ms-notification", "x-ms-api-annotation",
];

/// The keys of a primitive value: a non-body parameter or a response header.
#[rustfmt::skip]
pub const VALUE_KEYS: &[&str] = &[
    "type", "format", "items", "collectionFormat", "default", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "enum", "multipleOf", "description", "x-ms-summary", "x-ms-visibility",
];

/// The keys a parameter has besides those of a value.
#[rustfmt::skip]
pub const PARAMETER_KEYS: &[&str] = &[
    "name", "in", "required", "allowEmptyValue", "schema", "x-ms-dynamic-values",
    "x-ms-dynamic-list", "x-ms-url-encoding", "x-ms-test-value", "x-ms-enum-values",
];

/// The keys of a schema object: no `oneOf`, `anyOf`, `allOf`, `not`, `nullable`, `const`,
/// `examples`, `prefixItems`, `$schema`, `contentMediaType`, `unevaluated*`, `if`/`then`/`else`.
#[rustfmt::skip]
pub const SCHEMA_KEYS: &[&str] = &[
    "$ref", "format", "title", "description", "default", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern",
    "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required", "enum",
    "additionalProperties", "type", "items", "properties", "discriminator", "readOnly", "xml",
    "externalDocs", "example", "x-ms-summary", "x-ms-visibility", "x-ms-dynamic-values",
    "x-ms-dynamic-list", "x-ms-dynamic-schema", "x-ms-dynamic-properties", "x-ms-enum-values",
    "x-ms-test-value", "x-ms-localizeDefaultValue",
];

/// The keys of a response.
pub const RESPONSE_KEYS: &[&str] = &[
    "description",
    "schema",
    "headers",
    "examples",
    "x-ms-summary",
];

/// The types of Swagger 2.0 (`null` is not one).
pub const TYPES: &[&str] = &[
    "string", "number", "integer", "boolean", "array", "object", "file",
];

/// The values of `x-ms-visibility`.
pub const VISIBILITIES: &[&str] = &["important", "advanced", "internal"];

/// The `format`s Swagger 2.0 and Power Platform know. Kept apart from the generator's own list on
/// purpose: the lint is a second opinion, not the generator reading its own answer back.
#[rustfmt::skip]
pub const FORMATS: &[&str] = &[
    "int32", "int64", "float", "double", "byte", "binary", "date", "date-time", "password", "date-no-tz", "email", "html", "uri", "uuid",
];
