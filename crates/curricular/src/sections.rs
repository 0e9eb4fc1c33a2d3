//! The sections of the curricular questionnaire, their fields and rules (DESIGN §6).
//!
//! A section's content is a flat map of field name → text, the same in HTML forms, the JSON API
//! and the bulk-capture CSV. Field names are stable identifiers (English); labels and help are
//! Spanish.

use std::collections::BTreeMap;

use conoceles_kit::FieldViolation;
use serde::Serialize;

use crate::fields::{self, Network};

/// The content of one section.
pub type Fields = BTreeMap<String, String>;

/// Length bounds of the long texts, set per election, counted without spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bounds {
    pub text_min: usize,
    pub text_max: usize,
    pub proposal_min: usize,
    pub proposal_max: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            text_min: 280,
            text_max: 5000,
            proposal_min: 280,
            proposal_max: 1600,
        }
    }
}

pub const EDUCATION_LEVELS: &[(&str, &str)] = &[
    ("sin_estudios", "Sin estudios"),
    ("primaria", "Primaria"),
    ("secundaria", "Secundaria"),
    ("bachillerato", "Bachillerato"),
    ("tecnica", "Carrera técnica"),
    ("licenciatura", "Licenciatura"),
    ("especialidad", "Especialidad"),
    ("maestria", "Maestría"),
    ("doctorado", "Doctorado"),
    ("posdoctorado", "Posdoctorado"),
];

pub const EDUCATION_STATUSES: &[(&str, &str)] = &[
    ("cursando", "Cursando"),
    ("trunco", "Trunco"),
    ("concluido", "Concluido"),
    ("certificado", "Certificado"),
    ("titulado", "Titulado"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    General,
    Education,
    Professional,
    Political,
    Motivation,
    Proposals,
    Gender,
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    LongText { min: usize, max: usize },
    Short { max: usize },
    Email,
    Phone,
    Url(Network),
    Choice(&'static [(&'static str, &'static str)]),
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub help: String,
    pub kind: Kind,
    pub required: bool,
    /// Shown on the public profile (the private email is not).
    pub public: bool,
}

impl FieldSpec {
    fn new(name: &'static str, label: &'static str, kind: Kind) -> Self {
        Self {
            name,
            label,
            help: String::new(),
            kind,
            required: false,
            public: true,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn private(mut self) -> Self {
        self.public = false;
        self
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub fn is_long_text(&self) -> bool {
        matches!(self.kind, Kind::LongText { .. })
    }

    pub fn choices(&self) -> &'static [(&'static str, &'static str)] {
        match self.kind {
            Kind::Choice(options) => options,
            _ => &[],
        }
    }

    /// The label of a stored value (the option's name for choices).
    pub fn display(&self, value: &str) -> String {
        self.choices()
            .iter()
            .find(|(code, _)| *code == value)
            .map(|(_, label)| label.to_string())
            .unwrap_or_else(|| value.to_string())
    }

    pub fn max_chars(&self) -> Option<usize> {
        match self.kind {
            Kind::LongText { max, .. } | Kind::Short { max } => Some(max),
            _ => None,
        }
    }

    fn parse(&self, value: &str) -> Result<String, String> {
        match self.kind {
            Kind::LongText { min, max } => fields::long_text(value, min, max),
            Kind::Short { max } => fields::short_text(value, max),
            Kind::Email => fields::email(value),
            Kind::Phone => fields::phone(value),
            Kind::Url(network) => fields::https_url(value, network),
            Kind::Choice(options) => fields::option(value, options),
        }
    }
}

fn long(min: usize, max: usize) -> Kind {
    Kind::LongText { min, max }
}

fn bounds_help(min: usize, max: usize) -> String {
    format!("Entre {min} y {max} caracteres, sin contar espacios.")
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::General,
        Section::Education,
        Section::Professional,
        Section::Political,
        Section::Motivation,
        Section::Proposals,
        Section::Gender,
    ];

    /// The stable name used in URLs, the API and the CSV.
    pub fn slug(self) -> &'static str {
        match self {
            Section::General => "general",
            Section::Education => "education",
            Section::Professional => "professional",
            Section::Political => "political",
            Section::Motivation => "motivation",
            Section::Proposals => "proposals",
            Section::Gender => "gender",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// The section in the front's addresses, in Spanish (`/escolaridad`).
    pub fn segment(self) -> &'static str {
        match self {
            Section::General => "datos-generales",
            Section::Education => "escolaridad",
            Section::Professional => "trayectoria-profesional",
            Section::Political => "trayectoria-politica",
            Section::Motivation => "motivos",
            Section::Proposals => "propuestas",
            Section::Gender => "propuesta-de-genero",
        }
    }

    /// The section an address names: its Spanish segment, or the code earlier addresses used.
    pub fn from_segment(segment: &str) -> Option<Section> {
        Section::ALL
            .into_iter()
            .find(|s| s.segment() == segment)
            .or_else(|| Section::from_slug(segment))
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::General => "Datos generales y medios de contacto",
            Section::Education => "Escolaridad",
            Section::Professional => "Trayectoria profesional",
            Section::Political => "Trayectoria política y participación ciudadana",
            Section::Motivation => "¿Por qué quiere ocupar un cargo público?",
            Section::Proposals => "Propuestas",
            Section::Gender => "Propuesta en materia de género o del grupo que representa",
        }
    }

    pub fn intro(self) -> &'static str {
        match self {
            Section::General => {
                "Todos los medios de contacto son opcionales y se publican, salvo el correo para aclaraciones, que solo usa el organismo electoral."
            }
            Section::Education => {
                "El grado máximo de estudios y su situación son obligatorios; otros cursos o diplomados son opcionales."
            }
            Section::Professional => {
                "Describa su experiencia laboral y profesional: cargos, empresas o instituciones y años."
            }
            Section::Political => {
                "Describa su trayectoria política, cargos de elección o partidistas y su participación en organizaciones ciudadanas."
            }
            Section::Motivation => "Explique a la ciudadanía por qué busca el cargo.",
            Section::Proposals => "Sus dos propuestas principales.",
            Section::Gender => {
                "Su propuesta en materia de género, o del grupo que representa: población a la que se dirige, metas y plazos."
            }
        }
    }

    pub fn fields(self, b: &Bounds) -> Vec<FieldSpec> {
        use Kind::*;
        let text = || long(b.text_min, b.text_max);
        let proposal = || long(b.proposal_min, b.proposal_max);
        match self {
            Section::General => {
                let mut specs = vec![
                    FieldSpec::new("private_email", "Correo electrónico para aclaraciones", Email)
                        .required()
                        .private()
                        .help("No se publica. El organismo electoral lo usa para avisarle de observaciones."),
                ];
                for (name, label) in [
                    ("public_email_1", "Correo electrónico público 1"),
                    ("public_email_2", "Correo electrónico público 2"),
                    ("public_email_3", "Correo electrónico público 3"),
                ] {
                    specs.push(FieldSpec::new(name, label, Email));
                }
                for (name, label) in [
                    ("phone_1", "Teléfono público 1"),
                    ("phone_2", "Teléfono público 2"),
                    ("phone_3", "Teléfono público 3"),
                ] {
                    specs.push(FieldSpec::new(name, label, Phone).help("10 dígitos."));
                }
                for (name, label) in [
                    ("campaign_address_1", "Domicilio de casa de campaña 1"),
                    ("campaign_address_2", "Domicilio de casa de campaña 2"),
                    ("campaign_address_3", "Domicilio de casa de campaña 3"),
                ] {
                    specs.push(FieldSpec::new(name, label, Short { max: 200 }));
                }
                specs.push(
                    FieldSpec::new("website", "Página web", Url(Network::Any))
                        .help("Dirección completa, empezando con https://"),
                );
                for (name, label, network) in [
                    ("facebook", "Facebook", Network::Facebook),
                    ("x", "X (Twitter)", Network::X),
                    ("youtube", "YouTube", Network::YouTube),
                    ("instagram", "Instagram", Network::Instagram),
                    ("tiktok", "TikTok", Network::TikTok),
                    ("other_network", "Otra red social", Network::Any),
                ] {
                    specs.push(
                        FieldSpec::new(name, label, Url(network))
                            .help("Dirección completa de su perfil, empezando con https://"),
                    );
                }
                specs
            }
            Section::Education => vec![
                FieldSpec::new(
                    "level",
                    "Grado máximo de estudios",
                    Choice(EDUCATION_LEVELS),
                )
                .required(),
                FieldSpec::new(
                    "status",
                    "Situación del grado máximo",
                    Choice(EDUCATION_STATUSES),
                )
                .required(),
                FieldSpec::new(
                    "other_training",
                    "Otra formación (cursos, diplomados)",
                    long(0, b.text_max),
                )
                .help(format!(
                    "Opcional. Hasta {} caracteres, sin contar espacios.",
                    b.text_max
                )),
            ],
            Section::Professional => vec![
                FieldSpec::new("history", "Trayectoria profesional", text())
                    .required()
                    .help(bounds_help(b.text_min, b.text_max)),
            ],
            Section::Political => vec![
                FieldSpec::new(
                    "trajectory",
                    "Trayectoria política y participación ciudadana",
                    text(),
                )
                .required()
                .help(bounds_help(b.text_min, b.text_max)),
            ],
            Section::Motivation => vec![
                FieldSpec::new("reason", "¿Por qué quiere ocupar un cargo público?", text())
                    .required()
                    .help(bounds_help(b.text_min, b.text_max)),
            ],
            Section::Proposals => vec![
                FieldSpec::new("proposal_1", "Propuesta 1", proposal())
                    .required()
                    .help(bounds_help(b.proposal_min, b.proposal_max)),
                FieldSpec::new("proposal_2", "Propuesta 2", proposal())
                    .required()
                    .help(bounds_help(b.proposal_min, b.proposal_max)),
            ],
            Section::Gender => vec![
                FieldSpec::new("proposal", "Propuesta", proposal())
                    .required()
                    .help(bounds_help(b.proposal_min, b.proposal_max)),
                FieldSpec::new(
                    "target_population",
                    "Población a la que se dirige",
                    Short { max: 200 },
                )
                .required(),
                FieldSpec::new("goals_and_deadlines", "Metas y plazos", Short { max: 500 }),
            ],
        }
    }
}

/// Checks `input` against the section's rules. Returns the content to store (normalised values
/// where valid, the text as typed where not, unknown fields dropped) and every problem found.
pub fn validate(
    section: Section,
    bounds: &Bounds,
    input: &Fields,
) -> (Fields, Vec<FieldViolation>) {
    let mut stored = Fields::new();
    let mut violations = Vec::new();
    for spec in section.fields(bounds) {
        let raw = input.get(spec.name).map(String::as_str).unwrap_or("");
        if raw.trim().is_empty() {
            if spec.required {
                violations.push(FieldViolation::new(
                    spec.name,
                    "required",
                    format!("{}: es obligatorio.", spec.label),
                ));
            }
            continue;
        }
        match spec.parse(raw) {
            Ok(value) => {
                stored.insert(spec.name.to_string(), value);
            }
            Err(message) => {
                violations.push(FieldViolation::new(
                    spec.name,
                    "invalid",
                    format!("{}: {message}", spec.label),
                ));
                stored.insert(spec.name.to_string(), raw.to_string());
            }
        }
    }
    (stored, violations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn mandatory_sections_report_every_missing_field() {
        let (_, violations) = validate(Section::Proposals, &Bounds::default(), &Fields::new());
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["proposal_1", "proposal_2"]);
        assert!(violations.iter().all(|v| v.reason == "required"));
        assert!(
            violations[0]
                .message
                .starts_with("Propuesta 1: es obligatorio")
        );
    }

    #[test]
    fn contact_media_are_optional_but_checked() {
        let b = Bounds::default();
        let (stored, violations) = validate(
            Section::General,
            &b,
            &input(&[
                ("private_email", "ana@ejemplo.mx"),
                ("phone_1", "844 123 4567"),
                ("facebook", "https://facebook.com/ana"),
                ("unknown", "dropped"),
            ]),
        );
        assert!(violations.is_empty(), "{violations:?}");
        assert_eq!(stored["phone_1"], "8441234567");
        assert!(!stored.contains_key("unknown"));

        let (stored, violations) = validate(
            Section::General,
            &b,
            &input(&[
                ("private_email", "ana"),
                ("phone_2", "12"),
                ("instagram", "https://facebook.com/ana"),
            ]),
        );
        let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["private_email", "phone_2", "instagram"]);
        assert_eq!(
            stored["phone_2"], "12",
            "what was typed is kept for correction"
        );
    }

    #[test]
    fn long_texts_follow_the_election_bounds() {
        let b = Bounds {
            text_min: 10,
            text_max: 20,
            ..Bounds::default()
        };
        let ok = validate(
            Section::Professional,
            &b,
            &input(&[("history", "diez letra s")]),
        );
        assert!(ok.1.is_empty());
        let short = validate(Section::Professional, &b, &input(&[("history", "corto")]));
        assert_eq!(short.1[0].reason, "invalid");
        assert!(short.1[0].message.contains("al menos 10"));
    }

    #[test]
    fn education_needs_a_level_and_status_from_the_lists() {
        let b = Bounds::default();
        let (_, v) = validate(
            Section::Education,
            &b,
            &input(&[("level", "licenciatura"), ("status", "titulado")]),
        );
        assert!(v.is_empty());
        let (_, v) = validate(Section::Education, &b, &input(&[("level", "kinder")]));
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn slugs_round_trip() {
        for s in Section::ALL {
            assert_eq!(Section::from_slug(s.slug()), Some(s));
        }
        assert_eq!(Section::from_slug("foto"), None);
        for s in Section::ALL {
            assert_eq!(Section::from_segment(s.segment()), Some(s));
            assert_eq!(
                Section::from_segment(s.slug()),
                Some(s),
                "earlier addresses"
            );
        }
    }
}
