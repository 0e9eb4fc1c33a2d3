//! Telemetry: JSON logs carrying the trace and span ids, OpenTelemetry traces (exported by OTLP
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set), W3C trace-context propagation, and a guard that
//! flushes pending spans on exit.
//!
//! A tracer provider is always installed, even without an exporter, so every log line and every
//! outgoing call carries a real trace id.

mod json;
pub mod propagation;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

pub use json::WithTraceIds;

/// Flushes and shuts the tracer provider down when dropped (at the end of `main`).
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Exports what is pending; call before exiting when drop order is not enough.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("telemetry shutdown: {e}");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Builds the tracer provider: OTLP over gRPC when `otlp_endpoint` is given, otherwise spans
/// are created (for ids and propagation) but not exported.
pub fn tracer_provider(
    service_name: &str,
    otlp_endpoint: Option<&str>,
) -> anyhow::Result<SdkTracerProvider> {
    let resource = Resource::builder()
        .with_service_name(format!("conoceles-{service_name}"))
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = otlp_endpoint {
        use opentelemetry_otlp::WithExportConfig;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

/// Installs the global subscriber (JSON logs to stdout, filtered by `RUST_LOG`, default `info`)
/// and the OpenTelemetry layer over `provider`. Must run inside a tokio runtime.
pub fn init_with_provider(service_name: &str, provider: SdkTracerProvider) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer(format!("conoceles-{service_name}"));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,h2=warn,hyper=warn,tower=warn,sqlx=warn,lapin=warn,amq_protocol=warn")
    });
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .map_event_format(WithTraceIds)
        .with_filter(filter);
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    // A second init in the same process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(otel)
        .with(logs)
        .try_init();
    TelemetryGuard {
        provider: Some(provider),
    }
}

/// [`tracer_provider`] + [`init_with_provider`]: what a service's `main` calls.
pub fn init(service_name: &str, otlp_endpoint: Option<&str>) -> anyhow::Result<TelemetryGuard> {
    let provider = tracer_provider(service_name, otlp_endpoint)?;
    Ok(init_with_provider(service_name, provider))
}

/// The current trace id (32 hex digits), if a span is active.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}
