//! The registry's public facts of each candidacy, for the public site to list every registered
//! candidacy with its state from the publication start: office, constituency and postulant (with
//! their catalog names), the names and sex of holder and alternate, the list position, the
//! status, and whether a substitution is under way. Nothing of any questionnaire.

use chrono::NaiveDate;
use conoceles_kit::CandidacyStatus;
use conoceles_proto::capture::v1 as pb;
use conoceles_proto::common::v1 as common;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::import::sex_proto;

/// The most entries one page gives.
pub const MAX_PAGE: u32 = 1_000;

const SELECT: &str = "\
    SELECT c.id, c.election_id, c.office_code, o.name AS office, o.principle, coalesce(o.slate_role, '') AS slate_role, \
           c.constituency_code, coalesce(k.name, c.constituency_code) AS constituency, \
           c.postulant_code, p.name AS postulant, c.list_position, c.affirmative_action, c.status, e.election_day, \
           h.id AS holder_id, h.full_name AS holder_name, h.sex AS holder_sex, h.birth_date AS holder_birth, \
           a.id AS alternate_id, a.full_name AS alternate_name, a.sex AS alternate_sex, a.birth_date AS alternate_birth, \
           (c.status NOT IN ('approved', 'published', 'withdrawn') AND EXISTS ( \
               SELECT 1 FROM persons r WHERE r.candidacy_id = c.id AND NOT r.active)) AS substitution_pending \
    FROM candidacies c \
    JOIN elections e ON e.id = c.election_id \
    JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
    JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
    LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind AND k.code = c.constituency_code \
    LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
    LEFT JOIN persons a ON a.candidacy_id = c.id AND a.role = 'alternate' AND a.active";

fn person(
    r: &sqlx::postgres::PgRow,
    prefix: &str,
    role: common::PersonRole,
    election_day: NaiveDate,
) -> Option<pb::Person> {
    let id: Option<Uuid> = r.get(format!("{prefix}_id").as_str());
    let birth: Option<NaiveDate> = r.get(format!("{prefix}_birth").as_str());
    let sex: Option<String> = r.get(format!("{prefix}_sex").as_str());
    Some(pb::Person {
        id: Some(common::PersonId::from(id?)),
        role: role as i32,
        full_name: r.get(format!("{prefix}_name").as_str()),
        sex: sex_proto(sex.as_deref().unwrap_or_default()) as i32,
        age: birth.and_then(|b| election_day.years_since(b)).unwrap_or(0),
    })
}

fn entry(r: &sqlx::postgres::PgRow) -> pb::Candidacy {
    let election_day: NaiveDate = r.get("election_day");
    let holder = person(r, "holder", common::PersonRole::Holder, election_day);
    let status: CandidacyStatus = r.get("status");
    pb::Candidacy {
        dimensions: Some(common::CandidacyDimensions {
            candidacy_id: Some(common::CandidacyId::from(r.get::<Uuid, _>("id"))),
            election_id: Some(common::ElectionId::from(r.get::<Uuid, _>("election_id"))),
            office: r.get("office_code"),
            principle: if r.get::<&str, _>("principle") == "rp" {
                common::Principle::Rp
            } else {
                common::Principle::Mr
            } as i32,
            constituency: r.get("constituency_code"),
            postulant: r.get("postulant_code"),
            holder_sex: holder.as_ref().map_or(0, |h| h.sex),
            holder_age: holder.as_ref().map_or(0, |h| h.age),
            affirmative_action: r.get("affirmative_action"),
        }),
        holder,
        alternate: person(r, "alternate", common::PersonRole::Alternate, election_day),
        list_position: r.get::<i32, _>("list_position").max(0) as u32,
        status: status.proto() as i32,
        slate_role: r.get("slate_role"),
        substitution_pending: r.get("substitution_pending"),
        office_name: r.get("office"),
        constituency_name: r.get("constituency"),
        postulant_name: r.get("postulant"),
    }
}

/// One candidacy (withdrawn ones included, so the site can drop them).
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<pb::Candidacy>> {
    Ok(sqlx::query(&format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(entry))
}

/// A page of the election's candidacies in force, by id after `after`, and whether more follow.
pub async fn page(
    pool: &PgPool,
    election: Uuid,
    after: Option<Uuid>,
    size: u32,
) -> sqlx::Result<(Vec<pb::Candidacy>, bool)> {
    let size = size.clamp(1, MAX_PAGE) as i64;
    let rows = sqlx::query(&format!(
        "{SELECT} WHERE c.election_id = $1 AND c.status <> 'withdrawn' AND c.id > $2 ORDER BY c.id LIMIT $3"
    ))
    .bind(election)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(size + 1)
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > size;
    Ok((rows.iter().take(size as usize).map(entry).collect(), more))
}

/// How many candidacies in force the election has.
pub async fn count(pool: &PgPool, election: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM candidacies WHERE election_id = $1 AND status <> 'withdrawn'",
    )
    .bind(election)
    .fetch_one(pool)
    .await
}
