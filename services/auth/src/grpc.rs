//! `conoceles.auth.v1.AuthService`.

use chrono::{DateTime, Utc};
use conoceles_kit::ServiceName;
use conoceles_kit::access::layer::caller_of;
use conoceles_kit::access::token::{Claims, ISSUER};
use conoceles_kit::access::{Actor, Role};
use conoceles_kit::error::{AppError, ErrorCode, FieldViolation};
use conoceles_kit::proto_time::to_proto as timestamp;
use conoceles_proto::auth::v1 as pb;
use conoceles_proto::auth::v1::auth_service_server::AuthService;
use conoceles_proto::common::v1 as common;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::accounts::{Accounts, LoginError};
use crate::domain::{Email, Password, PasswordError};
use crate::generated;
use crate::limiter::LimitError;
use crate::store::{self, Account};

pub struct AuthApi {
    pub accounts: Accounts,
}

pub fn account_message(account: &Account) -> pb::Account {
    pb::Account {
        id: Some(common::AccountId::from(account.id)),
        email: account.email.clone(),
        role: account.role.to_proto() as i32,
        scope: Some(pb::Scope {
            party_id: account.party_id.map(common::PartyId::from),
            candidacy_id: account.candidacy_id.map(common::CandidacyId::from),
        }),
        locked: account.locked_at.is_some(),
        must_change_password: account.must_change_password,
        created_at: Some(timestamp(account.created_at)),
    }
}

fn invalid(field: &str, reason: &str, message: impl Into<String>) -> Status {
    AppError::invalid(vec![FieldViolation::new(field, reason, message)]).into()
}

fn parse_uuid(field: &str, value: Option<&str>) -> Result<Uuid, Status> {
    value
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| invalid(field, "invalid_format", "El identificador no es válido."))
}

fn account_id(id: Option<&common::AccountId>) -> Result<Uuid, Status> {
    parse_uuid("account_id", id.map(|a| a.value.as_str()))
}

fn optional_uuid(value: Option<&str>) -> Option<Uuid> {
    value
        .filter(|v| !v.is_empty())
        .and_then(|v| Uuid::parse_str(v).ok())
}

/// Role and scope from a request, checked against each other.
fn role_and_scope(
    role: i32,
    scope: Option<&pb::Scope>,
) -> Result<(Role, Option<Uuid>, Option<Uuid>), Status> {
    let role =
        Role::from_proto(role).ok_or_else(|| invalid("role", "required", "Elija un rol."))?;
    let party_id = optional_uuid(
        scope
            .and_then(|s| s.party_id.as_ref())
            .map(|p| p.value.as_str()),
    );
    let candidacy_id = optional_uuid(
        scope
            .and_then(|s| s.candidacy_id.as_ref())
            .map(|c| c.value.as_str()),
    );
    match role {
        Role::Party if party_id.is_none() => {
            return Err(invalid(
                "scope.party_id",
                "required",
                "Una cuenta de partido necesita su partido.",
            ));
        }
        Role::Candidate if candidacy_id.is_none() => {
            return Err(invalid(
                "scope.candidacy_id",
                "required",
                "Una cuenta de persona candidata necesita su candidatura.",
            ));
        }
        _ => {}
    }
    // Scopes only where they mean something.
    let party_id = matches!(role, Role::Party | Role::Candidate)
        .then_some(party_id)
        .flatten();
    let candidacy_id = (role == Role::Candidate).then_some(candidacy_id).flatten();
    Ok((role, party_id, candidacy_id))
}

fn actor_id<T>(request: &Request<T>) -> Option<Uuid> {
    caller_of(request).actor.map(|a| a.account_id)
}

#[tonic::async_trait]
impl AuthService for AuthApi {
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let req = request.into_inner();
        let email = Email::parse(&req.email).map_err(|m| invalid("email", "invalid_format", m))?;
        let address = if req.client_address.is_empty() {
            "unknown"
        } else {
            req.client_address.as_str()
        };
        match self.accounts.login(&email, &req.password, address).await {
            Ok((session, account)) => Ok(Response::new(pb::LoginResponse {
                session_token: session.token,
                account: Some(account_message(&account)),
                expires_at: Some(timestamp(session.session.expires_at)),
            })),
            Err(LoginError::Limited(LimitError::Blocked {
                retry_after_seconds,
            })) => {
                let minutes = retry_after_seconds.div_ceil(60);
                let mut status: Status = AppError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "Demasiados intentos fallidos. Intente de nuevo en {minutes} minuto{}.",
                        if minutes == 1 { "" } else { "s" }
                    ),
                )
                .into();
                status.metadata_mut().insert(
                    "retry-after",
                    retry_after_seconds.to_string().parse().expect("ascii"),
                );
                Err(status)
            }
            Err(LoginError::BadCredentials) => Err(AppError::new(
                ErrorCode::Unauthenticated,
                "Correo o contraseña incorrectos.",
            )
            .into()),
            Err(LoginError::Locked) => Err(AppError::new(
                ErrorCode::PermissionDenied,
                "Su cuenta está bloqueada. Comuníquese con la Unidad Técnica de Transparencia.",
            )
            .into()),
            Err(LoginError::Internal(e)) => Err(AppError::Unexpected(e).into()),
        }
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        let req = request.into_inner();
        self.accounts
            .logout(&req.session_token)
            .await
            .map_err(AppError::Unexpected)?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn resolve_session(
        &self,
        request: Request<pb::ResolveSessionRequest>,
    ) -> Result<Response<pb::ResolveSessionResponse>, Status> {
        let req = request.into_inner();
        match self
            .accounts
            .resolve(&req.session_token)
            .await
            .map_err(AppError::Unexpected)?
        {
            Some((session, account)) => Ok(Response::new(pb::ResolveSessionResponse {
                account: Some(account_message(&account)),
                csrf_token: session.csrf_token,
            })),
            None => Err(AppError::new(
                ErrorCode::Unauthenticated,
                "Su sesión terminó. Inicie sesión de nuevo.",
            )
            .into()),
        }
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Result<Response<pb::ChangePasswordResponse>, Status> {
        let req = request.into_inner();
        // The account's own email is the first thing an attacker tries.
        let email = match self.accounts.resolve(&req.session_token).await {
            Ok(Some((_, account))) => account.email.as_str().to_string(),
            _ => String::new(),
        };
        let new_password = Password::parse(&req.new_password, &[email.as_str()]).map_err(|e| {
            let reason = match e {
                PasswordError::Guessable => "guessable",
                _ => "invalid_length",
            };
            invalid("new_password", reason, e.to_string())
        })?;
        let session = self
            .accounts
            .change_password(&req.session_token, &req.current_password, &new_password)
            .await?;
        Ok(Response::new(pb::ChangePasswordResponse {
            session_token: session.token,
            expires_at: Some(timestamp(session.session.expires_at)),
        }))
    }

    async fn create_account(
        &self,
        request: Request<pb::CreateAccountRequest>,
    ) -> Result<Response<pb::CreateAccountResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let email = Email::parse(&req.email).map_err(|m| invalid("email", "invalid_format", m))?;
        let (role, party_id, candidacy_id) = role_and_scope(req.role, req.scope.as_ref())?;
        let (account, password) = self
            .accounts
            .create(actor, &email, role, party_id, candidacy_id, None)
            .await?;
        Ok(Response::new(pb::CreateAccountResponse {
            account: Some(account_message(&account)),
            initial_password: password.expose().to_string(),
        }))
    }

    async fn lock_account(
        &self,
        request: Request<pb::LockAccountRequest>,
    ) -> Result<Response<pb::LockAccountResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let id = account_id(req.account_id.as_ref())?;
        let reason = if req.reason.trim().is_empty() {
            "bloqueo administrativo"
        } else {
            req.reason.trim()
        };
        self.accounts.lock(actor, id, reason).await?;
        Ok(Response::new(pb::LockAccountResponse {}))
    }

    async fn unlock_account(
        &self,
        request: Request<pb::UnlockAccountRequest>,
    ) -> Result<Response<pb::UnlockAccountResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let id = account_id(req.account_id.as_ref())?;
        self.accounts.unlock(actor, id).await?;
        Ok(Response::new(pb::UnlockAccountResponse {}))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let req = request.into_inner();
        let role = Role::from_proto(req.role);
        let page = req.page.unwrap_or_default();
        let limit = page.page_size.clamp(1, 200) as i64;
        let limit = if page.page_size == 0 { 100 } else { limit };
        let accounts = store::list(
            &self.accounts.pool,
            role,
            &req.email_contains,
            &page.page_token,
            limit,
        )
        .await
        .map_err(AppError::from)?;
        let total = store::count(&self.accounts.pool, role, &req.email_contains)
            .await
            .map_err(AppError::from)?;
        let next = if accounts.len() as i64 == limit {
            accounts.last().map(|a| a.email.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListAccountsResponse {
            accounts: accounts.iter().map(account_message).collect(),
            page: Some(common::PageInfo {
                next_page_token: next,
                total_size: total as u64,
            }),
        }))
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Result<Response<pb::ResetPasswordResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let id = account_id(req.account_id.as_ref())?;
        let password = self.accounts.reset_password(actor, id).await?;
        Ok(Response::new(pb::ResetPasswordResponse {
            new_password: password.expose().to_string(),
        }))
    }

    async fn change_role(
        &self,
        request: Request<pb::ChangeRoleRequest>,
    ) -> Result<Response<pb::ChangeRoleResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let id = account_id(req.account_id.as_ref())?;
        let (role, party_id, candidacy_id) = role_and_scope(req.role, req.scope.as_ref())?;
        let account = self
            .accounts
            .change_role(actor, id, role, party_id, candidacy_id)
            .await?;
        Ok(Response::new(pb::ChangeRoleResponse {
            account: Some(account_message(&account)),
        }))
    }

    async fn list_generated_accounts(
        &self,
        request: Request<pb::ListGeneratedAccountsRequest>,
    ) -> Result<Response<pb::ListGeneratedAccountsResponse>, Status> {
        let req = request.into_inner();
        let party = optional_uuid(req.party_id.as_ref().map(|p| p.value.as_str()));
        let now = self.accounts.clock.now();
        let accounts = generated::list(&self.accounts.pool, party)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .filter(|g| !req.only_late || g.late(now))
            .map(|g| generated_message(&g, now))
            .collect();
        Ok(Response::new(pb::ListGeneratedAccountsResponse {
            accounts,
        }))
    }

    async fn issue_credential_sheet(
        &self,
        request: Request<pb::IssueCredentialSheetRequest>,
    ) -> Result<Response<pb::IssueCredentialSheetResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let party = parse_uuid("party_id", req.party_id.as_ref().map(|p| p.value.as_str()))?;
        let issued = generated::issue_sheet(
            &self.accounts.pool,
            &self.accounts.hasher,
            &self.accounts.clock,
            actor,
            party,
        )
        .await
        .map_err(AppError::Unexpected)?;
        // New passwords: whoever signed in with the earlier ones (a lost sheet) is signed out.
        for (generated, _) in &issued {
            self.accounts
                .sessions
                .revoke_all(generated.account.id)
                .await
                .map_err(AppError::Unexpected)?;
        }
        let now = self.accounts.clock.now();
        Ok(Response::new(pb::IssueCredentialSheetResponse {
            credentials: issued
                .into_iter()
                .map(|(g, password)| pb::Credential {
                    account: Some(generated_message(&g, now)),
                    password: password.expose().to_string(),
                })
                .collect(),
            issued_at: Some(timestamp(now)),
        }))
    }

    async fn mark_credentials_delivered(
        &self,
        request: Request<pb::MarkCredentialsDeliveredRequest>,
    ) -> Result<Response<pb::MarkCredentialsDeliveredResponse>, Status> {
        let actor = actor_id(&request);
        let req = request.into_inner();
        let party = parse_uuid("party_id", req.party_id.as_ref().map(|p| p.value.as_str()))?;
        let marked =
            generated::mark_delivered(&self.accounts.pool, &self.accounts.clock, actor, party)
                .await
                .map_err(AppError::from)?;
        Ok(Response::new(pb::MarkCredentialsDeliveredResponse {
            marked: marked as u32,
        }))
    }

    async fn mint_service_token(
        &self,
        request: Request<pb::MintServiceTokenRequest>,
    ) -> Result<Response<pb::MintServiceTokenResponse>, Status> {
        let req = request.into_inner();
        let preview = req.audience == conoceles_kit::access::token::PREVIEW_AUDIENCE;
        if !preview && !ServiceName::ALL.iter().any(|s| s.as_str() == req.audience) {
            return Err(invalid(
                "audience",
                "unknown_service",
                "Servicio desconocido.",
            ));
        }
        if !self
            .accounts
            .settings
            .service_secret_matches(&req.service, &req.secret)
        {
            tracing::warn!(service = %req.service, "service token refused: bad service credentials");
            return Err(AppError::new(
                ErrorCode::Unauthenticated,
                "Credenciales de servicio inválidas.",
            )
            .into());
        }
        let actor = if req.session_token.is_empty() {
            None
        } else {
            let (_, account) = self
                .accounts
                .resolve(&req.session_token)
                .await
                .map_err(AppError::Unexpected)?
                .ok_or_else(|| {
                    Status::from(AppError::new(
                        ErrorCode::Unauthenticated,
                        "Su sesión terminó. Inicie sesión de nuevo.",
                    ))
                })?;
            Some(Actor {
                account_id: account.id,
                role: account.role,
                party_id: account.party_id,
                candidacy_id: account.candidacy_id,
            })
        };
        // Tokens are checked against the wall clock of other processes, not the session clock.
        let now = Utc::now();
        let expires = now + self.accounts.settings.service_token_lifetime;
        let token = self.accounts.settings.signer.sign(&Claims {
            iss: ISSUER.into(),
            sub: req.service,
            aud: req.audience,
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: Uuid::new_v4().to_string(),
            act: actor,
        });
        Ok(Response::new(pb::MintServiceTokenResponse {
            token,
            expires_at: Some(timestamp(expires)),
        }))
    }

    async fn get_verification_keys(
        &self,
        _request: Request<pb::GetVerificationKeysRequest>,
    ) -> Result<Response<pb::GetVerificationKeysResponse>, Status> {
        let signer = &self.accounts.settings.signer;
        Ok(Response::new(pb::GetVerificationKeysResponse {
            keys: vec![pb::VerificationKey {
                key_id: signer.key_id().to_string(),
                ed25519_public_key: signer.verifying_key().to_bytes().to_vec(),
            }],
        }))
    }
}

fn generated_message(g: &generated::Generated, now: DateTime<Utc>) -> pb::GeneratedAccount {
    pb::GeneratedAccount {
        account: Some(account_message(&g.account)),
        kind: g.kind.clone(),
        party_id: Some(common::PartyId::from(g.party_id)),
        candidacy_id: g.candidacy_id.map(common::CandidacyId::from),
        label: g.label.clone(),
        approved_at: Some(timestamp(g.approved_at)),
        sheet_issued_at: g.sheet_issued_at.map(timestamp),
        delivered_at: g.delivered_at.map(timestamp),
        late: g.late(now),
        deadline: Some(timestamp(g.deadline())),
    }
}
