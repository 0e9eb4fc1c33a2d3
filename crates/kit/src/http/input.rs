//! The JSON APIs' inputs, read at the edge with structured errors instead of axum's plain-text
//! rejections: a path that does not parse names nothing (404); a query or body that does not
//! parse is a field problem (422, `field`, `reason`). Text with a NUL character is refused
//! here, since PostgreSQL cannot store it.

use axum::extract::{FromRequestParts, Path, Query};
use http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{AppError, CONTROL_CHARACTERS_MESSAGE, ErrorCode, FieldViolation};

/// `Path<T>` whose rejection is a JSON 404.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| AppError::new(ErrorCode::NotFound, ErrorCode::NotFound.default_message()))
    }
}

/// `Query<T>` whose rejection is a field problem; values with a NUL character are refused.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(field) = parts.uri.query().and_then(field_with_nul) {
            return Err(control_characters(&field));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                // "Failed to deserialize query string: <field>: <problem>"
                let text = rejection.body_text();
                let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
                let field = detail.split_once(": ").map_or("query", |(f, _)| f);
                AppError::invalid(vec![FieldViolation::new(
                    field,
                    "invalid",
                    "Este parámetro no tiene un valor válido.",
                )])
            })
    }
}

/// The first query parameter whose value (percent-decoded) holds a NUL.
fn field_with_nul(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let nul = |s: &str| s.to_ascii_lowercase().contains("%00");
        (nul(value) || nul(key)).then(|| key.to_string())
    })
}

fn control_characters(field: &str) -> AppError {
    AppError::invalid(vec![FieldViolation::new(
        field,
        "invalid_characters",
        CONTROL_CHARACTERS_MESSAGE,
    )])
}

/// A JSON body read into `T`: a body that is not JSON, or not of `T`'s shape, is a problem of
/// the field `body`; a string with a NUL is a problem of its field (a JSON pointer).
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    let not_shaped = |e: serde_json::Error| {
        AppError::invalid(vec![FieldViolation::new(
            "body",
            "invalid",
            format!("El cuerpo debe ser JSON válido con los campos documentados ({e})."),
        )])
    };
    let value: Value = serde_json::from_slice(body).map_err(not_shaped)?;
    if let Some(pointer) = string_with_nul(&value, String::new()) {
        return Err(control_characters(&pointer));
    }
    serde_json::from_value(value).map_err(not_shaped)
}

fn string_with_nul(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then_some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| string_with_nul(v, format!("{at}/{i}"))),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(format!("{at}/{k}"));
            }
            string_with_nul(v, format!("{at}/{k}"))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_anywhere_in_a_body_is_a_problem_of_its_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Input {
            reason: String,
        }
        let err = json_body::<Input>(br#"{"reason": "ok\u0000"}"#).unwrap_err();
        let AppError::Known { violations, .. } = err else {
            panic!("a known error")
        };
        assert_eq!(violations[0].field, "/reason");
        assert_eq!(violations[0].reason, "invalid_characters");
        let nested = serde_json::json!({"a": [{"b": "x"}, {"c": "\u{0}"}]});
        assert_eq!(
            string_with_nul(&nested, String::new()),
            Some("/a/1/c".into())
        );
        assert!(json_body::<Input>(br#"{"reason": "bien"}"#).is_ok());
        assert!(json_body::<Input>(b"not json").is_err());
    }

    #[test]
    fn a_nul_in_a_query_value_names_its_parameter() {
        assert_eq!(
            field_with_nul("a=1&distrito=8%00x"),
            Some("distrito".into())
        );
        assert_eq!(field_with_nul("a=%2500"), None);
        assert_eq!(field_with_nul("q=hola&pagina=2"), None);
    }
}
