//! Predeclared aggregate tables over answers with statistics consent, suppressed before they
//! leave the service: `identity.<question>.by_<dimension>` for every single-choice question and
//! the dimensions sex, office, principle, postulant, constituency and age band. Blocked or
//! deleted persons and persons without statistics consent are never counted.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use conoceles_kit::access::Caller;
use conoceles_kit::error::{AppError, ErrorCode};
use sqlx::Row;
use uuid::Uuid;

use crate::crypto::{DataKey, WrappedKey};
use crate::definition::{Definition, StoredAnswer};
use crate::store::{Identity, audit};
use crate::suppress::{Released, Table, suppress_since};

pub use conoceles_questionnaire::AGGREGATE_DIMENSIONS as DIMENSIONS;

/// One published value: its coordinates (`option` and the dimension; `*` for a total) and its
/// count, absent when suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub dimensions: BTreeMap<String, String>,
    pub count: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    pub cells: Vec<Cell>,
    /// Persons counted: submitted, statistics consent, not blocked, within the filters; absent
    /// (like `answered` and `declined`) when the table is suppressed whole.
    pub n: Option<u64>,
    pub answered: Option<u64>,
    pub declined: Option<u64>,
    pub cut_off: DateTime<Utc>,
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

fn cell(option: &str, dimension: &str, group: &str, count: u64, hidden: bool) -> Cell {
    Cell {
        dimensions: BTreeMap::from([
            ("option".to_string(), option.to_string()),
            (dimension.to_string(), group.to_string()),
        ]),
        count: (!hidden).then_some(count),
    }
}

impl Identity {
    pub async fn aggregate(
        &self,
        caller: &Caller,
        election: Uuid,
        table: &str,
        filters: &BTreeMap<String, String>,
        k: u64,
    ) -> Result<Aggregate, AppError> {
        let unknown = || AppError::new(ErrorCode::NotFound, "No existe esa tabla predeclarada.");
        let (_, definition) = self.definition(election).await?;
        if !table_names(&definition).iter().any(|t| t == table) {
            return Err(unknown());
        }
        let rest = table.strip_prefix("identity.").ok_or_else(unknown)?;
        let (question_id, dimension) = rest.rsplit_once(".by_").ok_or_else(unknown)?;
        let question = definition.question(question_id).ok_or_else(unknown)?;
        for key in filters.keys() {
            if !DIMENSIONS.contains(&key.as_str()) || key == "age_band" {
                return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                    key,
                    "unknown_filter",
                    "Filtro desconocido; use sex, office, principle, postulant o constituency.",
                )]));
            }
        }
        let filter = |name: &str| filters.get(name).cloned();
        let cut_off = Utc::now();
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT p.id AS person, p.role, c.office, c.principle, c.postulant, c.constituency, c.holder_sex, c.holder_age, \
                    k.kek_id, k.nonce AS key_nonce, k.wrapped, a.nonce, a.sealed \
             FROM questionnaires q JOIN persons p ON p.id = q.person_id JOIN candidacies c ON c.id = p.candidacy_id \
             JOIN data_keys k ON k.person_id = p.id \
             LEFT JOIN answers a ON a.person_id = p.id AND a.question_id = $2 \
             WHERE c.election_id = $1 AND q.statistics_consent_at IS NOT NULL AND q.statistics_consent_at <= $3 \
               AND q.submitted_at <= $3 AND p.blocked_at IS NULL AND q.deleted_at IS NULL \
               AND ($4::text IS NULL OR c.holder_sex = $4) AND ($5::text IS NULL OR c.office = $5) \
               AND ($6::text IS NULL OR c.principle = $6) AND ($7::text IS NULL OR c.postulant = $7) \
               AND ($8::text IS NULL OR c.constituency = $8)",
        )
        .bind(election)
        .bind(question_id)
        .bind(cut_off)
        .bind(filter("sex"))
        .bind(filter("office"))
        .bind(filter("principle"))
        .bind(filter("postulant"))
        .bind(filter("constituency"))
        .fetch_all(&mut *tx)
        .await?;
        let (mut n, mut declined) = (0u64, 0u64);
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut groups: BTreeSet<String> = BTreeSet::new();
        for r in &rows {
            n += 1;
            let holder = r.get::<&str, _>("role") == "holder";
            let group = match dimension {
                "sex" if holder => r.get::<String, _>("holder_sex"),
                "age_band" if holder => age_band(r.get("holder_age")).to_string(),
                "sex" | "age_band" => "sin_dato".to_string(),
                other => r.get::<String, _>(other),
            };
            let Some(sealed) = r.get::<Option<Vec<u8>>, _>("sealed") else {
                continue; // the question did not apply to this person
            };
            let person: Uuid = r.get("person");
            let dek = DataKey::unwrap(
                &self.keys,
                person,
                &WrappedKey {
                    kek_id: r.get("kek_id"),
                    nonce: r.get("key_nonce"),
                    wrapped: r.get("wrapped"),
                },
            )?;
            let plain = dek.open(person, question_id, r.get("nonce"), &sealed)?;
            let answer: StoredAnswer =
                serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
            if answer.declined {
                declined += 1;
                continue;
            }
            if let Some(option) = answer.option_ids.first() {
                groups.insert(group.clone());
                *counts.entry((option.clone(), group)).or_default() += 1;
            }
        }
        audit(&mut tx, caller, None, None, "statistics", table).await?;

        let options: Vec<&str> = question.options.iter().map(|o| o.id.as_str()).collect();
        let groups: Vec<String> = groups.into_iter().collect();
        let matrix: Vec<Vec<u64>> = options
            .iter()
            .map(|o| {
                groups
                    .iter()
                    .map(|g| {
                        counts
                            .get(&(o.to_string(), g.clone()))
                            .copied()
                            .unwrap_or(0)
                    })
                    .collect()
            })
            .collect();
        // The differencing guard: compare with what this table (same filters) last published.
        let table_key = std::iter::once(table.to_string())
            .chain(filters.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join("&");
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || $2))")
            .bind(election.to_string())
            .bind(&table_key)
            .execute(&mut *tx)
            .await?;
        let before: BTreeMap<String, u64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT value_key, count FROM released_values WHERE election_id = $1 AND table_key = $2",
        )
        .bind(election)
        .bind(&table_key)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(key, count)| (key, count as u64))
        .collect();
        let key = |option: &str, group: &str| format!("{option}|{group}");
        let released = Released {
            cells: options
                .iter()
                .map(|o| {
                    groups
                        .iter()
                        .map(|g| before.get(&key(o, g)).copied())
                        .collect()
                })
                .collect(),
            rows: options
                .iter()
                .map(|o| before.get(&key(o, "*")).copied())
                .collect(),
            cols: groups
                .iter()
                .map(|g| before.get(&key("*", g)).copied())
                .collect(),
            total: before.get(&key("*", "*")).copied(),
        };
        let t: Table = suppress_since(matrix, k, &released);
        let mut cells = Vec::new();
        for (r, option) in options.iter().enumerate() {
            for (c, group) in groups.iter().enumerate() {
                cells.push(cell(
                    option,
                    dimension,
                    group,
                    t.cells[r][c],
                    t.hidden[r][c],
                ));
            }
            cells.push(cell(
                option,
                dimension,
                "*",
                t.row_totals[r],
                t.row_hidden[r],
            ));
        }
        for (c, group) in groups.iter().enumerate() {
            cells.push(cell(
                "*",
                dimension,
                group,
                t.col_totals[c],
                t.col_hidden[c],
            ));
        }
        cells.push(cell("*", dimension, "*", t.total, t.total_hidden));
        let (keys, counts): (Vec<String>, Vec<i64>) = cells
            .iter()
            .filter_map(|c| {
                let count = c.count?;
                Some((
                    key(&c.dimensions["option"], &c.dimensions[dimension]),
                    count as i64,
                ))
            })
            .unzip();
        sqlx::query(
            "INSERT INTO released_values (election_id, table_key, value_key, count, released_at) \
             SELECT $1, $2, v.key, v.count, $5 FROM UNNEST($3::text[], $4::bigint[]) AS v(key, count) \
             ON CONFLICT (election_id, table_key, value_key) \
             DO UPDATE SET count = EXCLUDED.count, released_at = EXCLUDED.released_at",
        )
        .bind(election)
        .bind(&table_key)
        .bind(&keys)
        .bind(&counts)
        .bind(cut_off)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // A table suppressed whole publishes no count of its population either.
        let shown = |v: u64| (!t.total_hidden).then_some(v);
        Ok(Aggregate {
            cells,
            n: shown(n),
            answered: shown(t.total),
            declined: shown(declined),
            cut_off,
        })
    }
}
