//! Ayuntamientos: each municipality's contest, every postulant's slate shown as a unit in
//! ballot order (presidencia, sindicaturas, regidurías of mayoría relativa in number order),
//! the postulants in the declared neutral order, then the parties' lists of regidurías of
//! representación proporcional.

use axum::extract::{Path, State};
use axum::response::Response;
use http::StatusCode;
use sqlx::Row;

use super::SiteState;
use super::pages::{message, open_election, render};
use super::views::{AyuntamientoPage, AyuntamientosPage, SlatePosition, SlateView};

/// What a position is called on the ballot: «Presidencia municipal», «Sindicatura 1»,
/// «Regiduría 3».
pub fn position_label(office: &str, slate_role: &str, position: i32) -> String {
    match slate_role {
        "presidencia" => office.to_string(),
        "sindicatura" if position > 0 => format!("Sindicatura {position}"),
        "regiduria" if position > 0 => format!("Regiduría {position}"),
        _ => office.to_string(),
    }
}

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
        "SELECT constituency_code, constituency, count(DISTINCT postulant_code) FILTER (WHERE slate_role = 'presidencia') AS slates \
         FROM profiles WHERE election_id = $1 AND slate_role <> '' AND withdrawn_at IS NULL \
         GROUP BY constituency_code, constituency ORDER BY constituency",
    )
    .bind(election.id)
    .fetch_all(&state.pool)
    .await
    else {
        return unavailable();
    };
    let municipalities = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("constituency_code"),
                r.get::<String, _>("constituency"),
                r.get::<i64, _>("slates"),
            )
        })
        .collect();
    render(
        StatusCode::OK,
        &AyuntamientosPage {
            election: election.name,
            municipalities,
        },
    )
}

/// `GET /ayuntamientos/{municipio}`: the municipality's slates and RP lists.
pub async fn municipality(
    State(state): State<SiteState>,
    Path(code): Path<String>,
) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    // Postulants in the declared neutral order (a fixed pseudo-random rank of each postulant
    // in this election), positions in ballot order.
    let Ok(rows) = sqlx::query(
        "SELECT candidacy_id, constituency, postulant_code, postulant, office, principle, slate_role, list_position, holder_name \
         FROM profiles WHERE election_id = $1 AND constituency_code = $2 AND slate_role <> '' AND withdrawn_at IS NULL \
         ORDER BY principle, md5(postulant_code || election_id::text), \
                  CASE slate_role WHEN 'presidencia' THEN 0 WHEN 'sindicatura' THEN 1 ELSE 2 END, list_position",
    )
    .bind(election.id)
    .bind(&code)
    .fetch_all(&state.pool)
    .await
    else {
        return unavailable();
    };
    let substitutions: Vec<String> =
        crate::notices::substitutions(&state.pool, election.id, "", &code, "")
            .await
            .unwrap_or_default()
            .iter()
            .map(crate::notices::Notice::contest)
            .collect();
    let Some(first) = rows.first() else {
        return message(
            StatusCode::NOT_FOUND,
            "Ayuntamiento no encontrado",
            "No hay planillas publicadas para este municipio. Vea la lista de ayuntamientos en /ayuntamientos.",
        );
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
        if let Some(group) = groups.last_mut() {
            group.positions.push(SlatePosition {
                label,
                id: r.get::<uuid::Uuid, _>("candidacy_id").to_string(),
                holder: r.get("holder_name"),
            });
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_named_as_on_the_ballot() {
        assert_eq!(
            position_label("Presidencia municipal", "presidencia", 0),
            "Presidencia municipal"
        );
        assert_eq!(position_label("Sindicatura", "sindicatura", 1), "Sindicatura 1");
        assert_eq!(
            position_label("Regiduría de mayoría relativa", "regiduria", 3),
            "Regiduría 3"
        );
    }
}
