//! Writes checked rows in one transaction: new candidacies (with their persons, history and a
//! `candidacy.registered` event), changed ones updated, a different person in a seat as a
//! substitution (never an overwrite), rows the registry cancelled cancelled, identical ones
//! untouched. A preview runs the same and rolls back.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::amqp::enqueue_many;
use conoceles_kit::proto_time::to_proto as timestamp;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::{PgPool, Row as _};
use uuid::Uuid;

use super::parse::{Catalog, PersonRow, Row, person_identity};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub substituted: usize,
    pub cancelled: usize,
    pub unchanged: usize,
    /// What changes, line by line (unchanged lines are only counted).
    pub changes: Vec<Change>,
}

/// One line's effect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub line: usize,
    pub external_id: String,
    /// `new`, `changed`, `substituted`, `cancelled` or `ignored`.
    pub action: &'static str,
    /// For people: what, in Spanish.
    pub detail: String,
}

fn person_key(p: &PersonRow) -> String {
    format!("{}|{}|{}", p.full_name, p.sex, p.birth_date)
}

fn fingerprint(row: &Row) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        row.office,
        row.constituency,
        row.postulant,
        row.list_position,
        row.affirmative_action,
        person_key(&row.holder),
        row.alternate.as_ref().map(person_key).unwrap_or_default(),
        row.responsible.clone().unwrap_or_default(),
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
    run(pool, election_id, catalog, rows, actor, true).await
}

/// What applying the rows would do, line by line; nothing is stored or announced.
pub async fn preview(
    pool: &PgPool,
    election_id: Uuid,
    catalog: &Catalog,
    rows: &[Row],
) -> anyhow::Result<ImportSummary> {
    run(pool, election_id, catalog, rows, None, false).await
}

async fn run(
    pool: &PgPool,
    election_id: Uuid,
    catalog: &Catalog,
    rows: &[Row],
    actor: Option<Uuid>,
    commit: bool,
) -> anyhow::Result<ImportSummary> {
    let mut tx = pool.begin().await?;
    // Serialises imports of the same election.
    sqlx::query("SELECT id FROM elections WHERE id = $1 FOR UPDATE")
        .bind(election_id)
        .fetch_one(&mut *tx)
        .await?;
    let existing: HashMap<String, Existing> = sqlx::query(
        "SELECT c.id, c.external_id, c.office_code, c.constituency_code, c.postulant_code, c.list_position, \
                c.affirmative_action, c.responsible_code, c.status, \
                h.full_name AS h_name, h.sex AS h_sex, h.birth_date AS h_birth, \
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
            approved_on: None,
            cancelled: false,
            responsible: r.get("responsible_code"),
        };
        (
            as_row.external_id.clone(),
            Existing {
                id: r.get("id"),
                print: fingerprint(&as_row),
                withdrawn: r.get::<&str, _>("status") == "withdrawn",
                holder: identity_of(Some(&as_row.holder)),
                alternate: identity_of(as_row.alternate.as_ref()),
                names: [
                    as_row.holder.full_name.clone(),
                    as_row.alternate.as_ref().map(|a| a.full_name.clone()).unwrap_or_default(),
                ],
            },
        )
    })
    .collect();

    let now = conoceles_kit::clock::now();
    let mut summary = ImportSummary::default();
    let mut fresh: Vec<&Row> = Vec::new();
    let mut change = |row: &Row, action: &'static str, detail: String| {
        summary.changes.push(Change {
            line: row.line,
            external_id: row.external_id.clone(),
            action,
            detail,
        })
    };
    let (mut updated, mut substituted, mut cancelled, mut unchanged) = (0, 0, 0, 0);
    for row in rows {
        let Some(e) = existing.get(&row.external_id) else {
            if row.cancelled {
                change(
                    row,
                    "ignored",
                    "Cancelada en el registro; nunca se importó.".into(),
                );
            } else {
                fresh.push(row);
            }
            continue;
        };
        if e.withdrawn {
            // A cancellation is final: the registry registers a new candidacy instead.
            unchanged += 1;
            continue;
        }
        if row.cancelled {
            let reason = format!(
                "Cancelada en el registro (importación, línea {}).",
                row.line
            );
            crate::candidacies::cancel_in(&mut tx, e.id, &reason, actor, now)
                .await
                .map_err(anyhow::Error::from)?;
            change(row, "cancelled", reason);
            cancelled += 1;
            continue;
        }
        if e.print == fingerprint(row) {
            unchanged += 1;
            continue;
        }
        sqlx::query(
            "UPDATE candidacies SET office_code = $2, constituency_code = $3, postulant_code = $4, \
             list_position = $5, affirmative_action = $6, responsible_code = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(e.id)
        .bind(&row.office)
        .bind(&row.constituency)
        .bind(&row.postulant)
        .bind(row.list_position)
        .bind(&row.affirmative_action)
        .bind(&row.responsible)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // A different person in a seat is a substitution; the same person's data corrected is
        // an update.
        let mut people = Vec::new();
        for (role, replaced, before, after) in [
            ("holder", &e.names[0], &e.holder, Some(&row.holder)),
            (
                "alternate",
                &e.names[1],
                &e.alternate,
                row.alternate.as_ref(),
            ),
        ] {
            match (before, after) {
                (Some(before), Some(after))
                    if *before != person_identity(&after.full_name, after.birth_date) =>
                {
                    let reason = format!(
                        "Sustitución registrada en el registro (importación, línea {}).",
                        row.line
                    );
                    crate::candidacies::substitute_in(
                        &mut tx, e.id, role, after, &reason, actor, now,
                    )
                    .await
                    .map_err(anyhow::Error::from)?;
                    people.push(format!(
                        "entra {} como {} en lugar de {replaced}",
                        after.full_name,
                        role_label(role, &after.sex)
                    ));
                }
                (None, Some(after)) => {
                    insert_person(&mut tx, e.id, role, after).await?;
                }
                (Some(_), Some(after)) => update_person(&mut tx, e.id, role, Some(after)).await?,
                (_, None) => update_person(&mut tx, e.id, role, None).await?,
            }
        }
        history(
            &mut tx,
            e.id,
            now,
            "updated_by_import",
            actor,
            serde_json::json!({ "line": row.line }),
        )
        .await?;
        if people.is_empty() {
            change(
                row,
                "changed",
                "Datos de la candidatura actualizados.".into(),
            );
            updated += 1;
        } else {
            change(
                row,
                "substituted",
                format!("Sustitución: {}.", people.join("; ")),
            );
            substituted += 1;
        }
    }
    for row in &fresh {
        change(row, "new", row.holder.full_name.clone());
    }
    for chunk in fresh.chunks(2_000) {
        insert_new(&mut tx, election_id, catalog, chunk, actor, now).await?;
    }
    summary.created = fresh.len();
    summary.updated = updated;
    summary.substituted = substituted;
    summary.cancelled = cancelled;
    summary.unchanged = unchanged;
    if commit {
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    Ok(summary)
}

/// What the import knows of a candidacy already registered.
struct Existing {
    id: Uuid,
    print: String,
    withdrawn: bool,
    holder: Option<String>,
    alternate: Option<String>,
    /// The holder's and the alternate's names now.
    names: [String; 2],
}

/// "propietaria", "propietario" or "persona propietaria"; "suplente".
fn role_label(role: &str, sex: &str) -> &'static str {
    match (role, sex) {
        ("holder", "mujer") => "propietaria",
        ("holder", "hombre") => "propietario",
        ("holder", _) => "persona propietaria",
        _ => "suplente",
    }
}

fn identity_of(person: Option<&PersonRow>) -> Option<String> {
    person.map(|p| person_identity(&p.full_name, p.birth_date))
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
         list_position, affirmative_action, registered_at, updated_at, responsible_code, approved_on) \
         SELECT id, $2, ext, office, constituency, postulant, position, aa, $9, $9, NULLIF(responsible, ''), approved \
         FROM UNNEST($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $10::text[], $11::date[]) \
              AS t(id, ext, office, constituency, postulant, position, aa, responsible, approved)",
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
    .bind(column(|r| r.responsible.clone().unwrap_or_default()))
    .bind(rows.iter().map(|r| r.approved_on).collect::<Vec<Option<NaiveDate>>>())
    .execute(&mut *tx)
    .await?;
    // Registered after capture opened: a deadline of their own.
    let calendar = crate::deadlines::calendar(tx, ids[0])
        .await
        .map_err(anyhow::Error::from)?;
    if let Some(deadline) = calendar.for_new_person(now) {
        sqlx::query("UPDATE candidacies SET capture_deadline = $2 WHERE id = ANY($1)")
            .bind(&ids)
            .bind(deadline)
            .execute(&mut *tx)
            .await?;
    }

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
                    candidacy_id: Some(common::CandidacyId::from(id)),
                    election_id: Some(common::ElectionId::from(election_id)),
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
                holder_id: Some(common::PersonId::from(holder_id)),
                alternate_id: alternate_id.map(common::PersonId::from),
                responsible_party_id: row
                    .responsible
                    .as_ref()
                    .and_then(|code| catalog.party_ids.get(code))
                    .or_else(|| catalog.postulants.get(&row.postulant))
                    .map(common::PartyId::from),
                list_position: row.list_position as u32,
                approved_at: Some(timestamp(
                    row.approved_on
                        .map(|day| calendar.start_of_day(day))
                        .unwrap_or(now),
                )),
                accounts_due_at: Some(timestamp(
                    calendar.days_after(
                        row.approved_on
                            .map(|day| calendar.start_of_day(day))
                            .unwrap_or(now),
                        crate::deadlines::ACCOUNT_DELIVERY_DAYS,
                    ),
                )),
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
