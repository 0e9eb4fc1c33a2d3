//! Differentially private releases and the privacy-loss ledger (docs/identity.md,
//! "Differential privacy"). A release measures every question family at once as of now, spends
//! the election's ρ per release (refused when it would pass the budget), keeps each family's
//! draw sealed, publishes the fitted tables as snapshots and writes a line of the ledger,
//! hash-chained to the one before — all in one transaction.

use std::collections::BTreeSet;

use chrono::{DateTime, SubsecRound, Utc};
use conoceles_kit::access::Caller;
use conoceles_kit::error::{AppError, ErrorCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use crate::aggregates::{Shown, counted_persons, dimensions};
use crate::crypto::{DataKey, WrappedKey};
use crate::definition::{Definition, Kind};
use crate::dp::family::{self, Measurements, Parameters, Public, Value};
use crate::dp::noise;
use crate::protection::{self, Privacy, Protection};
use crate::release::{Dimension, Person};
use crate::store::{Identity, audit};

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub sequence: u32,
    pub release: Uuid,
    pub released_at: DateTime<Utc>,
    pub cut_off: DateTime<Utc>,
    pub families: Vec<String>,
    pub rho: f64,
    pub rho_total: f64,
    pub rho_budget: f64,
    pub delta: f64,
    pub epsilon_total: f64,
    pub noise_scale: f64,
    pub decision_scale: f64,
    pub detail_threshold: i64,
    pub hash: String,
}

/// What is sealed for each family: its draw and the public facts it was fitted to.
#[derive(Debug, Serialize, Deserialize)]
struct Draw {
    measurements: Measurements,
    overall: Vec<i64>,
    by_group: Vec<Vec<Vec<i64>>>,
    dimensions: Vec<(String, Vec<(String, u64)>)>,
}

fn aad(family: &str) -> String {
    format!("__private.{family}")
}

/// The root of every family with a table: every single-choice question without a condition.
pub fn families(definition: &Definition) -> Vec<String> {
    let mut roots = BTreeSet::new();
    for q in definition
        .questions
        .iter()
        .filter(|q| q.kind == Kind::Single)
    {
        if let Some(root) = crate::release::family(definition, &q.id).first() {
            roots.insert(root.id.clone());
        }
    }
    definition
        .questions
        .iter()
        .filter(|q| roots.contains(&q.id))
        .map(|q| q.id.clone())
        .collect()
}

fn line_hash(e: &Entry, prev: &str) -> String {
    let text = format!(
        "{}|{}|{}|{}|{}|{:e}|{:e}|{:e}|{:e}|{:e}|{:e}|{:e}|{}|{}",
        e.sequence,
        e.release,
        e.released_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.cut_off
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.families.join(","),
        e.rho,
        e.rho_total,
        e.rho_budget,
        e.delta,
        e.epsilon_total,
        e.noise_scale,
        e.decision_scale,
        e.detail_threshold,
        prev
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Spanish number with two decimals and a decimal point (as the site writes ρ).
fn two(v: f64) -> String {
    format!("{v:.2}")
}

struct Drawn {
    family: String,
    measurements: Measurements,
    public: Public,
    values: Vec<Value>,
}

/// Measures and fits every family (CPU only; OpenDP's measurements stay on this thread).
fn draw_all(
    definition: &Definition,
    families: &[String],
    dimensions: &[Dimension],
    persons: &[Person],
    parameters: Parameters,
) -> Result<Vec<Drawn>, AppError> {
    let mut out = Vec::new();
    for f in families {
        let (measurements, public) =
            family::measure(definition, f, dimensions, persons, parameters)
                .map_err(anyhow::Error::from)?;
        let values = family::publish(definition, f, dimensions, &public, &measurements)
            .map_err(anyhow::Error::from)?;
        out.push(Drawn {
            family: f.clone(),
            measurements,
            public,
            values,
        });
    }
    Ok(out)
}

fn shown(values: &[Value]) -> Vec<Shown> {
    values
        .iter()
        .map(|v| Shown {
            dimension: v.dimension.clone(),
            question: v.question.clone(),
            option: v.option.clone(),
            group: v.group.clone(),
            count: v.count,
            half_width: (v.half_width * 100.0).round() / 100.0,
            coarsened: v.coarsened,
        })
        .collect()
}

fn entry_of(r: &sqlx::postgres::PgRow) -> Entry {
    Entry {
        sequence: r.get::<i32, _>("seq").max(0) as u32,
        release: r.get("release_id"),
        released_at: r.get("released_at"),
        cut_off: r.get("cut_off"),
        families: r.get("families"),
        rho: r.get("rho"),
        rho_total: r.get("rho_total"),
        rho_budget: r.get("rho_budget"),
        delta: r.get("delta"),
        epsilon_total: r.get("epsilon_total"),
        noise_scale: r.get("noise_scale"),
        decision_scale: r.get("decision_scale"),
        detail_threshold: i64::from(r.get::<i32, _>("detail_threshold")),
        hash: r.get("hash"),
    }
}

impl Identity {
    /// The election's privacy-loss ledger, oldest first.
    pub async fn ledger(&self, election: Uuid) -> Result<Vec<Entry>, AppError> {
        let rows = sqlx::query("SELECT * FROM privacy_ledger WHERE election_id = $1 ORDER BY seq")
            .bind(election)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(entry_of).collect())
    }

    /// One ledger line by its release.
    pub async fn ledger_entry(&self, release: Uuid) -> Result<Option<Entry>, AppError> {
        let row = sqlx::query("SELECT * FROM privacy_ledger WHERE release_id = $1")
            .bind(release)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(entry_of))
    }

    /// Releases every identity table of the election under differential privacy, as of now.
    pub async fn create_private_release(
        &self,
        caller: &Caller,
        election: Uuid,
    ) -> Result<Entry, AppError> {
        let Protection::DifferentialPrivacy(privacy) = Protection::of(&self.pool, election).await?
        else {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                "Esta elección protege sus estadísticas de identidad con supresión de celdas: se publican al consultarlas, sin crear una publicación.",
            ));
        };
        let (_, definition) = self.definition(election).await?;
        let families = families(&definition);
        if families.is_empty() {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                "El cuestionario de esta elección no tiene preguntas de opción única: no hay tablas que publicar.",
            ));
        }
        // Microseconds: what the database keeps (and the ledger's hash covers).
        let cut_off = Utc::now().trunc_subsecs(6);
        let dimensions = dimensions(&self.pool, election).await?;

        let mut tx = self.pool.begin().await?;
        // One release at a time per election (the population and the ledger are shared).
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(election.to_string())
            .execute(&mut *tx)
            .await?;
        let last = sqlx::query(
            "SELECT seq, rho_total, hash FROM privacy_ledger WHERE election_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(election)
        .fetch_optional(&mut *tx)
        .await?;
        let (sequence, spent, prev) = match &last {
            Some(r) => (
                r.get::<i32, _>("seq") as u32 + 1,
                r.get::<f64, _>("rho_total"),
                r.get::<String, _>("hash"),
            ),
            None => (1, 0.0, "0".repeat(64)),
        };
        let Privacy {
            rho_budget,
            rho_per_release,
            delta,
            detail_threshold,
        } = privacy;
        if spent + rho_per_release > rho_budget * (1.0 + 1e-9) {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                format!(
                    "Esta publicación gastaría ρ = {} y el presupuesto de privacidad de la elección (ρ = {}) ya tiene gastado {}: quedan {}. No se publica nada.",
                    two(rho_per_release),
                    two(rho_budget),
                    two(spent),
                    two((rho_budget - spent).max(0.0))
                ),
            ));
        }
        let questions: Vec<String> = definition
            .questions
            .iter()
            .filter(|q| q.kind == Kind::Single)
            .map(|q| q.id.clone())
            .collect();
        let persons = counted_persons(&mut tx, &self.keys, election, &questions, cut_off).await?;
        let parameters = Parameters {
            rho: rho_per_release / families.len().max(1) as f64,
            detail_threshold,
        };
        let drawn = {
            let (definition, families, dimensions) =
                (definition.clone(), families.clone(), dimensions.clone());
            tokio::task::spawn_blocking(move || {
                draw_all(&definition, &families, &dimensions, &persons, parameters)
            })
            .await
            .map_err(anyhow::Error::from)??
        };
        let rho: f64 = drawn.iter().map(|d| d.measurements.rho).sum();
        let rho_total = spent + rho;
        let epsilon_total = noise::epsilon(rho_total, delta).map_err(anyhow::Error::from)?;
        let (noise_scale, decision_scale) = drawn.first().map_or((0.0, 0.0), |d| {
            (
                d.measurements.stage_two_scale,
                d.measurements.stage_one_scale,
            )
        });
        let mut entry = Entry {
            sequence,
            release: Uuid::new_v4(),
            released_at: Utc::now().trunc_subsecs(6),
            cut_off,
            families: families.clone(),
            rho,
            rho_total,
            rho_budget,
            delta,
            epsilon_total,
            noise_scale,
            decision_scale,
            detail_threshold,
            hash: String::new(),
        };
        entry.hash = line_hash(&entry, &prev);
        sqlx::query(
            "INSERT INTO privacy_ledger (election_id, seq, release_id, released_at, cut_off, families, rho, rho_total, \
                 rho_budget, delta, epsilon_total, noise_scale, decision_scale, detail_threshold, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(election)
        .bind(entry.sequence as i32)
        .bind(entry.release)
        .bind(entry.released_at)
        .bind(entry.cut_off)
        .bind(&entry.families)
        .bind(entry.rho)
        .bind(entry.rho_total)
        .bind(entry.rho_budget)
        .bind(entry.delta)
        .bind(entry.epsilon_total)
        .bind(entry.noise_scale)
        .bind(entry.decision_scale)
        .bind(entry.detail_threshold as i32)
        .bind(&prev)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await?;
        for d in &drawn {
            let draw = Draw {
                measurements: d.measurements.clone(),
                overall: d.public.overall.clone(),
                by_group: d.public.by_group.clone(),
                dimensions: dimensions
                    .iter()
                    .map(|x| (x.name.clone(), x.groups.clone()))
                    .collect(),
            };
            let plain = serde_json::to_vec(&draw).map_err(anyhow::Error::from)?;
            let dek = DataKey::generate();
            let wrapped = dek.wrap(&self.keys.current, entry.release)?;
            let (nonce, sealed) = dek.seal(entry.release, &aad(&d.family), &plain)?;
            sqlx::query(
                "INSERT INTO private_measurements (release_id, family, kek_id, key_nonce, wrapped_key, nonce, sealed) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(entry.release)
            .bind(&d.family)
            .bind(&wrapped.kek_id)
            .bind(&wrapped.nonce)
            .bind(&wrapped.wrapped)
            .bind(&nonce)
            .bind(&sealed)
            .execute(&mut *tx)
            .await?;
            let cells = serde_json::to_value(shown(&d.values)).map_err(anyhow::Error::from)?;
            sqlx::query(
                "INSERT INTO release_snapshots (election_id, family, cut_off, whole, cells, release_id) \
                 VALUES ($1, $2, $3, false, $4, $5)",
            )
            .bind(election)
            .bind(&d.family)
            .bind(cut_off)
            .bind(&cells)
            .bind(entry.release)
            .execute(&mut *tx)
            .await?;
        }
        protection::lock(&mut tx, election).await?;
        audit(
            &mut tx,
            caller,
            None,
            None,
            "statistics",
            &format!("private release {}", entry.sequence),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            %election,
            release = %entry.release,
            rho = entry.rho,
            rho_total = entry.rho_total,
            "identity tables released under differential privacy"
        );
        Ok(entry)
    }

    /// Regenerates a release's tables from its sealed draws: the values every family published,
    /// recomputed (a check that the release is the one its draw and facts give).
    pub async fn regenerate(&self, release: Uuid) -> Result<Vec<(String, Vec<Shown>)>, AppError> {
        let election: Option<Uuid> =
            sqlx::query_scalar("SELECT election_id FROM privacy_ledger WHERE release_id = $1")
                .bind(release)
                .fetch_optional(&self.pool)
                .await?;
        let election = election
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa publicación."))?;
        let (_, definition) = self.definition(election).await?;
        let rows = sqlx::query(
            "SELECT family, kek_id, key_nonce, wrapped_key, nonce, sealed FROM private_measurements \
             WHERE release_id = $1 ORDER BY family",
        )
        .bind(release)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let family_id: String = r.get("family");
            let dek = DataKey::unwrap(
                &self.keys,
                release,
                &WrappedKey {
                    kek_id: r.get("kek_id"),
                    nonce: r.get("key_nonce"),
                    wrapped: r.get("wrapped_key"),
                },
            )?;
            let plain = dek.open(release, &aad(&family_id), r.get("nonce"), r.get("sealed"))?;
            let draw: Draw = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
            let dimensions: Vec<Dimension> = draw
                .dimensions
                .into_iter()
                .map(|(name, groups)| Dimension { name, groups })
                .collect();
            let public = Public {
                overall: draw.overall,
                by_group: draw.by_group,
            };
            let values = family::publish(
                &definition,
                &family_id,
                &dimensions,
                &public,
                &draw.measurements,
            )
            .map_err(anyhow::Error::from)?;
            out.push((family_id, shown(&values)));
        }
        Ok(out)
    }

    /// Every release regenerated and compared with what it published, and every election's
    /// ledger chain recomputed: (releases, families) checked, or what differs.
    pub async fn verify_releases(&self) -> anyhow::Result<(u64, u64)> {
        let rows = sqlx::query("SELECT * FROM privacy_ledger ORDER BY election_id, seq")
            .fetch_all(&self.pool)
            .await?;
        let (mut releases, mut families) = (0, 0);
        let mut prev: Option<(Uuid, String)> = None;
        for r in &rows {
            let election: Uuid = r.get("election_id");
            let entry = entry_of(r);
            let expected_prev = match &prev {
                Some((e, hash)) if *e == election => hash.clone(),
                _ => "0".repeat(64),
            };
            let stored_prev: String = r.get("prev_hash");
            if stored_prev != expected_prev || line_hash(&entry, &stored_prev) != entry.hash {
                anyhow::bail!(
                    "the privacy-loss ledger of election {election} is broken at line {}",
                    entry.sequence
                );
            }
            let regenerated = self
                .regenerate(entry.release)
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            let published = self
                .published(entry.release)
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            if regenerated != published {
                anyhow::bail!(
                    "release {} of election {election} does not regenerate as published",
                    entry.sequence
                );
            }
            releases += 1;
            families += published.len() as u64;
            prev = Some((election, entry.hash));
        }
        Ok((releases, families))
    }

    /// The snapshots a release published, by family.
    pub async fn published(&self, release: Uuid) -> Result<Vec<(String, Vec<Shown>)>, AppError> {
        let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
            "SELECT family, cells FROM release_snapshots WHERE release_id = $1 ORDER BY family",
        )
        .bind(release)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(f, cells)| {
                let cells: Vec<Shown> =
                    serde_json::from_value(cells).map_err(anyhow::Error::from)?;
                Ok((f, cells))
            })
            .collect()
    }
}
