//! `GET /estadisticas`: the public statistics — capture progress by postulant and the identity
//! groups by sex — from `statistics` (public tables only; the identity ones arrive suppressed),
//! as SVG bars each with an accessible table, with denominators and the cut-off time.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use conoceles_identity_questionnaire::Definition;
use conoceles_kit::access::TokenSource;
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as identity;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use conoceles_proto::statistics::v1 as pb;
use conoceles_proto::statistics::v1::statistics_service_client::StatisticsServiceClient;
use http::StatusCode;
use tonic::transport::Channel;

use super::SiteState;
use super::pages::open_election;
use super::views::{
    Bar, Figure, GroupTable, PrivacyRelease, PrivacyView, ProgressLine, StatisticsPage,
};
use super::views::{message, render};

/// What a hidden count shows.
const SUPPRESSED: &str = "suprimido";
/// What a count released coarser shows.
const COARSENED: &str = "agrupada";

/// Where the public figures come from.
pub struct Sources {
    pub statistics: Channel,
    pub identity: Channel,
    pub tokens: Arc<TokenSource>,
}

fn count(cells: &[pb::Cell], wanted: &[(&str, &str)]) -> Option<u64> {
    cells
        .iter()
        .find(|c| {
            wanted
                .iter()
                .all(|(k, v)| c.dimensions.get(*k).map(String::as_str) == Some(*v))
        })
        .and_then(|c| c.count)
}

fn bars(items: &[(String, u64)]) -> Vec<Bar> {
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    items
        .iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            label: label.clone(),
            value: *value,
            width: (value * 480 / max) as u32,
            y: (i as u32) * 40,
            text_y: (i as u32) * 40 + 13,
        })
        .collect()
}

async fn table(sources: &Sources, name: &str) -> Result<pb::GetTableResponse, tonic::Status> {
    let request = sources
        .tokens
        .own_request(
            "statistics",
            pb::GetTableRequest {
                name: name.into(),
                ..Default::default()
            },
        )
        .await?;
    Ok(StatisticsServiceClient::new(sources.statistics.clone())
        .get_table(request)
        .await?
        .into_inner())
}

async fn ledger(sources: &Sources) -> Result<pb::GetPrivacyLedgerResponse, tonic::Status> {
    let request = sources
        .tokens
        .own_request("statistics", pb::GetPrivacyLedgerRequest {})
        .await?;
    Ok(StatisticsServiceClient::new(sources.statistics.clone())
        .get_privacy_ledger(request)
        .await?
        .into_inner())
}

/// A count as the page shows it: «suprimido», «agrupada» (a small group released by its root
/// question only), or under differential privacy «12 ± 7».
fn shown(cell: &pb::Cell, private: bool) -> String {
    match cell.count {
        None if cell.coarsened => COARSENED.to_string(),
        None => SUPPRESSED.to_string(),
        Some(count) if private && cell.half_width_90 > 0.0 => {
            format!("{count} ± {}", cell.half_width_90)
        }
        Some(count) => count.to_string(),
    }
}

/// «12 ± 7» under differential privacy, «12» otherwise.
fn with_margin(value: u64, half_width: f64) -> String {
    if half_width > 0.0 {
        format!("{value} ± {half_width}")
    } else {
        value.to_string()
    }
}

async fn definition(sources: &Sources, election: uuid::Uuid) -> Result<Definition, tonic::Status> {
    let request = sources
        .tokens
        .own_request(
            "identity",
            identity::GetDefinitionRequest {
                election_id: Some(common::ElectionId::from(election)),
            },
        )
        .await?;
    let json = IdentityServiceClient::new(sources.identity.clone())
        .get_definition(request)
        .await?
        .into_inner()
        .definition_json;
    Definition::parse(&json).map_err(|_| tonic::Status::internal("definition"))
}

pub async fn page(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let unavailable = || {
        message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Estadísticas",
            "Las estadísticas no están disponibles en este momento. Intente más tarde.",
        )
    };
    let Some(sources) = state.statistics.as_ref() else {
        return unavailable();
    };
    let Ok(progress) = table(sources, "progress.by_postulant").await else {
        return unavailable();
    };
    let names: BTreeMap<String, String> = state
        .listing
        .choices(&state.pool, election.id, crate::listing::Column::Postulant)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut postulants: Vec<String> = progress
        .cells
        .iter()
        .filter_map(|c| c.dimensions.get("postulant").cloned())
        .filter(|p| p != "*")
        .collect();
    postulants.sort();
    postulants.dedup();
    let cells = &progress.cells;
    let get =
        |status: &str, p: &str| count(cells, &[("status", status), ("postulant", p)]).unwrap_or(0);
    let lines: Vec<ProgressLine> = postulants
        .iter()
        .map(|p| ProgressLine {
            postulant: names.get(p).cloned().unwrap_or_else(|| p.clone()),
            total: get("*", p).saturating_sub(get("withdrawn", p)),
            not_started: get("not_started", p),
            draft: get("draft", p),
            submitted: get("submitted", p),
            observed: get("observed", p),
            approved: get("approved", p) + get("published", p),
        })
        .collect();
    let progress_bars = bars(
        &lines
            .iter()
            .map(|l| (l.postulant.clone(), l.approved))
            .collect::<Vec<_>>(),
    );
    let cut_off = conoceles_kit::proto_time::from_proto(progress.cut_off.as_ref())
        .map(|at| election.local(at))
        .unwrap_or_default();

    let mut groups = Vec::new();
    if let Ok(definition) = definition(sources, election.id).await {
        for question in definition
            .questions
            .iter()
            .filter(|q| q.kind == conoceles_identity_questionnaire::Kind::Single)
        {
            let Ok(t) = table(sources, &format!("identity.{}.by_sex", question.id)).await else {
                continue;
            };
            let private = t.release.is_some();
            let sexes = ["mujer", "hombre", "no_binario", "*"];
            let rows: Vec<(String, Vec<String>)> = question
                .options
                .iter()
                .map(|o| {
                    let shown = sexes
                        .iter()
                        .map(|s| {
                            match t.cells.iter().find(|c| {
                                c.dimensions.get("option") == Some(&o.id)
                                    && c.dimensions.get("sex").map(String::as_str) == Some(*s)
                            }) {
                                Some(c) => shown(c, private),
                                None => "0".to_string(),
                            }
                        })
                        .collect();
                    (o.label.clone(), shown)
                })
                .collect();
            let totals: Vec<(String, u64)> = question
                .options
                .iter()
                .filter_map(|o| {
                    Some((
                        o.label.clone(),
                        count(&t.cells, &[("option", o.id.as_str()), ("sex", "*")])?,
                    ))
                })
                .collect();
            groups.push(GroupTable {
                chart_id: format!("grafica-{}", question.id),
                caption: format!("{}, por sexo", question.text.trim_end_matches([':', ' '])),
                question: question.text.clone(),
                counts: match (t.n, t.answered, t.declined) {
                    (Some(n), Some(answered), Some(declined)) => Some(format!(
                        "Personas consideradas: {} · respondieron: {answered} · prefirieron no contestar: {declined}.",
                        with_margin(n, t.n_half_width_90)
                    )),
                    _ => None,
                },
                coarsened: rows.iter().any(|(_, r)| r.iter().any(|v| v == COARSENED)),
                empty: !rows.iter().any(|(_, r)| r.iter().any(|v| v == SUPPRESSED))
                    && totals.iter().all(|(_, n)| *n == 0),
                all_suppressed: totals.is_empty() && !question.options.is_empty(),
                rows,
                bars: bars(&totals),
            });
        }
    }
    let privacy = match ledger(sources).await {
        Ok(l) => privacy_view(&l, &election),
        Err(e) => {
            tracing::warn!(code = ?e.code(), "the privacy ledger is unavailable");
            None
        }
    };
    let figures = candidacy_figures(&state.pool, election.id)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "counting the candidacies failed");
            Vec::new()
        });
    render(
        StatusCode::OK,
        &StatisticsPage {
            election: election.name,
            cut_off,
            lines,
            progress_bars,
            groups,
            figures,
            privacy,
        },
    )
}

/// The ledger as the page shows it, under differential privacy only.
fn privacy_view(
    l: &pb::GetPrivacyLedgerResponse,
    election: &crate::model::Election,
) -> Option<PrivacyView> {
    use common::identity_protection::Method;
    let Some(Method::DifferentialPrivacy(p)) = l.protection.as_ref()?.method.as_ref() else {
        return None;
    };
    let at = |t| {
        conoceles_kit::proto_time::from_proto(t)
            .map(|at| election.local(at))
            .unwrap_or_default()
    };
    Some(PrivacyView {
        budget: format!("{:.2}", p.rho_budget),
        remaining: format!("{:.2}", l.rho_remaining),
        delta: format!("{}", p.delta),
        releases: l
            .entries
            .iter()
            .map(|e| PrivacyRelease {
                sequence: e.sequence,
                released_at: at(e.released_at.as_ref()),
                cut_off: at(e.cut_off.as_ref()),
                rho: format!("{:.2}", e.rho),
                rho_total: format!("{:.2}", e.rho_total),
                epsilon: format!("{:.2}", e.epsilon_total),
                scale: format!("{:.1}", e.noise_scale),
            })
            .collect(),
    })
}

const SEXES: [(&str, &str); 3] = [
    ("mujer", "Mujeres"),
    ("hombre", "Hombres"),
    ("no_binario", "No binarias"),
];

/// A table of (row, sex) counts as a figure: the women of each row as bars, every sex in the
/// table with the row's total.
fn by_sex(
    id: &str,
    title: &str,
    note: &str,
    first: &str,
    counts: &[(String, String, i64)],
) -> Figure {
    let mut rows: Vec<String> = counts.iter().map(|(r, _, _)| r.clone()).collect();
    rows.dedup();
    let get = |row: &str, sex: &str| {
        counts
            .iter()
            .filter(|(r, s, _)| r == row && s == sex)
            .map(|(_, _, n)| *n)
            .sum::<i64>()
    };
    let table: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> =
                SEXES.iter().map(|(s, _)| get(row, s).to_string()).collect();
            let total: i64 = counts
                .iter()
                .filter(|(r, _, _)| r == row)
                .map(|(_, _, n)| n)
                .sum();
            cells.push(total.to_string());
            (row.clone(), cells)
        })
        .collect();
    Figure {
        id: id.into(),
        title: title.into(),
        note: note.into(),
        bars: bars(
            &rows
                .iter()
                .map(|r| (r.clone(), get(r, "mujer").max(0) as u64))
                .collect::<Vec<_>>(),
        ),
        first_header: first.into(),
        header: SEXES
            .iter()
            .map(|(_, label)| label.to_string())
            .chain(["Total".to_string()])
            .collect(),
        empty: rows
            .is_empty()
            .then(|| "Aún no hay candidaturas registradas en esta elección.".to_string()),
        rows: table,
    }
}

/// One column of counts as a figure.
fn single(
    id: &str,
    title: &str,
    note: &str,
    first: &str,
    counts: Vec<(String, i64)>,
    empty: &str,
) -> Figure {
    let nothing = counts.iter().all(|(_, n)| *n == 0);
    Figure {
        id: id.into(),
        title: title.into(),
        note: note.into(),
        bars: bars(
            &counts
                .iter()
                .map(|(l, n)| (l.clone(), (*n).max(0) as u64))
                .collect::<Vec<_>>(),
        ),
        first_header: first.into(),
        header: vec!["Candidaturas".into()],
        rows: counts
            .into_iter()
            .map(|(l, n)| (l, vec![n.to_string()]))
            .collect(),
        empty: nothing.then(|| empty.to_string()),
    }
}

/// Parity of every registered candidacy (the holder's sex, from the registry), and age bands,
/// schooling and affirmative action of those with published information.
async fn candidacy_figures(pool: &sqlx::PgPool, election: uuid::Uuid) -> sqlx::Result<Vec<Figure>> {
    let by_office: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT office, holder_sex, count(*) FROM registry WHERE election_id = $1 \
         GROUP BY office, holder_sex ORDER BY office, holder_sex",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    let by_postulant: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT postulant, holder_sex, count(*) FROM registry WHERE election_id = $1 \
         GROUP BY postulant, holder_sex ORDER BY postulant, holder_sex",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    let ages: Vec<(String, i64)> = sqlx::query_as(
        "SELECT band, count(p.candidacy_id) FROM (VALUES (1, '18 a 29 años', 18, 29), (2, '30 a 44 años', 30, 44), \
                (3, '45 a 59 años', 45, 59), (4, '60 años o más', 60, 200)) AS b(o, band, low, high) \
         LEFT JOIN profiles p ON p.election_id = $1 AND p.withdrawn_at IS NULL AND p.holder_age BETWEEN b.low AND b.high \
         GROUP BY b.o, band ORDER BY b.o",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    let schooling: std::collections::HashMap<String, i64> = sqlx::query_as(
        "SELECT education_level, count(*) FROM profiles WHERE election_id = $1 AND withdrawn_at IS NULL GROUP BY 1",
    )
    .bind(election)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    let affirmative: Vec<(String, i64)> = sqlx::query_as::<_, (String, i64)>(
        "SELECT CASE WHEN affirmative_action = '' THEN 'Sin acción afirmativa' ELSE affirmative_action END, count(*) \
         FROM profiles WHERE election_id = $1 AND withdrawn_at IS NULL GROUP BY 1 ORDER BY 1",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    let affirmative: Vec<(String, i64)> = affirmative
        .into_iter()
        .map(|(code, n)| (crate::model::affirmative_label(&code).to_string(), n))
        .collect();
    let unpublished = "Aún no hay candidaturas con información publicada: la gráfica aparecerá cuando el organismo electoral apruebe la primera.";
    Ok(vec![
        by_sex(
            "paridad-cargo",
            "Paridad: mujeres por cargo",
            "Sexo de la persona propietaria de cada candidatura registrada y vigente. La gráfica muestra las mujeres; la tabla, todos los sexos.",
            "Cargo",
            &by_office,
        ),
        by_sex(
            "paridad-postulante",
            "Paridad: mujeres por partido, coalición o candidatura independiente",
            "Sexo de la persona propietaria de cada candidatura registrada y vigente.",
            "Postulante",
            &by_postulant,
        ),
        single(
            "edad",
            "Edad el día de la jornada electoral",
            "De las personas propietarias con información publicada.",
            "Edad",
            ages,
            unpublished,
        ),
        single(
            "escolaridad",
            "Grado máximo de estudios",
            "De las personas propietarias con información publicada.",
            "Escolaridad",
            conoceles_curricular::sections::EDUCATION_LEVELS
                .iter()
                .map(|(code, label)| {
                    (
                        label.to_string(),
                        schooling.get(*code).copied().unwrap_or(0),
                    )
                })
                .collect(),
            unpublished,
        ),
        single(
            "accion-afirmativa",
            "Acciones afirmativas",
            "Candidaturas con información publicada, por el tipo de acción afirmativa con que se registraron.",
            "Acción afirmativa",
            affirmative,
            unpublished,
        ),
    ])
}
