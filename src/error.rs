//! `ApiError`, the one boundary error, and its one exhaustive mapping to a status and to
//! OpenRouter's error body `{"error": {"code", "message", "metadata"}}`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::spelling;
use crate::rate_limit;

/// Everything that can go wrong in a call, ours or upstream's.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a field is missing, of the wrong type or out of range.
    #[error("{message}")]
    InvalidInput {
        /// The offending field, when there is one.
        field: Option<String>,
        /// What is wrong and how to fix it.
        message: String,
        /// Whether `field` is a name the caller made up (an unknown one) rather than one the
        /// action knows: it may be anything, a prompt or a key, so it is never logged.
        name_from_caller: bool,
    },
    /// No OpenRouter key came with the call.
    #[error("no OpenRouter API key")]
    MissingKey,
    /// A key came, but it cannot be an OpenRouter key.
    #[error("{0}")]
    MalformedKey(&'static str),
    /// The request body is larger than the configured limit.
    #[error("request body over {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No route at this path.
    #[error("no such path")]
    NotFound,
    /// A browser page of another origin called the MCP server (MCP asks servers to refuse
    /// those, against DNS rebinding).
    #[error("a page of another origin called the MCP server")]
    ForeignOrigin,
    /// A path below `/connector/v1/models/` that is not a model's endpoints (a slug without
    /// its author, or no `/endpoints`).
    #[error("not a model's endpoints path")]
    NotAModelPath,
    /// A known path called with the wrong method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods the path accepts, for the `Allow` header.
        allow: &'static str,
    },
    /// OpenRouter refused the call with a 4xx, passed through with its message.
    #[error("{message}")]
    Upstream {
        /// OpenRouter's status (400–429).
        status: StatusCode,
        /// OpenRouter's message.
        message: String,
        /// OpenRouter's metadata, kept whole.
        metadata: Option<Map<String, Value>>,
        /// Seconds to wait before retrying, for a 429.
        retry_after: Option<u64>,
    },
    /// OpenRouter failed (5xx), was unreachable, or answered something that is not the JSON
    /// promised.
    #[error("{message}")]
    UpstreamFailed {
        /// What happened, with upstream's own message where there is one.
        message: String,
        /// Details such as upstream's status and metadata.
        metadata: Option<Map<String, Value>>,
        /// Seconds to wait, when upstream named a wait (`Retry-After` on its `5xx`).
        retry_after: Option<u64>,
        /// Whether `message` quotes upstream's own words (never logged: they may quote the
        /// request, as a moderation refusal quotes the flagged input).
        quotes_upstream: bool,
    },
    /// The model answered, but not with the JSON the call asked for (`response_format`), or
    /// with JSON that breaks the strict schema: a `502`, since asking again may well work.
    #[error("the model's answer is not the JSON asked for")]
    AnswerNotAsAsked {
        /// What is wrong with the answer, ending "The model's answer …" (`breaks the schema at
        /// …`, `is not JSON …`), for the caller; never logged: it may name the schema's fields.
        why: String,
        /// `raw` (the model's text, cut short) and `path` (where the answer breaks the schema).
        metadata: Map<String, Value>,
    },
    /// OpenRouter did not answer in time.
    #[error("OpenRouter did not answer within {}", in_words(*.0))]
    UpstreamTimeout(Duration),
    /// This connection is over its limit of calls per minute.
    #[error("over the limit of {limit} calls per minute")]
    RateLimited {
        /// Calls per minute allowed.
        limit: u32,
        /// Time until the next call is allowed.
        wait: Duration,
    },
    /// More upstream calls are in flight than `MAX_CONCURRENT_UPSTREAM` allows.
    #[error("too many upstream calls in flight")]
    Busy,
    /// This connection has `MAX_JOBS_PER_CONNECTION` asynchronous calls in flight.
    #[error("over {limit} asynchronous calls in flight on this connection")]
    TooManyJobs {
        /// `MAX_JOBS_PER_CONNECTION`.
        limit: usize,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The actions' request bodies hold all the memory `BODY_MEMORY_BYTES` allows them.
    #[error("request bodies in flight hold all of BODY_MEMORY_BYTES")]
    BodiesBusy,
    /// The service is shutting down and takes no new calls.
    #[error("the service is shutting down")]
    Draining,
    /// The job store (Redis) cannot be reached.
    #[error("the job store is unreachable")]
    JobStoreUnavailable,
    /// No such job, an expired one, or another connection's.
    #[error("no such job")]
    JobNotFound,
    /// The job was still running when the service shut down.
    #[error("interrupted by shutdown")]
    Interrupted,
    /// The request body arrived too slowly.
    #[error("the request body arrived too slowly")]
    SlowBody,
    /// The limiter's Redis cannot be reached and the limiter fails closed.
    #[error("the rate limiter's Redis is unreachable")]
    LimiterUnavailable,
    /// The App was built without its state: a bug of start-up, never a silent default.
    #[error("the application state is missing")]
    StateMissing,
}

impl From<rate_limit::Refusal> for ApiError {
    fn from(refusal: rate_limit::Refusal) -> ApiError {
        match refusal {
            rate_limit::Refusal::OverLimit { limit, wait } => ApiError::RateLimited { limit, wait },
            rate_limit::Refusal::StoreUnavailable => ApiError::LimiterUnavailable,
        }
    }
}

impl ApiError {
    /// A `400` naming the offending field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput {
            field: Some(field.into()),
            message: message.into(),
            name_from_caller: false,
        }
    }

    /// A `400` about a name the caller made up (an unknown field or query parameter): the
    /// answer names it, the log line does not.
    pub fn invalid_name(name: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput {
            field: Some(name.into()),
            message: message.into(),
            name_from_caller: true,
        }
    }

    /// A `400` about the body or query as a whole, naming no field.
    pub fn unreadable(message: impl Into<String>) -> ApiError {
        ApiError::InvalidInput {
            field: None,
            message: message.into(),
            name_from_caller: false,
        }
    }

    /// A `502` with a message and no metadata.
    pub fn upstream_failed(message: impl Into<String>) -> ApiError {
        ApiError::UpstreamFailed {
            message: message.into(),
            metadata: None,
            retry_after: None,
            quotes_upstream: false,
        }
    }

    /// What the request's log line says of this error: its kind, and the field for a `400`
    /// (never a value the caller sent: serde's words quote them). Upstream's own words are not
    /// logged either, since they may quote the request (a moderation refusal quotes the flagged
    /// input): its status is.
    pub fn for_log(&self) -> String {
        match self {
            ApiError::InvalidInput {
                name_from_caller: true,
                ..
            } => "invalid input: a name the action does not know (not shown)".to_owned(),
            ApiError::InvalidInput {
                field: Some(field), ..
            } => format!("invalid input in field `{}`", loggable_name(field)),
            ApiError::InvalidInput { field: None, .. } => {
                "invalid input: the body or query cannot be read".to_owned()
            }
            ApiError::Upstream { status, .. } => {
                format!("OpenRouter refused the call with {}", status.as_u16())
            }
            ApiError::UpstreamFailed {
                quotes_upstream: true,
                metadata,
                ..
            } => {
                let status = metadata
                    .as_ref()
                    .and_then(|metadata| metadata.get("upstream_status"))
                    .and_then(Value::as_u64)
                    .unwrap_or_default();
                format!("OpenRouter failed with {status}")
            }
            other => other.to_string(),
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::MissingKey => "No OpenRouter API key was sent. Put your key in the \
                `Authorization` header (`Bearer sk-or-...` or the bare key) or in an `api_key` header."
                .to_owned(),
            ApiError::PayloadTooLarge { limit } => format!(
                "The request body is larger than the {limit} bytes this service accepts. \
                 Send a shorter prompt or fewer messages."
            ),
            ApiError::ForeignOrigin => "This MCP server does not answer web pages of another \
                origin (their `Origin` header names another host). Call it from an MCP client, \
                or from a page this service serves."
                .to_owned(),
            ApiError::NotFound => {
                "There is no such path on this service. Every path is listed at /swagger-ui/: \
                 the connector actions are under /connector/v1/, the OpenRouter-compatible \
                 API under /api/v1/, and the MCP server at /mcp."
                    .to_owned()
            }
            ApiError::NotAModelPath => "A model's providers are listed at \
                /connector/v1/models/{author}/{slug}/endpoints, the model id being author/slug: \
                for example /connector/v1/models/openai/gpt-4o-mini/endpoints. List Models gives \
                every id."
                .to_owned(),
            ApiError::MethodNotAllowed { allow } => {
                format!("This path does not accept that method. It accepts: {allow}.")
            }
            ApiError::UpstreamTimeout(after) => format!(
                "OpenRouter did not answer within {}. Try a faster model, fewer max_tokens, or \
                 the asynchronous pattern for long generations.",
                in_words(*after)
            ),
            ApiError::RateLimited { limit, wait } => format!(
                "This connection has used the calls it may make for now ({} per minute on \
                 average). Wait {} and try again.",
                spelling::count(u64::from(*limit), "call"),
                spelling::count(rate_limit::whole_seconds(*wait), "second")
            ),
            ApiError::TooManyJobs { limit, .. } => format!(
                "This connection already has {} running at once, the most it may have. Wait \
                 for one to finish (poll its Location) and try again.",
                spelling::count(*limit as u64, "long generation")
            ),
            ApiError::Busy => "The service is handling as many OpenRouter calls as it is allowed \
                to at once. Try again in a moment."
                .to_owned(),
            ApiError::BodiesBusy => "The service is holding as many large request bodies as \
                its memory allows (BODY_MEMORY_BYTES). Try again in a moment."
                .to_owned(),
            ApiError::Draining => "The service is restarting and takes no new calls. Try again \
                in a moment."
                .to_owned(),
            ApiError::SlowBody => "The request body arrived too slowly. Send it again.".to_owned(),
            ApiError::JobStoreUnavailable => "The service cannot reach the store of long-running \
                generations (Redis). Try again in a moment."
                .to_owned(),
            ApiError::JobNotFound => "There is no such job: its id is wrong, it belongs to \
                another connection, or its answer expired. Run the action again."
                .to_owned(),
            ApiError::Interrupted => "The generation was interrupted by shutdown; retry.".to_owned(),
            ApiError::LimiterUnavailable => "The service cannot check this connection's rate \
                limit right now (its Redis is unreachable). Try again in a moment."
                .to_owned(),
            ApiError::AnswerNotAsAsked { why, .. } => format!(
                "The model's answer {why}. The model's text is in `metadata.raw`. The call was \
                 billed; run the action again to ask once more (models do not answer the same \
                 way twice), or set the flow's retry policy to do it."
            ),
            ApiError::InvalidInput { message, .. }
            | ApiError::Upstream { message, .. }
            | ApiError::UpstreamFailed { message, .. } => message.clone(),
            ApiError::MalformedKey(message) => (*message).to_owned(),
            ApiError::StateMissing => "The service was started without its state (a bug of the \
                service, not of the call). Tell its operators."
                .to_owned(),
        }
    }

    fn metadata(&self) -> Option<Map<String, Value>> {
        match self {
            ApiError::InvalidInput {
                field: Some(field), ..
            } => Some(Map::from_iter([(
                "field".to_owned(),
                Value::from(field.clone()),
            )])),
            ApiError::Upstream { metadata, .. } | ApiError::UpstreamFailed { metadata, .. } => {
                metadata.clone()
            }
            ApiError::AnswerNotAsAsked { metadata, .. } => Some(metadata.clone()),
            ApiError::RateLimited { wait, .. } => Some(Map::from_iter([(
                "retry_after_seconds".to_owned(),
                Value::from(rate_limit::whole_seconds(*wait)),
            )])),
            ApiError::InvalidInput { field: None, .. }
            | ApiError::MissingKey
            | ApiError::MalformedKey(_)
            | ApiError::PayloadTooLarge { .. }
            | ApiError::NotFound
            | ApiError::ForeignOrigin
            | ApiError::NotAModelPath
            | ApiError::MethodNotAllowed { .. }
            | ApiError::UpstreamTimeout(_)
            | ApiError::TooManyJobs { .. }
            | ApiError::Busy
            | ApiError::BodiesBusy
            | ApiError::Draining
            | ApiError::SlowBody
            | ApiError::JobStoreUnavailable
            | ApiError::JobNotFound
            | ApiError::Interrupted
            | ApiError::LimiterUnavailable
            | ApiError::StateMissing => None,
        }
    }

    /// The seconds a caller should wait before trying again, where this error names a wait
    /// (the `Retry-After` its answer carries): this connection's limit, OpenRouter's wait passed
    /// on, or a moment for the service's own busy states.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { wait, .. } => Some(rate_limit::whole_seconds(*wait)),
            ApiError::Upstream { retry_after, .. }
            | ApiError::UpstreamFailed { retry_after, .. } => *retry_after,
            ApiError::TooManyJobs { retry_after, .. } => Some(*retry_after),
            ApiError::LimiterUnavailable
            | ApiError::Busy
            | ApiError::BodiesBusy
            | ApiError::Draining
            | ApiError::JobStoreUnavailable
            | ApiError::Interrupted => Some(1),
            ApiError::InvalidInput { .. }
            | ApiError::MissingKey
            | ApiError::MalformedKey(_)
            | ApiError::PayloadTooLarge { .. }
            | ApiError::NotFound
            | ApiError::ForeignOrigin
            | ApiError::NotAModelPath
            | ApiError::MethodNotAllowed { .. }
            | ApiError::AnswerNotAsAsked { .. }
            | ApiError::UpstreamTimeout(_)
            | ApiError::JobNotFound
            | ApiError::SlowBody
            | ApiError::StateMissing => None,
        }
    }

    /// The error body of this error, as sent to the caller.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.status_code().as_u16(),
                message: self.message(),
                metadata: self.metadata(),
            },
        }
    }
}

/// A timeout in words: whole seconds, or milliseconds under a second (tests' timeouts).
fn in_words(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        spelling::count(duration.as_millis() as u64, "millisecond")
    } else {
        spelling::count(duration.as_secs(), "second")
    }
}

/// A field's name as logged: names made of letters, digits, `_`, `-`, `.`, `[`, `]` and `$`,
/// of up to 64 characters, are shown; any other (a caller may put anything in a key) is not.
fn loggable_name(field: &str) -> &str {
    let plain = field.len() <= 64
        && field.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'$')
        });
    if plain { field } else { "(a name not shown)" }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            ApiError::MissingKey | ApiError::MalformedKey(_) => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound | ApiError::NotAModelPath => StatusCode::NOT_FOUND,
            ApiError::ForeignOrigin => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Upstream { status, .. } => *status,
            ApiError::UpstreamFailed { .. } | ApiError::AnswerNotAsAsked { .. } => {
                StatusCode::BAD_GATEWAY
            }
            ApiError::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::RateLimited { .. } | ApiError::TooManyJobs { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::LimiterUnavailable
            | ApiError::Busy
            | ApiError::BodiesBusy
            | ApiError::Draining
            | ApiError::JobStoreUnavailable
            | ApiError::Interrupted
            | ApiError::StateMissing => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::JobNotFound => StatusCode::NOT_FOUND,
            ApiError::SlowBody => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // Logged once, in the request's line (`request_id::assign`), with the request id.
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
            }
            ApiError::Upstream {
                retry_after: Some(seconds),
                ..
            }
            | ApiError::UpstreamFailed {
                retry_after: Some(seconds),
                ..
            } => {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            ApiError::MissingKey | ApiError::MalformedKey(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::RateLimited { limit, wait } => {
                let seconds = rate_limit::whole_seconds(*wait);
                response.insert_header((header::RETRY_AFTER, seconds));
                response.insert_header((rate_limit::headers::LIMIT, *limit));
                response.insert_header((rate_limit::headers::REMAINING, 0));
                response.insert_header((rate_limit::headers::RESET, seconds));
            }
            ApiError::LimiterUnavailable
            | ApiError::Busy
            | ApiError::BodiesBusy
            | ApiError::Draining
            | ApiError::JobStoreUnavailable
            | ApiError::Interrupted => {
                response.insert_header((header::RETRY_AFTER, 1));
            }
            ApiError::TooManyJobs { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, *retry_after));
            }
            ApiError::InvalidInput { .. }
            | ApiError::PayloadTooLarge { .. }
            | ApiError::NotFound
            | ApiError::ForeignOrigin
            | ApiError::NotAModelPath
            | ApiError::Upstream { .. }
            | ApiError::UpstreamFailed { .. }
            | ApiError::AnswerNotAsAsked { .. }
            | ApiError::UpstreamTimeout(_)
            | ApiError::JobNotFound
            | ApiError::SlowBody
            | ApiError::StateMissing => {}
        }
        if matches!(self, ApiError::BodiesBusy) {
            // The rest of the body is not read: the connection cannot carry another request.
            response.force_close();
        }
        response.json(self.body())
    }
}

/// OpenRouter's error shape, used for every error this service answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// The HTTP status of the answer.
    pub code: u16,
    /// A sentence saying what went wrong and what to do about it.
    pub message: String,
    /// Details: `field` for a `400`, OpenRouter's own metadata (such as `provider_name`, `raw`,
    /// `reasons`, `flagged_input`, `retry_after_seconds`) for upstream errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}
