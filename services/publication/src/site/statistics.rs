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
use super::views::{Bar, GroupTable, ProgressLine, StatisticsPage};
use super::views::{message, render};

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
                                Some(c) if c.suppressed || c.count.is_none() => {
                                    "suprimido".to_string()
                                }
                                Some(c) => c.count.unwrap_or(0).to_string(),
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
                question: question.text.clone(),
                counts: match (t.n, t.answered, t.declined) {
                    (Some(n), Some(answered), Some(declined)) => Some(format!(
                        "Personas consideradas: {n} · respondieron: {answered} · prefirieron no contestar: {declined}."
                    )),
                    _ => None,
                },
                rows,
                bars: bars(&totals),
            });
        }
    }
    render(
        StatusCode::OK,
        &StatisticsPage {
            election: election.name,
            cut_off,
            lines,
            progress_bars,
            groups,
        },
    )
}
