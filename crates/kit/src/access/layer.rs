//! The gRPC access layer: reads `authorization: Bearer <service token>`, verifies it, applies
//! the service's [`Policy`] to the method, and either passes the request on with the
//! [`Caller`] in its extensions or answers UNAUTHENTICATED / PERMISSION_DENIED itself.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{Request, Response};
use tonic::body::Body;
use tower::{Layer, Service};

use super::keys::KeySet;
use super::policy::{Denied, Policy};
use super::role::{Actor, Caller};
use super::{DENIED_MARKER, is_infrastructure_route};

struct Gate {
    policy: Policy,
    keys: Arc<KeySet>,
    audience: String,
    sessions: Option<Arc<dyn PersonSessions>>,
}

/// People calling gRPC directly with their session token (statisticians' scripts): who the
/// session belongs to, as `auth` says. Services without it admit service tokens only.
#[async_trait::async_trait]
pub trait PersonSessions: Send + Sync + 'static {
    async fn person(&self, session_token: &str) -> Result<Option<Actor>, tonic::Status>;
}

impl Gate {
    async fn admit(&self, path: &str, headers: &http::HeaderMap) -> Result<Caller, tonic::Status> {
        let caller = match bearer(headers) {
            None => Caller::ANONYMOUS,
            // A session token is opaque (no dots); a service token is a signed JWT.
            Some(token) if !token.contains('.') && self.sessions.is_some() => {
                let sessions = self.sessions.as_ref().expect("checked above");
                match sessions.person(token).await? {
                    Some(actor) => Caller {
                        service: None,
                        actor: Some(actor),
                    },
                    None => {
                        return Err(denied(tonic::Status::unauthenticated(
                            "sesión inválida o vencida",
                        )));
                    }
                }
            }
            Some(token) => match self.keys.verify(token, &self.audience).await {
                Ok(claims) => Caller {
                    service: Some(claims.sub),
                    actor: claims.act,
                },
                Err(e) => {
                    tracing::info!(rpc = path, reason = %e, "service token rejected");
                    return Err(denied(tonic::Status::unauthenticated("token inválido")));
                }
            },
        };
        if is_infrastructure_route(path) {
            return Ok(caller);
        }
        match self.policy.decide(path, &caller) {
            Ok(()) => Ok(caller),
            Err(Denied::Unauthenticated) => Err(denied(tonic::Status::unauthenticated(
                "se requiere un token de servicio",
            ))),
            Err(Denied::Forbidden) => {
                tracing::info!(rpc = path, service = ?caller.service, role = ?caller.role(), "call refused by policy");
                Err(denied(tonic::Status::permission_denied(
                    "no tiene permiso para esta operación",
                )))
            }
        }
    }
}

impl Gate {
    /// A gRPC path as a metric label: a method the policy declares (or an infrastructure
    /// route), else `unknown`.
    fn label(&self, path: &str) -> String {
        if is_infrastructure_route(path) {
            "infrastructure".to_string()
        } else if self.policy.rule(path).is_some() {
            path.to_string()
        } else {
            "unknown".to_string()
        }
    }
}

fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn denied(mut status: tonic::Status) -> tonic::Status {
    status.metadata_mut().insert(
        DENIED_MARKER,
        tonic::metadata::MetadataValue::from_static("1"),
    );
    status
}

/// `tonic::transport::Server::builder().layer(GrpcAccessLayer::new(...))`.
#[derive(Clone)]
pub struct GrpcAccessLayer {
    gate: Arc<Gate>,
}

impl GrpcAccessLayer {
    /// `audience` is this service's name: tokens minted for another service are refused.
    pub fn new(policy: Policy, keys: Arc<KeySet>, audience: impl Into<String>) -> Self {
        Self {
            gate: Arc::new(Gate {
                policy,
                keys,
                audience: audience.into(),
                sessions: None,
            }),
        }
    }

    /// Also admits people's session tokens, resolved by `sessions` (their rules say
    /// [`Rule::people`] or [`Rule::or_people`]).
    pub fn with_sessions(
        policy: Policy,
        keys: Arc<KeySet>,
        audience: impl Into<String>,
        sessions: Option<Arc<dyn PersonSessions>>,
    ) -> Self {
        Self {
            gate: Arc::new(Gate {
                policy,
                keys,
                audience: audience.into(),
                sessions,
            }),
        }
    }
}

impl<S> Layer<S> for GrpcAccessLayer {
    type Service = GrpcAccess<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcAccess {
            inner,
            gate: self.gate.clone(),
        }
    }
}

#[derive(Clone)]
pub struct GrpcAccess<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S> Service<Request<Body>> for GrpcAccess<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call; a fresh clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            let path = request.uri().path().to_string();
            let started = std::time::Instant::now();
            let response = match gate.admit(&path, request.headers()).await {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(status) => Ok(status.into_http()),
            };
            // A unary success carries its status in the trailers; errors carry it in the
            // headers (trailers-only responses).
            if let Ok(r) = &response {
                let code = r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u8>().ok())
                    .filter(|c| *c <= 16)
                    .map_or_else(|| "0".to_string(), |c| c.to_string());
                // Only declared methods name a series; anything else a client sends is one.
                let method = gate.label(&path);
                metrics::counter!("grpc_requests_total", "method" => method.clone(), "code" => code)
                    .increment(1);
                metrics::histogram!("grpc_request_duration_seconds", "method" => method)
                    .record(started.elapsed().as_secs_f64());
            }
            response
        })
    }
}

/// The caller the access layer admitted (for object-level checks in handlers).
pub fn caller_of<T>(request: &tonic::Request<T>) -> Caller {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::ANONYMOUS)
}
