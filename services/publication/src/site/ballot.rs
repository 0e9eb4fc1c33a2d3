//! «¿Dónde voto?» and «Mi boleta»: from the sección printed on the voter card (or from a
//! municipality) to every contest of that place — the district's deputies, the state's RP
//! lists, the ayuntamiento's slates and its RP regidurías — on one printable page whose address
//! can be shared.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use sqlx::Row;
use uuid::Uuid;

use super::SiteState;
use super::pages::open_election;
use super::views::{
    BallotPage, ContestView, MunicipalityPage, SlatePosition, SlateView, WherePage, message, render,
};
use crate::listing::order_key;
use crate::model::listed;
use crate::places::{self, Office, SectionPlace};

fn unavailable(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "reading the places failed");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "No disponible",
        "El sitio no está disponible en este momento. Intente más tarde.",
    )
}

/// What a person typed as their sección: digits only (spaces and leading zeros allowed), 1 to
/// 9999. The error is the sentence the form shows.
pub fn parse_section(text: &str) -> Result<u32, &'static str> {
    let digits = text.trim();
    if digits.is_empty() {
        return Err("Escriba el número de sección de su credencial para votar.");
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("La sección se escribe solo con números, por ejemplo 0412.");
    }
    match digits.trim_start_matches('0').parse::<u32>() {
        Ok(n) if (1..=places::MAX_SECTION).contains(&n) => Ok(n),
        _ => Err("La sección es un número de 1 a 4 cifras, por ejemplo 0412."),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Where {
    seccion: Option<String>,
    municipio: Option<String>,
}

/// `GET /donde-voto`: the form (by sección or by municipality); with `seccion`, to its ballot;
/// with `municipio`, to the municipality's page.
pub async fn find(
    State(state): State<SiteState>,
    query: Result<Query<Where>, QueryRejection>,
) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Where { seccion, municipio } = query.map(|Query(q)| q).unwrap_or_default();
    let municipalities =
        match places::constituencies(&state.pool, election.id, "municipality").await {
            Ok(m) => m,
            Err(e) => return unavailable(e),
        };
    let mut page = WherePage {
        election: election.name.clone(),
        municipalities,
        typed: seccion.clone().unwrap_or_default(),
        error: String::new(),
    };
    if let Some(code) = municipio.filter(|m| !m.is_empty()) {
        if page.municipalities.iter().any(|m| m.code == code) {
            return Redirect::to(&format!("/municipios/{code}")).into_response();
        }
        page.error = "Elija un municipio de la lista.".into();
        return render(StatusCode::NOT_FOUND, &page);
    }
    let Some(typed) = seccion else {
        return render(StatusCode::OK, &page);
    };
    match parse_section(&typed) {
        Err(reason) => {
            page.error = reason.into();
            render(StatusCode::BAD_REQUEST, &page)
        }
        Ok(n) => match places::section(&state.pool, election.id, n).await {
            Ok(Some(_)) => Redirect::to(&format!("/boleta/{n}")).into_response(),
            Ok(None) => {
                page.error = format!(
                    "La sección {n} no está en el catálogo de secciones de esta elección. Revise el \
                     número en su credencial para votar (al frente, donde dice «SECCIÓN») o busque \
                     por municipio."
                );
                render(StatusCode::NOT_FOUND, &page)
            }
            Err(e) => unavailable(e),
        },
    }
}

/// `GET /municipios/{municipio}`: the municipality's districts (with their secciones) and
/// contests.
pub async fn municipality(State(state): State<SiteState>, Path(code): Path<String>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let found = async {
        let Some(place) = places::municipality(&state.pool, election.id, &code).await? else {
            return Ok(None);
        };
        let districts = places::districts_of(&state.pool, election.id, &code).await?;
        let offices = places::offices(&state.pool, election.id).await?;
        Ok::<_, sqlx::Error>(Some((place, districts, offices)))
    };
    let (place, districts, offices) = match found.await {
        Ok(Some(found)) => found,
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                "Municipio no encontrado",
                "Este municipio no está en el catálogo de la elección. Búsquelo en «¿Dónde voto?».",
            );
        }
        Err(e) => return unavailable(e),
    };
    let named = |kind: &str| {
        offices
            .iter()
            .filter(|o| o.constituency_kind == kind && o.slate_role.is_empty())
            .cloned()
            .collect::<Vec<Office>>()
    };
    render(
        StatusCode::OK,
        &MunicipalityPage {
            election: election.name,
            municipality: place,
            districts,
            district_offices: named("district"),
            list_offices: named("list"),
            ayuntamiento: offices.iter().any(|o| !o.slate_role.is_empty()),
        },
    )
}

/// `GET /boleta/{seccion}`: every contest the sección votes in, in ballot order.
pub async fn ballot(State(state): State<SiteState>, Path(typed): Path<String>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let not_found = || {
        message(
            StatusCode::NOT_FOUND,
            "Sección no encontrada",
            "Esta sección no está en el catálogo de secciones de la elección. Búsquela en «¿Dónde voto?».",
        )
    };
    let Ok(number) = parse_section(&typed) else {
        return not_found();
    };
    let section = match places::section(&state.pool, election.id, number).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_found(),
        Err(e) => return unavailable(e),
    };
    match contests(&state, election.id, &section).await {
        Ok(contests) => render(
            StatusCode::OK,
            &BallotPage {
                election: election.name,
                section,
                contests,
            },
        ),
        Err(e) => unavailable(e),
    }
}

/// The sección's contests: each office elected in its district, the state's lists, then its
/// municipality's ayuntamiento (the slates as units) and the ayuntamiento's RP lists.
async fn contests(
    state: &SiteState,
    election: Uuid,
    section: &SectionPlace,
) -> sqlx::Result<Vec<ContestView>> {
    let offices = places::offices(&state.pool, election).await?;
    let lists = places::constituencies(&state.pool, election, "list").await?;
    let mut contests = Vec::new();
    for office in offices.iter().filter(|o| o.slate_role.is_empty()) {
        let (codes, place): (Vec<String>, String) = match office.constituency_kind.as_str() {
            "district" => (
                vec![section.district.code.clone()],
                section.district.name.clone(),
            ),
            "municipality" => (
                vec![section.municipality.code.clone()],
                section.municipality.name.clone(),
            ),
            _ => (
                lists.iter().map(|l| l.code.clone()).collect(),
                match lists.as_slice() {
                    [_] => String::new(),
                    _ => "toda la entidad".into(),
                },
            ),
        };
        contests.push(office_contest(state, election, office, &codes, place).await?);
    }
    if offices.iter().any(|o| !o.slate_role.is_empty()) {
        let code = &section.municipality.code;
        let name = &section.municipality.name;
        let contest = super::ayuntamientos::load(state, election, code).await?;
        let (slates, lists) = contest.map(|c| (c.slates, c.lists)).unwrap_or_default();
        let links = if slates.is_empty() {
            Vec::new()
        } else {
            vec![
                (
                    format!("/ayuntamientos/{code}"),
                    format!("Las planillas de {name}"),
                ),
                (
                    format!("/ayuntamientos/{code}/comparar"),
                    "Comparar las planillas lado a lado".into(),
                ),
            ]
        };
        contests.push(ContestView {
            title: format!("Ayuntamiento de {name}"),
            note: "Se vota por una planilla completa: presidencia municipal, sindicaturas y \
                   regidurías, en el orden de la boleta."
                .into(),
            empty: "Aún no hay planillas publicadas para este municipio.".into(),
            groups: slates,
            links,
        });
        if !lists.is_empty() {
            contests.push(ContestView {
                title: format!("Regidurías de representación proporcional de {name}"),
                note: "Las listas de cada partido, en su orden de prelación.".into(),
                empty: String::new(),
                groups: lists,
                links: Vec::new(),
            });
        }
    }
    Ok(contests)
}

/// One office's contest in the constituencies `codes` (`place`: their name, empty when the
/// office names it already): the candidacies in the neutral order;
/// an RP office's lists whole, each in its own order.
async fn office_contest(
    state: &SiteState,
    election: Uuid,
    office: &Office,
    codes: &[String],
    place: String,
) -> sqlx::Result<ContestView> {
    let rows = sqlx::query(
        "SELECT * FROM profiles WHERE election_id = $1 AND office_code = $2 \
         AND constituency_code = ANY($3) AND withdrawn_at IS NULL",
    )
    .bind(election)
    .bind(&office.code)
    .bind(codes)
    .fetch_all(&state.pool)
    .await?;
    let mut entries: Vec<_> = rows
        .iter()
        .map(|r| {
            let l = listed(r);
            (order_key(election, r.get("neutral_rank"), &l), l, "")
        })
        .collect();
    // Every registered candidacy: those without a published version with their state.
    for p in
        crate::registry::unpublished(&state.pool, election, &office.code, "", codes, "", "").await?
    {
        let rank = crate::registry::neutral_rank(p.listed.id, election);
        entries.push((order_key(election, rank, &p.listed), p.listed, p.state));
    }
    entries.sort_by(|a, b| (&a.0, a.1.id).cmp(&(&b.0, b.1.id)));
    let rp = office.principle == "rp";
    let mut groups: Vec<SlateView> = Vec::new();
    for (_, l, pending) in entries {
        let position = SlatePosition {
            order: (0, l.list_position),
            label: if rp {
                format!("Lugar {}", l.list_position)
            } else {
                l.postulant.clone()
            },
            id: l.id.to_string(),
            holder: l.holder_name,
            state: pending,
        };
        let title = if rp { l.postulant } else { String::new() };
        match groups.last_mut() {
            Some(g) if g.postulant == title => g.positions.push(position),
            _ => groups.push(SlateView {
                postulant: title,
                positions: vec![position],
            }),
        }
    }
    let filter = match codes {
        [one] => format!("/candidaturas?cargo={}&distrito={one}", office.code),
        _ => format!("/candidaturas?cargo={}", office.code),
    };
    Ok(ContestView {
        title: if place.is_empty() {
            office.name.clone()
        } else {
            format!("{} · {place}", office.name)
        },
        note: if rp {
            "Las listas de cada partido, en su orden de prelación.".into()
        } else {
            "Cada partido, coalición o candidatura independiente postula una fórmula: una persona \
             propietaria y una suplente."
                .into()
        },
        empty: "Aún no hay candidaturas publicadas en esta contienda.".into(),
        groups,
        links: match codes {
            [one] if !rp => vec![
                (
                    format!("/comparar?cargo={}&distrito={one}", office.code),
                    "Comparar toda la contienda".into(),
                ),
                (filter, "Ver y filtrar esta contienda".into()),
            ],
            _ => vec![(filter, "Ver y filtrar esta contienda".into())],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_section_is_read_as_people_type_it() {
        assert_eq!(parse_section("0412"), Ok(412));
        assert_eq!(parse_section(" 412 "), Ok(412));
        assert_eq!(parse_section("9999"), Ok(9999));
        assert!(parse_section("").unwrap_err().contains("Escriba"));
        assert!(
            parse_section("41a")
                .unwrap_err()
                .contains("solo con números")
        );
        assert!(parse_section("0").unwrap_err().contains("1 a 4 cifras"));
        assert!(parse_section("10000").unwrap_err().contains("1 a 4 cifras"));
        assert!(parse_section("99999999999999999999").is_err());
    }

    proptest! {
        #[test]
        fn any_text_is_a_section_or_a_spanish_reason(text in "\\PC{0,30}") {
            match parse_section(&text) {
                Ok(n) => prop_assert!((1..=places::MAX_SECTION).contains(&n)),
                Err(reason) => prop_assert!(reason.ends_with('.')),
            }
        }
    }
}
