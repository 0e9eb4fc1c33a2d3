//! The capture front's calls to `auth`: on its own behalf (login, sessions) or on behalf of the
//! logged-in person (account administration), always with a service token.

use std::sync::Arc;

use conoceles_kit::ServiceName;
use conoceles_kit::access::{Peer, TokenSource};
use conoceles_proto::auth::v1 as pb;
use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct AuthClient {
    client: AuthServiceClient<Channel>,
    peer: Peer,
}

impl AuthClient {
    pub fn new(channel: Channel, tokens: Arc<TokenSource>) -> Self {
        Self {
            client: AuthServiceClient::new(channel),
            peer: Peer::new(ServiceName::Auth, tokens),
        }
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        address: &str,
    ) -> Result<pb::LoginResponse, tonic::Status> {
        let request = self
            .peer
            .own(pb::LoginRequest {
                email: email.into(),
                password: password.into(),
                client_address: address.into(),
            })
            .await?;
        Ok(self.client.clone().login(request).await?.into_inner())
    }

    pub async fn logout(&self, session: &str) -> Result<(), tonic::Status> {
        let request = self
            .peer
            .own(pb::LogoutRequest {
                session_token: session.into(),
            })
            .await?;
        self.client.clone().logout(request).await?;
        Ok(())
    }

    pub async fn resolve(
        &self,
        session: &str,
    ) -> Result<pb::ResolveSessionResponse, tonic::Status> {
        let request = self
            .peer
            .own(pb::ResolveSessionRequest {
                session_token: session.into(),
            })
            .await?;
        Ok(self
            .client
            .clone()
            .resolve_session(request)
            .await?
            .into_inner())
    }

    pub async fn change_password(
        &self,
        session: &str,
        current: &str,
        new: &str,
    ) -> Result<pb::ChangePasswordResponse, tonic::Status> {
        let request = self
            .peer
            .own(pb::ChangePasswordRequest {
                session_token: session.into(),
                current_password: current.into(),
                new_password: new.into(),
            })
            .await?;
        Ok(self
            .client
            .clone()
            .change_password(request)
            .await?
            .into_inner())
    }

    /// A page of 50 accounts after `page_token`, of `role` (0: any) whose address contains
    /// `email_contains`.
    pub async fn list_accounts(
        &self,
        session: &str,
        page_token: &str,
        role: i32,
        email_contains: &str,
    ) -> Result<pb::ListAccountsResponse, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ListAccountsRequest {
                    page: Some(conoceles_proto::common::v1::PageRequest {
                        page_size: 50,
                        page_token: page_token.into(),
                    }),
                    role,
                    email_contains: email_contains.into(),
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .list_accounts(request)
            .await?
            .into_inner())
    }

    pub async fn create_account(
        &self,
        session: &str,
        message: pb::CreateAccountRequest,
    ) -> Result<pb::CreateAccountResponse, tonic::Status> {
        let request = self.peer.acting(session, message).await?;
        Ok(self
            .client
            .clone()
            .create_account(request)
            .await?
            .into_inner())
    }

    pub async fn lock(
        &self,
        session: &str,
        account_id: &str,
        lock: bool,
    ) -> Result<(), tonic::Status> {
        let id = Some(conoceles_proto::common::v1::AccountId {
            value: account_id.into(),
        });
        if lock {
            let request = self
                .peer
                .acting(
                    session,
                    pb::LockAccountRequest {
                        account_id: id,
                        reason: "bloqueada desde el panel de cuentas".into(),
                    },
                )
                .await?;
            self.client.clone().lock_account(request).await?;
        } else {
            let request = self
                .peer
                .acting(session, pb::UnlockAccountRequest { account_id: id })
                .await?;
            self.client.clone().unlock_account(request).await?;
        }
        Ok(())
    }

    pub async fn reset_password(
        &self,
        session: &str,
        account_id: &str,
    ) -> Result<String, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ResetPasswordRequest {
                    account_id: Some(conoceles_proto::common::v1::AccountId {
                        value: account_id.into(),
                    }),
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .reset_password(request)
            .await?
            .into_inner()
            .new_password)
    }

    pub async fn change_role(
        &self,
        session: &str,
        message: pb::ChangeRoleRequest,
    ) -> Result<pb::ChangeRoleResponse, tonic::Status> {
        let request = self.peer.acting(session, message).await?;
        Ok(self.client.clone().change_role(request).await?.into_inner())
    }

    pub async fn generated_accounts(
        &self,
        session: &str,
        only_late: bool,
    ) -> Result<Vec<pb::GeneratedAccount>, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ListGeneratedAccountsRequest {
                    party_id: None,
                    only_late,
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .list_generated_accounts(request)
            .await?
            .into_inner()
            .accounts)
    }

    pub async fn issue_sheet(
        &self,
        session: &str,
        party_id: &str,
    ) -> Result<pb::IssueCredentialSheetResponse, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::IssueCredentialSheetRequest {
                    party_id: Some(conoceles_proto::common::v1::PartyId {
                        value: party_id.into(),
                    }),
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .issue_credential_sheet(request)
            .await?
            .into_inner())
    }

    pub async fn mark_delivered(
        &self,
        session: &str,
        party_id: &str,
    ) -> Result<u32, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::MarkCredentialsDeliveredRequest {
                    party_id: Some(conoceles_proto::common::v1::PartyId {
                        value: party_id.into(),
                    }),
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .mark_credentials_delivered(request)
            .await?
            .into_inner()
            .marked)
    }
}
