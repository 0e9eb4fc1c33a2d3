//! The client side of service tokens: a service asks `auth` for tokens with its own secret,
//! caches the ones it uses on its own behalf, and attaches them to outgoing calls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use conoceles_proto::auth::v1::MintServiceTokenRequest;
use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tonic::transport::Channel;

/// Tokens are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(60);

pub struct TokenSource {
    auth: AuthServiceClient<Channel>,
    service: String,
    secret: Option<SecretString>,
    cached: Mutex<HashMap<String, (String, Instant)>>,
}

impl TokenSource {
    /// The service's tokens as its configuration says: `auth` at `AUTH_GRPC_URL`, the service's
    /// own name and `SERVICE_SECRET`.
    pub fn configured(config: &crate::ServiceConfig) -> anyhow::Result<std::sync::Arc<Self>> {
        Ok(std::sync::Arc::new(Self::new(
            crate::grpc::channel(&config.auth_url)?,
            config.service.as_str(),
            config.service_secret.clone(),
        )))
    }

    pub fn new(auth: Channel, service: &str, secret: Option<SecretString>) -> Self {
        Self {
            auth: AuthServiceClient::new(auth),
            service: service.to_string(),
            secret,
            cached: Mutex::new(HashMap::new()),
        }
    }

    async fn mint(&self, audience: &str, session_token: &str) -> anyhow::Result<(String, Instant)> {
        let secret = self
            .secret
            .as_ref()
            .context("SERVICE_SECRET is not set: this service cannot call other services")?;
        let response = self
            .auth
            .clone()
            .mint_service_token(MintServiceTokenRequest {
                audience: audience.to_string(),
                service: self.service.clone(),
                secret: secret.expose_secret().to_string(),
                session_token: session_token.to_string(),
            })
            .await?
            .into_inner();
        let lifetime = response
            .expires_at
            .map(|t| t.seconds - chrono::Utc::now().timestamp())
            .unwrap_or(0)
            .max(0) as u64;
        Ok((
            response.token,
            Instant::now() + Duration::from_secs(lifetime),
        ))
    }

    /// A token to call `audience` on the service's own behalf (cached).
    pub async fn service_token(&self, audience: &str) -> anyhow::Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.get(audience)
            && Instant::now() + RENEW_BEFORE < *expires
        {
            return Ok(token.clone());
        }
        let (token, expires) = self.mint(audience, "").await?;
        cached.insert(audience.to_string(), (token.clone(), expires));
        Ok(token)
    }

    /// `message` as a request to `audience` carrying this service's own token; a token that
    /// cannot be obtained is logged and answered as "unavailable".
    pub async fn own_request<T>(
        &self,
        audience: &str,
        message: T,
    ) -> Result<tonic::Request<T>, tonic::Status> {
        match self.service_token(audience).await {
            Ok(token) => Ok(with_bearer(message, &token)),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), audience, "cannot obtain a service token");
                Err(tonic::Status::unavailable(
                    "Un servicio necesario no está disponible.",
                ))
            }
        }
    }

    /// `message` as a request to `audience` on behalf of the person whose session this is.
    pub async fn acting_request<T>(
        &self,
        audience: &str,
        session_token: &str,
        message: T,
    ) -> Result<tonic::Request<T>, tonic::Status> {
        let token = self.acting_token(audience, session_token).await?;
        Ok(with_bearer(message, &token))
    }

    /// A token to call `audience` on behalf of the person whose session this is (not cached:
    /// the session may end at any time).
    pub async fn acting_token(
        &self,
        audience: &str,
        session_token: &str,
    ) -> Result<String, tonic::Status> {
        self.mint(audience, session_token)
            .await
            .map(|(t, _)| t)
            .map_err(|e| match e.downcast::<tonic::Status>() {
                Ok(status) => status,
                Err(e) => tonic::Status::unavailable(format!("{e:#}")),
            })
    }
}

/// `message` as a request carrying `token` (and the caller's trace context).
pub fn with_bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    crate::telemetry::propagation::inject_grpc(request.metadata_mut());
    request
}

/// One peer a service calls, with where its tokens come from: every typed client holds one
/// instead of its own token plumbing. `own` attaches the calling service's own token (cached);
/// `acting` one minted on behalf of the person whose session it is.
#[derive(Clone)]
pub struct Peer {
    audience: crate::ServiceName,
    tokens: std::sync::Arc<TokenSource>,
}

impl Peer {
    pub fn new(audience: crate::ServiceName, tokens: std::sync::Arc<TokenSource>) -> Self {
        Self { audience, tokens }
    }

    /// `message` with the calling service's own token for this peer.
    pub async fn own<T>(&self, message: T) -> Result<tonic::Request<T>, tonic::Status> {
        self.tokens
            .own_request(self.audience.as_str(), message)
            .await
    }

    /// `message` with a token for this peer on behalf of the person whose session this is.
    pub async fn acting<T>(
        &self,
        session_token: &str,
        message: T,
    ) -> Result<tonic::Request<T>, tonic::Status> {
        self.tokens
            .acting_request(self.audience.as_str(), session_token, message)
            .await
    }

    /// A token for this peer on behalf of the person whose session this is (for calls that
    /// stream or build their request themselves).
    pub async fn acting_token(&self, session_token: &str) -> Result<String, tonic::Status> {
        self.tokens
            .acting_token(self.audience.as_str(), session_token)
            .await
    }
}
