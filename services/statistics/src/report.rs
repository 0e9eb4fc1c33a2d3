//! The General Council's reports (DESIGN §4.7): the April and May quantitative progress reports
//! and the final report, each the progress and compliance tables at a cut-off. A report is
//! stored as produced (JSON) with its SHA-256; its CSV and its HTML (tables and SVG bars, for
//! the back office to print) are rendered from the stored bytes, so they come out identical
//! every time.

use std::collections::HashMap;

use askama::Template;
use chrono::{DateTime, Utc};
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_proto::statistics::v1 as pb;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::labels::{Names, dimension_label};
use crate::service::{Statistics, TableQuery, compute, cut_off};
use crate::tables::{self, COMPLIANCE, SUBSTITUTIONS, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    April,
    May,
    Final,
    Progress,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::April, Kind::May, Kind::Final, Kind::Progress];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::April => "april",
            Kind::May => "may",
            Kind::Final => "final",
            Kind::Progress => "progress",
        }
    }

    pub fn parse(value: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::April => "Informe cuantitativo de avance de abril",
            Kind::May => "Informe cuantitativo de avance de mayo",
            Kind::Final => "Informe final de la captura y de incumplimiento",
            Kind::Progress => "Informe de avance de la captura",
        }
    }

    pub fn from_proto(value: i32) -> Option<Kind> {
        match pb::ReportKind::try_from(value).ok()? {
            pb::ReportKind::April => Some(Kind::April),
            pb::ReportKind::May => Some(Kind::May),
            pb::ReportKind::Final => Some(Kind::Final),
            pb::ReportKind::Progress => Some(Kind::Progress),
            pb::ReportKind::Unspecified => None,
        }
    }

    pub fn to_proto(self) -> pb::ReportKind {
        match self {
            Kind::April => pb::ReportKind::April,
            Kind::May => pb::ReportKind::May,
            Kind::Final => pb::ReportKind::Final,
            Kind::Progress => pb::ReportKind::Progress,
        }
    }
}

/// The tables of every report, in the order they are shown.
const TABLES: [&str; 4] = [
    "progress.by_postulant",
    "progress.by_office",
    "progress.by_sex",
    COMPLIANCE,
];

/// The curricular profile the final report adds: education, age and sex by office and by
/// postulant.
const PROFILE: [&str; 6] = [
    "curricular.education_level.by_office",
    "curricular.education_level.by_postulant",
    "curricular.age_band.by_office",
    "curricular.age_band.by_postulant",
    "curricular.sex.by_office",
    "curricular.sex.by_postulant",
];

impl Kind {
    /// The tables of this kind of report: the final one adds the substitutions, the curricular
    /// profile and the identity-group tables (`identity`'s, suppressed as published).
    pub fn tables(self, identity: &[String]) -> Vec<String> {
        let mut names: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        if self == Kind::Final {
            names.push(SUBSTITUTIONS.to_string());
            names.extend(PROFILE.iter().map(|t| t.to_string()));
            names.extend(identity.iter().cloned());
        }
        names
    }
}

/// The report's tables at the cut-off `at` (absent: now), with that cut-off and the names the
/// report shows. The curricular profile is counted when the report is produced (each table
/// states its own cut-off).
pub async fn tables(
    state: &Statistics,
    kind: Kind,
    at: Option<&str>,
) -> Result<(DateTime<Utc>, Vec<Table>, Names), AppError> {
    let (at, _) = cut_off(at)?;
    let fixed = TableQuery::at(at);
    let election = state
        .sources
        .election_with_names()
        .await
        .map_err(crate::service::upstream)?;
    let definition = match election.election.as_ref().and_then(|e| e.id.as_ref()) {
        Some(id) => state
            .sources
            .definition(&id.value)
            .await
            .ok()
            .and_then(|json| conoceles_identity_questionnaire::Definition::parse(&json).ok()),
        None => None,
    };
    let identity = definition
        .as_ref()
        .map(|d| d.aggregate_tables())
        .unwrap_or_default();
    let mut parts = Vec::new();
    let catalog = tables::catalog(&identity);
    for name in kind.tables(&identity) {
        let query = if name.starts_with("curricular.") {
            TableQuery::default()
        } else {
            fixed.clone()
        };
        match compute(state, &name, &query).await {
            Ok(table) => parts.push(table),
            // An identity table not yet released at that cut-off: the report says it had no
            // records then, instead of failing.
            Err(e) if e.code() == ErrorCode::NotFound && name.starts_with("identity.") => {
                if let Some(definition) = catalog.iter().find(|d| d.name == name) {
                    parts.push(Table::counts(definition.clone(), at, Vec::new()));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok((at, parts, Names::new(&election, definition.as_ref())))
}

/// The report's content (what the HTTP API serves and the stored hash covers).
pub fn content(
    kind: Kind,
    at: DateTime<Utc>,
    tables: &[Table],
    names: &Names,
) -> Result<Value, AppError> {
    let parts = serde_json::to_value(tables).map_err(anyhow::Error::from)?;
    Ok(json!({
        "kind": kind.as_str(),
        "title": kind.title(),
        "cut_off": at,
        "time_zone": names.time_zone,
        "names": names,
        "tables": parts,
    }))
}

/// The report's content at the cut-off `at` (absent: now).
pub async fn produce(state: &Statistics, kind: Kind, at: Option<&str>) -> Result<Value, AppError> {
    let (at, tables, names) = tables(state, kind, at).await?;
    content(kind, at, &tables, &names)
}

/// A stored report (without its content when listed).
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    pub kind: String,
    pub cut_off: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub content_sha256: String,
    pub content: Vec<u8>,
}

impl Stored {
    pub fn summary(&self) -> pb::ReportSummary {
        use conoceles_kit::proto_time::to_proto;
        pb::ReportSummary {
            id: self.id.to_string(),
            kind: Kind::parse(&self.kind).map_or(0, |k| k.to_proto() as i32),
            cut_off: Some(to_proto(self.cut_off)),
            created_at: Some(to_proto(self.created_at)),
            content_sha256: self.content_sha256.clone(),
        }
    }
}

/// Produces the report and stores it with its hash.
pub async fn create(
    state: &Statistics,
    kind: Kind,
    at: Option<&str>,
    created_by: Option<Uuid>,
) -> Result<Stored, AppError> {
    let content = produce(state, kind, at).await?;
    let bytes = serde_json::to_vec(&content).map_err(anyhow::Error::from)?;
    let stored = Stored {
        id: Uuid::now_v7(),
        kind: kind.as_str().into(),
        cut_off: content["cut_off"]
            .as_str()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map_or_else(Utc::now, |d| d.with_timezone(&Utc)),
        created_at: Utc::now(),
        content_sha256: hex::encode(Sha256::digest(&bytes)),
        content: bytes,
    };
    sqlx::query(
        "INSERT INTO reports (id, kind, cut_off, content, content_sha256, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(stored.id)
    .bind(&stored.kind)
    .bind(stored.cut_off)
    .bind(&stored.content)
    .bind(&stored.content_sha256)
    .bind(stored.created_at)
    .bind(created_by)
    .execute(&state.pool)
    .await?;
    tracing::info!(report = %stored.id, kind = %stored.kind, "report stored");
    Ok(stored)
}

type Row = (Uuid, String, DateTime<Utc>, DateTime<Utc>, String, Vec<u8>);

fn stored((id, kind, cut_off, created_at, content_sha256, content): Row) -> Stored {
    Stored {
        id,
        kind,
        cut_off,
        created_at,
        content_sha256,
        content,
    }
}

pub async fn find(pool: &PgPool, id: &str) -> Result<Stored, AppError> {
    let not_found = || AppError::new(ErrorCode::NotFound, "No existe ese reporte.");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    sqlx::query_as::<_, Row>(
        "SELECT id, kind, cut_off, created_at, content_sha256, content FROM reports WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .map(stored)
    .ok_or_else(not_found)
}

/// Every stored report, newest first (without content).
pub async fn list(pool: &PgPool) -> Result<Vec<Stored>, AppError> {
    Ok(sqlx::query_as::<_, Row>(
        "SELECT id, kind, cut_off, created_at, content_sha256, ''::bytea FROM reports ORDER BY created_at DESC LIMIT 200",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(stored)
    .collect())
}

fn tables_of(content: &[u8]) -> Result<(Value, Vec<Table>, Names), AppError> {
    let value: Value = serde_json::from_slice(content).map_err(anyhow::Error::from)?;
    let tables: Vec<Table> =
        serde_json::from_value(value["tables"].clone()).map_err(anyhow::Error::from)?;
    // Reports stored before names were kept read with the shared names only.
    let names: Names = serde_json::from_value(value["names"].clone()).unwrap_or_default();
    Ok((value, tables, names))
}

/// The report as one CSV, in Spanish: `tabla` (its title), one column per dimension any of its
/// tables has (named, values by name), `conteo`, `suprimida` (`sí`/`no`), `corte` (RFC 3339 in
/// the election's time zone); when an identity table was released under differential privacy,
/// also `margen_90` (half the width of each count's 90 % interval) and `agrupada` (`sí` where a
/// small group was released by the root question only).
pub fn csv(content: &[u8]) -> Result<String, AppError> {
    let (_, tables, names) = tables_of(content)?;
    let mut columns: Vec<String> = Vec::new();
    for t in &tables {
        for d in &t.definition.dimensions {
            if !columns.contains(d) {
                columns.push(d.clone());
            }
        }
    }
    let headers: Vec<String> = columns
        .iter()
        .map(|c| tables::csv_field(dimension_label(c)))
        .collect();
    let private = tables.iter().any(|t| t.release.is_some());
    let mut out = format!("tabla,{},conteo,suprimida,corte", headers.join(","));
    if private {
        out.push_str(",margen_90,agrupada");
    }
    out.push_str("\r\n");
    for t in &tables {
        let cut_off = names.local_iso(t.cut_off);
        let title = names.title(&t.definition.name, &t.definition.title);
        for cell in &t.cells {
            out.push_str(&tables::csv_field(&title));
            for c in &columns {
                out.push(',');
                let shown = cell
                    .dimensions
                    .get(c)
                    .map(|code| names.value(&t.definition.name, c, code))
                    .unwrap_or_default();
                out.push_str(&tables::csv_field(&shown));
            }
            out.push_str(&format!(
                ",{},{},{cut_off}",
                cell.count.map(|c| c.to_string()).unwrap_or_default(),
                if cell.suppressed { "sí" } else { "no" }
            ));
            if private {
                out.push_str(&format!(
                    ",{},{}",
                    cell.half_width_90
                        .map(|h| h.to_string())
                        .unwrap_or_default(),
                    if cell.coarsened { "sí" } else { "no" }
                ));
            }
            out.push_str("\r\n");
        }
    }
    Ok(out)
}

/// Okabe–Ito colours, distinguishable with colour-vision deficiencies (black last); "no data"
/// and "declined" always in light grey.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
const NO_DATA: &str = "#BBBBBB";

fn fill(index: usize, code: &str) -> &'static str {
    if matches!(code, "sin_dato" | "declined") {
        NO_DATA
    } else {
        PALETTE[index % PALETTE.len()]
    }
}

struct Bar {
    y: u32,
    label: String,
    segments: Vec<Segment>,
}

struct Segment {
    x: u32,
    width: u32,
    fill: &'static str,
    title: String,
}

struct Legend {
    fill: &'static str,
    label: String,
}

struct Chart {
    height: u32,
    bars: Vec<Bar>,
    legend: Vec<Legend>,
}

/// A count as the report prints it: «—» suppressed, «agrupada» released by the root question
/// only, «12 ± 7» under differential privacy.
pub(crate) fn shown_count(cell: &tables::Cell) -> String {
    match (cell.count, cell.half_width_90) {
        (None, _) if cell.coarsened => "agrupada".to_string(),
        (None, _) => "—".to_string(),
        (Some(count), Some(half)) if half > 0.0 => format!("{count} ± {half}"),
        (Some(count), _) => count.to_string(),
    }
}

struct Pivot {
    id: String,
    title: String,
    row_header: String,
    columns: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
    chart: Option<Chart>,
    /// The table's own cut-off, when it differs from the report's (the curricular profile).
    cut_off: Option<String>,
    /// For identity tables: the persons counted, answered and declined.
    persons: Option<String>,
}

const LABEL_WIDTH: u32 = 300;
/// Bar labels longer than this are shortened (the table under the chart has them whole).
const LABEL_CHARS: usize = 44;
const BAR_AREA: u32 = 440;
const BAR_HEIGHT: u32 = 22;

/// One table as rows (every dimension but the column one) × columns (`measure`, or the first
/// dimension), totals last, with stacked bars when the columns are parts of a whole.
fn pivot(index: usize, t: &Table, names: &Names, report_cut_off: DateTime<Utc>) -> Pivot {
    let dims = &t.definition.dimensions;
    let table = t.definition.name.as_str();
    let column_dim = if dims.iter().any(|d| d == "measure") {
        "measure".to_string()
    } else {
        dims[0].clone()
    };
    let row_dims: Vec<&String> = dims.iter().filter(|d| **d != column_dim).collect();
    let mut columns: Vec<String> = Vec::new();
    let mut row_keys: Vec<String> = Vec::new();
    let mut values: HashMap<(String, String), String> = HashMap::new();
    let mut numbers: HashMap<(String, String), u64> = HashMap::new();
    for cell in &t.cells {
        let column = cell
            .dimensions
            .get(&column_dim)
            .cloned()
            .unwrap_or_default();
        let row = row_dims
            .iter()
            .map(|d| cell.dimensions.get(*d).cloned().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" · ");
        if !columns.contains(&column) {
            columns.push(column.clone());
        }
        if !row_keys.contains(&row) {
            row_keys.push(row.clone());
        }
        let shown = shown_count(cell);
        numbers.insert((row.clone(), column.clone()), cell.count.unwrap_or(0));
        values.insert((row, column), shown);
    }
    let totals_last = |v: &mut Vec<String>| {
        v.sort_by_key(|k| k.contains('*'));
    };
    // Columns in their natural order (education from none to doctorate, "no data" last).
    columns.sort_by_key(|c| crate::labels::rank(c));
    totals_last(&mut row_keys);
    let row_label = |r: &str| {
        r.split(" · ")
            .zip(row_dims.iter())
            .map(|(code, d)| names.value(table, d, code))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let label = |c: &str| names.value(table, &column_dim, c);
    let rows = row_keys
        .iter()
        .map(|r| {
            (
                row_label(r),
                columns
                    .iter()
                    .map(|c| {
                        values
                            .get(&(r.clone(), c.clone()))
                            .cloned()
                            .unwrap_or_else(|| "0".into())
                    })
                    .collect(),
            )
        })
        .collect();
    let parts: Vec<&String> = columns.iter().filter(|c| *c != "*").collect();
    let anything = t.cells.iter().any(|c| c.count.unwrap_or(0) > 0);
    let chart = (column_dim != "measure" && !parts.is_empty() && anything).then(|| {
        let bar_rows: Vec<&String> = row_keys.iter().filter(|r| !r.contains('*')).collect();
        let max = bar_rows
            .iter()
            .map(|r| {
                parts
                    .iter()
                    .map(|c| {
                        numbers
                            .get(&((*r).clone(), (*c).clone()))
                            .copied()
                            .unwrap_or(0)
                    })
                    .sum::<u64>()
            })
            .max()
            .unwrap_or(0)
            .max(1);
        let bars = bar_rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut x = LABEL_WIDTH;
                let segments = parts
                    .iter()
                    .enumerate()
                    .filter_map(|(j, c)| {
                        let n = numbers
                            .get(&((*r).clone(), (*c).clone()))
                            .copied()
                            .unwrap_or(0);
                        (n > 0).then(|| {
                            let width =
                                ((n as f64 / max as f64) * BAR_AREA as f64).round().max(1.0) as u32;
                            let s = Segment {
                                x,
                                width,
                                fill: fill(j, c),
                                title: format!("{}: {n}", label(c)),
                            };
                            x += width;
                            s
                        })
                    })
                    .collect();
                let whole = row_label(r);
                Bar {
                    y: i as u32 * (BAR_HEIGHT + 6),
                    label: if whole.chars().count() > LABEL_CHARS {
                        let short: String = whole.chars().take(LABEL_CHARS - 1).collect();
                        format!("{}…", short.trim_end())
                    } else {
                        whole
                    },
                    segments,
                }
            })
            .collect::<Vec<_>>();
        Chart {
            height: bars.len() as u32 * (BAR_HEIGHT + 6),
            bars,
            legend: parts
                .iter()
                .enumerate()
                .map(|(j, c)| Legend {
                    fill: fill(j, c),
                    label: label(c),
                })
                .collect(),
        }
    });
    Pivot {
        id: format!("tabla-{}", index + 1),
        title: names.title(table, &t.definition.title),
        row_header: row_dims
            .iter()
            .map(|d| dimension_label(d))
            .collect::<Vec<_>>()
            .join(" · "),
        columns: columns.iter().map(|c| label(c)).collect(),
        rows,
        chart,
        cut_off: (names.local(t.cut_off) != names.local(report_cut_off))
            .then(|| names.local(t.cut_off)),
        persons: t.n.map(|n| {
            let people = format!(
                "{n} personas; respondieron {}; prefirieron no responder {}",
                t.answered.unwrap_or(0),
                t.declined.unwrap_or(0)
            );
            match &t.release {
                Some(r) => format!(
                    "{people}. Privacidad diferencial, publicación {} (ρ = {:.2}): cada cifra lleva ruido aleatorio y se da con su margen de error al 90 % («12 ± 7»); «agrupada»: grupo pequeño, publicado solo con la pregunta principal",
                    r.sequence, r.rho
                ),
                None => people,
            }
        }),
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportView {
    title: String,
    cut_off: String,
    cut_off_iso: String,
    sha256: String,
    tables: Vec<Pivot>,
    label_x: u32,
    bar_height: u32,
    text_dy: u32,
}

/// The report as an HTML fragment (an `<article>`): what the back office embeds and prints.
pub fn html(report: &Stored) -> Result<String, AppError> {
    let (value, tables, names) = tables_of(&report.content)?;
    let view = ReportView {
        title: value["title"].as_str().unwrap_or("Informe").to_string(),
        cut_off: names.local(report.cut_off),
        cut_off_iso: names.local_iso(report.cut_off),
        sha256: report.content_sha256.clone(),
        tables: tables
            .iter()
            .enumerate()
            .map(|(i, t)| pivot(i, t, &names, report.cut_off))
            .collect(),
        label_x: LABEL_WIDTH - 8,
        bar_height: BAR_HEIGHT,
        text_dy: BAR_HEIGHT / 2 + 5,
    };
    Ok(view.render().map_err(anyhow::Error::from)?)
}

/// The stored report in `format`, with its content type.
pub fn render(
    report: &Stored,
    format: pb::ReportFormat,
) -> Result<(Vec<u8>, &'static str), AppError> {
    Ok(match format {
        pb::ReportFormat::Csv => (
            csv(&report.content)?.into_bytes(),
            "text/csv; charset=utf-8",
        ),
        pb::ReportFormat::Html => (html(report)?.into_bytes(), "text/html; charset=utf-8"),
        pb::ReportFormat::Json | pb::ReportFormat::Unspecified => {
            (report.content.clone(), "application/json")
        }
    })
}
