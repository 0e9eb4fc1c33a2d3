//! Access control, declared in one place per service and enforced on every call.
//!
//! Each service writes a [`Policy`]: for every gRPC method and HTTP route, the [`Rule`] of who
//! may call it. The gRPC [`layer`] verifies the caller's service token and applies the rule
//! before any handler runs; a route without a rule is refused (fail closed), and the
//! [`matrix`] test helper fails on it. Object-level checks (party A never reads party B's data)
//! are the handlers' job, with the [`Caller`] the layer puts in the request extensions.

pub mod keys;
pub mod layer;
pub mod matrix;
mod policy;
mod role;
pub mod token;
pub mod tokens;

pub use keys::KeySet;
pub use layer::{GrpcAccessLayer, PersonSessions};
pub use policy::{Denied, Policy, Rule};
pub use role::{Actor, Caller, Role};
pub use token::{Claims, TokenSigner};
pub use tokens::{Peer, TokenSource, with_bearer};

/// The gRPC routes every service serves to anyone (health and reflection).
pub fn is_infrastructure_route(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.Health/") || path.starts_with("/grpc.reflection.")
}

/// Metadata (and header) set on refusals made by the access layer, so tests can tell them from
/// a handler's own errors.
pub const DENIED_MARKER: &str = "x-conoceles-access-denied";
