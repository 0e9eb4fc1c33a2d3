//! Routes declared together with their access rule, so no route can exist without one, and the
//! middleware that enforces the rules with the person behind the request's session.

use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use http::{Method, StatusCode};

use crate::access::{Actor, Caller, Denied, Policy, Rule};
use crate::error::{AppError, ErrorCode};

/// Finds the person behind a request (from a session cookie or a bearer token). It may leave
/// what else it learned (e.g. the session's CSRF token) in the request's extensions.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn authenticate(&self, request: &mut Request) -> Result<Option<Actor>, AppError>;
}

/// Left in a request's extensions by an [`Authenticator`] when the person must change the
/// password they were given before doing anything else: the access middleware then admits only
/// the routes declared with [`DeclaredRouter::route_before_password_change`].
#[derive(Debug, Clone, Copy)]
pub struct PasswordChangePending;

/// What an API caller is told while their password must change.
pub const PASSWORD_CHANGE_FIRST: &str = "Debe cambiar la contraseña que se le entregó antes de continuar: en la página «Cambiar contraseña» del sistema de captura, o con POST /api/v1/account/password.";

/// A router whose routes each carry their [`Rule`].
pub struct DeclaredRouter<S> {
    router: Router<S>,
    policy: Policy,
    /// `METHOD path` of the routes open while a password must change.
    before_password_change: std::collections::HashSet<String>,
    /// Where people are sent to change it (pages); without one, pages answer 403.
    password_change_page: Option<&'static str>,
}

impl<S: Clone + Send + Sync + 'static> Default for DeclaredRouter<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            policy: Policy::new(),
            before_password_change: Default::default(),
            password_change_page: None,
        }
    }
}

impl<S: Clone + Send + Sync + 'static> DeclaredRouter<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `handler` for `method path`, admitted by `rule`.
    pub fn route(
        mut self,
        method: Method,
        path: &str,
        rule: Rule,
        handler: MethodRouter<S>,
    ) -> Self {
        self.policy = self.policy.route(format!("{method} {path}"), rule);
        self.router = self.router.route(path, handler);
        self
    }

    /// As [`Self::route`], for a route a person may use before changing the password they were
    /// given (the change itself, signing out).
    pub fn route_before_password_change(
        mut self,
        method: Method,
        path: &str,
        rule: Rule,
        handler: MethodRouter<S>,
    ) -> Self {
        self.before_password_change
            .insert(format!("{method} {path}"));
        self.route(method, path, rule, handler)
    }

    /// The page people whose password must change are sent to from every other page.
    pub fn password_change_page(mut self, path: &'static str) -> Self {
        self.password_change_page = Some(path);
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Wraps every route declared so far in `layer`, inside the access middleware: the layer sees
    /// the request after the gate admitted it (with the caller and what the authenticator left,
    /// e.g. the session) and the handler's response before anything outside does.
    pub fn layer_inside_gate<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: tower::Service<Request, Error = std::convert::Infallible>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as tower::Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(layer);
        self
    }

    /// The router with the access middleware applied to every route; unmatched paths fall
    /// through to the router's fallback.
    pub fn finish(self, authenticator: Arc<dyn Authenticator>) -> (Router<S>, Policy) {
        let gate = Arc::new(HttpGate {
            policy: self.policy.clone(),
            authenticator,
            before_password_change: self.before_password_change,
            password_change_page: self.password_change_page,
        });
        let router = self
            .router
            .route_layer(axum::middleware::from_fn_with_state(gate, enforce))
            .route_layer(axum::middleware::from_fn(super::trace_requests));
        (router, self.policy)
    }
}

struct HttpGate {
    policy: Policy,
    authenticator: Arc<dyn Authenticator>,
    before_password_change: std::collections::HashSet<String>,
    password_change_page: Option<&'static str>,
}

fn wants_json(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
}

async fn enforce(State(gate): State<Arc<HttpGate>>, mut request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let key = format!("{} {route}", request.method());
    // HEAD is served by GET routes.
    let key = match (gate.policy.rule(&key), request.method()) {
        (None, &Method::HEAD) => format!("GET {route}"),
        _ => key,
    };
    let Some(rule) = gate.policy.rule(&key) else {
        // A method the path does not have: 405 with the ones it has.
        let allowed = gate.policy.methods_of(&route);
        if !allowed.is_empty() {
            return method_not_allowed(&allowed, wants_json(&request));
        }
        tracing::error!(route = %key, "route without an access rule refused");
        return forbidden(wants_json(&request));
    };
    if rule.is_public() {
        // Public pages may still show who is logged in.
        if let Ok(Some(actor)) = gate.authenticator.authenticate(&mut request).await {
            request.extensions_mut().insert(Caller {
                service: None,
                actor: Some(actor),
            });
        }
        return next.run(request).await;
    }
    let actor = match gate.authenticator.authenticate(&mut request).await {
        Ok(actor) => actor,
        Err(e) => return e.into_response(),
    };
    let caller = Caller {
        service: None,
        actor,
    };
    match gate.policy.decide(&key, &caller) {
        Ok(())
            if request
                .extensions()
                .get::<PasswordChangePending>()
                .is_some()
                && !gate.before_password_change.contains(&key) =>
        {
            // The password given by someone else must change before anything else is done.
            match gate.password_change_page {
                Some(page) if !wants_json(&request) => marked(Redirect::to(page).into_response()),
                _ => marked(
                    AppError::new(ErrorCode::PermissionDenied, PASSWORD_CHANGE_FIRST)
                        .into_response(),
                ),
            }
        }
        Ok(()) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(Denied::Unauthenticated) if wants_json(&request) => marked(
            AppError::new(
                ErrorCode::Unauthenticated,
                ErrorCode::Unauthenticated.default_message(),
            )
            .into_response(),
        ),
        Err(Denied::Unauthenticated) => {
            let next_path = request.uri().path();
            let target = if request.method() == Method::GET && next_path != "/" {
                format!("/ingresar?siguiente={}", encode(next_path))
            } else {
                "/ingresar".to_string()
            };
            marked(Redirect::to(&target).into_response())
        }
        Err(Denied::Forbidden) => {
            tracing::info!(route = %key, role = ?caller.role(), "request refused by policy");
            forbidden(wants_json(&request))
        }
    }
}

/// Tags a refusal made by the access middleware (tests tell it from a handler's own errors).
fn marked(mut response: Response) -> Response {
    response.headers_mut().insert(
        crate::access::DENIED_MARKER,
        http::HeaderValue::from_static("1"),
    );
    response
}

fn forbidden(json: bool) -> Response {
    if json {
        return marked(
            AppError::new(
                ErrorCode::PermissionDenied,
                ErrorCode::PermissionDenied.default_message(),
            )
            .into_response(),
        );
    }
    marked((
        StatusCode::FORBIDDEN,
        Html(
            "<!doctype html><html lang=\"es-MX\"><head><meta charset=\"utf-8\"><title>Sin permiso — Conóceles</title>\
             <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/estilo.css\"></head><body><main class=\"contenido\">\
             <h1>No tiene permiso para ver esta página</h1>\
             <p>Su cuenta no tiene acceso a esta sección. <a href=\"/\">Volver al inicio</a>.</p>\
             </main></body></html>",
        ),
    )
        .into_response())
}

fn method_not_allowed(allowed: &[&str], json: bool) -> Response {
    let mut methods = allowed.to_vec();
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        methods.push("HEAD");
    }
    const MESSAGE: &str = "Esta dirección no admite ese método.";
    let mut response = if json {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            axum::Json(serde_json::json!({
                "code": "method_not_allowed", "message": MESSAGE, "violations": []
            })),
        )
            .into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, MESSAGE).into_response()
    };
    if let Ok(value) = http::HeaderValue::from_str(&methods.join(", ")) {
        response.headers_mut().insert(http::header::ALLOW, value);
    }
    response
}

/// Percent-encodes a path or URL for a query parameter.
pub fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
