//! The JSON Schema of exchange format v1, generated from the types.

use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

use crate::record::Record;

/// The JSON Schema (draft 2020-12) of one line of the exchange format.
pub fn json_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let variants: Vec<Value> = Record::schemas(&mut generator)
        .into_iter()
        .map(|(record_type, body)| {
            json!({
                "allOf": [
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": record_type},
                            "id": {"type": "string", "minLength": 1, "maxLength": crate::ident::IDENT_BYTES_MAX},
                            "at": {"type": "string", "format": "date-time"}
                        },
                        "required": ["type", "at"]
                    },
                    body.to_value()
                ]
            })
        })
        .collect();
    let definitions: serde_json::Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://casetrail.kz/schema/exchange-v1.json",
        "title": "casetrail exchange format v1: one JSON Lines record",
        "oneOf": variants,
        "$defs": definitions,
    })
}
