//! Reading a connector action's input: the `Call` extractor (body limit, then key, then the
//! action's own parse) and `Fields`, a strict reader of a JSON object or query string whose
//! errors name the field. Blank optional values (`null`, `""`) count as absent, as Power
//! Automate sends them.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{FromRequest, HttpRequest, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::body_budget::BodyReservation;
use crate::connection::Connection;
use crate::domain::spelling;
use crate::error::ApiError;
use crate::metrics;
use crate::openrouter::{Caller, OwnedCaller, UpstreamStats};
use crate::request_id::RequestId;
use crate::state::AppState;

/// The input of one action, parsed from the request once the key has been checked.
pub trait ActionInput: Sized {
    /// Parses the request's query and body; errors are `400`s naming the field.
    fn parse(req: &HttpRequest, body: Bytes) -> Result<Self, ApiError>;
}

/// The first bytes of every body, which take no room in `BODY_MEMORY_BYTES`: small calls are
/// never refused for the room large ones hold. Also the steps in which a body sent without a
/// length reserves its room as it arrives.
const BODY_STEP: usize = 256 * 1024;

/// How long a request body may take to arrive.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An authenticated call of one action: its connection, its request id and its parsed input.
/// Made in the order of the contract: body size (`413`), key (`401`), input (`400`).
#[derive(Debug)]
pub struct Call<T> {
    /// Who is calling.
    pub connection: Connection,
    /// The request's id, sent upstream.
    pub request_id: RequestId,
    /// Where the call's upstream answers are counted.
    pub stats: UpstreamStats,
    /// The parsed input.
    pub input: T,
    /// The room the body holds in `BODY_MEMORY_BYTES` until the call ends.
    pub body: BodyReservation,
}

impl<T> Call<T> {
    /// The caller, owned, for work that outlives the request (an async job).
    pub fn owned_caller(&self) -> OwnedCaller {
        OwnedCaller::new(
            self.connection.key().clone(),
            self.request_id.clone(),
            self.stats.clone(),
        )
    }

    /// The caller, as the upstream client needs it.
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            key: self.connection.key(),
            request_id: &self.request_id,
            stats: &self.stats,
        }
    }
}

impl<T: ActionInput + 'static> FromRequest for Call<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Call<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let state = AppState::of(&req)?;
            let mut reservation = BodyReservation::default();
            let body = read_body(&req, payload, &state, &mut reservation).await?;
            let connection = Connection::open(&req, &state).await?;
            let request_id = RequestId::extract(&req)
                .await
                .unwrap_or_else(|_| RequestId::from_caller(None));
            let input = T::parse(&req, body)?;
            Ok(Call {
                connection,
                request_id,
                stats: metrics::upstream_stats(&req),
                input,
                body: reservation,
            })
        })
    }
}

/// An authenticated call that never reaches OpenRouter and so is not charged against the
/// connection's limit (contract section 3): the key is read and checked, the input parsed.
#[derive(Debug)]
pub struct UnchargedCall<T> {
    /// Who is calling.
    pub connection: Connection,
    /// The parsed input.
    pub input: T,
    /// The room the body holds in `BODY_MEMORY_BYTES` until the call ends.
    pub body: BodyReservation,
}

impl<T: ActionInput + 'static> FromRequest for UnchargedCall<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<UnchargedCall<T>, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let state = AppState::of(&req)?;
            let mut reservation = BodyReservation::default();
            let body = read_body(&req, payload, &state, &mut reservation).await?;
            let connection = Connection::uncharged(&req, &state)?;
            let input = T::parse(&req, body)?;
            Ok(UnchargedCall {
                connection,
                input,
                body: reservation,
            })
        })
    }
}

/// The body, within `MAX_BODY_BYTES` (`413`) and the room `BODY_MEMORY_BYTES` leaves (`503`),
/// reserved in `reservation` once more than [`BODY_STEP`] bytes have arrived (a length only
/// declared takes no room): then all at once for a declared length, in steps of [`BODY_STEP`]
/// for a body sent without one.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    state: &AppState,
    reservation: &mut BodyReservation,
) -> Result<Bytes, ApiError> {
    let limit = state.limits.body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let declared = declared.map(|length| length as usize);
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(BODY_STEP));
    let deadline =
        crate::domain::deadline::after_tokio(tokio::time::Instant::now(), BODY_READ_TIMEOUT);
    while let Some(chunk) = tokio::time::timeout_at(deadline, payload.next())
        .await
        .map_err(|_| ApiError::SlowBody)?
    {
        let chunk = chunk
            .map_err(|_| ApiError::unreadable("The request body could not be read completely."))?;
        let read = body.len() + chunk.len();
        if read > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        if read > BODY_STEP {
            let wanted = match declared {
                Some(length) if read <= length => length,
                _ => read.div_ceil(BODY_STEP).saturating_mul(BODY_STEP),
            }
            .min(limit);
            state
                .bodies
                .reserve(reservation, wanted - BODY_STEP)
                .await?;
            // Sized once to the declared length: grown by doubling instead, a body near the
            // limit would be copied on the way and briefly held one and a half times.
            body.reserve(wanted.saturating_sub(body.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A strict reader of named values: each is taken once, and what is left at the end is an
/// unknown field. A missing required value is reported by [`Fields::finish`], after unknown
/// ones, so that `promt` is named as a typo of `prompt` rather than `prompt` as missing.
#[derive(Debug)]
#[must_use = "end reading with `finish`, which reports unknown and missing values"]
pub struct Fields {
    map: Map<String, Value>,
    what: &'static str,
    /// Every name the action asked for, in order: the names it knows.
    asked: Vec<String>,
    /// The first required value found missing.
    missing: Option<ApiError>,
}

impl Fields {
    /// Reads a JSON object body. Given the body itself rather than a reference, it lets the
    /// body go once read, so a large one is not held twice (its bytes and their values).
    pub fn from_body(body: impl AsRef<[u8]>) -> Result<Fields, ApiError> {
        let body = body.as_ref();
        let value: Value = serde_json::from_slice(body).map_err(|error| {
            ApiError::unreadable(if body.iter().all(u8::is_ascii_whitespace) {
                "The request body is empty; send a JSON object.".to_owned()
            } else {
                format!("The request body is not valid JSON: {error}.")
            })
        })?;
        match value {
            Value::Object(map) => Ok(Fields::new(map, "field")),
            _ => Err(ApiError::unreadable(
                "The request body must be a JSON object.",
            )),
        }
    }

    /// Reads a query string; every value is a string.
    pub fn from_query(query: &str) -> Result<Fields, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query).map_err(|error| {
            ApiError::unreadable(format!("The query string cannot be read: {error}."))
        })?;
        let mut map = Map::new();
        for (name, value) in pairs.into_inner() {
            if map.contains_key(&name) {
                // Which of two values was meant cannot be guessed; keeping the last would hide it.
                return Err(ApiError::invalid_name(
                    name.clone(),
                    format!("The query parameter `{name}` is given more than once; give it once."),
                ));
            }
            map.insert(name, Value::String(value));
        }
        Ok(Fields::new(map, "query parameter"))
    }

    fn new(map: Map<String, Value>, what: &'static str) -> Fields {
        Fields {
            map,
            what,
            asked: Vec::new(),
            missing: None,
        }
    }

    /// Takes an optional value; `null` and `""` count as absent.
    pub fn take<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        self.asked.push(name.to_owned());
        match self.map.remove(name) {
            None => Ok(None),
            Some(value) if is_blank(&value) => Ok(None),
            Some(value) => typed(name, value).map(Some),
        }
    }

    /// Takes an optional object whose members named in `inner` are objects too when given.
    /// serde reads a struct from an array as well (field by field, in order); a caller's `[…]`
    /// where an object is due is refused instead.
    pub fn take_object<T: DeserializeOwned>(
        &mut self,
        name: &str,
        inner: &[&str],
    ) -> Result<Option<T>, ApiError> {
        if let Some(value) = self.map.get(name) {
            objects_where_due(name, value, inner)?;
        }
        self.take(name)
    }

    /// Takes an optional array of objects, whose members named in `inner` are arrays of
    /// objects when given (see [`Fields::take_object`]).
    pub fn take_objects<T: DeserializeOwned>(
        &mut self,
        name: &str,
        inner: &[&str],
    ) -> Result<Option<Vec<T>>, ApiError> {
        if let Some(Value::Array(items)) = self.map.get(name) {
            for (index, item) in items.iter().enumerate() {
                let field = format!("{name}[{index}]");
                objects_where_due(&field, item, &[])?;
                for key in inner {
                    if let Some(Value::Array(nested)) = item.get(key) {
                        for (at, object) in nested.iter().enumerate() {
                            objects_where_due(&format!("{field}.{key}[{at}]"), object, &[])?;
                        }
                    }
                }
            }
        }
        self.take(name)
    }

    /// Takes an optional text and parses it with `parse`, whose error is the rule broken.
    pub fn take_parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, &'static str>,
    ) -> Result<Option<T>, ApiError> {
        let Some(text) = self.take::<String>(name)? else {
            return Ok(None);
        };
        parse(&text)
            .map(Some)
            .map_err(|rule| ApiError::invalid(name, format!("The {} `{name}` {rule}.", self.what)))
    }

    /// Takes a required string that must not be blank. When it is missing, the error waits
    /// for [`Fields::finish`] (unknown names are reported first) and `""` stands in for it.
    pub fn require_text(&mut self, name: &str) -> Result<String, ApiError> {
        match self.take::<String>(name)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            _ => {
                self.missing.get_or_insert_with(|| {
                    ApiError::invalid(
                        name,
                        format!(
                            "The {} `{name}` is required and must not be empty.",
                            self.what
                        ),
                    )
                });
                Ok(String::new())
            }
        }
    }

    /// Ends reading: a value not taken is an unknown name (with the likely one it misspells),
    /// else a missing required value is reported.
    pub fn finish(self) -> Result<(), ApiError> {
        if let Some(name) = self.map.keys().next() {
            let guess = likely_meant(name, &self.asked)
                .map(|known| format!(" Did you mean `{known}`?"))
                .unwrap_or_default();
            let rest = if self.asked.iter().any(|known| known == "extra") {
                "OpenRouter parameters that this action does not name go inside `extra`.".to_owned()
            } else if self.asked.is_empty() {
                format!("This action takes no {}s.", self.what)
            } else {
                format!("This action takes: {}.", self.asked.join(", "))
            };
            return Err(ApiError::invalid_name(
                name.clone(),
                format!("Unknown {} `{name}`.{guess} {rest}", self.what),
            ));
        }
        self.missing.map_or(Ok(()), Err)
    }
}

/// The known name that `unknown` most likely misspells: one that contains it or is contained in
/// it (`gen_id` for `id`), or one a few typos away (`promt` for `prompt`).
pub fn likely_meant<'a>(unknown: &str, known: &'a [String]) -> Option<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    known
        .iter()
        .map(|name| {
            let contained = unknown.len().min(name.len()) >= 2
                && (unknown.contains(name.as_str()) || name.contains(unknown.as_str()));
            let distance = if contained {
                1
            } else {
                spelling::distance(&unknown, name)
            };
            (distance, name.as_str())
        })
        // A guess must leave most of the word as typed: at most 2 steps, and fewer steps
        // than letters (so `x` or `` is no typo of `id`).
        .filter(|(distance, name)| {
            *distance <= 2 && *distance < unknown.chars().count().min(name.chars().count())
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// A `400` unless `value` is blank or an object whose members named in `inner` are blank or
/// objects.
fn objects_where_due(field: &str, value: &Value, inner: &[&str]) -> Result<(), ApiError> {
    if is_blank(value) {
        return Ok(());
    }
    check(value.is_object(), field, "must be an object")?;
    for key in inner {
        if let Some(member) = value.get(key) {
            objects_where_due(&format!("{field}.{key}"), member, &[])?;
        }
    }
    Ok(())
}

/// Whether a value counts as absent: `null` or `""` (how Power Automate sends blank inputs).
pub(super) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// Converts one value to `T`, with an error naming the field and the path inside it.
pub fn typed<T: DeserializeOwned>(name: &str, value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." {
            name.to_owned()
        } else if path.starts_with('[') {
            format!("{name}{path}")
        } else {
            format!("{name}.{path}")
        };
        let reason = readable(&error.into_inner().to_string());
        ApiError::invalid(
            field.clone(),
            format!("The field `{field}` is not valid: {reason}."),
        )
    })
}

/// serde's words for types, in a maker's words.
fn readable(reason: &str) -> String {
    let mut text = reason.trim_end_matches('.').to_owned();
    for (from, to) in [
        ("expected f64", "expected a number"),
        ("expected u32", "expected a whole number of at least 0"),
        ("expected u64", "expected a whole number of at least 0"),
        ("expected i64", "expected a whole number"),
        ("expected i32", "expected a whole number up to 2147483647"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
        ("expected a boolean", "expected true or false"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// A range rule: a `400` naming the field when `ok` is false.
pub fn check(ok: bool, field: &str, rule: &str) -> Result<(), ApiError> {
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("The field `{field}` {rule}."),
        ))
    }
}

/// For nested optional fields: `null` and `""` count as absent.
pub fn blank_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    if is_blank(&value) {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::from_body(json.as_bytes()).unwrap()
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::InvalidInput { field, .. } => field,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn null_and_empty_strings_count_as_absent() {
        let mut f = fields(r#"{"a": null, "b": "", "c": 0.5}"#);
        assert_eq!(f.take::<f64>("a").unwrap(), None);
        assert_eq!(f.take::<f64>("b").unwrap(), None);
        assert_eq!(f.take::<f64>("c").unwrap(), Some(0.5));
        f.finish().unwrap();
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let error = fields(r#"{"temperature": "hot"}"#)
            .take::<f64>("temperature")
            .unwrap_err();
        assert!(error.to_string().contains("expected a number"), "{error}");
        assert_eq!(field_of(error).as_deref(), Some("temperature"));
    }

    #[test]
    fn an_unknown_field_is_named() {
        let error = fields(r#"{"temprature": 1}"#).finish().unwrap_err();
        assert_eq!(field_of(error).as_deref(), Some("temprature"));
    }

    #[test]
    fn malformed_json_and_non_objects_are_rejected() {
        for body in ["{", "[1]", "\"text\"", "", "   "] {
            assert!(Fields::from_body(body.as_bytes()).is_err(), "{body:?}");
        }
    }

    #[test]
    fn a_nested_error_names_the_path() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code, reason = "the field exists only to be deserialised")]
        struct Inner {
            role: String,
        }
        let error = fields(r#"{"messages": [{"role": "user"}, {"role": 5}]}"#)
            .take::<Vec<Inner>>("messages")
            .unwrap_err();
        assert_eq!(field_of(error).as_deref(), Some("messages[1].role"));
    }

    #[test]
    fn a_required_text_that_is_blank_is_rejected() {
        let mut fields = fields(r#"{"prompt": "   "}"#);
        fields.require_text("prompt").unwrap();
        let error = fields.finish().unwrap_err();
        assert_eq!(field_of(error).as_deref(), Some("prompt"));
    }

    #[test]
    fn query_values_are_read_as_strings() {
        let mut f = Fields::from_query("id=gen-1&x=").unwrap();
        assert_eq!(f.take::<String>("id").unwrap().as_deref(), Some("gen-1"));
        assert_eq!(f.take::<String>("x").unwrap(), None);
        f.finish().unwrap();
    }

    #[test]
    fn a_misspelt_required_field_is_named_as_unknown_with_the_likely_name() {
        let mut fields = fields(r#"{"promt": "hello"}"#);
        let prompt = fields.require_text("prompt").unwrap();
        let _: Option<u32> = fields.take("max_tokens").unwrap();
        let _: Option<Value> = fields.take("extra").unwrap();
        assert_eq!(prompt, "");
        let message = fields.finish().unwrap_err().to_string();
        assert!(message.contains("Unknown field `promt`"), "{message}");
        assert!(message.contains("Did you mean `prompt`?"), "{message}");
        assert!(message.contains("`extra`"), "{message}");
    }

    #[test]
    fn an_unknown_query_parameter_lists_the_ones_the_action_takes_and_never_extra() {
        let mut fields = Fields::from_query("gen_id=gen-1").unwrap();
        fields.require_text("id").unwrap();
        let message = fields.finish().unwrap_err().to_string();
        assert!(
            message.contains("Unknown query parameter `gen_id`"),
            "{message}"
        );
        assert!(message.contains("Did you mean `id`?"), "{message}");
        assert!(message.contains("This action takes: id."), "{message}");
        assert!(!message.contains("extra"), "{message}");
    }

    #[test]
    fn a_missing_required_value_is_reported_when_nothing_is_unknown() {
        let mut fields = Fields::from_query("").unwrap();
        fields.require_text("id").unwrap();
        let error = fields.finish().unwrap_err().to_string();
        assert!(error.contains("`id` is required"), "{error}");
    }

    #[test]
    fn a_name_far_from_every_known_one_gets_no_guess() {
        assert_eq!(likely_meant("zzz", &["category".to_owned()]), None);
        assert_eq!(likely_meant("x", &["max_tokens".to_owned()]), None);
        assert_eq!(
            likely_meant("temprature", &["temperature".to_owned()]),
            Some("temperature")
        );
    }
}
