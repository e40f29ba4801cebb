//! Reading upstream answers: any status from 100 to 599 with any body is JSON or an error of
//! the contract (4xx passed through, the rest `502`), never a `500`.

use actix_web::ResponseError;
use bytes::Bytes;
use openrouter_connector::error::ApiError;
use openrouter_connector::openrouter::{Upstream, interpret, is_route_missing};
use proptest::prelude::*;
use proptest::sample::select;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};

use super::captures::{documents, upstream_document};
use super::{
    Case, config, field, json_object, json_value, key, member, number, object_of, one_of, string,
};

/// An OpenRouter error object with members of random types, now and then beside `choices`,
/// `data` or another member.
fn error_body() -> BoxedStrategy<Value> {
    let code = || {
        prop_oneof![
            2 => (400u64..=429).prop_map(Value::from),
            2 => (0u64..1000).prop_map(Value::from),
            1 => number(),
            1 => one_of(&["server_error", "402", ""]),
        ]
        .boxed()
    };
    let error = object_of(vec![
        member("code", 0.8, code(), json_value()),
        member(
            "message",
            0.8,
            prop_oneof![string(), one_of(&["", " ", "Provider returned error"])].boxed(),
            json_value(),
        ),
        field(
            "metadata",
            prop_oneof![
                json_object(),
                (0.0f64..100.0).prop_map(|s| json!({"retry_after_seconds": s})),
            ]
            .boxed(),
        ),
        field("http_status", code()),
        field("error_type", string()),
    ]);
    let sibling = prop_oneof![
        select(vec!["choices", "data", "user_id"]).prop_map(str::to_owned),
        key()
    ];
    (error, prop::option::weighted(0.3, (sibling, json_value())))
        .prop_map(|(error, sibling)| {
            let mut body = Map::new();
            body.insert("error".to_owned(), error);
            body.extend(sibling);
            Value::Object(body)
        })
        .boxed()
}

/// Error objects, mutated captures, any JSON (with the keep-alive padding OpenRouter may send
/// first), and any bytes.
fn upstream_body() -> BoxedStrategy<Bytes> {
    let document = prop_oneof![
        3 => error_body(),
        2 => upstream_document(documents(|_| true)),
        1 => json_value(),
    ];
    prop_oneof![
        4 => (document, select(vec!["", "\n   \n  ", " "])).prop_map(|(value, padding)| {
            Bytes::from(format!("{padding}{value}"))
        }),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
    ]
    .boxed()
}

fn upstream_status() -> BoxedStrategy<u16> {
    prop_oneof![
        2 => 100u16..=599,
        1 => 400u16..=429,
        1 => select(vec![200, 404, 405, 429, 500, 502, 503, 524, 529]),
    ]
    .boxed()
}

fn retry_after_header() -> BoxedStrategy<Option<String>> {
    prop::option::weighted(
        0.3,
        prop_oneof![
            select(vec![
                "7",
                "1.5",
                "-3",
                "abc",
                "1e400",
                "inf",
                "NaN",
                "0",
                " 3 ",
                "",
                "18446744073709551616"
            ])
            .prop_map(str::to_owned),
            "[ -~]{0,8}",
        ],
    )
    .boxed()
}

/// The `error.code` of a body that is an OpenRouter error object (not a completion or a list
/// that carries an error beside its `choices` or `data`).
fn error_object_code(body: &[u8]) -> Option<Option<u64>> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    if object.contains_key("choices") || object.contains_key("data") {
        return None;
    }
    let error = object.get("error")?.as_object()?;
    Some(error.get("code").and_then(Value::as_u64))
}

fn check_interpret(status: u16, retry_after: Option<&str>, body: &[u8]) -> Case {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(RETRY_AFTER, value);
    }
    let upstream = || Upstream {
        status: StatusCode::from_u16(status).unwrap(),
        headers: headers.clone(),
        body: Bytes::copy_from_slice(body),
    };
    let _ = is_route_missing(&upstream());
    let error_object = error_object_code(body);
    let error = match interpret(upstream()) {
        Ok(_) => {
            prop_assert!(
                (200..300).contains(&status),
                "a {} was taken as success",
                status
            );
            prop_assert!(
                error_object.is_none(),
                "an error object was taken as success"
            );
            return Ok(());
        }
        Err(error) => error,
    };
    let code = error.status_code().as_u16();
    if (200..300).contains(&status)
        && let Some(Some(sent @ 400..=429)) = error_object
    {
        prop_assert_eq!(u64::from(code), sent, "a 200 carrying error {}", sent);
    }
    prop_assert!(
        (400..=429).contains(&code) || code == 502 || code == 504,
        "upstream {} became {}, not a status of the contract: {:?}",
        status,
        code,
        error
    );
    if !(200..300).contains(&status) {
        let expected = if (400..=429).contains(&status) {
            status
        } else {
            502
        };
        prop_assert_eq!(
            code,
            expected,
            "upstream {} became {}: {:?}",
            status,
            code,
            error
        );
    }
    prop_assert!(
        matches!(
            error,
            ApiError::Upstream { .. } | ApiError::UpstreamFailed { .. }
        ),
        "{:?}",
        error
    );
    if let ApiError::Upstream {
        retry_after: Some(seconds),
        ..
    } = error
    {
        prop_assert!(
            code == 429 && seconds >= 1,
            "retry after {} s on a {}",
            seconds,
            code
        );
    }
    let body = serde_json::to_value(error.body())?;
    prop_assert_eq!(&body["error"]["code"], &json!(code), "{}", body);
    prop_assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.trim().is_empty()),
        "upstream {} gave an error without a message: {}",
        status,
        body
    );
    prop_assert!(
        body["error"].get("metadata").is_none_or(Value::is_object),
        "{}",
        body
    );
    prop_assert_eq!(error.error_response().status().as_u16(), code);
    Ok(())
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn upstream_answers_are_read_as_json_or_as_a_contract_error(
        status in upstream_status(),
        retry_after in retry_after_header(),
        body in upstream_body(),
    ) {
        check_interpret(status, retry_after.as_deref(), &body)?;
    }
}
