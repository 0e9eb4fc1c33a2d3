//! What people read instead of codes in reports: the Spanish names of dimensions and values
//! (statuses, sexes, principles, education, age bands, measures), the election's own catalogs
//! (postulants, offices, constituencies, as `capture` names them) and the identity
//! questionnaire's questions and options. A report stores the names it was produced with, so it
//! reads the same later, and the election's time zone, the one every time in it is shown in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conoceles_proto::capture::v1 as capture;
use serde::{Deserialize, Serialize};

/// The names a report was produced with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Names {
    /// The election's time zone (IANA), in which the report shows every time.
    pub time_zone: String,
    /// Dimension → code → name: `postulant`, `office`, `constituency`, and
    /// `identity.<question>` for a question's options.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// The identity questionnaire's questions: id → text.
    pub questions: BTreeMap<String, String>,
}

impl Names {
    /// From `capture`'s election (catalogs) and `identity`'s definition (questions, options).
    pub fn new(
        election: &capture::GetElectionResponse,
        definition: Option<&conoceles_identity_questionnaire::Definition>,
    ) -> Self {
        let catalog = |rows: &[capture::CatalogName]| {
            rows.iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        let mut values = BTreeMap::new();
        values.insert("postulant".to_string(), catalog(&election.postulants));
        values.insert("office".to_string(), catalog(&election.offices));
        values.insert(
            "constituency".to_string(),
            catalog(&election.constituencies),
        );
        let mut questions = BTreeMap::new();
        for q in definition
            .map(|d| d.questions.as_slice())
            .unwrap_or_default()
        {
            questions.insert(
                q.id.clone(),
                q.text.trim().trim_end_matches(':').trim().to_string(),
            );
            values.insert(
                format!("identity.{}", q.id),
                q.options
                    .iter()
                    .map(|o| (o.id.clone(), o.label.clone()))
                    .collect(),
            );
        }
        Self {
            time_zone: election
                .election
                .as_ref()
                .map(|e| e.time_zone.clone())
                .unwrap_or_default(),
            values,
            questions,
        }
    }

    /// A value of `dimension` in table `table`, by name.
    pub fn value(&self, table: &str, dimension: &str, code: &str) -> String {
        let catalog = if dimension == "option" {
            table
                .rsplit_once(".by_")
                .and_then(|(question, _)| self.values.get(question))
        } else {
            self.values.get(dimension)
        };
        catalog
            .and_then(|names| names.get(code))
            .cloned()
            .unwrap_or_else(|| value(code))
    }

    /// A table's title: the identity tables' from their question.
    pub fn title(&self, table: &str, stored: &str) -> String {
        let Some((question, dimension)) = table
            .strip_prefix("identity.")
            .and_then(|rest| rest.rsplit_once(".by_"))
        else {
            return stored.to_string();
        };
        match self.questions.get(question) {
            Some(text) => format!(
                "Cuestionario de identidad: {text} (por {})",
                dimension_label(dimension).to_lowercase()
            ),
            None => stored.to_string(),
        }
    }

    /// An instant in the election's time zone: «10/05/2027 18:00 (CST)».
    pub fn local(&self, at: DateTime<Utc>) -> String {
        match self.time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => at
                .with_timezone(&tz)
                .format("%d/%m/%Y %H:%M (%Z)")
                .to_string(),
            Err(_) => at.format("%d/%m/%Y %H:%M (UTC)").to_string(),
        }
    }

    /// An instant in the election's time zone, for files: RFC 3339 with its offset.
    pub fn local_iso(&self, at: DateTime<Utc>) -> String {
        match self.time_zone.parse::<chrono_tz::Tz>() {
            Ok(tz) => at
                .with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            Err(_) => at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

/// The Spanish name of a dimension (a column header).
pub fn dimension_label(dimension: &str) -> &'static str {
    match dimension {
        "status" => "Estado",
        "postulant" => "Partido o candidatura",
        "office" => "Cargo",
        "principle" => "Principio",
        "sex" => "Sexo",
        "constituency" => "Demarcación",
        "measure" => "Medida",
        "education_level" => "Escolaridad",
        "education_status" => "Estado de los estudios",
        "age_band" => "Grupo de edad",
        "option" => "Respuesta",
        "role" => "Calidad",
        "affirmative_action" => "Acción afirmativa",
        "birth_state" => "Entidad de nacimiento",
        _ => "Dimensión",
    }
}

/// Where a value goes among its dimension's columns: education levels and statuses in their
/// order, other values as they come, "no data" and "declined" after them, totals last.
pub fn rank(code: &str) -> usize {
    use conoceles_curricular::sections::{EDUCATION_LEVELS, EDUCATION_STATUSES};
    if let Some(i) = EDUCATION_LEVELS
        .iter()
        .chain(EDUCATION_STATUSES)
        .position(|(c, _)| *c == code)
    {
        return i;
    }
    match code {
        "*" => 3000,
        "sin_dato" | "declined" => 2000,
        _ => 1000,
    }
}

/// The Spanish name of a value that is the same in every election.
pub fn value(code: &str) -> String {
    if let Some(status) = conoceles_kit::CandidacyStatus::parse(code) {
        return status.label().to_string();
    }
    let level = conoceles_curricular::sections::EDUCATION_LEVELS
        .iter()
        .chain(conoceles_curricular::sections::EDUCATION_STATUSES)
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name);
    if let Some(name) = level {
        return name.to_string();
    }
    match code {
        "*" => "Total",
        "total" => "Vigentes",
        "incomplete" => "Incompletas",
        "observed_unanswered" => "Observadas sin atender",
        "identity_missing" => "Sin cuestionario de identidad",
        "mujer" => "Mujer",
        "hombre" => "Hombre",
        "no_binario" => "No binario",
        "sin_dato" => "Sin dato",
        "declined" => "Prefirió no responder",
        "mr" => "Mayoría relativa",
        "rp" => "Representación proporcional",
        "holder" => "Propietaria o propietario",
        "alternate" => "Suplente",
        "60+" => "60 años o más",
        other if other.len() == 5 && other.as_bytes()[2] == b'-' => {
            return format!("{other} años");
        }
        other => other,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let election = capture::GetElectionResponse {
            election: Some(capture::Election {
                time_zone: "America/Monterrey".into(),
                ..Default::default()
            }),
            postulants: vec![capture::CatalogName {
                code: "PT".into(),
                name: "Partido del Trabajo".into(),
            }],
            offices: vec![capture::CatalogName {
                code: "diputacion_mr".into(),
                name: "Diputación de mayoría relativa".into(),
            }],
            constituencies: Vec::new(),
        };
        let definition = conoceles_identity_questionnaire::Definition::default_topics();
        Names::new(&election, Some(&definition))
    }

    #[test]
    fn codes_read_as_names_and_times_in_the_elections_zone() {
        let n = names();
        assert_eq!(
            n.value("progress.by_postulant", "postulant", "PT"),
            "Partido del Trabajo"
        );
        assert_eq!(
            n.value("x", "office", "diputacion_mr"),
            "Diputación de mayoría relativa"
        );
        assert_eq!(n.value("x", "status", "not_started"), "Sin iniciar");
        assert_eq!(n.value("x", "education_level", "maestria"), "Maestría");
        assert_eq!(n.value("x", "age_band", "30-39"), "30-39 años");
        assert_eq!(n.value("x", "sex", "*"), "Total");
        assert_eq!(
            n.local("2027-05-11T00:00:00Z".parse().unwrap()),
            "10/05/2027 18:00 (CST)"
        );
        assert_eq!(
            n.local_iso("2027-05-11T00:00:00Z".parse().unwrap()),
            "2027-05-10T18:00:00-06:00"
        );
    }

    #[test]
    fn identity_tables_are_titled_by_their_question_and_options_named() {
        let n = names();
        let definition = conoceles_identity_questionnaire::Definition::default_topics();
        let question = definition
            .questions
            .iter()
            .find(|q| !q.options.is_empty())
            .unwrap();
        let table = format!("identity.{}.by_sex", question.id);
        let title = n.title(&table, "stored");
        assert!(title.contains(&question.text), "{title}");
        assert!(title.ends_with("(por sexo)"), "{title}");
        let option = &question.options[0];
        assert_eq!(n.value(&table, "option", &option.id), option.label);
    }
}
