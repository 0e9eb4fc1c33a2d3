//! Where people vote, as the unit's catalogs say (`election.places_updated`): the offices with
//! the kind of constituency each is elected in, the districts, municipalities and RP lists, and
//! each sección of the voter card with its municipality and local district. «¿Dónde voto?» and
//! «Mi boleta» read it.

use chrono::{DateTime, Utc};
use conoceles_proto::events::v1 as events;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::model::fold;

/// The largest sección number INE uses is four digits.
pub const MAX_SECTION: u32 = 9999;

/// Replaces the election's places with the event's, unless a newer event was already applied
/// (events may be redelivered or arrive out of order). True when applied.
pub async fn replace(
    conn: &mut PgConnection,
    election: Uuid,
    at: DateTime<Utc>,
    e: &events::PlacesUpdated,
) -> sqlx::Result<bool> {
    let newer = sqlx::query(
        "INSERT INTO places_versions (election_id, occurred_at) VALUES ($1, $2) \
         ON CONFLICT (election_id) DO UPDATE SET occurred_at = EXCLUDED.occurred_at \
         WHERE places_versions.occurred_at <= EXCLUDED.occurred_at",
    )
    .bind(election)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !newer {
        return Ok(false);
    }
    for table in ["place_offices", "place_constituencies", "place_sections"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE election_id = $1"))
            .bind(election)
            .execute(&mut *conn)
            .await?;
    }
    let column =
        |f: fn(&events::PlaceOffice) -> &str| -> Vec<&str> { e.offices.iter().map(f).collect() };
    sqlx::query(
        "INSERT INTO place_offices (election_id, code, name, principle, constituency_kind, slate_role) \
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
    )
    .bind(election)
    .bind(column(|o| &o.code))
    .bind(column(|o| &o.name))
    .bind(column(|o| &o.principle))
    .bind(column(|o| &o.constituency_kind))
    .bind(column(|o| &o.slate_role))
    .execute(&mut *conn)
    .await?;
    let kinds: Vec<&str> = e.constituencies.iter().map(|c| c.kind.as_str()).collect();
    let codes: Vec<&str> = e.constituencies.iter().map(|c| c.code.as_str()).collect();
    let names: Vec<&str> = e.constituencies.iter().map(|c| c.name.as_str()).collect();
    let folded: Vec<String> = e.constituencies.iter().map(|c| fold(&c.name)).collect();
    sqlx::query(
        "INSERT INTO place_constituencies (election_id, kind, code, name, folded) \
         SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[])",
    )
    .bind(election)
    .bind(&kinds)
    .bind(&codes)
    .bind(&names)
    .bind(&folded)
    .execute(&mut *conn)
    .await?;
    let numbers: Vec<i32> = e.sections.iter().map(|s| s.number as i32).collect();
    let municipalities: Vec<&str> = e
        .sections
        .iter()
        .map(|s| s.municipality_code.as_str())
        .collect();
    let districts: Vec<&str> = e
        .sections
        .iter()
        .map(|s| s.district_code.as_str())
        .collect();
    sqlx::query(
        "INSERT INTO place_sections (election_id, section, municipality_code, district_code) \
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[])",
    )
    .bind(election)
    .bind(&numbers)
    .bind(&municipalities)
    .bind(&districts)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// A constituency: its code and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    pub name: String,
}

/// A sección and where it is.
#[derive(Debug, Clone)]
pub struct SectionPlace {
    pub number: u32,
    pub municipality: Place,
    pub district: Place,
}

/// An office of the election and the kind of constituency it is elected in.
#[derive(Debug, Clone)]
pub struct Office {
    pub code: String,
    pub name: String,
    pub principle: String,
    pub constituency_kind: String,
    pub slate_role: String,
}

impl Office {
    /// Where it goes on the ballots of a place: district contests, then the state's lists,
    /// then the ayuntamiento (presidencia, sindicaturas, regidurías; MR before RP).
    pub fn ballot_order(&self) -> (u8, u8, u8) {
        let kind = match self.constituency_kind.as_str() {
            "district" => 0,
            "list" => 1,
            _ => 2,
        };
        let role = match self.slate_role.as_str() {
            "presidencia" => 0,
            "sindicatura" => 1,
            "regiduria" => 2,
            _ => 0,
        };
        (kind, u8::from(self.principle == "rp"), role)
    }
}

/// The sección `number` of the election's catalog, with its municipality and district names.
pub async fn section(
    pool: &PgPool,
    election: Uuid,
    number: u32,
) -> sqlx::Result<Option<SectionPlace>> {
    let row = sqlx::query(
        "SELECT s.section, s.municipality_code, coalesce(m.name, s.municipality_code) AS municipality, \
                s.district_code, coalesce(d.name, s.district_code) AS district \
         FROM place_sections s \
         LEFT JOIN place_constituencies m ON m.election_id = s.election_id AND m.kind = 'municipality' AND m.code = s.municipality_code \
         LEFT JOIN place_constituencies d ON d.election_id = s.election_id AND d.kind = 'district' AND d.code = s.district_code \
         WHERE s.election_id = $1 AND s.section = $2",
    )
    .bind(election)
    .bind(number as i32)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| SectionPlace {
        number: r.get::<i32, _>("section") as u32,
        municipality: Place {
            code: r.get("municipality_code"),
            name: r.get("municipality"),
        },
        district: Place {
            code: r.get("district_code"),
            name: r.get("district"),
        },
    }))
}

/// The constituencies of one kind, in reading order (Álamos before Bacadéhuachi).
pub async fn constituencies(pool: &PgPool, election: Uuid, kind: &str) -> sqlx::Result<Vec<Place>> {
    let mut places: Vec<(String, Place)> = sqlx::query(
        "SELECT code, name, folded FROM place_constituencies WHERE election_id = $1 AND kind = $2",
    )
    .bind(election)
    .bind(kind)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        (
            r.get("folded"),
            Place {
                code: r.get("code"),
                name: r.get("name"),
            },
        )
    })
    .collect();
    places.sort_by(|a, b| (&a.0, &a.1.code).cmp(&(&b.0, &b.1.code)));
    Ok(places.into_iter().map(|(_, p)| p).collect())
}

/// The municipality `code`, if the catalog has it.
pub async fn municipality(
    pool: &PgPool,
    election: Uuid,
    code: &str,
) -> sqlx::Result<Option<Place>> {
    Ok(sqlx::query(
        "SELECT code, name FROM place_constituencies WHERE election_id = $1 AND kind = 'municipality' AND code = $2",
    )
    .bind(election)
    .bind(code)
    .fetch_optional(pool)
    .await?
    .map(|r| Place {
        code: r.get("code"),
        name: r.get("name"),
    }))
}

/// A district of a municipality and the range of its secciones there.
#[derive(Debug, Clone)]
pub struct DistrictPart {
    pub district: Place,
    pub sections: i64,
    pub first: i32,
    pub last: i32,
}

/// The districts a municipality's secciones belong to, in district order.
pub async fn districts_of(
    pool: &PgPool,
    election: Uuid,
    municipality: &str,
) -> sqlx::Result<Vec<DistrictPart>> {
    Ok(sqlx::query(
        "SELECT s.district_code, coalesce(d.name, s.district_code) AS name, count(*) AS sections, \
                min(s.section) AS first, max(s.section) AS last \
         FROM place_sections s \
         LEFT JOIN place_constituencies d ON d.election_id = s.election_id AND d.kind = 'district' AND d.code = s.district_code \
         WHERE s.election_id = $1 AND s.municipality_code = $2 \
         GROUP BY s.district_code, d.name ORDER BY s.district_code",
    )
    .bind(election)
    .bind(municipality)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| DistrictPart {
        district: Place {
            code: r.get("district_code"),
            name: r.get("name"),
        },
        sections: r.get("sections"),
        first: r.get("first"),
        last: r.get("last"),
    })
    .collect())
}

/// The election's offices in ballot order.
pub async fn offices(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Office>> {
    let mut offices: Vec<Office> = sqlx::query(
        "SELECT code, name, principle, constituency_kind, slate_role FROM place_offices WHERE election_id = $1",
    )
    .bind(election)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Office {
        code: r.get("code"),
        name: r.get("name"),
        principle: r.get("principle"),
        constituency_kind: r.get("constituency_kind"),
        slate_role: r.get("slate_role"),
    })
    .collect();
    offices.sort_by(|a, b| (a.ballot_order(), &a.code).cmp(&(b.ballot_order(), &b.code)));
    Ok(offices)
}

/// The municipalities whose folded name holds the folded `text` (at least three letters).
pub async fn municipalities_named(
    pool: &PgPool,
    election: Uuid,
    text: &str,
) -> sqlx::Result<Vec<Place>> {
    let needle = fold(text.trim());
    if needle.chars().count() < 3 {
        return Ok(Vec::new());
    }
    Ok(sqlx::query(
        "SELECT code, name FROM place_constituencies WHERE election_id = $1 AND kind = 'municipality' \
         AND strpos(folded, $2) > 0 ORDER BY folded LIMIT 5",
    )
    .bind(election)
    .bind(&needle)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Place {
        code: r.get("code"),
        name: r.get("name"),
    })
    .collect())
}
