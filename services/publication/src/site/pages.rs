//! The pages: home ("who runs where I vote"), the list with filters in the declared neutral
//! order, a profile, the comparison of up to four candidacies of one contest.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{StatusCode, header};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

use super::SiteState;
use super::views::*;
use crate::listing::Column;
use crate::model::{self, Election, Filters, PAGE_SIZE};

pub async fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        "No encontrado",
        "No encontramos esta página.",
    )
}

fn unavailable() -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        "No disponible",
        "El sitio no está disponible en este momento. Intente más tarde.",
    )
}

/// The election, if its publication has started; otherwise the page that says from when.
pub async fn open_election(state: &SiteState) -> Result<Election, Response> {
    match model::election(&state.pool).await {
        Ok(Some(e)) if e.open(Utc::now()) || super::preview::active() => Ok(e),
        Ok(Some(e)) => Err(message(
            StatusCode::OK,
            "Próximamente",
            &format!(
                "La información de las candidaturas de «{}» se publicará a partir del {}.",
                e.name,
                e.local(e.publication_starts_at)
            ),
        )),
        Ok(None) => Err(message(
            StatusCode::OK,
            "Próximamente",
            "Aún no hay candidaturas publicadas.",
        )),
        Err(e) => {
            tracing::error!(error = %e, "reading the election failed");
            Err(unavailable())
        }
    }
}

pub async fn home(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let constituencies = state
        .listing
        .choices(&state.pool, election.id, Column::Constituency)
        .await
        .unwrap_or_default();
    let total = state
        .listing
        .list(&state.pool, election.id, &Filters::default())
        .await
        .map(|(_, t)| t)
        .unwrap_or(0);
    let municipal = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM profiles WHERE election_id = $1 AND slate_role <> '' AND withdrawn_at IS NULL)",
    )
    .bind(election.id)
    .fetch_one(&state.pool)
    .await
    .unwrap_or(false);
    let sections = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM place_sections WHERE election_id = $1)",
    )
    .bind(election.id)
    .fetch_one(&state.pool)
    .await
    .unwrap_or(false);
    render(
        StatusCode::OK,
        &HomePage {
            election: election.name,
            constituencies,
            total,
            municipal,
            sections,
        },
    )
}

fn photo_of(person: &Value) -> Option<String> {
    person["has_photo"]
        .as_bool()
        .unwrap_or(true)
        .then(|| person["person_id"].as_str().map(|p| format!("/fotos/{p}")))
        .flatten()
}

pub async fn list(
    State(state): State<SiteState>,
    filters: Result<Query<Filters>, QueryRejection>,
) -> Response {
    // A filter or page number edited by hand into something else: said in a page.
    let Ok(Query(filters)) = filters else {
        return message(
            StatusCode::BAD_REQUEST,
            "Búsqueda no válida",
            "Algún filtro o el número de página no tiene un valor válido. Vuelva a la lista de \
             candidaturas y elija de nuevo.",
        );
    };
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Ok((items, total)) = state.listing.list(&state.pool, election.id, &filters).await else {
        return unavailable();
    };
    let choices = |column| state.listing.choices(&state.pool, election.id, column);
    let counts = |column| state.listing.counts(&state.pool, election.id, column);
    // Each choice with how many published candidacies of the election have it.
    let counted = |choices: Vec<(String, String)>, counts: HashMap<String, usize>| {
        choices
            .into_iter()
            .map(|(code, name)| {
                let n = counts.get(&code).copied().unwrap_or(0);
                (code, format!("{name} ({n})"))
            })
            .collect::<Vec<_>>()
    };
    let offices = counted(
        choices(Column::Office).await.unwrap_or_default(),
        counts(Column::Office).await.unwrap_or_default(),
    );
    let postulants = counted(
        choices(Column::Postulant).await.unwrap_or_default(),
        counts(Column::Postulant).await.unwrap_or_default(),
    );
    let constituencies = counted(
        choices(Column::Constituency).await.unwrap_or_default(),
        counts(Column::Constituency).await.unwrap_or_default(),
    );
    let sexes = counted(
        vec![
            ("mujer".into(), "Mujer".into()),
            ("hombre".into(), "Hombre".into()),
            ("no_binario".into(), "No binario".into()),
        ],
        counts(Column::Sex).await.unwrap_or_default(),
    );
    let education = counted(
        conoceles_curricular::sections::EDUCATION_LEVELS
            .iter()
            .map(|(code, name)| (code.to_string(), name.to_string()))
            .collect(),
        counts(Column::Education).await.unwrap_or_default(),
    );
    let active_filters = [
        &filters.cargo,
        &filters.principio,
        &filters.distrito,
        &filters.municipio,
        &filters.postulante,
        &filters.sexo,
        &filters.edad,
        &filters.escolaridad,
        &filters.accion_afirmativa,
    ]
    .iter()
    .filter(|v| !v.is_empty())
    .count();
    let mut query: Vec<String> = Vec::new();
    for (k, v) in [
        ("cargo", &filters.cargo),
        ("principio", &filters.principio),
        ("distrito", &filters.distrito),
        ("municipio", &filters.municipio),
        ("postulante", &filters.postulante),
        ("sexo", &filters.sexo),
        ("edad", &filters.edad),
        ("escolaridad", &filters.escolaridad),
        ("accion_afirmativa", &filters.accion_afirmativa),
        ("q", &filters.q),
    ] {
        if !v.is_empty() {
            query.push(format!("{k}={}", urlencode(v)));
        }
    }
    let substitutions = crate::notices::substitutions(
        &state.pool,
        election.id,
        &filters.cargo,
        &filters.distrito,
        &filters.postulante,
    )
    .await
    .unwrap_or_default()
    .into_iter()
    .map(|n| (n.candidacy.to_string(), n.contest()))
    .collect();
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1) as u32;
    // One contest on the page (a district's, a list's): all of it can be compared at once.
    let whole_contest = match items.first() {
        Some(first)
            if items.len() >= 2
                && pages == 1
                && items.iter().all(|i| {
                    (&i.office_code, &i.constituency_code)
                        == (&first.office_code, &first.constituency_code)
                }) =>
        {
            Some(format!(
                "/comparar?cargo={}&distrito={}",
                urlencode(&first.office_code),
                urlencode(&first.constituency_code)
            ))
        }
        _ => None,
    };
    let mut cards: Vec<Card> = items
        .into_iter()
        .map(|item| Card {
            item,
            state: None,
            alternate: None,
        })
        .collect();
    let ids: Vec<Uuid> = cards.iter().map(|c| c.item.id).collect();
    let mut alternates = crate::registry::alternates(&state.pool, &ids)
        .await
        .unwrap_or_default();
    for card in &mut cards {
        card.alternate = alternates.remove(&card.item.id);
    }
    // Every registered candidacy: those without a published version, with their state, in the
    // same neutral order — among the cards when the list fits one page, apart otherwise.
    let pending = unpublished(&state, election.id, &filters).await;
    let unpublished_count = pending.len() as i64;
    let mut apart = Vec::new();
    if !pending.is_empty() && pages == 1 && filters.pagina.get() == 1 {
        // Published or not, a candidacy's neutral rank is derived from its id and the election's.
        let key = |item: &model::Listed| {
            let rank = crate::registry::neutral_rank(item.id, election.id);
            crate::listing::order_key(election.id, rank, item)
        };
        let mut merged: Vec<((String, i32), Card)> =
            cards.into_iter().map(|c| (key(&c.item), c)).collect();
        for p in pending {
            merged.push((
                key(&p.listed),
                Card {
                    item: p.listed,
                    state: Some(p.state),
                    alternate: Some(p.alternate_name).filter(|n| !n.is_empty()),
                },
            ));
        }
        merged.sort_by(|a, b| (&a.0, a.1.item.id).cmp(&(&b.0, b.1.item.id)));
        cards = merged.into_iter().map(|(_, c)| c).collect();
    } else if filters.pagina.get() == 1 {
        apart = pending
            .into_iter()
            .map(|p| Card {
                item: p.listed,
                state: Some(p.state),
                alternate: Some(p.alternate_name).filter(|n| !n.is_empty()),
            })
            .collect();
    }
    // «torreon» typed in the name box: the municipality is a place, not a name.
    let municipalities = crate::places::municipalities_named(&state.pool, election.id, &filters.q)
        .await
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &ListPage {
            election: election.name,
            page: filters.pagina.get(),
            filters,
            offices,
            postulants,
            constituencies,
            sexes,
            education,
            active_filters,
            cards,
            substitutions,
            total: total + unpublished_count,
            pages,
            query: query.join("&"),
            municipalities,
            unpublished: unpublished_count,
            apart,
            whole_contest,
        },
    )
}

/// The registered candidacies without a published version that the list's filters select: only
/// the registry's facts can be matched, so a filter on what the questionnaire says (name search,
/// age, schooling, affirmative action) leaves them out.
async fn unpublished(
    state: &SiteState,
    election: Uuid,
    f: &Filters,
) -> Vec<crate::registry::Pending> {
    let by_questionnaire = [&f.q, &f.edad, &f.escolaridad, &f.accion_afirmativa];
    if by_questionnaire.iter().any(|v| !v.is_empty()) {
        return Vec::new();
    }
    let constituencies: Vec<String> = [&f.distrito, &f.municipio]
        .into_iter()
        .filter(|c| !c.is_empty())
        .cloned()
        .collect();
    crate::registry::unpublished(
        &state.pool,
        election,
        &f.cargo,
        &f.principio,
        &constituencies,
        &f.postulante,
        &f.sexo,
    )
    .await
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "reading the registry failed");
        Vec::new()
    })
}

pub(super) fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

const ALTERNATE: &str = "Suplente";

/// A field's label as the profile shows it: without the capture form's numbering and "público"
/// («Teléfono público 1» → «Teléfono»), and empty when it only repeats its section's title.
fn public_label(label: &str, section: &str) -> String {
    if label == section {
        return String::new();
    }
    let numbered_contact = label.contains(" públic") || label.starts_with("Domicilio de casa");
    if !numbered_contact {
        return label.to_string();
    }
    label
        .trim_end_matches([' ', '1', '2', '3'])
        .replace(" público", "")
        .replace(" pública", "")
        .trim()
        .to_string()
}

/// A Mexican 10-digit number as people read it: «844 123 4567»; anything else as typed.
fn readable_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix("52")
        .filter(|d| d.len() == 10)
        .unwrap_or(&digits);
    if national.len() == 10 {
        format!("{} {} {}", &national[..3], &national[3..6], &national[6..])
    } else {
        phone.to_string()
    }
}

fn persons(profile: &Value) -> Vec<ShownPerson> {
    profile["persons"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| ShownPerson {
            role_label: match (p["role"].as_str(), p["sex"].as_str()) {
                (Some("alternate"), _) => ALTERNATE,
                (_, Some("mujer")) => "Propietaria",
                (_, Some("hombre")) => "Propietario",
                _ => "Persona propietaria",
            },
            full_name: p["full_name"].as_str().unwrap_or_default().to_string(),
            age: p["age"].as_i64().unwrap_or(0),
            photo: photo_of(p),
            sections: p["sections"]
                .as_object()
                .map(|sections| {
                    [
                        "general",
                        "education",
                        "professional",
                        "political",
                        "motivation",
                        "proposals",
                        "gender",
                        "adicional",
                    ]
                    .iter()
                    .filter_map(|slug| sections.get(*slug))
                    .map(|s| {
                        let fields = s["fields"]
                            .as_object()
                            .map(|f| {
                                f.iter()
                                    .map(|(name, v)| {
                                        let raw = v["shown"].as_str().unwrap_or_default();
                                        let shown = if name.starts_with("phone_") {
                                            readable_phone(raw)
                                        } else {
                                            raw.to_string()
                                        };
                                        let link = if v["has_document"] == Value::Bool(true) {
                                            p["person_id"].as_str().map(|person| {
                                                format!("/documentos/{person}/{name}")
                                            })
                                        } else {
                                            shown.starts_with("https://").then(|| shown.clone())
                                        };
                                        (
                                            public_label(
                                                v["label"].as_str().unwrap_or_default(),
                                                s["title"].as_str().unwrap_or_default(),
                                            ),
                                            shown,
                                            link,
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        (s["title"].as_str().unwrap_or_default().to_string(), fields)
                    })
                    .collect()
                })
                .unwrap_or_default(),
            identity: Vec::new(),
        })
        .collect()
}

/// (question, answer) texts of a stored identity subset.
fn answers(identity: &Value) -> Vec<(String, String)> {
    identity
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["question"].as_str().unwrap_or_default().to_string(),
                a["answer"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The former URL of a candidacy being substituted (200, it is still in the contest) or
/// cancelled (410, with the date).
async fn notice(state: &SiteState, election: &Election, id: Uuid) -> Response {
    match crate::notices::get(&state.pool, election.id, id).await {
        Ok(Some(n)) => {
            let since = n.since_local(election);
            let (status, page) = match n.kind {
                crate::notices::Kind::Substitution => (
                    StatusCode::OK,
                    NoticePage {
                        title: "Sustitución en curso".into(),
                        contest: n.contest(),
                        message: format!(
                            "Sustitución: la información de la nueva persona está pendiente. \
                             El partido sustituyó a una persona de esta candidatura el {since}; \
                             su información se publicará cuando el Instituto apruebe el cuestionario \
                             de la nueva persona."
                        ),
                    },
                ),
                crate::notices::Kind::Cancelled => (
                    StatusCode::GONE,
                    NoticePage {
                        title: "Candidatura cancelada".into(),
                        contest: n.contest(),
                        message: format!(
                            "Esta candidatura se canceló el {since} y ya no participa en la contienda."
                        ),
                    },
                ),
            };
            render(status, &page)
        }
        Ok(None) => registered(state, election, id).await,
        Err(_) => unavailable(),
    }
}

/// A registered candidacy without a published version: the registry's public facts and why its
/// information is not shown yet.
async fn registered(state: &SiteState, election: &Election, id: Uuid) -> Response {
    match crate::registry::get_unpublished(&state.pool, election.id, id).await {
        Ok(Some(p)) => {
            let explanation = match p.state {
                "Sustitución en curso" => {
                    "El partido sustituyó a una persona de esta candidatura; la información de la                      nueva persona se publicará cuando el organismo electoral apruebe su cuestionario."
                }
                "En revisión" => {
                    "El organismo electoral revisa la información que se envió; se publicará cuando                      la apruebe."
                }
                _ => {
                    "Aún no se envía el cuestionario curricular de esta candidatura. Su información                      se publicará aquí cuando el organismo electoral la apruebe."
                }
            };
            render(
                StatusCode::OK,
                &RegistryPage {
                    report: report_link(election, &p.listed),
                    holder_role: holder_role(&p.listed.holder_sex),
                    alternate_name: p.alternate_name,
                    state: p.state,
                    explanation,
                    item: p.listed,
                },
            )
        }
        Ok(None) => not_found().await,
        Err(_) => unavailable(),
    }
}

/// The holder as a schema.org `Person` (name, the office sought, the postulant, the photo),
/// serialized so that nothing in it can close the script element.
fn person_json_ld(p: &model::Published, site: &str) -> String {
    let l = &p.listed;
    let holder = p.profile["persons"]
        .as_array()
        .and_then(|persons| persons.iter().find(|x| x["role"] != "alternate"));
    let mut person = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Person",
        "name": l.holder_name,
        "url": format!("{site}/candidaturas/{}", l.id),
        "jobTitle": format!("Candidatura a {} · {}", l.seat(), l.constituency),
        "affiliation": { "@type": "Organization", "name": l.postulant },
    });
    if let Some(src) = holder.and_then(photo_of) {
        person["image"] = Value::String(format!("{site}{src}"));
    }
    person
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A `mailto:` to the election's corrections address, the subject naming the candidacy.
fn report_link(election: &Election, l: &model::Listed) -> Option<String> {
    if election.corrections_email.is_empty() {
        return None;
    }
    let subject = format!(
        "Error en la información de {} ({}, {}) [{}]",
        l.holder_name,
        l.seat(),
        l.constituency,
        l.id
    );
    Some(format!(
        "mailto:{}?subject={}",
        election.corrections_email,
        urlencode(&subject)
    ))
}

/// «Propietaria», «Propietario» or «Persona propietaria», as the person's sex says.
fn holder_role(sex: &str) -> &'static str {
    match sex {
        "mujer" => "Propietaria",
        "hombre" => "Propietario",
        _ => "Persona propietaria",
    }
}

pub async fn profile(State(state): State<SiteState>, Path(id): Path<String>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found().await;
    };
    match model::get(&state.pool, election.id, id).await {
        Ok(Some(p)) => {
            let keys = super::edge::SurrogateKeys(vec![
                super::edge::candidacy_key(p.listed.id),
                super::edge::contest_key(&p.listed.office_code, &p.listed.constituency_code),
            ]);
            let mut page = render(
                StatusCode::OK,
                &ProfilePage {
                    alternate: p.registered_alternate.as_ref().map(|a| a.full_name.clone()),
                    report: report_link(&election, &p.listed),
                    url: format!("{}/candidaturas/{}", state.public_url, p.listed.id),
                    image: p.profile["persons"]
                        .as_array()
                        .and_then(|persons| persons.iter().find(|x| x["role"] != "alternate"))
                        .and_then(photo_of)
                        .map(|src| format!("{}{src}", state.public_url)),
                    json_ld: person_json_ld(&p, &state.public_url),
                    persons: persons(&p.profile)
                        .into_iter()
                        .map(|mut person| {
                            person.identity = answers(if person.role_label == ALTERNATE {
                                &p.alternate_identity
                            } else {
                                &p.identity
                            });
                            person
                        })
                        .collect(),
                    corrected: p.listed.corrected_at.map(|c| election.local(c)),
                    updated: election.local(p.listed.corrected_at.unwrap_or(p.approved_at)),
                    sha256: p.profile["content_sha256"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    item: p.listed,
                },
            );
            page.extensions_mut().insert(keys);
            page
        }
        Ok(None) => notice(&state, &election, id).await,
        Err(_) => unavailable(),
    }
}

/// `GET /documentos/{person}/{field}`: a published PDF of one of the election's own fields.
pub async fn document(
    State(state): State<SiteState>,
    Path((person, field)): Path<(String, String)>,
) -> Response {
    let Ok(person) = Uuid::parse_str(&person) else {
        return not_found().await;
    };
    if open_election(&state).await.is_err() {
        return not_found().await;
    }
    match model::document(&state.pool, person, &field).await {
        Ok(Some(pdf)) => (
            [
                (header::CONTENT_TYPE, "application/pdf"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            pdf,
        )
            .into_response(),
        Ok(None) => not_found().await,
        Err(_) => unavailable(),
    }
}

pub async fn photo(State(state): State<SiteState>, Path(person): Path<String>) -> Response {
    let Ok(person) = Uuid::parse_str(&person) else {
        return not_found().await;
    };
    if open_election(&state).await.is_err() {
        return not_found().await;
    }
    match model::photo(&state.pool, person).await {
        Ok(Some(jpeg)) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            jpeg,
        )
            .into_response(),
        Ok(None) => not_found().await,
        Err(_) => unavailable(),
    }
}

/// `GET /candidaturas/{id}/foto`: the holder's photo for the list's cards; a neutral figure
/// while the candidacy has none published (registered, in review, or without a photo).
pub async fn card_photo(State(state): State<SiteState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return not_found().await;
    };
    if open_election(&state).await.is_err() {
        return not_found().await;
    }
    match model::holder_photo(&state.pool, id).await {
        Ok(Some(jpeg)) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            jpeg,
        )
            .into_response(),
        Ok(None) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            include_str!("../../static/sin-foto.svg"),
        )
            .into_response(),
        Err(_) => unavailable(),
    }
}

/// Up to four candidacies of one contest (office and constituency), side by side:
/// `?ids=a,b` or, as the list's form sends it without JavaScript, `?ids=a&ids=b`.
/// The most candidacies compared by choosing them one by one (a whole contest has no limit).
const COMPARE_MAX: usize = 12;

pub async fn compare(
    State(state): State<SiteState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut ids: Vec<Uuid> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .flat_map(|(_, v)| v.split(','))
        .filter_map(|i| Uuid::parse_str(i.trim()).ok())
        .collect();
    let (office, constituency) = (value("cargo"), value("distrito"));
    // «Comparar toda la contienda»: every published candidacy of one office and constituency.
    if ids.is_empty() && !office.is_empty() && !constituency.is_empty() {
        ids = sqlx::query_scalar(
            "SELECT candidacy_id FROM profiles WHERE election_id = $1 AND office_code = $2 \
             AND constituency_code = $3 AND withdrawn_at IS NULL ORDER BY neutral_rank, list_position",
        )
        .bind(election.id)
        .bind(&office)
        .bind(&constituency)
        .fetch_all(&state.pool)
        .await
        .unwrap_or_default();
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    if ids.is_empty() || ids.len() > COMPARE_MAX {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Comparar candidaturas",
            &format!(
                "Elija de una a {COMPARE_MAX} candidaturas de la misma contienda para compararlas, \
                 o use «Comparar toda la contienda» en la lista filtrada por cargo y distrito."
            ),
        );
    }
    let mut found = Vec::new();
    for id in &ids {
        match model::get(&state.pool, election.id, *id).await {
            Ok(Some(p)) => found.push(p),
            Ok(None) => return not_found().await,
            Err(_) => return unavailable(),
        }
    }
    let contest = |p: &model::Published| {
        (
            p.listed.office_code.clone(),
            p.listed.constituency_code.clone(),
        )
    };
    if found.iter().any(|p| contest(p) != contest(&found[0])) {
        // Two contests: the selection is kept, grouped by contest, each group comparable.
        let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for p in &found {
            let title = format!("{} · {}", p.listed.office, p.listed.constituency);
            let entry = (p.listed.id.to_string(), p.listed.holder_name.clone());
            match groups.iter_mut().find(|(t, _)| *t == title) {
                Some((_, members)) => members.push(entry),
                None => groups.push((title, vec![entry])),
            }
        }
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &CompareMixedPage { groups },
        );
    }
    let shown: Vec<Vec<ShownPerson>> = found.iter().map(|p| persons(&p.profile)).collect();
    // Each field by its name; a field whose label only repeats its section's title (hidden on
    // the profile) is named by that title here, where it stands without its section.
    let named = |p: &ShownPerson| -> Vec<(String, String)> {
        p.sections
            .iter()
            .flat_map(|(title, fields)| {
                fields.iter().map(move |(label, value, _)| {
                    let name = if label.is_empty() { title } else { label };
                    (name.clone(), value.clone())
                })
            })
            .collect()
    };
    let fields: Vec<Vec<(String, String)>> = shown
        .iter()
        .map(|s| s.first().map(named).unwrap_or_default())
        .collect();
    let mut labels: Vec<String> = Vec::new();
    for (label, _) in fields.iter().flatten() {
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }
    let mut rows = vec![(
        "Edad".to_string(),
        shown
            .iter()
            .map(|s| s.first().map(|p| p.age.to_string()).unwrap_or_default())
            .collect(),
    )];
    for label in labels {
        rows.push((
            label.clone(),
            fields
                .iter()
                .map(|f| {
                    f.iter()
                        .find(|(l, _)| *l == label)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| "—".into())
                })
                .collect(),
        ));
    }
    render(
        StatusCode::OK,
        &ComparePage {
            contest: format!(
                "{} · {}",
                found[0].listed.office, found[0].listed.constituency
            ),
            columns: found
                .iter()
                .zip(&shown)
                .map(|(p, s)| ProfileColumn {
                    id: p.listed.id.to_string(),
                    name: p.listed.holder_name.clone(),
                    postulant: p.listed.postulant.clone(),
                    photo: s.first().and_then(|x| x.photo.clone()),
                })
                .collect(),
            rows,
        },
    )
}

#[cfg(test)]
mod labels_tests {
    use super::*;

    #[test]
    fn contact_labels_lose_the_forms_numbering_and_phones_read_in_groups() {
        assert_eq!(public_label("Teléfono público 2", "Datos"), "Teléfono");
        assert_eq!(
            public_label("Correo electrónico público 1", "Datos"),
            "Correo electrónico"
        );
        assert_eq!(public_label("Propuesta 2", "Propuestas"), "Propuesta 2");
        assert_eq!(
            public_label("Trayectoria profesional", "Trayectoria profesional"),
            ""
        );
        assert_eq!(readable_phone("8441234567"), "844 123 4567");
        assert_eq!(readable_phone("+52 (844) 123-4567"), "844 123 4567");
        assert_eq!(readable_phone("123"), "123");
    }
}
