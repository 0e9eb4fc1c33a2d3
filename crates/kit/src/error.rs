//! One error vocabulary for every boundary: the same [`ErrorCode`] becomes a `tonic::Status`
//! for gRPC callers and an HTTP status with a structured JSON body for HTTP callers, so both
//! agree. Internal errors are logged with their cause chain and never shown.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;

/// The error codes shared by gRPC and HTTP (mirrors `conoceles.common.v1.ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    Unauthenticated,
    PermissionDenied,
    FailedPrecondition,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn grpc_code(self) -> tonic::Code {
        match self {
            ErrorCode::InvalidArgument => tonic::Code::InvalidArgument,
            ErrorCode::NotFound => tonic::Code::NotFound,
            ErrorCode::AlreadyExists => tonic::Code::AlreadyExists,
            ErrorCode::Unauthenticated => tonic::Code::Unauthenticated,
            ErrorCode::PermissionDenied => tonic::Code::PermissionDenied,
            ErrorCode::FailedPrecondition => tonic::Code::FailedPrecondition,
            ErrorCode::RateLimited => tonic::Code::ResourceExhausted,
            ErrorCode::Unavailable => tonic::Code::Unavailable,
            ErrorCode::Internal => tonic::Code::Internal,
        }
    }

    pub fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::AlreadyExists => StatusCode::CONFLICT,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorCode::FailedPrecondition => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The protobuf enum value, for `ErrorDetail` messages.
    pub fn proto(self) -> conoceles_proto::common::v1::ErrorCode {
        use conoceles_proto::common::v1::ErrorCode as P;
        match self {
            ErrorCode::InvalidArgument => P::InvalidArgument,
            ErrorCode::NotFound => P::NotFound,
            ErrorCode::AlreadyExists => P::AlreadyExists,
            ErrorCode::Unauthenticated => P::Unauthenticated,
            ErrorCode::PermissionDenied => P::PermissionDenied,
            ErrorCode::FailedPrecondition => P::FailedPrecondition,
            ErrorCode::RateLimited => P::RateLimited,
            ErrorCode::Unavailable => P::Unavailable,
            ErrorCode::Internal => P::Internal,
        }
    }

    /// The Spanish sentence shown when a more specific message is not available.
    pub fn default_message(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "Los datos enviados no son válidos.",
            ErrorCode::NotFound => "No encontramos lo que busca.",
            ErrorCode::AlreadyExists => "Ese registro ya existe.",
            ErrorCode::Unauthenticated => "Inicie sesión para continuar.",
            ErrorCode::PermissionDenied => "No tiene permiso para esta acción.",
            ErrorCode::FailedPrecondition => "La acción no es posible en este momento.",
            ErrorCode::RateLimited => "Demasiados intentos. Espere un momento e intente de nuevo.",
            ErrorCode::Unavailable => "El servicio no está disponible. Intente más tarde.",
            ErrorCode::Internal => "Ocurrió un error interno. Intente más tarde.",
        }
    }
}

/// What a person reads when a text carries control characters (a NUL, say).
pub const CONTROL_CHARACTERS_MESSAGE: &str =
    "El texto contiene caracteres de control que no se pueden guardar.";

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    pub field: String,
    pub reason: String,
    /// Spanish (Mexico), for people.
    pub message: String,
}

impl FieldViolation {
    pub fn new(
        field: impl Into<String>,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// The error every service returns at its boundaries.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An expected failure the caller can act on; the message is shown as is.
    #[error("{code:?}: {message}")]
    Known {
        code: ErrorCode,
        message: String,
        violations: Vec<FieldViolation>,
    },
    /// Anything else: logged with its cause chain, shown as a generic internal error.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError::Known {
            code,
            message: message.into(),
            violations: Vec::new(),
        }
    }

    /// Bad input: the message names each field and its reason, so that a client that shows
    /// only the message (a gRPC status, say) still tells what to fix.
    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        let message = if violations.is_empty() {
            ErrorCode::InvalidArgument.default_message().to_string()
        } else {
            let each: Vec<String> = violations
                .iter()
                .map(|v| format!("{}: {}", v.field, v.message))
                .collect();
            format!("Los datos enviados no son válidos. {}", each.join(" "))
        };
        AppError::Known {
            code: ErrorCode::InvalidArgument,
            message,
            violations,
        }
    }

    /// Bad input in one field.
    pub fn field(field: &str, reason: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldViolation::new(field, reason, message.into())])
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Known { code, .. } => *code,
            AppError::Unexpected(_) => ErrorCode::Internal,
        }
    }

    /// The Spanish messages a person may see: each field problem, or the message (internal
    /// errors are logged and shown generically).
    pub fn messages(&self) -> Vec<String> {
        let (_, message, violations) = self.public_parts();
        if violations.is_empty() {
            vec![message]
        } else {
            violations.iter().map(|v| v.message.clone()).collect()
        }
    }

    /// What the caller may see.
    fn public_parts(&self) -> (ErrorCode, String, &[FieldViolation]) {
        match self {
            AppError::Known {
                code,
                message,
                violations,
            } => (*code, message.clone(), violations),
            AppError::Unexpected(err) => {
                tracing::error!(error = ?err, "unexpected error");
                (
                    ErrorCode::Internal,
                    ErrorCode::Internal.default_message().into(),
                    &[],
                )
            }
        }
    }
}

/// A peer's refusal flows on with `?`, keeping its code and field violations.
impl From<tonic::Status> for AppError {
    fn from(status: tonic::Status) -> Self {
        AppError::from_status(&status)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => {
                AppError::new(ErrorCode::NotFound, ErrorCode::NotFound.default_message())
            }
            sqlx::Error::PoolTimedOut => AppError::new(
                ErrorCode::Unavailable,
                ErrorCode::Unavailable.default_message(),
            ),
            // Text PostgreSQL cannot store (a NUL character) that got past the edge's checks.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => {
                AppError::invalid(vec![FieldViolation::new(
                    "text",
                    "invalid_characters",
                    CONTROL_CHARACTERS_MESSAGE,
                )])
            }
            _ => AppError::Unexpected(err.into()),
        }
    }
}

/// Maps a unique-constraint violation to a 4xx error, anything else passes through.
pub trait OnConstraint<T> {
    fn on_constraint(
        self,
        constraint: &str,
        to_error: impl FnOnce() -> AppError,
    ) -> Result<T, AppError>;
}

impl<T> OnConstraint<T> for Result<T, sqlx::Error> {
    fn on_constraint(
        self,
        constraint: &str,
        to_error: impl FnOnce() -> AppError,
    ) -> Result<T, AppError> {
        self.map_err(|err| match &err {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => to_error(),
            _ => AppError::from(err),
        })
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: ErrorCode,
    message: String,
    violations: &'a [FieldViolation],
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (code, message, violations) = self.public_parts();
        let body = ErrorBody {
            code,
            message,
            violations,
        };
        (code.http_status(), Json(body)).into_response()
    }
}

impl From<AppError> for tonic::Status {
    fn from(err: AppError) -> Self {
        let (code, message, violations) = err.public_parts();
        let detail = conoceles_proto::common::v1::ErrorDetail {
            code: code.proto() as i32,
            violations: violations
                .iter()
                .map(|v| conoceles_proto::common::v1::FieldViolation {
                    field: v.field.clone(),
                    reason: v.reason.clone(),
                    message: v.message.clone(),
                })
                .collect(),
        };
        tonic::Status::with_details(
            code.grpc_code(),
            message,
            prost::Message::encode_to_vec(&detail).into(),
        )
    }
}

impl AppError {
    /// The error a peer answered, for this service to pass on: its code, its Spanish message and
    /// its field violations (from the status details). A peer's internal error, or a code with
    /// no meaning for the caller, is this service's "unavailable": the peer failed, not the
    /// request.
    pub fn from_status(status: &tonic::Status) -> Self {
        let code = match status.code() {
            tonic::Code::InvalidArgument | tonic::Code::OutOfRange => ErrorCode::InvalidArgument,
            tonic::Code::NotFound => ErrorCode::NotFound,
            tonic::Code::AlreadyExists => ErrorCode::AlreadyExists,
            tonic::Code::Unauthenticated => ErrorCode::Unauthenticated,
            tonic::Code::PermissionDenied => ErrorCode::PermissionDenied,
            tonic::Code::FailedPrecondition => ErrorCode::FailedPrecondition,
            tonic::Code::ResourceExhausted => ErrorCode::RateLimited,
            _ => {
                return AppError::new(
                    ErrorCode::Unavailable,
                    ErrorCode::Unavailable.default_message(),
                );
            }
        };
        let violations =
            <conoceles_proto::common::v1::ErrorDetail as prost::Message>::decode(status.details())
                .map(|detail| {
                    detail
                        .violations
                        .into_iter()
                        .map(|v| FieldViolation::new(v.field, v.reason, v.message))
                        .collect()
                })
                .unwrap_or_default();
        AppError::Known {
            code,
            message: status.message().to_string(),
            violations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_error_passes_on_with_its_code_message_and_violations() {
        let sent = AppError::invalid(vec![FieldViolation::new(
            "at",
            "in_the_future",
            "El corte no puede estar en el futuro.",
        )]);
        let message = sent.messages();
        let status: tonic::Status = sent.into();
        assert!(
            status
                .message()
                .contains("El corte no puede estar en el futuro.")
        );
        let received = AppError::from_status(&status);
        assert_eq!(received.code(), ErrorCode::InvalidArgument);
        assert_eq!(received.messages(), message);
        let internal = AppError::from_status(&tonic::Status::internal("boom"));
        assert_eq!(internal.code(), ErrorCode::Unavailable);
        assert!(!internal.messages()[0].contains("boom"));
    }

    #[test]
    fn grpc_and_http_agree_on_every_code() {
        let cases = [
            (
                ErrorCode::InvalidArgument,
                tonic::Code::InvalidArgument,
                422,
            ),
            (ErrorCode::NotFound, tonic::Code::NotFound, 404),
            (ErrorCode::AlreadyExists, tonic::Code::AlreadyExists, 409),
            (
                ErrorCode::Unauthenticated,
                tonic::Code::Unauthenticated,
                401,
            ),
            (
                ErrorCode::PermissionDenied,
                tonic::Code::PermissionDenied,
                403,
            ),
            (ErrorCode::RateLimited, tonic::Code::ResourceExhausted, 429),
            (ErrorCode::Unavailable, tonic::Code::Unavailable, 503),
            (ErrorCode::Internal, tonic::Code::Internal, 500),
        ];
        for (code, grpc, http) in cases {
            assert_eq!(code.grpc_code(), grpc);
            assert_eq!(code.http_status().as_u16(), http);
            let status: tonic::Status = AppError::new(code, "x").into();
            assert_eq!(status.code(), grpc);
        }
    }

    #[test]
    fn unexpected_errors_are_not_shown() {
        let err = AppError::Unexpected(anyhow::anyhow!("password=hunter2 in connection string"));
        let status: tonic::Status = err.into();
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("hunter2"));

        let response = AppError::Unexpected(anyhow::anyhow!("secret detail")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn field_violations_travel_in_grpc_details() {
        let err = AppError::invalid(vec![FieldViolation::new(
            "holder.birth_date",
            "invalid_format",
            "La fecha debe tener el formato AAAA-MM-DD.",
        )]);
        let status: tonic::Status = err.into();
        let detail: conoceles_proto::common::v1::ErrorDetail =
            prost::Message::decode(status.details()).unwrap();
        assert_eq!(detail.violations[0].field, "holder.birth_date");
        assert_eq!(detail.violations[0].reason, "invalid_format");
    }
}
