//! `Outcome`: what a generation answered (status, the headers that matter, the JSON body), kept
//! so that a poll answers exactly what the synchronous call would have.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;

/// The answer of a finished job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The HTTP status.
    pub status: u16,
    /// Headers of the answer worth keeping (such as `Retry-After` on a `429`).
    pub headers: Vec<(String, String)>,
    /// The JSON body: the flat response, or the contract's error body.
    pub body: Value,
}

/// Headers of an error answer that a poll repeats.
const KEPT_HEADERS: [&str; 4] = [
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

impl Outcome {
    /// The outcome of a generation's result, as the synchronous call would have answered it.
    pub fn of(result: Result<Value, ApiError>) -> Outcome {
        match result {
            Ok(body) => Outcome {
                status: 200,
                headers: Vec::new(),
                body,
            },
            Err(error) => {
                let response = error.error_response();
                let headers = response
                    .headers()
                    .iter()
                    .filter(|(name, _)| KEPT_HEADERS.contains(&name.as_str()))
                    .filter_map(|(name, value)| {
                        Some((name.to_string(), value.to_str().ok()?.to_owned()))
                    })
                    .collect();
                Outcome {
                    status: error.status_code().as_u16(),
                    headers,
                    body: serde_json::to_value(error.body()).unwrap_or_default(),
                }
            }
        }
    }

    /// The HTTP answer.
    pub fn response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY),
        );
        for (name, value) in &self.headers {
            response.insert_header((name.as_str(), value.as_str()));
        }
        response.json(&self.body)
    }
}
