//! The role × route matrix, as a reusable test: every gRPC method of a service must have a rule,
//! and every kind of caller (anonymous, each service on its own, each service acting for each
//! role) is admitted or refused by the running server exactly as the policy says.

use std::net::SocketAddr;
use std::str::FromStr;

use prost::Message;

use super::token::{Claims, ISSUER, TokenSigner};
use super::{Actor, Caller, DENIED_MARKER, Policy, Role};
use crate::config::ServiceName;

/// The gRPC paths of every method of every service in `package` (e.g. `conoceles.auth.v1`).
pub fn grpc_methods(package: &str) -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(conoceles_proto::FILE_DESCRIPTOR_SET)
        .expect("embedded descriptor set");
    let mut methods = Vec::new();
    for file in set.file.iter().filter(|f| f.package() == package) {
        for service in &file.service {
            for method in &service.method {
                methods.push(format!("/{package}.{}/{}", service.name(), method.name()));
            }
        }
    }
    methods.sort();
    methods
}

/// Every caller kind the matrix tries.
pub fn callers() -> Vec<Caller> {
    let mut callers = vec![Caller::ANONYMOUS];
    for service in ServiceName::ALL {
        callers.push(Caller {
            service: Some(service.as_str().into()),
            actor: None,
        });
        for role in Role::ALL {
            callers.push(Caller {
                service: Some(service.as_str().into()),
                actor: Some(Actor {
                    account_id: uuid::Uuid::nil(),
                    role,
                    party_id: None,
                    candidacy_id: None,
                }),
            });
        }
    }
    callers
}

/// A token for `caller` addressed to `audience`.
pub fn token_for(signer: &TokenSigner, caller: &Caller, audience: &str) -> Option<String> {
    let service = caller.service.clone()?;
    let now = chrono::Utc::now().timestamp();
    Some(signer.sign(&Claims {
        iss: ISSUER.into(),
        sub: service,
        aud: audience.into(),
        iat: now,
        exp: now + 60,
        jti: uuid::Uuid::new_v4().to_string(),
        act: caller.actor.clone(),
    }))
}

/// Checks declarations, then calls every method as every caller against the server at `addr`.
/// Panics with the full list of mismatches.
pub async fn assert_grpc_matrix(
    addr: SocketAddr,
    policy: &Policy,
    package: &str,
    signer: &TokenSigner,
    audience: &str,
) {
    let methods = grpc_methods(package);
    assert!(!methods.is_empty(), "no gRPC methods in package {package}");
    let undeclared: Vec<&String> = methods
        .iter()
        .filter(|m| policy.rule(m).is_none())
        .collect();
    assert!(
        undeclared.is_empty(),
        "gRPC methods without an access rule: {undeclared:?}"
    );
    let stale: Vec<&str> = policy
        .routes()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with('/') && !methods.iter().any(|m| m == k))
        .collect();
    assert!(
        stale.is_empty(),
        "rules for methods that do not exist: {stale:?}"
    );

    let channel = crate::grpc::channel(&format!("http://{addr}")).expect("channel");
    let mut mismatches = Vec::new();
    for method in &methods {
        let rule = policy.rule(method).expect("declared");
        for caller in callers() {
            let expected_admitted = rule.admits(&caller);
            let denied = call_denied(
                channel.clone(),
                method,
                token_for(signer, &caller, audience),
            )
            .await;
            if denied == expected_admitted {
                mismatches.push(format!(
                    "{method} as {:?}/{:?}: expected {}, got {}",
                    caller.service,
                    caller.role(),
                    if expected_admitted {
                        "admitted"
                    } else {
                        "refused"
                    },
                    if denied { "refused" } else { "admitted" },
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} access mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Calls `method` with an empty request; true if the access layer refused it.
async fn call_denied(
    channel: tonic::transport::Channel,
    method: &str,
    token: Option<String>,
) -> bool {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let mut request = tonic::Request::new(());
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii token"),
        );
    }
    let path = http::uri::PathAndQuery::from_str(method).expect("path");
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(request, path, codec).await {
        Ok(_) => false,
        Err(status) => status.metadata().get(DENIED_MARKER).is_some(),
    }
}
