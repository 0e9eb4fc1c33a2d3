//! gRPC plumbing shared by every service: health and reflection registration, a span per call
//! that continues the caller's trace, and client channels that propagate it.

pub mod balance;

use std::time::Duration;

use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint};
use tonic_health::server::HealthReporter;

use crate::telemetry::propagation;

/// Adds `grpc.health.v1.Health` and reflection (v1 and v1alpha) over every Conóceles proto to
/// `routes`. The reporter starts SERVING for the overall service (`""`).
pub fn with_health_and_reflection(routes: Routes) -> anyhow::Result<(Routes, HealthReporter)> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(conoceles_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(conoceles_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let routes = routes
        .add_service(health)
        .add_service(reflection)
        .add_service(reflection_alpha);
    Ok((routes, reporter))
}

/// The server span of one gRPC call, parented on the caller's `traceparent`.
pub fn server_span(request: &http::Request<()>) -> tracing::Span {
    let path = request.uri().path();
    let span = tracing::info_span!(
        "grpc",
        otel.name = %path.trim_start_matches('/'),
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = %path,
    );
    propagation::set_parent_from_http(&span, request.headers());
    span
}

/// A lazily connected channel to another service: `http://host:port` (one connection), or
/// `dns:///host:port` (every address the name resolves to, kept current: [`balance`]). A
/// balanced channel must be made inside the runtime.
pub fn channel(url: &str) -> anyhow::Result<Channel> {
    match balance::target(url) {
        Some(target) => {
            let (host, port) = target?;
            Ok(balance::channel(host, port, endpoint))
        }
        None => Ok(endpoint(url.to_string())?.connect_lazy()),
    }
}

/// One backend's connection settings.
fn endpoint(url: String) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url)?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10)))
}
