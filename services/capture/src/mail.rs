//! The mail worker: the SMTP side of `domain::mail`. Every few seconds it queues the deadline
//! reminders that are due, resolves each queued message into its deliveries (the party's
//! registered addresses, the candidacy's private email) and sends the deliveries that are due
//! over SMTP (`lettre`), recording the server's reply or the error and the next attempt. With no
//! `SMTP_URL` configured, messages are resolved and wait; nothing is dropped.

use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use conoceles_kit::ServiceConfig;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::mail::{self, Kind, reminders};

/// How often the worker looks for work.
const POLL: Duration = Duration::from_secs(2);
/// How often it looks for deadlines drawing near.
const REMINDER_EVERY: Duration = Duration::from_secs(60);
/// Deliveries sent per transaction.
const BATCH: i64 = 20;

/// The SMTP connection settings and the sender.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_config(config: &ServiceConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .with_context(|| format!("MAIL_FROM is not a mailbox: {:?}", config.mail_from))?;
        let transport = match &config.smtp_url {
            None => None,
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("SMTP_URL")?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
        };
        Ok(Self { transport, from })
    }

    /// Sends one message; the server's reply, or why it was not accepted.
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, String> {
        let Some(transport) = &self.transport else {
            return Err("no mail server configured (SMTP_URL)".into());
        };
        let to: Mailbox = to.parse().map_err(|e| format!("invalid address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| format!("message not built: {e}"))?;
        match transport.send(message).await {
            Ok(reply) => Ok(format!(
                "{} {}",
                reply.code(),
                reply.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    fn configured(&self) -> bool {
        self.transport.is_some()
    }
}

/// Runs until `token` is cancelled.
pub async fn run(pool: PgPool, mailer: Mailer, link: String, token: CancellationToken) {
    let mut reminded_at: Option<tokio::time::Instant> = None;
    loop {
        if reminded_at.is_none_or(|at| at.elapsed() >= REMINDER_EVERY) {
            match reminders::queue_due(&pool, Utc::now(), &link).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(queued = n, "deadline reminders queued"),
                Err(e) => tracing::warn!(error = %e, "queuing deadline reminders failed"),
            }
            reminded_at = Some(tokio::time::Instant::now());
        }
        if let Err(e) = expand(&pool).await {
            tracing::warn!(error = %e, "resolving mail recipients failed");
        }
        if mailer.configured()
            && let Err(e) = send_due(&pool, &mailer).await
        {
            tracing::warn!(error = %e, "sending mail failed");
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Resolves the queued messages into deliveries.
async fn expand(pool: &PgPool) -> anyhow::Result<()> {
    for message in mail::unexpanded(pool, 100).await? {
        let kind = message.kind();
        let mut addresses = Vec::new();
        if let Some(party) = message.party_id {
            addresses.extend(mail::party_addresses(pool, party, kind).await?);
        }
        if let Some(candidacy) = message.candidacy_id
            && let Some(address) = mail::candidate_address(pool, candidacy, kind).await?
        {
            addresses.push(address);
        }
        mail::expand(pool, message.id, &addresses, Utc::now()).await?;
        tracing::info!(
            mail_id = %message.id,
            kind = kind.code(),
            recipients = addresses.len(),
            "mail resolved"
        );
        if addresses.is_empty() && kind == Kind::Requirement {
            tracing::warn!(mail_id = %message.id, "a requirement has no address to go to");
        }
    }
    Ok(())
}

/// Sends the deliveries due now, a batch per transaction, until none is due.
async fn send_due(pool: &PgPool, mailer: &Mailer) -> anyhow::Result<()> {
    loop {
        let mut tx = pool.begin().await?;
        let due = mail::claim_due(&mut tx, Utc::now(), BATCH).await?;
        if due.is_empty() {
            return Ok(());
        }
        let mut failures = 0;
        for delivery in &due {
            match mailer
                .send(&delivery.address, &delivery.subject, &delivery.body)
                .await
            {
                Ok(reply) => {
                    mail::sent(&mut tx, delivery.id, &reply, Utc::now()).await?;
                    tracing::info!(delivery_id = %delivery.id, "mail delivered to the server");
                }
                Err(error) => {
                    failures += 1;
                    mail::failed(&mut tx, delivery, &error, Utc::now()).await?;
                    tracing::warn!(delivery_id = %delivery.id, attempts = delivery.attempts + 1, %error, "mail not accepted; retried later");
                }
            }
        }
        tx.commit().await?;
        if failures == due.len() {
            // The server refuses everything now: the retries are scheduled; stop this round.
            return Ok(());
        }
    }
}
