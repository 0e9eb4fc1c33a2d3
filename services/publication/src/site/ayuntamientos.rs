//! Ayuntamientos: each municipality's contest, every postulant's slate shown as a unit in
//! ballot order (presidencia, sindicaturas, regidurías of mayoría relativa in number order),
//! the postulants in the declared neutral order, then the parties' lists of regidurías of
//! representación proporcional.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use sqlx::Row;

use super::SiteState;
use super::pages::open_election;
use super::views::{
    AyuntamientoPage, AyuntamientosPage, SlateComparePage, SlatePosition, SlateView,
};
use super::views::{message, render};
use crate::model::position_label;

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "No disponible",
        "El sitio no está disponible en este momento. Intente más tarde.",
    )
}

/// `GET /ayuntamientos`: the municipalities whose slates are published.
pub async fn index(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Ok(rows) = sqlx::query(
        "SELECT constituency_code, constituency, count(DISTINCT postulant_code) FILTER (WHERE principle = 'mr') AS slates \
         FROM profiles WHERE election_id = $1 AND slate_role <> '' AND withdrawn_at IS NULL \
         GROUP BY constituency_code, constituency",
    )
    .bind(election.id)
    .fetch_all(&state.pool)
    .await
    else {
        return unavailable();
    };
    let mut municipalities: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("constituency_code"),
                r.get::<String, _>("constituency"),
                r.get::<i64, _>("slates"),
            )
        })
        .collect();
    // Alphabetical as people read it: Álamos before Bacadéhuachi.
    municipalities.sort_by_key(|(_, name, _)| crate::model::fold(name));
    render(
        StatusCode::OK,
        &AyuntamientosPage {
            election: election.name,
            municipalities,
        },
    )
}

/// `GET /ayuntamientos/{municipio}`: the municipality's slates and RP lists.
pub async fn municipality(State(state): State<SiteState>, Path(code): Path<String>) -> Response {
    let (election, contest) = match published(&state, &code).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let substitutions: Vec<String> =
        crate::notices::substitutions(&state.pool, election.id, "", &code, "")
            .await
            .unwrap_or_default()
            .iter()
            .map(crate::notices::Notice::contest)
            .collect();
    let Contest {
        name,
        slates,
        lists,
    } = contest;
    render(
        StatusCode::OK,
        &AyuntamientoPage {
            election: election.name,
            municipality: name,
            code,
            slates,
            lists,
            substitutions,
        },
    )
}

/// A municipality's published slates and RP lists.
pub(super) struct Contest {
    pub name: String,
    pub slates: Vec<SlateView>,
    pub lists: Vec<SlateView>,
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "Ayuntamiento no encontrado",
        "No hay planillas publicadas para este municipio. Vea la lista de ayuntamientos en /ayuntamientos.",
    )
}

/// The open election and the municipality's published contest, or the page that says why not.
async fn published(
    state: &SiteState,
    code: &str,
) -> Result<(crate::model::Election, Contest), Response> {
    let election = open_election(state).await?;
    match load(state, election.id, code).await {
        Ok(Some(contest)) => Ok((election, contest)),
        Ok(None) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %e, "reading a municipality's slates failed");
            Err(unavailable())
        }
    }
}

pub(super) async fn load(
    state: &SiteState,
    election: uuid::Uuid,
    code: &str,
) -> sqlx::Result<Option<Contest>> {
    // Postulants in the declared neutral order (a fixed pseudo-random rank of each postulant
    // in this election), positions in ballot order.
    // Every registered position: the published ones, and those without a published version
    // with their state.
    let rows = sqlx::query(
        "SELECT * FROM ( \
           SELECT candidacy_id, constituency, postulant_code, postulant, office, principle, slate_role, list_position, \
                  holder_name, 'published' AS status, false AS substitution_pending \
           FROM profiles WHERE election_id = $1 AND constituency_code = $2 AND slate_role <> '' AND withdrawn_at IS NULL \
           UNION ALL \
           SELECT r.candidacy_id, r.constituency, r.postulant_code, r.postulant, r.office, r.principle, r.slate_role, \
                  r.list_position, r.holder_name, r.status, r.substitution_pending \
           FROM registry r WHERE r.election_id = $1 AND r.constituency_code = $2 AND r.slate_role <> '' \
             AND NOT EXISTS (SELECT 1 FROM profiles p WHERE p.candidacy_id = r.candidacy_id AND p.withdrawn_at IS NULL) \
         ) positions \
         ORDER BY principle, md5(postulant_code || $1::text), \
                  CASE slate_role WHEN 'presidencia' THEN 0 WHEN 'sindicatura' THEN 1 ELSE 2 END, list_position",
    )
    .bind(election)
    .bind(code)
    .fetch_all(&state.pool)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let name: String = first.get("constituency");
    let (mut slates, mut lists): (Vec<SlateView>, Vec<SlateView>) = (Vec::new(), Vec::new());
    for r in &rows {
        let rp = r.get::<String, _>("principle") == "rp";
        let groups = if rp { &mut lists } else { &mut slates };
        let postulant: String = r.get("postulant");
        if groups.last().is_none_or(|g| g.postulant != postulant) {
            groups.push(SlateView {
                postulant: postulant.clone(),
                positions: Vec::new(),
            });
        }
        let position: i32 = r.get("list_position");
        let label = if rp {
            format!("Lugar {position}")
        } else {
            position_label(
                r.get::<&str, _>("office"),
                r.get::<&str, _>("slate_role"),
                position,
            )
        };
        let order = match r.get::<&str, _>("slate_role") {
            "presidencia" => 0,
            "sindicatura" => 1,
            _ => 2,
        };
        if let Some(group) = groups.last_mut() {
            group.positions.push(SlatePosition {
                order: (order, position),
                label,
                id: r.get::<uuid::Uuid, _>("candidacy_id").to_string(),
                holder: r.get("holder_name"),
                state: match r.get::<&str, _>("status") {
                    "published" => "",
                    status => crate::registry::state(status, r.get("substitution_pending")),
                },
            });
        }
    }
    Ok(Some(Contest {
        name,
        slates,
        lists,
    }))
}

/// `GET /ayuntamientos/{municipio}/comparar`: the slates side by side, one row per position in
/// ballot order, one column per postulant (neutral order).
pub async fn compare(State(state): State<SiteState>, Path(code): Path<String>) -> Response {
    let (election, contest) = match published(&state, &code).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    // Every position any slate shows, in ballot order.
    let labels: std::collections::BTreeMap<(u8, i32), String> = contest
        .slates
        .iter()
        .flat_map(|s| s.positions.iter().map(|p| (p.order, p.label.clone())))
        .collect();
    let rows = labels
        .into_values()
        .map(|label| {
            let cells = contest
                .slates
                .iter()
                .map(|s| {
                    s.positions.iter().find(|p| p.label == label).map(|p| {
                        let shown = if p.state.is_empty() {
                            p.holder.clone()
                        } else {
                            format!("{} ({})", p.holder, p.state.to_lowercase())
                        };
                        (p.id.clone(), shown)
                    })
                })
                .collect();
            (label, cells)
        })
        .collect();
    render(
        StatusCode::OK,
        &SlateComparePage {
            election: election.name,
            municipality: contest.name,
            code,
            postulants: contest.slates.iter().map(|s| s.postulant.clone()).collect(),
            rows,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_named_as_on_the_ballot() {
        assert_eq!(
            position_label("Presidencia municipal", "presidencia", 0),
            "Presidencia municipal"
        );
        assert_eq!(
            position_label("Sindicatura", "sindicatura", 1),
            "Sindicatura 1"
        );
        assert_eq!(
            position_label("Regiduría de mayoría relativa", "regiduria", 3),
            "Regiduría 3"
        );
    }
}
