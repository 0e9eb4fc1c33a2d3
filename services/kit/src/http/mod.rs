//! HTTP plumbing shared by the fronts: security headers, routes declared with their access
//! rule, the access middleware, and a span per request that continues the caller's trace.

mod access;
mod headers;
mod trace;

pub use access::{Authenticator, DeclaredRouter};
pub use headers::{no_store, security_headers};
pub use trace::trace_requests;
