//! Writes checked rows in one transaction: new candidacies (with their persons, history and a
//! `candidacy.registered` event), changed ones updated, identical ones untouched.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::amqp::enqueue_many;
use conoceles_kit::proto_time::to_proto as timestamp;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::{PgPool, Row as _};
use uuid::Uuid;

use super::parse::{Catalog, PersonRow, Row};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

fn person_key(p: &PersonRow) -> String {
    format!("{}|{}|{}", p.full_name, p.sex, p.birth_date)
}

fn fingerprint(row: &Row) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        row.office,
        row.constituency,
        row.postulant,
        row.list_position,
        row.affirmative_action,
        person_key(&row.holder),
        row.alternate.as_ref().map(person_key).unwrap_or_default()
    )
}

/// The protobuf sex of a stored one (`mujer`, `hombre`, `no_binario`).
pub fn sex_proto(sex: &str) -> common::Sex {
    match sex {
        "mujer" => common::Sex::Woman,
        "hombre" => common::Sex::Man,
        "no_binario" => common::Sex::NonBinary,
        _ => common::Sex::Unspecified,
    }
}

async fn insert_person(
    tx: &mut sqlx::PgConnection,
    candidacy_id: Uuid,
    role: &str,
    person: &PersonRow,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO persons (id, candidacy_id, role, full_name, sex, birth_date) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(candidacy_id)
    .bind(role)
    .bind(&person.full_name)
    .bind(&person.sex)
    .bind(person.birth_date)
    .execute(tx)
    .await?;
    Ok(id)
}

async fn update_person(
    tx: &mut sqlx::PgConnection,
    candidacy_id: Uuid,
    role: &str,
    person: Option<&PersonRow>,
) -> sqlx::Result<()> {
    match person {
        Some(p) => {
            let updated = sqlx::query(
                "UPDATE persons SET full_name = $3, sex = $4, birth_date = $5 \
                 WHERE candidacy_id = $1 AND role = $2 AND active",
            )
            .bind(candidacy_id)
            .bind(role)
            .bind(&p.full_name)
            .bind(&p.sex)
            .bind(p.birth_date)
            .execute(&mut *tx)
            .await?;
            if updated.rows_affected() == 0 {
                insert_person(tx, candidacy_id, role, p).await?;
            }
        }
        None => {
            sqlx::query("UPDATE persons SET active = FALSE WHERE candidacy_id = $1 AND role = $2 AND active")
                .bind(candidacy_id)
                .bind(role)
                .execute(tx)
                .await?;
        }
    }
    Ok(())
}

/// Applies the rows of one file to `election_id`.
pub async fn apply(
    pool: &PgPool,
    election_id: Uuid,
    catalog: &Catalog,
    rows: &[Row],
    actor: Option<Uuid>,
) -> anyhow::Result<ImportSummary> {
    let mut tx = pool.begin().await?;
    // Serialises imports of the same election.
    sqlx::query("SELECT id FROM elections WHERE id = $1 FOR UPDATE")
        .bind(election_id)
        .fetch_one(&mut *tx)
        .await?;
    let existing: HashMap<String, (Uuid, String)> = sqlx::query(
        "SELECT c.id, c.external_id, c.office_code, c.constituency_code, c.postulant_code, c.list_position, \
                c.affirmative_action, h.full_name AS h_name, h.sex AS h_sex, h.birth_date AS h_birth, \
                a.full_name AS a_name, a.sex AS a_sex, a.birth_date AS a_birth \
         FROM candidacies c \
         JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         LEFT JOIN persons a ON a.candidacy_id = c.id AND a.role = 'alternate' AND a.active \
         WHERE c.election_id = $1",
    )
    .bind(election_id)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| {
        let holder = PersonRow {
            full_name: r.get("h_name"),
            sex: r.get("h_sex"),
            birth_date: r.get("h_birth"),
        };
        let alternate = r.get::<Option<String>, _>("a_name").map(|full_name| PersonRow {
            full_name,
            sex: r.get("a_sex"),
            birth_date: r.get::<Option<NaiveDate>, _>("a_birth").unwrap_or_default(),
        });
        let as_row = Row {
            line: 0,
            external_id: r.get("external_id"),
            office: r.get("office_code"),
            constituency: r.get("constituency_code"),
            postulant: r.get("postulant_code"),
            list_position: r.get("list_position"),
            holder,
            alternate,
            affirmative_action: r.get("affirmative_action"),
        };
        (as_row.external_id.clone(), (r.get("id"), fingerprint(&as_row)))
    })
    .collect();

    let now = Utc::now();
    let mut summary = ImportSummary::default();
    let mut fresh: Vec<&Row> = Vec::new();
    for row in rows {
        match existing.get(&row.external_id) {
            Some((_, print)) if *print == fingerprint(row) => summary.unchanged += 1,
            Some((id, _)) => {
                sqlx::query(
                    "UPDATE candidacies SET office_code = $2, constituency_code = $3, postulant_code = $4, \
                     list_position = $5, affirmative_action = $6, updated_at = $7 WHERE id = $1",
                )
                .bind(id)
                .bind(&row.office)
                .bind(&row.constituency)
                .bind(&row.postulant)
                .bind(row.list_position)
                .bind(&row.affirmative_action)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                update_person(&mut tx, *id, "holder", Some(&row.holder)).await?;
                update_person(&mut tx, *id, "alternate", row.alternate.as_ref()).await?;
                history(
                    &mut tx,
                    *id,
                    now,
                    "updated_by_import",
                    actor,
                    serde_json::json!({ "line": row.line }),
                )
                .await?;
                summary.updated += 1;
            }
            None => fresh.push(row),
        }
    }
    for chunk in fresh.chunks(2_000) {
        insert_new(&mut tx, election_id, catalog, chunk, actor, now).await?;
        summary.created += chunk.len();
    }
    tx.commit().await?;
    Ok(summary)
}

/// Inserts new candidacies, their persons, history and events with one statement per table.
async fn insert_new(
    tx: &mut sqlx::PgConnection,
    election_id: Uuid,
    catalog: &Catalog,
    rows: &[&Row],
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let column = |f: fn(&Row) -> String| rows.iter().map(|r| f(r)).collect::<Vec<String>>();
    sqlx::query(
        "INSERT INTO candidacies (id, election_id, external_id, office_code, constituency_code, postulant_code, \
         list_position, affirmative_action, registered_at, updated_at) \
         SELECT id, $2, ext, office, constituency, postulant, position, aa, $9, $9 \
         FROM UNNEST($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[]) \
              AS t(id, ext, office, constituency, postulant, position, aa)",
    )
    .bind(&ids)
    .bind(election_id)
    .bind(column(|r| r.external_id.clone()))
    .bind(column(|r| r.office.clone()))
    .bind(column(|r| r.constituency.clone()))
    .bind(column(|r| r.postulant.clone()))
    .bind(rows.iter().map(|r| r.list_position).collect::<Vec<i32>>())
    .bind(column(|r| r.affirmative_action.clone()))
    .bind(now)
    .execute(&mut *tx)
    .await?;

    let mut person_ids = Vec::new();
    let mut candidacy_ids = Vec::new();
    let mut roles = Vec::new();
    let mut names = Vec::new();
    let mut sexes = Vec::new();
    let mut births = Vec::new();
    let mut holder_ids = Vec::with_capacity(rows.len());
    let mut alternate_ids = Vec::with_capacity(rows.len());
    for (row, id) in rows.iter().zip(&ids) {
        for (role, person) in [
            ("holder", Some(&row.holder)),
            ("alternate", row.alternate.as_ref()),
        ] {
            let Some(person) = person else {
                alternate_ids.push(None);
                continue;
            };
            let person_id = Uuid::now_v7();
            if role == "holder" {
                holder_ids.push(person_id);
            } else {
                alternate_ids.push(Some(person_id));
            }
            person_ids.push(person_id);
            candidacy_ids.push(*id);
            roles.push(role);
            names.push(person.full_name.clone());
            sexes.push(person.sex.clone());
            births.push(person.birth_date);
        }
    }
    sqlx::query(
        "INSERT INTO persons (id, candidacy_id, role, full_name, sex, birth_date) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::date[])",
    )
    .bind(&person_ids)
    .bind(&candidacy_ids)
    .bind(&roles)
    .bind(&names)
    .bind(&sexes)
    .bind(&births)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO candidacy_history (candidacy_id, at, action, actor, detail) \
         SELECT id, $2, 'registered', $3, jsonb_build_object('line', line) FROM UNNEST($1::uuid[], $4::int[]) AS t(id, line)",
    )
    .bind(&ids)
    .bind(now)
    .bind(actor)
    .bind(rows.iter().map(|r| r.line as i32).collect::<Vec<i32>>())
    .execute(&mut *tx)
    .await?;

    let events: Vec<events::CandidacyRegistered> = rows
        .iter()
        .zip(&ids)
        .zip(holder_ids.iter().zip(&alternate_ids))
        .map(|((row, id), (holder_id, alternate_id))| {
            let principle = catalog
                .offices
                .get(&row.office)
                .map(|(p, _)| p.as_str())
                .unwrap_or("");
            events::CandidacyRegistered {
                dimensions: Some(common::CandidacyDimensions {
                    candidacy_id: Some(common::CandidacyId {
                        value: id.to_string(),
                    }),
                    election_id: Some(common::ElectionId {
                        value: election_id.to_string(),
                    }),
                    office: row.office.clone(),
                    principle: if principle == "rp" {
                        common::Principle::Rp as i32
                    } else {
                        common::Principle::Mr as i32
                    },
                    constituency: row.constituency.clone(),
                    postulant: row.postulant.clone(),
                    holder_sex: sex_proto(&row.holder.sex) as i32,
                    holder_age: catalog
                        .election_day
                        .years_since(row.holder.birth_date)
                        .unwrap_or(0),
                    affirmative_action: row.affirmative_action.clone(),
                }),
                holder_id: Some(common::PersonId {
                    value: holder_id.to_string(),
                }),
                alternate_id: alternate_id.map(|a| common::PersonId {
                    value: a.to_string(),
                }),
                responsible_party_id: catalog.postulants.get(&row.postulant).map(|p| {
                    common::PartyId {
                        value: p.to_string(),
                    }
                }),
                list_position: row.list_position as u32,
                approved_at: Some(timestamp(now)),
                occurred_at: Some(timestamp(now)),
            }
        })
        .collect();
    enqueue_many(tx, routing_keys::CANDIDACY_REGISTERED, &events).await?;
    Ok(())
}

pub async fn history(
    tx: &mut sqlx::PgConnection,
    candidacy_id: Uuid,
    at: DateTime<Utc>,
    action: &str,
    actor: Option<Uuid>,
    detail: serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO candidacy_history (candidacy_id, at, action, actor, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(candidacy_id)
        .bind(at)
        .bind(action)
        .bind(actor)
        .bind(detail)
        .execute(tx)
        .await?;
    Ok(())
}
