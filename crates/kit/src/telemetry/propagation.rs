//! W3C trace-context propagation over the three carriers the services use: HTTP headers, gRPC
//! metadata and AMQP headers (stored as a string map in the outbox, then as a field table).

use std::collections::BTreeMap;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use tonic::metadata::{KeyRef, MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

fn inject(context: &Context, injector: &mut dyn Injector) {
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(context, injector));
}

fn extract(extractor: &dyn Extractor) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(extractor))
}

fn current() -> Context {
    tracing::Span::current().context()
}

/// Makes `span` a child of the remote context (call before the span is first entered).
fn adopt(span: &tracing::Span, parent: Context) {
    use opentelemetry::trace::TraceContextExt;
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

// --- string maps (outbox rows, AMQP headers) ---------------------------------------------------

struct MapCarrier<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct MapReader<'a>(&'a BTreeMap<String, String>);

impl Extractor for MapReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// Writes the current span's `traceparent` (and `tracestate`) into `headers`.
pub fn inject_current(headers: &mut BTreeMap<String, String>) {
    inject(&current(), &mut MapCarrier(headers));
}

/// Parents `span` on the context carried by `headers`.
pub fn set_parent_from_map(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    adopt(span, extract(&MapReader(headers)));
}

// --- HTTP --------------------------------------------------------------------------------------

struct HeaderCarrier<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::try_from(value),
        ) {
            self.0.insert(name, value);
        }
    }
}

struct HeaderReader<'a>(&'a http::HeaderMap);

impl Extractor for HeaderReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// Adds the current trace context to outgoing HTTP request headers.
pub fn inject_http(headers: &mut http::HeaderMap) {
    inject(&current(), &mut HeaderCarrier(headers));
}

/// Parents `span` on the trace context of incoming HTTP request headers.
pub fn set_parent_from_http(span: &tracing::Span, headers: &http::HeaderMap) {
    adopt(span, extract(&HeaderReader(headers)));
}

// --- gRPC --------------------------------------------------------------------------------------

struct MetadataCarrier<'a>(&'a mut MetadataMap);

impl Injector for MetadataCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

struct MetadataReader<'a>(&'a MetadataMap);

impl Extractor for MetadataReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .map(|k| match k {
                KeyRef::Ascii(k) => k.as_str(),
                KeyRef::Binary(k) => k.as_str(),
            })
            .collect()
    }
}

/// Adds the current trace context to outgoing gRPC metadata.
pub fn inject_grpc(metadata: &mut MetadataMap) {
    inject(&current(), &mut MetadataCarrier(metadata));
}

/// Parents `span` on the trace context of incoming gRPC metadata.
pub fn set_parent_from_grpc(span: &tracing::Span, metadata: &MetadataMap) {
    adopt(span, extract(&MetadataReader(metadata)));
}

/// A tonic client interceptor that propagates the caller's trace context:
/// `XClient::with_interceptor(channel, kit::telemetry::propagation::grpc_client_interceptor)`.
pub fn grpc_client_interceptor(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    inject_grpc(request.metadata_mut());
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_traceparent_is_read_from_every_carrier() {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let expect = "4bf92f3577b34da6a3ce929d0e0e4736";
        use opentelemetry::trace::TraceContextExt;
        let trace_of = |cx: Context| cx.span().span_context().trace_id().to_string();

        let mut map = BTreeMap::new();
        map.insert("traceparent".to_string(), traceparent.to_string());
        assert_eq!(trace_of(extract(&MapReader(&map))), expect);

        let mut headers = http::HeaderMap::new();
        headers.insert("traceparent", traceparent.parse().unwrap());
        assert_eq!(trace_of(extract(&HeaderReader(&headers))), expect);

        let mut metadata = MetadataMap::new();
        metadata.insert("traceparent", traceparent.parse().unwrap());
        assert_eq!(trace_of(extract(&MetadataReader(&metadata))), expect);

        // And written back unchanged.
        let mut out = BTreeMap::new();
        inject(&extract(&MapReader(&map)), &mut MapCarrier(&mut out));
        assert_eq!(
            out.get("traceparent").map(String::as_str),
            Some(traceparent)
        );
    }
}
