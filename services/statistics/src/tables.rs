//! The predeclared tables (DESIGN §4.7): capture progress by status and one dimension, the
//! compliance of each postulant and office, and the identity-group tables `identity` computes
//! and suppresses. Every table states its cut-off.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conoceles_proto::capture::v1::{CountDimension, ProfileCount, StatusCount};
use conoceles_proto::common::v1 as common;
use conoceles_proto::validation::v1::ComplianceRow;
use serde::{Deserialize, Serialize};

use crate::privacy::{Protection, Release};

/// The dimensions of the progress tables (also their filters).
pub const PROGRESS_DIMENSIONS: [&str; 5] =
    ["postulant", "office", "principle", "sex", "constituency"];
pub const COMPLIANCE: &str = "compliance.by_postulant_office";
pub const SUBSTITUTIONS: &str = "substitutions.by_postulant_office";
/// What the curricular tables count (`curricular.<measure>.by_<dimension>`).
pub const CURRICULAR_MEASURES: [&str; 4] =
    ["education_level", "education_status", "age_band", "sex"];
pub const CURRICULAR_DIMENSIONS: [&str; 2] = ["office", "postulant"];
/// The filters of the curricular tables.
pub const CURRICULAR_FILTERS: [&str; 4] = ["office", "postulant", "sex", "role"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub title: String,
    pub description: String,
    pub dimensions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cell {
    pub dimensions: BTreeMap<String, String>,
    /// Absent when suppressed (or released coarser).
    pub count: Option<u64>,
    pub suppressed: bool,
    /// Identity tables under differential privacy: half the width of the noise's 90 %
    /// interval (`count ± half_width_90`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_width_90: Option<f64>,
    /// Identity tables under differential privacy: the group was too small for this detail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub coarsened: bool,
}

impl Cell {
    /// A plain count (no noise, not suppressed) or a suppressed one.
    pub fn count(dimensions: BTreeMap<String, String>, count: Option<u64>) -> Self {
        Self {
            dimensions,
            suppressed: count.is_none(),
            count,
            half_width_90: None,
            coarsened: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Table {
    pub definition: Definition,
    pub cut_off: DateTime<Utc>,
    /// For identity tables: persons counted, answered and declined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declined: Option<u64>,
    /// Identity tables: how identity protected them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protection: Option<Protection>,
    /// Identity tables under differential privacy: the release and the 90 % half-width of `n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Release>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_half_width_90: Option<f64>,
    pub cells: Vec<Cell>,
}

impl Table {
    /// A table of plain counts (no persons' denominators).
    pub fn counts(definition: Definition, cut_off: DateTime<Utc>, cells: Vec<Cell>) -> Self {
        Self {
            definition,
            cut_off,
            n: None,
            answered: None,
            declined: None,
            protection: None,
            release: None,
            n_half_width_90: None,
            cells,
        }
    }
}

/// Whether the public site may show the table: progress counts and the identity groups (which
/// come suppressed); compliance stays in the back office.
pub fn is_public(name: &str) -> bool {
    name.starts_with("progress.") || name.starts_with("identity.")
}

/// Every predeclared table, the identity ones named by `identity` for the election.
pub fn catalog(identity_tables: &[String]) -> Vec<Definition> {
    let mut all: Vec<Definition> = PROGRESS_DIMENSIONS
        .iter()
        .map(|d| Definition {
            name: format!("progress.by_{d}"),
            title: format!("Avance de la captura por estado y {}", label(d)),
            description: "Candidaturas por estado (not_started, draft, submitted, observed, approved, withdrawn) al corte `at`, con totales (`*`).".into(),
            dimensions: vec!["status".into(), (*d).into()],
        })
        .collect();
    for measure in CURRICULAR_MEASURES {
        for d in CURRICULAR_DIMENSIONS {
            all.push(Definition {
                name: format!("curricular.{measure}.by_{d}"),
                title: format!("Perfil curricular: {} por {}", label(measure), label(d)),
                description: "Personas candidatas vigentes (propietarias y suplentes) según su cuestionario curricular; `sin_dato` si aún no guardan su escolaridad; edad al cierre de la captura; con totales (`*`). Filtros: office, postulant, sex, role.".into(),
                dimensions: vec![measure.into(), d.into()],
            });
        }
    }
    all.push(Definition {
        name: COMPLIANCE.into(),
        title: "Cumplimiento por postulante y cargo".into(),
        description: "Candidaturas vigentes, sin iniciar, incompletas, observadas sin atender y sin cuestionario de identidad, al corte `at`.".into(),
        dimensions: vec!["postulant".into(), "office".into(), "measure".into()],
    });
    all.push(Definition {
        name: SUBSTITUTIONS.into(),
        title: "Sustituciones por postulante y cargo".into(),
        description: "Personas sustituidas (propietarias y suplentes) hasta el corte `at`, con totales (`*`).".into(),
        dimensions: vec!["postulant".into(), "office".into()],
    });
    for name in identity_tables {
        let dimension = name.rsplit_once(".by_").map(|(_, d)| d).unwrap_or_default();
        all.push(Definition {
            name: name.clone(),
            title: format!("Grupos del cuestionario de identidad: {name}"),
            description: "Calculada y protegida por el servicio de identidad como la elección lo decidió (`protection`): supresión de celdas (k, supresión complementaria y diferencias; corte: el momento de la consulta) o privacidad diferencial (cada cifra con ruido y su `half_width_90`; corte: la última publicación de la Unidad, en `release`). Solo con consentimiento estadístico.".into(),
            dimensions: vec!["option".into(), dimension.into()],
        });
    }
    all
}

fn label(dimension: &str) -> &'static str {
    match dimension {
        "postulant" => "postulante",
        "office" => "cargo",
        "principle" => "principio",
        "sex" => "sexo",
        "constituency" => "demarcación",
        "education_level" => "escolaridad",
        "education_status" => "estado de los estudios",
        "age_band" => "grupo de edad",
        _ => "dimensión",
    }
}

pub fn status_name(status: i32) -> &'static str {
    use common::CandidacyStatus as S;
    match S::try_from(status).unwrap_or(S::Unspecified) {
        S::NotStarted => "not_started",
        S::Draft => "draft",
        S::Submitted => "submitted",
        S::Observed => "observed",
        S::Approved => "approved",
        S::Published => "published",
        S::Withdrawn => "withdrawn",
        S::Unspecified => "unknown",
    }
}

fn value_of(row: &StatusCount, dimension: &str) -> String {
    let Some(d) = row.dimensions.as_ref() else {
        return String::new();
    };
    match dimension {
        "postulant" => d.postulant.clone(),
        "office" => d.office.clone(),
        "constituency" => d.constituency.clone(),
        "principle" => if d.principle == common::Principle::Rp as i32 {
            "rp"
        } else {
            "mr"
        }
        .into(),
        "sex" => match common::Sex::try_from(d.holder_sex).unwrap_or(common::Sex::Unspecified) {
            common::Sex::Woman => "mujer",
            common::Sex::Man => "hombre",
            common::Sex::NonBinary => "no_binario",
            common::Sex::Unspecified => "sin_dato",
        }
        .into(),
        _ => String::new(),
    }
}

/// Substitutions by postulant and office, with margins.
pub fn substitutions(rows: &[conoceles_proto::capture::v1::SubstitutionCount]) -> Vec<Cell> {
    crosstab(
        ("postulant", "office"),
        rows.iter()
            .map(|r| (r.postulant.clone(), r.office.clone(), r.count)),
    )
}

/// What capture needs to count by for a progress table: its dimension and the filtered ones.
pub fn progress_grouping(
    dimension: &str,
    filters: &BTreeMap<String, String>,
) -> Vec<CountDimension> {
    std::iter::once(dimension)
        .chain(filters.keys().map(String::as_str))
        .filter_map(|name| match name {
            "postulant" => Some(CountDimension::Postulant),
            "office" => Some(CountDimension::Office),
            "principle" => Some(CountDimension::Principle),
            "sex" => Some(CountDimension::HolderSex),
            "constituency" => Some(CountDimension::Constituency),
            _ => None,
        })
        .collect()
}

/// Candidacies by status and `dimension`, with margins; `filters` restrict the other
/// dimensions (codes).
pub fn progress(
    rows: &[StatusCount],
    dimension: &str,
    filters: &BTreeMap<String, String>,
) -> Vec<Cell> {
    crosstab(
        ("status", dimension),
        rows.iter()
            .filter(|row| filters.iter().all(|(k, v)| value_of(row, k) == *v))
            .map(|row| {
                (
                    status_name(row.status).to_string(),
                    value_of(row, dimension),
                    row.count,
                )
            }),
    )
}

/// Counts of `(a, b)` pairs with both margins and the total (`*`), as cells named `names`.
fn crosstab(names: (&str, &str), items: impl Iterator<Item = (String, String, u64)>) -> Vec<Cell> {
    let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (a, b, count) in items {
        for key in [
            (a.clone(), b.clone()),
            (a, "*".into()),
            ("*".into(), b),
            ("*".into(), "*".into()),
        ] {
            *counts.entry(key).or_default() += count;
        }
    }
    counts
        .into_iter()
        .map(|((a, b), count)| {
            Cell::count(
                BTreeMap::from([(names.0.to_string(), a), (names.1.to_string(), b)]),
                Some(count),
            )
        })
        .collect()
}

fn profile_value(row: &ProfileCount, key: &str) -> String {
    match key {
        "office" => row.office.clone(),
        "postulant" => row.postulant.clone(),
        "sex" => row.sex.clone(),
        "role" => row.role.clone(),
        "education_level" => row.education_level.clone(),
        "education_status" => row.education_status.clone(),
        "age_band" => row.age_band.clone(),
        _ => String::new(),
    }
}

/// Persons by `measure` and `dimension` (a curricular table), with margins; `filters` restrict
/// office, postulant, sex or role (codes).
pub fn curricular(
    rows: &[ProfileCount],
    measure: &str,
    dimension: &str,
    filters: &BTreeMap<String, String>,
) -> Vec<Cell> {
    crosstab(
        (measure, dimension),
        rows.iter()
            .filter(|row| filters.iter().all(|(k, v)| profile_value(row, k) == *v))
            .map(|row| {
                (
                    profile_value(row, measure),
                    profile_value(row, dimension),
                    row.count,
                )
            }),
    )
}

pub fn compliance(rows: &[ComplianceRow]) -> Vec<Cell> {
    rows.iter()
        .flat_map(|r| {
            [
                ("total", r.total),
                ("not_started", r.not_started),
                ("incomplete", r.incomplete),
                ("observed_unanswered", r.observed_unanswered),
                ("identity_missing", r.identity_missing),
            ]
            .into_iter()
            .map(|(measure, count)| {
                Cell::count(
                    BTreeMap::from([
                        ("postulant".into(), r.postulant_code.clone()),
                        ("office".into(), r.office_code.clone()),
                        ("measure".into(), measure.into()),
                    ]),
                    Some(count),
                )
            })
        })
        .collect()
}

/// The table as CSV: its dimensions, `count` (empty when suppressed), `suppressed`, `cut_off`.
/// The table as CSV: its dimensions, the count, whether suppressed and the cut-off; identity
/// tables also give each count's 90 % half-width and whether it was released coarser (empty
/// and `false` under cell suppression), so a script reads every identity table alike.
pub fn csv(table: &Table) -> String {
    let dims = &table.definition.dimensions;
    let identity = table.definition.name.starts_with("identity.");
    let mut out = dims.join(",");
    out.push_str(",count,suppressed,cut_off");
    if identity {
        out.push_str(",half_width_90,coarsened");
    }
    out.push_str("\r\n");
    let cut_off = table.cut_off.to_rfc3339();
    for cell in &table.cells {
        for d in dims {
            out.push_str(&csv_field(
                cell.dimensions.get(d).map_or("", String::as_str),
            ));
            out.push(',');
        }
        out.push_str(&format!(
            "{},{},{cut_off}",
            cell.count.map(|c| c.to_string()).unwrap_or_default(),
            cell.suppressed
        ));
        if identity {
            out.push_str(&format!(
                ",{},{}",
                cell.half_width_90
                    .map(|h| h.to_string())
                    .unwrap_or_default(),
                cell.coarsened
            ));
        }
        out.push_str("\r\n");
    }
    out
}

pub use conoceles_kit::csv::csv_field;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        postulant: &str,
        sex: common::Sex,
        status: common::CandidacyStatus,
        count: u64,
    ) -> StatusCount {
        StatusCount {
            dimensions: Some(common::CandidacyDimensions {
                postulant: postulant.into(),
                office: "DMR".into(),
                holder_sex: sex as i32,
                ..Default::default()
            }),
            status: status as i32,
            count,
            ..Default::default()
        }
    }

    #[test]
    fn curricular_tables_count_persons_with_margins_and_filters() {
        let p = |office: &str, sex: &str, level: &str, band: &str, count: u64| ProfileCount {
            office: office.into(),
            postulant: "PAN".into(),
            sex: sex.into(),
            role: "holder".into(),
            education_level: level.into(),
            education_status: "titulado".into(),
            age_band: band.into(),
            count,
        };
        let rows = vec![
            p("DMR", "mujer", "licenciatura", "30-39", 4),
            p("DMR", "hombre", "maestria", "40-49", 2),
            p("AYU", "mujer", "licenciatura", "60+", 1),
        ];
        let cells = curricular(&rows, "education_level", "office", &BTreeMap::new());
        let get = |cells: &[Cell], a: &str, b: &str| {
            cells
                .iter()
                .find(|c| c.dimensions["education_level"] == a && c.dimensions["office"] == b)
                .and_then(|c| c.count)
        };
        assert_eq!(get(&cells, "licenciatura", "DMR"), Some(4));
        assert_eq!(get(&cells, "licenciatura", "*"), Some(5));
        assert_eq!(get(&cells, "*", "DMR"), Some(6));
        assert_eq!(get(&cells, "*", "*"), Some(7));
        let women = curricular(
            &rows,
            "education_level",
            "office",
            &BTreeMap::from([("sex".into(), "mujer".into())]),
        );
        assert_eq!(get(&women, "*", "*"), Some(5));
        assert_eq!(get(&women, "maestria", "*"), None);
    }

    #[test]
    fn progress_counts_add_up_to_their_margins_and_filters_apply() {
        use common::CandidacyStatus as S;
        let rows = vec![
            row("PAN", common::Sex::Woman, S::NotStarted, 3),
            row("PAN", common::Sex::Man, S::Draft, 2),
            row("PRI", common::Sex::Woman, S::Approved, 4),
        ];
        let cells = progress(&rows, "sex", &BTreeMap::new());
        let get = |status: &str, sex: &str| {
            cells
                .iter()
                .find(|c| c.dimensions["status"] == status && c.dimensions["sex"] == sex)
                .and_then(|c| c.count)
        };
        assert_eq!(get("not_started", "mujer"), Some(3));
        assert_eq!(get("*", "mujer"), Some(7));
        assert_eq!(get("draft", "*"), Some(2));
        assert_eq!(get("*", "*"), Some(9));
        let pan = progress(
            &rows,
            "sex",
            &BTreeMap::from([("postulant".into(), "PAN".into())]),
        );
        assert_eq!(
            pan.iter()
                .find(|c| c.dimensions["status"] == "*" && c.dimensions["sex"] == "*")
                .unwrap()
                .count,
            Some(5)
        );
    }

    #[test]
    fn identity_tables_carry_each_counts_interval_in_json_csv_and_the_report() {
        let cell = |option: &str, count: Option<u64>, half: f64, coarsened: bool| Cell {
            dimensions: BTreeMap::from([
                ("option".to_string(), option.to_string()),
                ("sex".to_string(), "mujer".to_string()),
            ]),
            suppressed: false,
            count,
            half_width_90: Some(half),
            coarsened,
        };
        let table = Table {
            definition: Definition {
                name: "identity.migrant_years.by_sex".into(),
                title: "t".into(),
                description: String::new(),
                dimensions: vec!["option".into(), "sex".into()],
            },
            cut_off: "2027-04-30T12:00:00Z".parse().unwrap(),
            n: Some(40),
            answered: Some(30),
            declined: Some(10),
            protection: None,
            release: None,
            n_half_width_90: Some(9.0),
            cells: vec![
                cell("1_5", Some(12), 7.0, false),
                cell("6_10", None, 0.0, true),
            ],
        };
        let csv = csv(&table);
        assert!(csv.starts_with("option,sex,count,suppressed,cut_off,half_width_90,coarsened\r\n"));
        assert!(
            csv.contains("1_5,mujer,12,false,2027-04-30T12:00:00+00:00,7,false\r\n"),
            "{csv}"
        );
        assert!(
            csv.contains("6_10,mujer,,false,2027-04-30T12:00:00+00:00,0,true\r\n"),
            "{csv}"
        );
        let json = serde_json::to_value(&table).unwrap();
        assert_eq!(json["cells"][0]["half_width_90"], 7.0);
        assert_eq!(json["cells"][1]["coarsened"], true);
        assert_eq!(crate::report::shown_count(&table.cells[0]), "12 ± 7");
        assert_eq!(crate::report::shown_count(&table.cells[1]), "agrupada");
        let plain = Cell::count(BTreeMap::new(), None);
        assert_eq!(crate::report::shown_count(&plain), "—");
        // Count tables keep their columns.
        let mut counts = table.clone();
        counts.definition.name = "progress.by_sex".into();
        assert!(super::csv(&counts).starts_with("option,sex,count,suppressed,cut_off\r\n"));
    }
}
