//! Every registered candidacy in force, with the registry's public facts, kept from capture so
//! the site lists each one from the publication start — those without an approved version with
//! their state («No ha proporcionado su información», «En revisión», «Sustitución en curso»).
//! Only the registry's facts: office, constituency, postulant, names and sex of holder and
//! alternate, list position, status; never anything of a questionnaire.

use conoceles_proto::capture::v1 as capture;
use conoceles_proto::common::v1 as common;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::model::Listed;

/// What a registered candidacy without a published version shows instead of its information.
pub fn state(status: &str, substitution_pending: bool) -> &'static str {
    match status {
        _ if substitution_pending => "Sustitución en curso",
        "not_started" | "draft" => "No ha proporcionado su información",
        _ => "En revisión",
    }
}

fn sex(value: i32) -> &'static str {
    match common::Sex::try_from(value) {
        Ok(common::Sex::Woman) => "mujer",
        Ok(common::Sex::Man) => "hombre",
        Ok(common::Sex::NonBinary) => "no_binario",
        _ => "",
    }
}

fn status(value: i32) -> &'static str {
    match common::CandidacyStatus::try_from(value) {
        Ok(common::CandidacyStatus::Draft) => "draft",
        Ok(common::CandidacyStatus::Submitted) => "submitted",
        Ok(common::CandidacyStatus::Observed) => "observed",
        Ok(common::CandidacyStatus::Approved) => "approved",
        Ok(common::CandidacyStatus::Published) => "published",
        Ok(common::CandidacyStatus::Withdrawn) => "withdrawn",
        _ => "not_started",
    }
}

/// Stores capture's view of one candidacy (a withdrawn one leaves the registry).
pub async fn upsert(conn: &mut PgConnection, c: &capture::Candidacy) -> sqlx::Result<()> {
    let Some(d) = c.dimensions.as_ref() else {
        return Ok(());
    };
    let Some(id) = d
        .candidacy_id
        .as_ref()
        .and_then(|i| Uuid::parse_str(&i.value).ok())
    else {
        return Ok(());
    };
    let status = status(c.status);
    if status == "withdrawn" {
        sqlx::query("DELETE FROM registry WHERE candidacy_id = $1")
            .bind(id)
            .execute(conn)
            .await?;
        return Ok(());
    }
    let election = d
        .election_id
        .as_ref()
        .and_then(|e| Uuid::parse_str(&e.value).ok())
        .unwrap_or_default();
    let principle = if d.principle == common::Principle::Rp as i32 {
        "rp"
    } else {
        "mr"
    };
    let holder = c.holder.as_ref();
    let alternate = c.alternate.as_ref();
    sqlx::query(
        "INSERT INTO registry (candidacy_id, election_id, office_code, office, principle, slate_role, \
         constituency_code, constituency, postulant_code, postulant, list_position, holder_name, holder_sex, \
         alternate_name, alternate_sex, status, substitution_pending, alternate_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (candidacy_id) DO UPDATE SET office = EXCLUDED.office, constituency = EXCLUDED.constituency, \
         postulant = EXCLUDED.postulant, list_position = EXCLUDED.list_position, holder_name = EXCLUDED.holder_name, \
         holder_sex = EXCLUDED.holder_sex, alternate_name = EXCLUDED.alternate_name, \
         alternate_sex = EXCLUDED.alternate_sex, status = EXCLUDED.status, \
         substitution_pending = EXCLUDED.substitution_pending, slate_role = EXCLUDED.slate_role, \
         alternate_id = EXCLUDED.alternate_id",
    )
    .bind(id)
    .bind(election)
    .bind(&d.office)
    .bind(&c.office_name)
    .bind(principle)
    .bind(&c.slate_role)
    .bind(&d.constituency)
    .bind(&c.constituency_name)
    .bind(&d.postulant)
    .bind(&c.postulant_name)
    .bind(c.list_position as i32)
    .bind(holder.map(|p| p.full_name.as_str()).unwrap_or_default())
    .bind(holder.map_or("", |p| sex(p.sex)))
    .bind(alternate.map(|p| p.full_name.as_str()).unwrap_or_default())
    .bind(alternate.map_or("", |p| sex(p.sex)))
    .bind(status)
    .bind(c.substitution_pending)
    .bind(
        alternate
            .and_then(|p| p.id.as_ref())
            .and_then(|i| Uuid::parse_str(&i.value).ok()),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the election's entries not in `kept` (after a whole rebuild).
pub async fn keep_only(conn: &mut PgConnection, election: Uuid, kept: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM registry WHERE election_id = $1 AND NOT (candidacy_id = ANY($2))")
        .bind(election)
        .bind(kept)
        .execute(conn)
        .await?;
    Ok(())
}

/// The declared neutral rank of a candidacy, as the read model computes it
/// (`md5(candidacy_id || election_id)`, in hex).
pub fn neutral_rank(candidacy: Uuid, election: Uuid) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(format!("{candidacy}{election}")))
}

/// A registered candidacy without a published version, as the list and the pages show it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub listed: Listed,
    pub alternate_name: String,
    pub alternate_sex: String,
    pub state: &'static str,
}

fn pending(r: &sqlx::postgres::PgRow) -> Pending {
    Pending {
        listed: Listed {
            id: r.get("candidacy_id"),
            office_code: r.get("office_code"),
            office: r.get("office"),
            principle: r.get("principle"),
            constituency_code: r.get("constituency_code"),
            constituency: r.get("constituency"),
            postulant_code: r.get("postulant_code"),
            postulant: r.get("postulant"),
            list_position: r.get("list_position"),
            slate_role: r.get("slate_role"),
            holder_name: r.get("holder_name"),
            holder_sex: r.get("holder_sex"),
            holder_age: 0,
            education_level: String::new(),
            affirmative_action: String::new(),
            corrected_at: None,
        },
        alternate_name: r.get("alternate_name"),
        alternate_sex: r.get("alternate_sex"),
        state: state(r.get("status"), r.get("substitution_pending")),
    }
}

/// The alternates' names of `candidacies`, as registered (candidacies without one are left out).
pub async fn alternates(
    pool: &PgPool,
    candidacies: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, String>> {
    if candidacies.is_empty() {
        return Ok(Default::default());
    }
    Ok(sqlx::query_as::<_, (Uuid, String)>(
        "SELECT candidacy_id, alternate_name FROM registry \
         WHERE candidacy_id = ANY($1) AND alternate_name <> ''",
    )
    .bind(candidacies)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect())
}

const UNPUBLISHED: &str = "SELECT r.* FROM registry r \
     WHERE r.election_id = $1 AND NOT EXISTS ( \
         SELECT 1 FROM profiles p WHERE p.candidacy_id = r.candidacy_id AND p.withdrawn_at IS NULL)";

/// The registered candidacies of `election` without a published version whose registry facts
/// match: office (`cargo`), principle, constituency (`distrito`), postulant and holder's sex
/// (each empty: any), in the neutral order ([`crate::listing::order_key`]).
pub async fn unpublished(
    pool: &PgPool,
    election: Uuid,
    office: &str,
    principle: &str,
    constituencies: &[String],
    postulant: &str,
    sex: &str,
) -> sqlx::Result<Vec<Pending>> {
    let rows = sqlx::query(&format!(
        "{UNPUBLISHED} AND ($2 = '' OR r.office_code = $2) AND ($3 = '' OR r.principle = $3) \
         AND (cardinality($4::text[]) = 0 OR r.constituency_code = ANY($4)) \
         AND ($5 = '' OR r.postulant_code = $5) AND ($6 = '' OR r.holder_sex = $6)"
    ))
    .bind(election)
    .bind(office)
    .bind(principle)
    .bind(constituencies)
    .bind(postulant)
    .bind(sex)
    .fetch_all(pool)
    .await?;
    let mut entries: Vec<(String, i32, Pending)> = rows
        .iter()
        .map(|r| {
            let p = pending(r);
            let (rank, position) =
                crate::listing::order_key(election, neutral_rank(p.listed.id, election), &p.listed);
            (rank, position, p)
        })
        .collect();
    entries.sort_by(|a, b| (&a.0, a.1, a.2.listed.id).cmp(&(&b.0, b.1, b.2.listed.id)));
    Ok(entries.into_iter().map(|(_, _, p)| p).collect())
}

/// One registered candidacy without a published version.
pub async fn get_unpublished(
    pool: &PgPool,
    election: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Pending>> {
    Ok(
        sqlx::query(&format!("{UNPUBLISHED} AND r.candidacy_id = $2"))
            .bind(election)
            .bind(id)
            .fetch_optional(pool)
            .await?
            .as_ref()
            .map(pending),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_neutral_rank_is_postgres_md5_of_the_two_ids() {
        let candidacy = Uuid::from_u128(1);
        let election = Uuid::from_u128(2);
        // SELECT md5('00000000-0000-0000-0000-000000000001' || '00000000-0000-0000-0000-000000000002')
        assert_eq!(
            neutral_rank(candidacy, election),
            "7bb8edbf9bd3bae2e4fd91f5548bdf07"
        );
    }

    #[test]
    fn each_status_without_a_published_version_reads_as_a_state() {
        assert_eq!(
            state("not_started", false),
            "No ha proporcionado su información"
        );
        assert_eq!(state("draft", false), "No ha proporcionado su información");
        assert_eq!(state("submitted", false), "En revisión");
        assert_eq!(state("observed", false), "En revisión");
        assert_eq!(state("draft", true), "Sustitución en curso");
    }
}
