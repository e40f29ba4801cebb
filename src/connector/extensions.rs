//! The one table of Power Platform extensions, keyed by operationId and field: display names
//! (`x-ms-summary`), visibility, the model dropdown, hidden parameters, the connector's title
//! and metadata, and the error statuses every action documents. Descriptions are not here:
//! they are the doc comments of the actions, through the OpenAPI document.

use crate::routes;

/// How prominently Power Platform shows an operation, parameter or field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Always shown: what every maker fills in or reads.
    Important,
    /// Under "advanced parameters" / "show more": tuning and routing.
    Advanced,
    /// Never shown: sent with its default, or only used by other operations.
    Internal,
}

impl Visibility {
    /// The value of `x-ms-visibility`.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Important => "important",
            Visibility::Advanced => "advanced",
            Visibility::Internal => "internal",
        }
    }
}

/// Whether a field is sent to the service or comes back from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A parameter, or a field of the request body.
    Input,
    /// A field of the successful answer.
    Output,
}

/// A dropdown filled by another operation (`x-ms-dynamic-values`).
#[derive(Clone, Copy, Debug)]
pub struct Dropdown {
    /// The operation that lists the values.
    pub operation_id: &'static str,
    /// The array in its answer.
    pub collection: &'static str,
    /// The field of each item that is sent.
    pub value: &'static str,
    /// The field of each item that is shown.
    pub title: &'static str,
}

/// The live model list: `ListModels`, showing each model's name and sending its id.
pub const MODELS: Dropdown = Dropdown {
    operation_id: routes::LIST_MODELS.operation_id,
    collection: "data",
    value: "id",
    title: "name",
};

/// A field whose schema another operation makes from a field of the same action's body:
/// dynamic content (`x-ms-dynamic-schema` and `x-ms-dynamic-properties`, both written, since
/// designers read one or the other).
#[derive(Clone, Copy, Debug)]
pub struct DynamicSchema {
    /// The operation that answers the schema.
    pub operation_id: &'static str,
    /// The property of that operation's body that takes the value.
    pub target: &'static str,
    /// The calling action's body property sent, as `x-ms-dynamic-schema` names it (a top-level
    /// property only).
    pub parameter: &'static str,
    /// The value sent, as `x-ms-dynamic-properties` references it (a path from `body`).
    pub reference: &'static str,
    /// Where the schema is in the answer.
    pub value_path: &'static str,
}

/// `parsed` of Chat Completion: the schema of the maker's `json_schema`, by `GetOutputSchema`.
pub const OUTPUT_SCHEMA: DynamicSchema = DynamicSchema {
    operation_id: routes::GET_OUTPUT_SCHEMA.operation_id,
    target: "json_schema",
    parameter: "json_schema",
    reference: "body/json_schema/schema",
    value_path: "schema",
};

/// The extensions of one field of some operations.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The operationIds it applies to.
    pub operations: &'static [&'static str],
    /// Input or output.
    pub side: Side,
    /// A parameter's name, or a dotted path into the body or the answer (`provider.sort`);
    /// array items are walked through (`tool_calls.name`). `body` names the body parameter.
    pub path: &'static str,
    /// The display name, in title case; without one it is made from the field's name.
    pub summary: Option<&'static str>,
    /// The visibility; without one, top-level body fields are advanced and others unmarked.
    pub visibility: Option<Visibility>,
    /// A dropdown of values from another operation.
    pub dropdown: Option<Dropdown>,
    /// A schema from another operation (dynamic content).
    pub dynamic: Option<DynamicSchema>,
}

/// An input field with a display name.
const fn input(
    operations: &'static [&'static str],
    path: &'static str,
    summary: &'static str,
) -> Field {
    Field {
        operations,
        side: Side::Input,
        path,
        summary: Some(summary),
        visibility: None,
        dropdown: None,
        dynamic: None,
    }
}

/// An output field with a display name.
const fn output(
    operations: &'static [&'static str],
    path: &'static str,
    summary: &'static str,
) -> Field {
    Field {
        side: Side::Output,
        ..input(operations, path, summary)
    }
}

impl Field {
    const fn important(self) -> Field {
        Field {
            visibility: Some(Visibility::Important),
            ..self
        }
    }

    const fn advanced(self) -> Field {
        Field {
            visibility: Some(Visibility::Advanced),
            ..self
        }
    }

    const fn dropdown(self, dropdown: Dropdown) -> Field {
        Field {
            dropdown: Some(dropdown),
            ..self
        }
    }

    const fn dynamic(self, dynamic: DynamicSchema) -> Field {
        Field {
            dynamic: Some(dynamic),
            ..self
        }
    }
}

/// A parameter the definition adds to operations, that the OpenAPI document does not have
/// (such as a hidden `Prefer: respond-async` header).
#[derive(Clone, Copy, Debug)]
pub struct AddedParameter {
    /// The operationIds that get it.
    pub operations: &'static [&'static str],
    /// Its name.
    pub name: &'static str,
    /// Where it goes: `header` or `query`.
    pub location: &'static str,
    /// Its display name.
    pub summary: &'static str,
    /// Its description, one sentence ending with a period.
    pub description: &'static str,
    /// The value sent.
    pub default: &'static str,
    /// Whether it is always sent (an internal parameter must be, to be sent at all).
    pub required: bool,
    /// Its visibility, usually internal.
    pub visibility: Visibility,
}

/// An error status every operation documents, with the text used where the OpenAPI
/// document does not describe it for that operation.
#[derive(Clone, Copy, Debug)]
pub struct ErrorStatus {
    /// The status code, or `default`.
    pub status: &'static str,
    /// What it means, one sentence ending with a period.
    pub description: &'static str,
    /// Whether the answer carries `Retry-After`.
    pub retry_after: bool,
}

/// Per-operation extensions.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// The operationId.
    pub id: &'static str,
    /// How prominently the action is listed; none is the platform's default.
    pub visibility: Option<Visibility>,
}

/// Everything the Power Platform definition adds to the converted OpenAPI document.
#[derive(Clone, Copy, Debug)]
pub struct Extensions {
    /// `info.title`: at most 30 characters, without "API" or "Connector".
    pub title: &'static str,
    /// Only paths under this prefix become connector operations.
    pub path_prefix: &'static str,
    /// Paths under the prefix that are not actions (the platform follows them by itself).
    pub hidden_paths: &'static [&'static str],
    /// `x-ms-connector-metadata`: website, privacy policy, categories.
    pub metadata: &'static [(&'static str, &'static str)],
    /// Per-operation extensions.
    pub operations: &'static [Operation],
    /// Per-field extensions; the first entry that sets a property wins.
    pub fields: &'static [Field],
    /// Parameters added to operations.
    pub added_parameters: &'static [AddedParameter],
    /// The error statuses of the contract's section 5, on every operation.
    pub error_statuses: &'static [ErrorStatus],
}

const CHAT: &[&str] = &[routes::CHAT_COMPLETION.operation_id];
const COMPLETION: &[&str] = &[routes::COMPLETION.operation_id];
const GENERATE: &[&str] = &[
    routes::COMPLETION.operation_id,
    routes::CHAT_COMPLETION.operation_id,
];
const ENDPOINTS: &[&str] = &[routes::LIST_MODEL_ENDPOINTS.operation_id];
const GENERATION: &[&str] = &[routes::GET_GENERATION.operation_id];
const MODEL_LIST: &[&str] = &[routes::LIST_MODELS.operation_id];
const CREDITS: &[&str] = &[routes::GET_CREDITS.operation_id];
const ALL: &[&str] = &[];

/// The connector's extensions.
#[rustfmt::skip]
pub const EXTENSIONS: Extensions = Extensions {
    title: "OpenRouter Gateway",
    path_prefix: "/connector/v1/",
    hidden_paths: &[routes::GET_JOB.path],
    metadata: &[
        ("Website", "https://openrouter.ai/"),
        ("Privacy policy", "https://openrouter.ai/privacy"),
        ("Categories", "AI"),
    ],
    operations: &[
        Operation { id: routes::CHAT_COMPLETION.operation_id, visibility: Some(Visibility::Important) },
        Operation { id: routes::GET_OUTPUT_SCHEMA.operation_id, visibility: Some(Visibility::Internal) },
    ],
    fields: &[
        // What every maker fills in.
        input(GENERATE, "model", "Model").important().dropdown(MODELS),
        input(CHAT, "content", "Message").important(),
        input(CHAT, "system", "System Prompt").important(),
        input(COMPLETION, "prompt", "Prompt").important(),
        input(GENERATE, "body", "Request"),
        input(CHAT, "messages", "Earlier Messages"),
        input(CHAT, "messages.tool_call_id", "Tool Call ID"),
        input(CHAT, "messages.name", "Author Name"),
        input(CHAT, "json_schema.name", "Schema Name"),
        input(CHAT, "tools", "Tools (Functions)"),
        input(CHAT, "tools.name", "Function Name"),
        input(CHAT, "tools.description", "Function Description"),
        input(CHAT, "tools.parameters", "Function Parameters"),
        input(CHAT, "tools.strict", "Strict Parameters"),
        // Tuning.
        input(GENERATE, "stop", "Stop Sequences"),
        input(GENERATE, "logprobs", "Log Probabilities"),
        input(GENERATE, "top_logprobs", "Top Log Probabilities"),
        input(GENERATE, "user", "End User ID"),
        input(GENERATE, "extra", "Extra Parameters"),
        // Routing.
        input(GENERATE, "models", "Fallback Models"),
        input(GENERATE, "provider", "Provider Routing"),
        input(GENERATE, "provider.order", "Provider Order"),
        input(GENERATE, "provider.only", "Only Providers"),
        input(GENERATE, "provider.ignore", "Ignored Providers"),
        input(GENERATE, "provider.zdr", "Zero Data Retention Only"),
        input(GENERATE, "provider.sort", "Sort Providers By"),
        input(GENERATE, "provider.max_price.prompt", "Max Prompt Price"),
        input(GENERATE, "provider.max_price.completion", "Max Completion Price"),
        input(GENERATE, "provider.max_price.request", "Max Request Price"),
        input(GENERATE, "provider.max_price.image", "Max Image Price"),
        input(GENERATE, "transforms", "Prompt Transforms"),
        input(GENERATE, "reasoning.effort", "Reasoning Effort"),
        input(GENERATE, "reasoning.max_tokens", "Reasoning Max Tokens"),
        input(GENERATE, "reasoning.exclude", "Exclude Reasoning"),
        // Query and path parameters.
        input(MODEL_LIST, "category", "Category").advanced(),
        input(MODEL_LIST, "supported_parameters", "Supported Parameters").advanced(),
        input(MODEL_LIST, "output_modalities", "Output Modalities").advanced(),
        input(ENDPOINTS, "author", "Model Author").important(),
        input(ENDPOINTS, "slug", "Model Slug").important(),
        input(GENERATION, "id", "Generation ID").important(),
        // Answers.
        output(GENERATE, "id", "Generation ID"),
        output(GENERATE, "created", "Created (Unix Time)"),
        output(GENERATE, "native_finish_reason", "Native Finish Reason").advanced(),
        output(CHAT, "system_fingerprint", "System Fingerprint").advanced(),
        output(CHAT, "refusal", "Refusal").advanced(),
        output(CHAT, "parsed", "Parsed Answer").important().dynamic(OUTPUT_SCHEMA),
        output(GENERATE, "choices", "Choices").advanced(),
        output(GENERATE, "choices.native_finish_reason", "Native Finish Reason"),
        output(CHAT, "tool_calls.id", "Tool Call ID"),
        output(CHAT, "tool_calls.name", "Function Name"),
        output(CHAT, "tool_calls.arguments", "Function Arguments"),
        output(CHAT, "choices.tool_calls.id", "Tool Call ID"),
        output(CHAT, "choices.tool_calls.name", "Function Name"),
        output(CHAT, "choices.tool_calls.arguments", "Function Arguments"),
        output(GENERATE, "usage.cost", "Cost (USD)"),
        output(MODEL_LIST, "data", "Models"),
        output(MODEL_LIST, "data.id", "Model ID"),
        output(MODEL_LIST, "data.name", "Model Name"),
        output(MODEL_LIST, "data.description", "Model Description"),
        output(MODEL_LIST, "data.created", "Added (Unix Time)"),
        output(MODEL_LIST, "data.pricing.prompt", "Prompt Price"),
        output(MODEL_LIST, "data.pricing.completion", "Completion Price"),
        output(MODEL_LIST, "data.pricing.request", "Request Price"),
        output(MODEL_LIST, "data.pricing.image", "Image Price"),
        output(ENDPOINTS, "id", "Model ID"),
        output(ENDPOINTS, "name", "Model Name"),
        output(ENDPOINTS, "created", "Added (Unix Time)"),
        output(ENDPOINTS, "endpoints.name", "Endpoint Name"),
        output(ENDPOINTS, "endpoints.uptime_last_30m", "Uptime Last 30 Minutes (%)"),
        output(ENDPOINTS, "endpoints.pricing.prompt", "Prompt Price"),
        output(ENDPOINTS, "endpoints.pricing.completion", "Completion Price"),
        output(ENDPOINTS, "endpoints.pricing.request", "Request Price"),
        output(ENDPOINTS, "endpoints.pricing.image", "Image Price"),
        output(CREDITS, "remaining", "Remaining Credits"),
        output(GENERATION, "id", "Generation ID"),
        output(GENERATION, "total_cost", "Total Cost (USD)"),
        output(GENERATION, "usage", "Usage (USD)"),
        output(GENERATION, "cache_discount", "Cache Discount (USD)"),
        output(GENERATION, "is_byok", "Bring Your Own Key"),
        output(GENERATION, "tokens_prompt", "Prompt Tokens"),
        output(GENERATION, "tokens_completion", "Completion Tokens"),
        output(GENERATION, "native_tokens_prompt", "Native Prompt Tokens"),
        output(GENERATION, "native_tokens_completion", "Native Completion Tokens"),
        output(GENERATION, "native_tokens_reasoning", "Native Reasoning Tokens"),
        output(GENERATION, "num_media_prompt", "Media in Prompt"),
        output(GENERATION, "num_media_completion", "Media in Completion"),
        output(GENERATION, "num_search_results", "Search Results"),
        output(GENERATION, "latency", "Latency (Milliseconds)"),
        output(GENERATION, "moderation_latency", "Moderation Latency (Milliseconds)"),
        output(GENERATION, "generation_time", "Generation Time (Milliseconds)"),
        output(ALL, "error.code", "Status Code"),
        output(ALL, "error.message", "Error Message"),
        output(ALL, "error.metadata", "Error Details"),
    ],
    // The asynchronous pattern (contract 4.7): long generations answer 202 and are polled,
    // which Power Automate and Logic Apps do by themselves.
    added_parameters: &[AddedParameter {
        operations: GENERATE,
        name: "Prefer",
        location: "header",
        summary: "Prefer",
        description: "Asks for 202 Accepted and a job to poll when the answer takes long, so long generations outlast the platform's 120-second limit.",
        default: "respond-async",
        required: true,
        visibility: Visibility::Internal,
    }],
    error_statuses: &[
        ErrorStatus::new("400", "A field is missing, of the wrong type or out of range; `metadata.field` names it."),
        ErrorStatus::new("401", "No OpenRouter key, or OpenRouter refused it: check the connection's API key."),
        ErrorStatus::new("402", "The OpenRouter account has too few credits."),
        ErrorStatus::new("403", "OpenRouter refused the call, for moderation or because the key may not do this."),
        ErrorStatus::new("404", "Not found."),
        ErrorStatus::new("405", "The method is not allowed on this path."),
        ErrorStatus::new("413", "The request body is too large."),
        ErrorStatus::new("429", "Too many calls; wait `Retry-After` seconds.").retry_after(),
        ErrorStatus::new("502", "OpenRouter or the provider failed."),
        ErrorStatus::new("503", "The service is busy or shutting down; retry after `Retry-After` seconds.").retry_after(),
        ErrorStatus::new("504", "OpenRouter did not answer in time."),
        ErrorStatus::new("default", "Any other error, in the same shape (such as another status OpenRouter sent)."),
    ],
};

impl ErrorStatus {
    const fn new(status: &'static str, description: &'static str) -> ErrorStatus {
        ErrorStatus {
            status,
            description,
            retry_after: false,
        }
    }

    const fn retry_after(self) -> ErrorStatus {
        ErrorStatus {
            retry_after: true,
            ..self
        }
    }
}

impl Extensions {
    /// The entries for `path` on `side` of `operation`, most specific first.
    pub fn fields_for<'a>(
        &'a self,
        operation: &'a str,
        side: Side,
        path: &'a str,
    ) -> impl Iterator<Item = &'a Field> + 'a {
        self.fields.iter().filter(move |field| {
            field.side == side
                && field.path == path
                && (field.operations.is_empty() || field.operations.contains(&operation))
        })
    }

    /// The display name the table gives `path`, if any.
    pub fn summary(&self, operation: &str, side: Side, path: &str) -> Option<&'static str> {
        self.fields_for(operation, side, path)
            .find_map(|f| f.summary)
    }

    /// The visibility the table gives `path`, if any.
    pub fn visibility(&self, operation: &str, side: Side, path: &str) -> Option<Visibility> {
        self.fields_for(operation, side, path)
            .find_map(|f| f.visibility)
    }

    /// The dropdown the table gives `path`, if any.
    pub fn dropdown(&self, operation: &str, side: Side, path: &str) -> Option<Dropdown> {
        self.fields_for(operation, side, path)
            .find_map(|f| f.dropdown)
    }

    /// The dynamic schema the table gives `path`, if any.
    pub fn dynamic(&self, operation: &str, side: Side, path: &str) -> Option<DynamicSchema> {
        self.fields_for(operation, side, path)
            .find_map(|f| f.dynamic)
    }

    /// The visibility of an operation, if the table sets one.
    pub fn operation_visibility(&self, operation: &str) -> Option<Visibility> {
        let entry = self.operations.iter().find(|entry| entry.id == operation);
        entry.and_then(|entry| entry.visibility)
    }
}
