//! Predeclared aggregate tables over answers with statistics consent, protected before they
//! leave the service: `identity.<question>.by_<dimension>` for every single-choice question and
//! the dimensions sex, office, principle, postulant, constituency and age band, released per
//! question family (`release`). Blocked or deleted persons and persons without statistics
//! consent are never counted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conoceles_kit::access::Caller;
use conoceles_kit::error::{AppError, ErrorCode};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::crypto::{DataKey, Keyring, WrappedKey};
use crate::definition::{Definition, Question, StoredAnswer};
use crate::protection::{self, Protection};
use crate::release::{
    self, ALL, DECLINED, Dimension, Memory, NOT_APPLICABLE, Part, Person, value_key,
};
use crate::store::{Identity, audit};
use crate::suppress::Rules;

pub use conoceles_identity_questionnaire::AGGREGATE_DIMENSIONS as DIMENSIONS;

/// One published value: its coordinates (`option` and the dimension; `*` for a total) and its
/// count, absent when suppressed.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub dimensions: BTreeMap<String, String>,
    pub count: Option<u64>,
    /// Differential privacy: half the width of the noise's 90 % interval.
    pub half_width: f64,
    /// Differential privacy: released coarser for this group.
    pub coarsened: bool,
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub cells: Vec<Cell>,
    /// Persons counted: submitted, statistics consent, not blocked; absent when hidden (like
    /// `answered` and `declined`).
    pub n: Option<u64>,
    pub answered: Option<u64>,
    pub declined: Option<u64>,
    pub cut_off: DateTime<Utc>,
    /// Differential privacy: the 90 % half-width of `n`, and the release.
    pub n_half_width: f64,
    pub release: Option<Uuid>,
}

/// The predeclared table names of a definition.
pub fn table_names(definition: &Definition) -> Vec<String> {
    definition.aggregate_tables()
}

fn age_band(age: i32) -> &'static str {
    match age {
        ..=29 => "18-29",
        30..=44 => "30-44",
        45..=59 => "45-59",
        _ => "60+",
    }
}

const NO_DATA: &str = "sin_dato";

/// The group of a person in `dimension`: holders carry sex and age; alternates are `sin_dato`
/// there.
fn group_of(row: &sqlx::postgres::PgRow, dimension: &str, holder: bool) -> String {
    match dimension {
        "sex" if holder => row.get::<String, _>("holder_sex"),
        "age_band" if holder => age_band(row.get("holder_age")).to_string(),
        "sex" | "age_band" => NO_DATA.to_string(),
        other => row.get::<String, _>(other),
    }
}

/// Every group of every dimension among the election's candidacies, with its number of
/// persons (public: the candidacy lists; a holder and an alternate per candidacy).
pub(crate) async fn dimensions(
    pool: &sqlx::PgPool,
    election: Uuid,
) -> Result<Vec<Dimension>, AppError> {
    let rows = sqlx::query(
        "SELECT office, principle, postulant, constituency, holder_sex, holder_age \
         FROM candidacies WHERE election_id = $1",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    Ok(DIMENSIONS
        .iter()
        .map(|name| {
            let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
            for r in &rows {
                for holder in [true, false] {
                    *sizes.entry(group_of(r, name, holder)).or_default() += 1;
                }
            }
            Dimension {
                name: name.to_string(),
                groups: sizes.into_iter().collect(),
            }
        })
        .collect())
}

impl Identity {
    /// One predeclared table as of `at` (absent: now), released with its family.
    pub async fn aggregate(
        &self,
        caller: &Caller,
        election: Uuid,
        table: &str,
        filters: &BTreeMap<String, String>,
        at: Option<DateTime<Utc>>,
        protection: Protection,
    ) -> Result<Aggregate, AppError> {
        let unknown = || AppError::new(ErrorCode::NotFound, "No existe esa tabla predeclarada.");
        let (_, definition) = self.definition(election).await?;
        if !table_names(&definition).iter().any(|t| t == table) {
            return Err(unknown());
        }
        let rest = table.strip_prefix("identity.").ok_or_else(unknown)?;
        let (question_id, dimension) = rest.rsplit_once(".by_").ok_or_else(unknown)?;
        let question = definition.question(question_id).ok_or_else(unknown)?;
        if at.is_some_and(|at| at > Utc::now()) {
            return Err(AppError::field(
                "at",
                "in_the_future",
                "El corte no puede estar en el futuro.",
            ));
        }
        let dimensions = dimensions(&self.pool, election).await?;
        let groups = dimensions
            .iter()
            .find(|d| d.name == dimension)
            .map(|d| d.groups.clone())
            .unwrap_or_default();
        for (key, value) in filters {
            if key != dimension {
                return Err(AppError::field(
                    key,
                    "not_predeclared",
                    format!(
                        "Esta tabla solo se filtra por su propia dimensión ({dimension}); para cruzar con «{key}» use la tabla identity.{question_id}.by_{key}."
                    ),
                ));
            }
            if !groups.iter().any(|(g, _)| g == value) {
                return Err(AppError::field(
                    key,
                    "unknown_value",
                    format!("«{value}» no es un grupo de {dimension} en esta elección."),
                ));
            }
        }
        let family = release::family(&definition, question_id);
        let root = family.first().ok_or_else(unknown)?.id.clone();
        let snapshot = match at {
            Some(at) => self.snapshot(election, &root, at).await?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::NotFound,
                    "Esta tabla aún no se había publicado en ese corte; consulte un corte posterior.",
                )
            })?,
            None => match protection {
                Protection::Suppression { k } => {
                    self.release_now(caller, election, &definition, question_id, table, k)
                        .await?
                }
                // Under differential privacy every release spends budget: reads serve the
                // latest one the unit made.
                Protection::DifferentialPrivacy(_) => self
                    .snapshot(election, &root, Utc::now())
                    .await?
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::NotFound,
                            "Estas estadísticas se protegen con privacidad diferencial y la unidad aún no ha creado ninguna publicación.",
                        )
                    })?,
            },
        };
        Ok(snapshot.view(question, dimension, filters.get(dimension)))
    }
}

/// One value as published: absent count when hidden.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Shown {
    pub dimension: String,
    pub question: String,
    pub option: String,
    pub group: String,
    pub count: Option<u64>,
    /// Differential privacy: half the width of the noise's 90 % interval.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub half_width: f64,
    /// Differential privacy: released coarser for this group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coarsened: bool,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// A family's release as published at a cut-off.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub cut_off: DateTime<Utc>,
    pub cells: Vec<Shown>,
    /// The differentially private release it belongs to.
    pub release: Option<Uuid>,
}

impl Snapshot {
    fn of(release: &release::Release, cut_off: DateTime<Utc>) -> Self {
        Self {
            cut_off,
            cells: release
                .cells
                .iter()
                .map(|c| Shown {
                    dimension: c.dimension.clone(),
                    question: c.question.clone(),
                    option: c.option.clone(),
                    group: c.group.clone(),
                    count: (!c.hidden).then_some(c.count),
                    half_width: 0.0,
                    coarsened: false,
                })
                .collect(),
            release: None,
        }
    }

    fn find(&self, dimension: &str, question: &str, option: &str, group: &str) -> Option<&Shown> {
        self.cells.iter().find(|c| {
            (c.dimension == dimension || c.dimension == ALL)
                && c.question == question
                && c.option == option
                && c.group == group
        })
    }

    fn shown(&self, dimension: &str, question: &str, option: &str, group: &str) -> Option<u64> {
        self.find(dimension, question, option, group)
            .and_then(|c| c.count)
    }

    /// One question's table by one dimension (one group of it when `selected`).
    pub fn view(
        &self,
        question: &Question,
        dimension: &str,
        selected: Option<&String>,
    ) -> Aggregate {
        let mut cells = Vec::new();
        for c in self.cells.iter().filter(|c| {
            (c.dimension == dimension || c.dimension == ALL)
                && (c.question == question.id || c.question == ALL)
        }) {
            if selected.is_some_and(|s| *s != c.group) {
                continue;
            }
            let option = if c.question == ALL { ALL } else { &c.option };
            cells.push(Cell {
                dimensions: BTreeMap::from([
                    ("option".to_string(), option.to_string()),
                    (dimension.to_string(), c.group.clone()),
                ]),
                count: c.count,
                half_width: c.half_width,
                coarsened: c.coarsened,
            });
        }
        let shown = |option: &str| self.shown(dimension, &question.id, option, ALL);
        let n = self.shown(dimension, ALL, ALL, ALL);
        // Answered: the options' margins, or what the population leaves after those who
        // declined and those not asked (the same value, derivable from what is shown).
        let not_asked = if question.when.is_some() {
            shown(NOT_APPLICABLE)
        } else {
            Some(0)
        };
        let answered = question
            .options
            .iter()
            .map(|o| shown(&o.id))
            .sum::<Option<u64>>()
            .or_else(|| n?.checked_sub(shown(DECLINED)? + not_asked?));
        Aggregate {
            cells,
            n,
            answered,
            declined: shown(DECLINED),
            cut_off: self.cut_off,
            n_half_width: self
                .find(dimension, ALL, ALL, ALL)
                .map_or(0.0, |c| c.half_width),
            release: self.release,
        }
    }
}

impl Identity {
    /// The family's release published last at or before `at`.
    async fn snapshot(
        &self,
        election: Uuid,
        family: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Snapshot>, AppError> {
        let row: Option<(DateTime<Utc>, serde_json::Value, Option<Uuid>)> = sqlx::query_as(
            "SELECT cut_off, cells, release_id FROM release_snapshots \
             WHERE election_id = $1 AND family = $2 AND cut_off <= $3 ORDER BY cut_off DESC LIMIT 1",
        )
        .bind(election)
        .bind(family)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        let Some((cut_off, cells, release)) = row else {
            return Ok(None);
        };
        let cells: Vec<Shown> = serde_json::from_value(cells).map_err(anyhow::Error::from)?;
        Ok(Some(Snapshot {
            cut_off,
            cells,
            release,
        }))
    }

    /// Releases the family of `question_id` as of now, against what it published last, and
    /// keeps what it publishes (the memory of the guard and the snapshot).
    async fn release_now(
        &self,
        caller: &Caller,
        election: Uuid,
        definition: &Definition,
        question_id: &str,
        table: &str,
        k: u64,
    ) -> Result<Snapshot, AppError> {
        let cut_off = Utc::now();
        let family = release::family(definition, question_id);
        let questions: Vec<String> = family.iter().map(|q| q.id.clone()).collect();
        let root = questions.first().cloned().unwrap_or_default();
        let dimensions = dimensions(&self.pool, election).await?;

        let mut tx = self.pool.begin().await?;
        // The population is shared by every family: one release at a time per election.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(election.to_string())
            .execute(&mut *tx)
            .await?;
        let persons = counted_persons(&mut tx, &self.keys, election, &questions, cut_off).await?;
        audit(&mut tx, caller, None, None, "statistics", table).await?;
        protection::lock(&mut tx, election).await?;

        // The memory of the three parts.
        let keys = [
            "population".to_string(),
            format!("margins.{root}"),
            format!("cells.{root}"),
        ];
        let mut memory = Memory::default();
        for (key, part) in keys.iter().zip([
            &mut memory.population,
            &mut memory.margins,
            &mut memory.cells,
        ]) {
            *part = sqlx::query_as::<_, (String, i64)>(
                "SELECT value_key, count FROM released_values WHERE election_id = $1 AND table_key = $2",
            )
            .bind(election)
            .bind(key)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|(key, count)| (key, count.max(0) as u64))
            .collect();
        }
        let released = release::release(
            definition,
            question_id,
            &dimensions,
            &persons,
            &memory,
            Rules::with_threshold(k),
        );
        let (mut table_keys, mut value_keys, mut counts) = (Vec::new(), Vec::new(), Vec::new());
        for c in released.cells.iter().filter(|c| !c.hidden) {
            let part = match c.part() {
                Part::Population => &keys[0],
                Part::Margins => &keys[1],
                Part::Cells => &keys[2],
            };
            table_keys.push(part.clone());
            value_keys.push(value_key(c));
            counts.push(c.count as i64);
        }
        sqlx::query(
            "INSERT INTO released_values (election_id, table_key, value_key, count, released_at) \
             SELECT $1, v.t, v.key, v.count, $5 FROM UNNEST($2::text[], $3::text[], $4::bigint[]) AS v(t, key, count) \
             ON CONFLICT (election_id, table_key, value_key) \
             DO UPDATE SET count = EXCLUDED.count, released_at = EXCLUDED.released_at",
        )
        .bind(election)
        .bind(&table_keys)
        .bind(&value_keys)
        .bind(&counts)
        .bind(cut_off)
        .execute(&mut *tx)
        .await?;
        let snapshot = Snapshot::of(&released, cut_off);
        let cells = serde_json::to_value(&snapshot.cells).map_err(anyhow::Error::from)?;
        // A new snapshot only when something published changed.
        sqlx::query(
            "INSERT INTO release_snapshots (election_id, family, cut_off, whole, cells) \
             SELECT $1, $2, $3, $4, $5 WHERE $5 IS DISTINCT FROM ( \
                 SELECT cells FROM release_snapshots WHERE election_id = $1 AND family = $2 \
                 ORDER BY cut_off DESC LIMIT 1)",
        )
        .bind(election)
        .bind(&root)
        .bind(cut_off)
        .bind(released.whole)
        .bind(&cells)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(snapshot)
    }
}

/// The persons counted as of `cut_off` (submitted, statistics consent, not blocked), with their
/// groups and their single-choice answers to `questions`, opened in memory only.
pub(crate) async fn counted_persons(
    conn: &mut PgConnection,
    keys: &Keyring,
    election: Uuid,
    questions: &[String],
    cut_off: DateTime<Utc>,
) -> Result<Vec<Person>, AppError> {
    let rows = sqlx::query(
        "SELECT p.id AS person, p.role, c.office, c.principle, c.postulant, c.constituency, c.holder_sex, c.holder_age, \
                q.publication_consent_at IS NOT NULL AND q.publication_consent_at <= $3 AS public, \
                k.kek_id, k.nonce AS key_nonce, k.wrapped, a.question_id, a.nonce, a.sealed \
         FROM questionnaires q JOIN persons p ON p.id = q.person_id JOIN candidacies c ON c.id = p.candidacy_id \
         JOIN data_keys k ON k.person_id = p.id \
         LEFT JOIN answers a ON a.person_id = p.id AND a.question_id = ANY($2) \
         WHERE c.election_id = $1 AND q.statistics_consent_at IS NOT NULL AND q.statistics_consent_at <= $3 \
           AND q.submitted_at <= $3 AND p.blocked_at IS NULL AND q.deleted_at IS NULL \
         ORDER BY p.id",
    )
    .bind(election)
    .bind(questions)
    .bind(cut_off)
    .fetch_all(&mut *conn)
    .await?;
    let mut persons: Vec<Person> = Vec::new();
    let mut last: Option<Uuid> = None;
    for r in &rows {
        let person: Uuid = r.get("person");
        if last != Some(person) {
            last = Some(person);
            let holder = r.get::<&str, _>("role") == "holder";
            persons.push(Person {
                groups: DIMENSIONS.iter().map(|d| group_of(r, d, holder)).collect(),
                answers: BTreeMap::new(),
                public: holder && r.get::<bool, _>("public"),
            });
        }
        let (Some(question), Some(sealed)) = (
            r.get::<Option<String>, _>("question_id"),
            r.get::<Option<Vec<u8>>, _>("sealed"),
        ) else {
            continue;
        };
        let dek = DataKey::unwrap(
            keys,
            person,
            &WrappedKey {
                kek_id: r.get("kek_id"),
                nonce: r.get("key_nonce"),
                wrapped: r.get("wrapped"),
            },
        )?;
        let plain = dek.open(person, &question, r.get("nonce"), &sealed)?;
        let answer: StoredAnswer = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
        let chosen = (!answer.declined)
            .then(|| answer.option_ids.first().cloned())
            .flatten();
        if let Some(p) = persons.last_mut() {
            p.answers.insert(question, chosen);
        }
    }
    Ok(persons)
}
