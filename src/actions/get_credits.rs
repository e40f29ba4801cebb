//! The `GetCredits` action: what the OpenRouter account has bought, used, and has left.

use actix_web::{HttpRequest, web};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::flat::{decode, unwrap_data};
use super::input::{ActionInput, Call, Fields};
use crate::error::{ApiError, ErrorBody};
use crate::openrouter::{Caller, OpenRouterClient};
use crate::routes;
use crate::state::AppState;

/// Get Credits takes no input.
#[derive(Debug)]
pub struct NoInput;

impl ActionInput for NoInput {
    fn parse(req: &HttpRequest, _: Bytes) -> Result<Self, ApiError> {
        Fields::from_query(req.query_string())?.finish()?;
        Ok(NoInput)
    }
}

/// The account's credits, in USD.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default)]
pub struct Credits {
    /// Everything bought so far.
    pub total_credits: f64,
    /// Everything used so far.
    pub total_usage: f64,
    /// What is left: credits minus usage, to 6 decimals.
    pub remaining: f64,
    /// Other details OpenRouter sends.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

impl Credits {
    fn with_remaining(mut self) -> Credits {
        let remaining = self.total_credits - self.total_usage;
        let rounded = (remaining * 1e6).round() / 1e6;
        // Past about 1e302 the scaling overflows; such a figure has no fraction to round anyway.
        let remaining = if rounded.is_finite() {
            rounded
        } else {
            remaining
        };
        // Only absurd figures overflow a difference; JSON has no infinity, so saturate.
        self.remaining = remaining.clamp(f64::MIN, f64::MAX);
        self.other.remove("remaining");
        self
    }
}

/// Get credits
///
/// Returns the credits bought and used on the OpenRouter account of this connection, and what
/// is left. OpenRouter may refuse this to keys that are not management keys.
#[utoipa::path(
    get,
    path = routes::GET_CREDITS.path,
    operation_id = routes::GET_CREDITS.operation_id,
    tag = "Connector actions",
    responses(
        (status = 200, description = "The account's credits.", body = Credits),
        (status = 401, description = "No OpenRouter key, or OpenRouter refused it.", body = ErrorBody),
        (status = 403, description = "OpenRouter allows this only to management keys.", body = ErrorBody),
        (status = 429, description = "Too many calls; wait `Retry-After` seconds.", body = ErrorBody),
        (status = 502, description = "OpenRouter failed.", body = ErrorBody),
        (status = 504, description = "OpenRouter did not answer in time.", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_credits(
    call: Call<NoInput>,
    state: web::Data<AppState>,
) -> Result<web::Json<Credits>, ApiError> {
    Ok(web::Json(credits(&state.client, call.caller()).await?))
}

/// The account's credits, asked of OpenRouter for `caller` (also the MCP tool `get_credits`).
pub async fn credits(client: &OpenRouterClient, caller: Caller<'_>) -> Result<Credits, ApiError> {
    let answer = client.credits(caller).await?;
    Ok(decode::<Credits>(unwrap_data(answer))?.with_remaining())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_has_no_float_artefacts() {
        let credits = Credits {
            total_credits: 610.0,
            total_usage: 321.725553332,
            ..Credits::default()
        };
        assert_eq!(credits.with_remaining().remaining, 288.274447);
    }
}
