//! The maker's output schema as the designer sees it: conversion, references, display names,
//! and the limits that keep a hostile schema quick to refuse.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

fn invoice() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Invoice",
        "description": "An invoice read from a scanned\n    document.",
        "type": "object",
        "properties": {
            "vendor": {"$ref": "#/$defs/Party", "description": "Who sent the invoice."},
            "invoice_number": {"type": "string"},
            "issued_on": {"type": "string", "format": "date"},
            "lines": {
                "type": "array",
                "description": "One line per item billed.",
                "items": {"$ref": "#/$defs/Line"},
            },
            "total": {
                "type": "number",
                "title": "Total Due",
                "description": "What to pay,\n  tax included.",
            },
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
            "paid": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "description": "Settled."},
            "notes": {"type": ["string", "null"]},
        },
        "required": ["vendor", "lines", "total", "currency"],
        "additionalProperties": false,
        "$defs": {
            "Party": {
                "type": "object",
                "title": "Party",
                "description": "A company or a person.",
                "properties": {
                    "name": {"type": "string"},
                    "tax_id": {"type": "string", "description": "The VAT number."},
                },
                "required": ["name"],
            },
            "Line": {
                "type": "object",
                "title": "Invoice line",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"$ref": "#/$defs/Money", "title": "Price per Unit"},
                },
                "required": ["description", "quantity", "unit_price"],
                "additionalProperties": false,
            },
            "Money": {"type": "number", "title": "Money", "description": "An amount."},
        },
    })
}

fn invoice_as_swagger() -> Value {
    json!({
        "type": "object",
        "x-ms-summary": "Invoice",
        "description": "An invoice read from a scanned document.",
        "properties": {
            "vendor": {
                "type": "object",
                "x-ms-summary": "Vendor",
                "description": "Who sent the invoice.",
                "properties": {
                    "name": {"type": "string", "x-ms-summary": "Name"},
                    "tax_id": {
                        "type": "string",
                        "x-ms-summary": "Tax ID",
                        "description": "The VAT number.",
                    },
                },
                "required": ["name"],
            },
            "invoice_number": {"type": "string", "x-ms-summary": "Invoice Number"},
            "issued_on": {"type": "string", "format": "date", "x-ms-summary": "Issued On"},
            "lines": {
                "type": "array",
                "x-ms-summary": "Lines",
                "description": "One line per item billed.",
                "items": {
                    "type": "object",
                    "properties": {
                        "description": {"type": "string", "x-ms-summary": "Description"},
                        "quantity": {"type": "integer", "minimum": 1, "x-ms-summary": "Quantity"},
                        "unit_price": {
                            "type": "number",
                            "x-ms-summary": "Price per Unit",
                            "description": "An amount.",
                        },
                    },
                    "required": ["description", "quantity", "unit_price"],
                    "additionalProperties": false,
                },
            },
            "total": {
                "type": "number",
                "x-ms-summary": "Total Due",
                "description": "What to pay, tax included.",
            },
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"], "x-ms-summary": "Currency"},
            "paid": {"type": "boolean", "x-ms-summary": "Paid", "description": "Settled."},
            "notes": {"type": "string", "x-ms-summary": "Notes"},
        },
        "required": ["vendor", "lines", "total", "currency"],
        "additionalProperties": false,
    })
}

/// A schema whose every level refers twice to the next: 2^levels schemas once written out.
fn fan_out(levels: usize) -> Value {
    let mut defs = serde_json::Map::new();
    for level in 0..levels {
        let next = format!("#/$defs/L{}", level + 1);
        defs.insert(
            format!("L{level}"),
            json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
        );
    }
    defs.insert(format!("L{levels}"), json!({"type": "string"}));
    json!({"$ref": "#/$defs/L0", "$defs": defs})
}

/// A schema with `levels` objects each inside the previous one's property `next`.
fn nested(levels: usize) -> Value {
    let mut schema = json!({"type": "string"});
    for _ in 0..levels {
        schema = json!({"type": "object", "properties": {"next": schema}});
    }
    schema
}

#[test]
fn a_nested_invoice_becomes_the_swagger_schema_the_designer_shows() {
    assert_eq!(output_schema(&invoice()).unwrap(), invoice_as_swagger());
}

#[test]
fn openrouters_whole_json_schema_form_is_read_for_its_schema() {
    let wrapper = json!({
        "name": "invoice",
        "strict": true,
        "description": "The invoice's fields.",
        "schema": invoice(),
    });
    assert_eq!(output_schema(&wrapper).unwrap(), invoice_as_swagger());
}

#[test]
fn a_schema_with_fields_called_name_and_schema_is_not_taken_for_the_wrapper() {
    let schema = json!({
        "type": "object",
        "name": "x",
        "schema": {"type": "string"},
        "properties": {"name": {"type": "string"}, "schema": {"type": "object"}},
    });
    let converted = output_schema(&schema).unwrap();
    assert_eq!(converted["properties"]["name"]["x-ms-summary"], "Name");
    assert_eq!(converted["properties"]["schema"]["type"], "object");
}

#[test]
fn unions_with_null_become_their_other_member() {
    let schema = json!({
        "type": "object",
        "properties": {
            "city": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "count": {"type": ["integer", "null"]},
            "kind": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/Kind"}]},
        },
        "$defs": {"Kind": {"type": "string", "enum": ["a", "b", null]}},
    });
    assert_eq!(
        output_schema(&schema).unwrap()["properties"],
        json!({
            "city": {"type": "string", "x-ms-summary": "City"},
            "count": {"type": "integer", "x-ms-summary": "Count"},
            "kind": {"type": "string", "enum": ["a", "b"], "x-ms-summary": "Kind"},
        })
    );
}

#[test]
fn a_reference_into_definitions_is_inlined() {
    let schema = json!({
        "type": "object",
        "properties": {"home": {"$ref": "#/definitions/Address"}},
        "definitions": {"Address": {
            "type": "object",
            "properties": {"postCode": {"type": "string"}},
        }},
    });
    assert_eq!(
        output_schema(&schema).unwrap(),
        json!({"type": "object", "properties": {"home": {
            "type": "object",
            "x-ms-summary": "Home",
            "properties": {"postCode": {"type": "string", "x-ms-summary": "Post Code"}},
        }}})
    );
}

#[test]
fn a_reference_to_the_root_becomes_an_object_with_the_references_keywords() {
    let schema = json!({
        "title": "Tree",
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "children": {
                "type": "array",
                "items": {"$ref": "#", "description": "A child node."},
            },
            "parent": {"$ref": "#", "title": "Parent node"},
        },
    });
    assert_eq!(
        output_schema(&schema).unwrap(),
        json!({
            "type": "object",
            "x-ms-summary": "Tree",
            "properties": {
                "label": {"type": "string", "x-ms-summary": "Label"},
                "children": {
                    "type": "array",
                    "x-ms-summary": "Children",
                    "items": {"type": "object", "description": "A child node."},
                },
                "parent": {"type": "object", "x-ms-summary": "Parent node"},
            },
        })
    );
}

#[test]
fn a_recursive_definition_is_written_out_once() {
    let schema = json!({
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {
            "type": "object",
            "properties": {"next": {"$ref": "#/$defs/Node"}, "value": {"type": "integer"}},
        }},
    });
    assert_eq!(
        output_schema(&schema).unwrap(),
        json!({"type": "object", "properties": {
            "next": {"type": "object", "x-ms-summary": "Next"},
            "value": {"type": "integer", "x-ms-summary": "Value"},
        }})
    );
}

#[test]
fn references_that_lead_only_to_each_other_end_as_an_object() {
    let schema = json!({
        "type": "object",
        "properties": {"loop": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}},
    });
    assert_eq!(
        output_schema(&schema).unwrap()["properties"]["loop"],
        json!({"type": "object", "x-ms-summary": "Loop"})
    );
}

#[test]
fn a_references_description_is_laid_over_its_target() {
    let schema = json!({
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address", "description": "Where they live."},
            "office": {"$ref": "#/$defs/Address"},
        },
        "$defs": {"Address": {
            "type": "object",
            "title": "Address",
            "description": "A postal address.",
            "properties": {"city": {"type": "string"}},
        }},
    });
    let properties = &output_schema(&schema).unwrap()["properties"];
    assert_eq!(properties["home"]["description"], "Where they live.");
    assert_eq!(properties["home"]["x-ms-summary"], "Home");
    assert_eq!(properties["office"]["description"], "A postal address.");
    assert_eq!(properties["office"]["x-ms-summary"], "Office");
    assert_eq!(
        properties["office"]["properties"]["city"]["x-ms-summary"],
        "City"
    );
}

#[test]
fn enums_keep_their_values_and_const_becomes_a_one_value_enum() {
    let schema = json!({
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["open", "closed"]},
            "version": {"const": "v1"},
        },
    });
    assert_eq!(
        output_schema(&schema).unwrap()["properties"],
        json!({
            "status": {"type": "string", "enum": ["open", "closed"], "x-ms-summary": "Status"},
            "version": {"enum": ["v1"], "x-ms-summary": "Version"},
        })
    );
}

#[test]
fn json_pointers_with_escapes_and_percent_encoding_are_followed() {
    let schema = json!({
        "type": "object",
        "properties": {
            "slash": {"$ref": "#/$defs/a~1b"},
            "tilde": {"$ref": "#/$defs/c~0d"},
            "space": {"$ref": "#/%24defs/with%20space"},
            "first": {"$ref": "#/$defs/Pair/anyOf/0"},
        },
        "$defs": {
            "a/b": {"type": "integer"},
            "c~d": {"type": "boolean"},
            "with space": {"type": "number"},
            "Pair": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
    });
    let properties = &output_schema(&schema).unwrap()["properties"];
    assert_eq!(properties["slash"]["type"], "integer");
    assert_eq!(properties["tilde"]["type"], "boolean");
    assert_eq!(properties["space"]["type"], "number");
    assert_eq!(properties["first"]["type"], "string");
}

#[test]
fn a_remote_reference_is_refused_naming_where_it_is() {
    let schema = json!({
        "type": "object",
        "properties": {"items": {
            "type": "array",
            "items": {"$ref": "https://example.com/item.json"},
        }},
    });
    let error = output_schema(&schema).unwrap_err();
    assert_eq!(
        error,
        OutputSchemaError::ExternalReference {
            path: "properties.items.items.$ref".to_owned(),
            reference: "https://example.com/item.json".to_owned(),
        }
    );
    assert_eq!(error.path(), Some("properties.items.items.$ref"));
}

#[test]
fn a_pointer_to_nothing_is_refused_naming_where_it_is() {
    let schema = json!({
        "type": "object",
        "properties": {"party": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Missing"}]}},
        "$defs": {"Party": {"type": "object"}},
    });
    assert_eq!(
        output_schema(&schema).unwrap_err(),
        OutputSchemaError::UnresolvedReference {
            path: "properties.party.anyOf[1].$ref".to_owned(),
            reference: "#/$defs/Missing".to_owned(),
        }
    );
}

#[test]
fn a_broken_reference_inside_a_definition_is_named_where_it_is_written() {
    let schema = json!({
        "name": "order",
        "schema": {
            "type": "object",
            "properties": {"line": {"$ref": "#/$defs/Line"}},
            "$defs": {"Line": {"properties": {"sku": {"$ref": "#/$defs/Sku"}}}},
        },
    });
    let error = output_schema(&schema).unwrap_err();
    assert_eq!(error.path(), Some("schema.$defs.Line.properties.sku.$ref"));
}

#[test]
fn anchors_bad_escapes_and_pointers_to_non_schemas_are_refused() {
    for reference in [
        "#item",
        "#/$defs/a~2b",
        "#/%zz",
        "#/required",
        "#/required/0",
    ] {
        let schema = json!({
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"$ref": reference}},
            "$defs": {"a~b": {"type": "string"}},
        });
        let error = output_schema(&schema).unwrap_err();
        assert!(
            matches!(error, OutputSchemaError::UnresolvedReference { .. }),
            "{reference}: {error}"
        );
    }
}

#[test]
fn a_binary_fan_out_of_references_is_refused_quickly() {
    let started = Instant::now();
    let error = output_schema(&fan_out(20)).unwrap_err();
    assert_eq!(error, OutputSchemaError::TooLarge);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_small_fan_out_of_references_is_written_out() {
    let converted = output_schema(&fan_out(3)).unwrap();
    let leaf = &converted["properties"]["b"]["properties"]["a"]["properties"]["b"];
    assert_eq!(leaf, &json!({"type": "string", "x-ms-summary": "B"}));
}

#[test]
fn a_long_text_repeated_by_references_is_refused() {
    let mut schema = fan_out(6);
    schema["$defs"]["L6"] = json!({"type": "string", "description": "x".repeat(100_000)});
    assert_eq!(
        output_schema(&schema).unwrap_err(),
        OutputSchemaError::TooLarge
    );
}

#[test]
fn a_long_chain_of_references_is_refused_without_deep_recursion() {
    let mut defs = serde_json::Map::new();
    for index in 0..20_000 {
        defs.insert(
            format!("D{index}"),
            json!({"$ref": format!("#/$defs/D{}", index + 1)}),
        );
    }
    defs.insert("D20000".to_owned(), json!({"type": "string"}));
    let schema = json!({"$ref": "#/$defs/D0", "$defs": defs});
    assert_eq!(
        output_schema(&schema).unwrap_err(),
        OutputSchemaError::TooLarge
    );
}

#[test]
fn thirty_two_levels_of_nesting_are_shown_and_thirty_three_are_refused() {
    assert!(output_schema(&nested(32)).is_ok());
    let error = output_schema(&nested(33)).unwrap_err();
    let path = "properties.next".repeat(33);
    let path = path.replace("nextproperties", "next.properties");
    assert_eq!(error, OutputSchemaError::TooDeep { path });
}

/// Deeper than serde_json reads (128 levels of JSON), though not so deep that dropping the
/// value overflows the test's stack (serde_json drops values recursively).
#[test]
fn a_hundred_levels_of_nesting_are_refused_without_overflowing_the_stack() {
    let error = output_schema(&nested(100)).unwrap_err();
    assert!(matches!(error, OutputSchemaError::TooDeep { .. }));
}

#[test]
fn an_array_root_is_converted_with_its_items_named() {
    let schema = json!({
        "type": "array",
        "items": {"properties": {"sku": {"type": "string", "title": "SKU code"}, "qty": {}}},
    });
    assert_eq!(
        output_schema(&schema).unwrap(),
        json!({"type": "array", "items": {"type": "object", "properties": {
            "sku": {"type": "string", "x-ms-summary": "SKU code"},
            "qty": {"x-ms-summary": "Qty"},
        }}})
    );
}

#[test]
fn an_object_root_without_a_type_is_typed_as_an_object() {
    let schema = json!({"properties": {"unitPrice": {"type": "number"}}});
    assert_eq!(
        output_schema(&schema).unwrap(),
        json!({"type": "object", "properties": {
            "unitPrice": {"type": "number", "x-ms-summary": "Unit Price"},
        }})
    );
}

#[test]
fn all_of_members_behind_references_are_merged() {
    let schema = json!({
        "type": "object",
        "properties": {"item": {"allOf": [
            {"$ref": "#/$defs/Base"},
            {"properties": {"price": {"type": "number"}}, "required": ["price"]},
        ]}},
        "$defs": {"Base": {"type": "object", "properties": {"id": {"type": "string"}}}},
    });
    assert_eq!(
        output_schema(&schema).unwrap()["properties"]["item"],
        json!({"type": "object", "x-ms-summary": "Item", "required": ["price"], "properties": {
            "price": {"type": "number", "x-ms-summary": "Price"},
            "id": {"type": "string", "x-ms-summary": "ID"},
        }})
    );
}

#[test]
fn a_schema_that_is_not_an_object_is_refused() {
    for schema in [json!(true), json!([]), json!("{}"), json!(null)] {
        assert_eq!(
            output_schema(&schema).unwrap_err(),
            OutputSchemaError::NotAnObject
        );
    }
}

#[test]
fn every_error_message_is_a_sentence_that_ends_with_a_period() {
    let errors = [
        OutputSchemaError::NotAnObject,
        OutputSchemaError::ExternalReference {
            path: "$ref".to_owned(),
            reference: "other.json".to_owned(),
        },
        OutputSchemaError::UnresolvedReference {
            path: "$ref".to_owned(),
            reference: "#/x".to_owned(),
        },
        OutputSchemaError::TooLarge,
        OutputSchemaError::TooDeep {
            path: "properties.a".to_owned(),
        },
    ];
    for error in errors {
        let message = error.to_string();
        assert!(message.starts_with(char::is_uppercase), "{message}");
        assert!(message.ends_with('.'), "{message}");
    }
}

#[test]
fn a_very_long_reference_is_quoted_shortened() {
    let reference = format!("https://example.com/{}", "a".repeat(10_000));
    let error = output_schema(&json!({"$ref": reference})).unwrap_err();
    assert!(error.to_string().len() < 400, "{error}");
}
