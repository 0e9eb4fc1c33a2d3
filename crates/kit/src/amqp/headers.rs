//! String headers (trace context) to and from AMQP field tables.

use std::collections::BTreeMap;

use lapin::types::{AMQPValue, FieldTable, LongString};

pub fn to_field_table(headers: &BTreeMap<String, String>) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in headers {
        if key.len() <= 255 {
            table.insert(
                key.as_str().into(),
                AMQPValue::LongString(LongString::from(value.as_str())),
            );
        }
    }
    table
}

/// The string-valued headers of a delivery (others, like `x-death`, are skipped).
pub fn string_headers(table: Option<&FieldTable>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(table) = table {
        for (key, value) in table.inner() {
            if let Some(s) = value.as_long_string() {
                out.insert(
                    key.as_str().to_string(),
                    String::from_utf8_lossy(s.as_bytes()).into_owned(),
                );
            }
        }
    }
    out
}

/// `x-delivery-count` set by quorum queues (missing on a first delivery).
pub fn delivery_count(table: Option<&FieldTable>) -> i64 {
    table
        .and_then(|t| t.inner().get("x-delivery-count"))
        .and_then(|v| {
            v.as_long_long_int()
                .or_else(|| v.as_long_int().map(i64::from))
                .or_else(|| v.as_short_int().map(i64::from))
        })
        .unwrap_or(0)
}
