//! Shared runtime of the Conóceles services: configuration, telemetry, graceful shutdown, the
//! ops endpoints, PostgreSQL, RabbitMQ (outbox and inbox), Redis and the error vocabulary.
//! Each concern lives here once; the services compose it.

/// The password rule as people read it, on every screen where a password is chosen (`auth`
/// enforces it).
pub const PASSWORD_RULE: &str = "Al menos 8 caracteres y que no sea fácil de adivinar: evite contraseñas comunes como «12345678» o «password», palabras sueltas y secuencias. Una frase de varias palabras es lo mejor; no se exigen símbolos ni mayúsculas.";

pub mod access;
pub mod allocator;
pub mod amqp;
pub mod cache;
pub mod candidacy_status;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv;
pub mod db;
pub mod error;
pub mod grpc;
pub mod http;
mod messaging_schema;
pub mod ops;
pub mod proto_time;
pub mod server;
pub mod shutdown;
pub mod telemetry;
pub mod testing;
pub mod text;

pub use candidacy_status::CandidacyStatus;
pub use config::{ServiceConfig, ServiceName};
pub use error::{AppError, ErrorCode, FieldViolation};
pub use server::{Infrastructure, Running, ServiceServer};
pub use shutdown::Shutdown;
