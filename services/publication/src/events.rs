//! The consumer `publication.profiles`: builds the read model from events. An approval fetches
//! the public projection from `capture` and the publishable identity subset of each person from
//! `identity` (answers with publication consent only); identity answers sent or corrected after
//! the approval are fetched again at once; a substitution or cancellation withdraws the profile
//! at once and leaves its notice (`notices`); `election.updated` keeps the publication window.

use std::sync::Arc;

use chrono::Utc;
use conoceles_identity_questionnaire::Definition;
use conoceles_kit::access::{TokenSource, with_bearer};
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::capture::v1 as capture;
use conoceles_proto::capture::v1::capture_service_client::CaptureServiceClient;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::identity::v1 as identity;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use conoceles_proto::routing_keys;
use serde_json::{Value, json};
use sqlx::PgConnection;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::model::{NewProfile, upsert};

pub const CONSUMER: &str = "publication.profiles";
pub const ROUTING_KEYS: [&str; 11] = [
    routing_keys::ELECTION_UPDATED,
    routing_keys::PLACES_UPDATED,
    routing_keys::SITE_IDENTITY_UPDATED,
    routing_keys::CANDIDACY_REGISTERED,
    routing_keys::CURRICULAR_SUBMITTED,
    routing_keys::CURRICULAR_OBSERVED,
    routing_keys::CANDIDACY_APPROVED,
    routing_keys::CANDIDACY_SUBSTITUTED,
    routing_keys::CANDIDACY_CANCELLED,
    routing_keys::IDENTITY_SUBMITTED,
    routing_keys::IDENTITY_CORRECTED,
];

pub struct Profiles {
    pub capture: Channel,
    pub identity: Channel,
    pub tokens: Arc<TokenSource>,
}

fn transient(e: impl std::fmt::Display) -> HandleError {
    HandleError::Transient(anyhow::anyhow!("{e}"))
}

fn permanent(message: &str) -> HandleError {
    HandleError::Permanent(anyhow::anyhow!("{message}"))
}

fn id(value: Option<&str>) -> Result<Uuid, HandleError> {
    value
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| permanent("event without a valid id"))
}

impl Profiles {
    /// The sources as the service's configuration names them.
    pub fn from_config(config: &conoceles_kit::ServiceConfig) -> anyhow::Result<Self> {
        Ok(Self {
            capture: conoceles_kit::grpc::channel(&config.capture_url)?,
            identity: conoceles_kit::grpc::channel(&config.identity_url)?,
            tokens: TokenSource::configured(config)?,
        })
    }

    /// The publishable identity answers of the candidacy's `person` (None: its holder), as
    /// (question, answer) texts.
    async fn identity(
        &self,
        candidacy: Uuid,
        person: Option<Uuid>,
        election: Uuid,
    ) -> Result<Value, HandleError> {
        let token = self
            .tokens
            .service_token("identity")
            .await
            .map_err(transient)?;
        let mut client = IdentityServiceClient::new(self.identity.clone());
        let answers = client
            .get_publishable_answers(with_bearer(
                identity::GetPublishableAnswersRequest {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                    person_id: person.map(common::PersonId::from),
                },
                &token,
            ))
            .await;
        let answers = match answers {
            Ok(a) => a.into_inner().answers,
            // Not registered in identity (yet): nothing to publish from there.
            Err(s) if s.code() == tonic::Code::NotFound => return Ok(json!([])),
            Err(s) => return Err(transient(s)),
        };
        if answers.is_empty() {
            return Ok(json!([]));
        }
        let token = self
            .tokens
            .service_token("identity")
            .await
            .map_err(transient)?;
        let definition = client
            .get_definition(with_bearer(
                identity::GetDefinitionRequest {
                    election_id: Some(common::ElectionId::from(election)),
                },
                &token,
            ))
            .await
            .map_err(transient)?
            .into_inner();
        let definition = Definition::parse(&definition.definition_json).map_err(transient)?;
        let answers = conoceles_identity_questionnaire::wire::from_proto(answers);
        let shown: Vec<Value> = definition
            .shown(&answers, conoceles_identity_questionnaire::Reader::Public)
            .into_iter()
            .map(|(question, answer)| json!({ "question": question, "answer": answer }))
            .collect();
        Ok(Value::Array(shown))
    }

    /// A service token for calling capture.
    async fn capture_token(&self) -> Result<String, HandleError> {
        self.tokens
            .service_token("capture")
            .await
            .map_err(transient)
    }

    /// Capture's registry entry of `candidacy`, as it stands now, into the public registry.
    async fn refresh_registry(
        &self,
        tx: &mut PgConnection,
        candidacy: Uuid,
    ) -> Result<(), HandleError> {
        let token = self.capture_token().await?;
        let response = CaptureServiceClient::new(self.capture.clone())
            .get_candidacy(with_bearer(
                capture::GetCandidacyRequest {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                },
                &token,
            ))
            .await;
        match response {
            Ok(r) => {
                if let Some(c) = r.into_inner().candidacy {
                    crate::registry::upsert(tx, &c).await?;
                }
                Ok(())
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
            Err(s) => Err(transient(s)),
        }
    }

    /// The election's whole registry from capture, page by page (an election announced again:
    /// a replica that missed events, or a read model rebuilt).
    async fn rebuild_registry(
        &self,
        tx: &mut PgConnection,
        election: Uuid,
    ) -> Result<(), HandleError> {
        let mut client = CaptureServiceClient::new(self.capture.clone());
        let mut kept = Vec::new();
        let mut page_token = String::new();
        loop {
            let token = self.capture_token().await?;
            let page = client
                .list_candidacies(with_bearer(
                    capture::ListCandidaciesRequest {
                        election_id: Some(common::ElectionId::from(election)),
                        page: Some(common::PageRequest {
                            page_size: 1_000,
                            page_token: page_token.clone(),
                        }),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .map_err(transient)?
                .into_inner();
            for c in &page.candidacies {
                crate::registry::upsert(tx, c).await?;
                if let Some(id) = c
                    .dimensions
                    .as_ref()
                    .and_then(|d| d.candidacy_id.as_ref())
                    .and_then(|i| Uuid::parse_str(&i.value).ok())
                {
                    kept.push(id);
                }
            }
            page_token = page.page.map(|p| p.next_page_token).unwrap_or_default();
            if page_token.is_empty() {
                break;
            }
        }
        crate::registry::keep_only(tx, election, &kept).await?;
        Ok(())
    }

    async fn approved(
        &self,
        tx: &mut PgConnection,
        e: events::CandidacyApproved,
    ) -> Result<(), HandleError> {
        let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
        let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
        self.publish(tx, candidacy, &e.submission_id, at).await
    }

    /// Publishes the approved version `submission` of a candidacy: its public projection from
    /// `capture`, the publishable identity subset from `identity`.
    #[tracing::instrument(skip(self, tx), fields(candidacy_id = %candidacy))]
    pub async fn publish(
        &self,
        tx: &mut PgConnection,
        candidacy: Uuid,
        submission: &str,
        at: chrono::DateTime<Utc>,
    ) -> Result<(), HandleError> {
        let token = self.capture_token().await?;
        let response = CaptureServiceClient::new(self.capture.clone())
            .get_public_profile(with_bearer(
                capture::GetPublicProfileRequest {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                    submission_id: submission.to_string(),
                },
                &token,
            ))
            .await;
        let response = match response {
            Ok(r) => r.into_inner(),
            Err(s) if s.code() == tonic::Code::NotFound => {
                return Err(permanent("capture has no such submission"));
            }
            // Sent by a person substituted since: never published (the candidacy waits for
            // the new person's approved questionnaire).
            Err(s) if s.code() == tonic::Code::FailedPrecondition => {
                tracing::info!(%candidacy, "approval of a superseded submission not published");
                return Ok(());
            }
            Err(s) => return Err(transient(s)),
        };
        let profile: Value = serde_json::from_str(&response.profile_json)
            .map_err(|_| permanent("profile is not JSON"))?;
        let election = id(profile["election_id"].as_str())?;
        let submission = id(profile["submission_id"].as_str())?;
        let (identity, alternate_identity) = self.identities(candidacy, &profile, election).await?;
        upsert(
            tx,
            &NewProfile {
                candidacy,
                election,
                submission,
                content_sha256: &response.content_sha256,
                profile: &profile,
                identity: &identity,
                alternate_identity: &alternate_identity,
                at,
            },
        )
        .await
        .map_err(transient)?;
        crate::notices::clear_substitution(tx, candidacy).await?;
        Ok(())
    }

    /// The holder's and the alternate's publishable answers (the alternate's id from the
    /// published profile: the person the approved version shows).
    async fn identities(
        &self,
        candidacy: Uuid,
        profile: &Value,
        election: Uuid,
    ) -> Result<(Value, Value), HandleError> {
        let holder = self.identity(candidacy, None, election).await?;
        let alternate = profile["persons"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["role"] == "alternate")
            .and_then(|p| p["person_id"].as_str())
            .and_then(|p| Uuid::parse_str(p).ok());
        let alternate = match alternate {
            Some(person) => self.identity(candidacy, Some(person), election).await?,
            None => json!([]),
        };
        Ok((holder, alternate))
    }

    /// Identity answers sent or corrected after the approval: the published profile shows
    /// them at once (or stops showing them).
    async fn refresh_identity(
        &self,
        tx: &mut PgConnection,
        candidacy: Uuid,
        corrected: bool,
    ) -> Result<(), HandleError> {
        let row: Option<(Uuid, Value, Value, Value)> = sqlx::query_as(
            "SELECT election_id, profile, identity, alternate_identity FROM profiles \
             WHERE candidacy_id = $1 AND withdrawn_at IS NULL",
        )
        .bind(candidacy)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((election, profile, shown, shown_alternate)) = row else {
            // Not published (yet): the approval fetches the answers.
            return Ok(());
        };
        let (identity, alternate) = self.identities(candidacy, &profile, election).await?;
        // Nothing new to show (answers without publication consent, say): no write, so the
        // page caches and the open-data files stay as they are.
        if !corrected && identity == shown && alternate == shown_alternate {
            return Ok(());
        }
        let content: String = sqlx::query_scalar(
            "UPDATE profiles SET identity = $2, alternate_identity = $3, \
             corrected_at = CASE WHEN $4 THEN now() ELSE corrected_at END \
             WHERE candidacy_id = $1 RETURNING content_sha256",
        )
        .bind(candidacy)
        .bind(identity)
        .bind(alternate)
        .bind(corrected)
        .fetch_one(&mut *tx)
        .await?;
        let action = if corrected {
            "identity_corrected"
        } else {
            "identity_updated"
        };
        crate::log::append(tx, candidacy, action, &content, Utc::now()).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Handler for Profiles {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        match message.routing_key.as_str() {
            routing_keys::ELECTION_UPDATED => {
                let e: events::ElectionUpdated = message.decode()?;
                let election = id(e.election_id.as_ref().map(|x| x.value.as_str()))?;
                let publication = from_proto(e.publication_starts_at.as_ref())
                    .ok_or_else(|| permanent("no publication start"))?;
                let day = from_proto(e.election_day.as_ref())
                    .map(|d| d.date_naive())
                    .ok_or_else(|| permanent("no election day"))?;
                crate::model::upsert_election(
                    tx,
                    &crate::model::Election {
                        id: election,
                        name: e.name.clone(),
                        time_zone: e.time_zone.clone(),
                        publication_starts_at: publication,
                        election_day: day,
                        corrections_email: e.corrections_email.clone(),
                    },
                )
                .await?;
                self.rebuild_registry(tx, election).await?;
            }
            routing_keys::PLACES_UPDATED => {
                let e: events::PlacesUpdated = message.decode()?;
                let election = id(e.election_id.as_ref().map(|x| x.value.as_str()))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                crate::places::replace(tx, election, at, &e).await?;
            }
            routing_keys::SITE_IDENTITY_UPDATED => {
                let e: events::SiteIdentityUpdated = message.decode()?;
                let election = id(e.election_id.as_ref().map(|x| x.value.as_str()))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                crate::site_identity::replace(tx, election, at, &e).await?;
            }
            routing_keys::CANDIDACY_REGISTERED => {
                let e: events::CandidacyRegistered = message.decode()?;
                let candidacy = id(e
                    .dimensions
                    .as_ref()
                    .and_then(|d| d.candidacy_id.as_ref())
                    .map(|c| c.value.as_str()))?;
                self.refresh_registry(tx, candidacy).await?;
            }
            routing_keys::CURRICULAR_SUBMITTED => {
                let e: events::CurricularSubmitted = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                self.refresh_registry(tx, candidacy).await?;
            }
            routing_keys::CURRICULAR_OBSERVED => {
                let e: events::CurricularObserved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                self.refresh_registry(tx, candidacy).await?;
            }
            routing_keys::CANDIDACY_APPROVED => {
                let e: events::CandidacyApproved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                self.approved(tx, e).await?;
                self.refresh_registry(tx, candidacy).await?;
            }
            routing_keys::CANDIDACY_SUBSTITUTED => {
                let e: events::CandidacySubstituted = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                let replaced = id(e.replaced_person_id.as_ref().map(|p| p.value.as_str()))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                // An alternate who answers no questionnaire is not in the published profile:
                // it stays (the flag is absent in events of earlier versions, hence the look).
                let shown: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM profiles WHERE candidacy_id = $1 \
                     AND profile->'persons' @> jsonb_build_array(jsonb_build_object('person_id', $2::text)))",
                )
                .bind(candidacy)
                .bind(replaced.to_string())
                .fetch_one(&mut *tx)
                .await?;
                self.refresh_registry(tx, candidacy).await?;
                if e.questionnaire_restarted || shown {
                    crate::notices::record(
                        tx,
                        candidacy,
                        crate::notices::Kind::Substitution,
                        Some(&[replaced]),
                        at,
                    )
                    .await?;
                }
            }
            routing_keys::CANDIDACY_CANCELLED => {
                let e: events::CandidacyCancelled = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                crate::notices::record(tx, candidacy, crate::notices::Kind::Cancelled, None, at)
                    .await?;
                self.refresh_registry(tx, candidacy).await?;
            }
            routing_keys::IDENTITY_SUBMITTED => {
                let e: events::IdentitySubmitted = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                self.refresh_identity(tx, candidacy, false).await?;
            }
            routing_keys::IDENTITY_CORRECTED => {
                let e: events::IdentityCorrected = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                self.refresh_identity(tx, candidacy, true).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
