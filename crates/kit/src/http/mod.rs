//! HTTP plumbing shared by the fronts: security headers, routes declared with their access
//! rule, the access middleware, and a span per request that continues the caller's trace.

mod access;
pub mod client;
mod headers;
pub mod input;
pub mod serve;
pub mod session;
pub mod shed;
mod trace;

pub use access::{
    Authenticator, DeclaredRouter, PASSWORD_CHANGE_FIRST, PasswordChangePending,
    encode as query_encode,
};
pub use client::{ClientAddress, TrustedProxies};
pub use headers::{no_store, security_headers};
pub use trace::{CountRequests, RouteLabel, trace_requests};

/// The look both fronts share (colours, layout, forms, notices, tables); each front serves it
/// with its own additions.
pub const BASE_STYLESHEET: &str = include_str!("../../static/base.css");
