//! An election's definition of the curricular questionnaire, versioned like the identity
//! questionnaire's: the Lineamientos' sections and fields (always, unchanged: they are the law's
//! minimum) plus the electoral body's own fields — a video link, a document to upload (the
//! "3 de 3" declarations), commitment checkboxes — in the section «Información adicional».
//!
//! ```json
//! {"extra": [
//!   {"id": "video", "kind": "url", "label": "Video de presentación", "public": true},
//!   {"id": "tres_de_tres", "kind": "document", "label": "Declaraciones «3 de 3»", "required": true},
//!   {"id": "contra_corrupcion", "kind": "commitment", "label": "Me comprometo a combatir la corrupción"}
//! ]}
//! ```
//!
//! A definition may repeat the Lineamientos' sections (`"sections": [{"id": "general", "fields":
//! [...]}, …]`) to show them; one that leaves out a field of the Lineamientos, or names one that
//! does not exist, is refused with the reason.

use serde::{Deserialize, Serialize};

use crate::sections::{Bounds, Section};

/// The section that holds the body's own fields (its slug in URLs and in the submission).
pub const EXTRA_SECTION: &str = "adicional";
pub const EXTRA_TITLE: &str = "Información adicional";
/// The most fields of its own an election may add.
pub const MAX_EXTRA: usize = 20;

/// What kind of field the body adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtraKind {
    /// An https address (a video, a page).
    Url,
    /// A PDF the party uploads (declarations, certificates).
    Document,
    /// A commitment the candidate makes by ticking a box.
    Commitment,
}

impl ExtraKind {
    pub fn label(self) -> &'static str {
        match self {
            ExtraKind::Url => "Dirección web",
            ExtraKind::Document => "Documento PDF",
            ExtraKind::Commitment => "Compromiso",
        }
    }
}

/// A field of the body's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraField {
    pub id: String,
    pub kind: ExtraKind,
    pub label: String,
    #[serde(default)]
    pub help: String,
    /// Needed before sending (for a commitment: the box ticked).
    #[serde(default)]
    pub required: bool,
    /// Shown on the public profile and in the open data.
    #[serde(default = "shown")]
    pub public: bool,
}

fn shown() -> bool {
    true
}

/// A section as a definition lists it: its slug and its fields' names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionRef {
    pub id: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The Lineamientos' sections (filled in when absent).
    #[serde(default)]
    pub sections: Vec<SectionRef>,
    #[serde(default)]
    pub extra: Vec<ExtraField>,
}

impl Default for Definition {
    fn default() -> Self {
        Self::lineamientos()
    }
}

impl Definition {
    /// The Lineamientos' questionnaire, nothing added: every election's version 1.
    pub fn lineamientos() -> Self {
        let bounds = Bounds::default();
        Self {
            sections: Section::ALL
                .iter()
                .map(|s| SectionRef {
                    id: s.slug().to_string(),
                    fields: s
                        .fields(&bounds)
                        .iter()
                        .map(|f| f.name.to_string())
                        .collect(),
                })
                .collect(),
            extra: Vec::new(),
        }
    }

    /// Parses and checks a definition a body wrote; every problem at once, in Spanish.
    pub fn parse(json: &str) -> Result<Self, Vec<String>> {
        let mut definition: Definition = serde_json::from_str(json).map_err(|e| {
            vec![format!(
                "La definición no es JSON válido o tiene claves desconocidas: {e}"
            )]
        })?;
        if definition.sections.is_empty() {
            definition.sections = Self::lineamientos().sections;
        }
        definition.check()?;
        Ok(definition)
    }

    /// Every problem of the definition: a Lineamientos field or section missing, an unknown
    /// one, an own field badly named, repeated, or colliding with a field of the Lineamientos.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let bounds = Bounds::default();
        let mut problems = Vec::new();
        for section in Section::ALL {
            let Some(listed) = self.sections.iter().find(|s| s.id == section.slug()) else {
                problems.push(format!(
                    "Falta la sección «{}» ({}) de los Lineamientos: sus campos no se pueden quitar.",
                    section.title(),
                    section.slug()
                ));
                continue;
            };
            let listed = Some(listed);
            for field in section.fields(&bounds) {
                let present = listed.is_some_and(|s| s.fields.iter().any(|f| f == field.name));
                if !present {
                    problems.push(format!(
                        "Falta el campo «{}» de la sección «{}» ({}.{}): {}",
                        field.label,
                        section.title(),
                        section.slug(),
                        field.name,
                        if field.required {
                            "es obligatorio según los Lineamientos y no se puede quitar."
                        } else {
                            "los campos de los Lineamientos no se pueden quitar."
                        }
                    ));
                }
            }
        }
        for listed in &self.sections {
            match Section::from_slug(&listed.id) {
                None => problems.push(format!(
                    "La sección «{}» no es de los Lineamientos; los campos propios del organismo van en «extra».",
                    listed.id
                )),
                Some(section) => {
                    let names: Vec<&str> =
                        section.fields(&bounds).iter().map(|f| f.name).collect();
                    for f in &listed.fields {
                        if !names.contains(&f.as_str()) {
                            problems.push(format!(
                                "El campo «{f}» no existe en la sección «{}»; los campos propios del organismo van en «extra».",
                                section.title()
                            ));
                        }
                    }
                }
            }
        }
        if self.extra.len() > MAX_EXTRA {
            problems.push(format!(
                "Hay {} campos propios; el máximo es {MAX_EXTRA}.",
                self.extra.len()
            ));
        }
        let base: Vec<&str> = Section::ALL
            .iter()
            .flat_map(|s| s.fields(&bounds).into_iter().map(|f| f.name))
            .collect();
        for (i, e) in self.extra.iter().enumerate() {
            let valid_id = e.id.len() >= 2
                && e.id.len() <= 40
                && e.id.starts_with(|c: char| c.is_ascii_lowercase())
                && e.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_id {
                problems.push(format!(
                    "Campo propio {}: el id «{}» debe tener de 2 a 40 letras minúsculas sin acentos, dígitos o «_», y empezar con letra.",
                    i + 1,
                    e.id
                ));
            }
            if base.contains(&e.id.as_str()) {
                problems.push(format!(
                    "Campo propio «{}»: ese id es de un campo de los Lineamientos; elija otro.",
                    e.id
                ));
            }
            if self.extra[..i].iter().any(|o| o.id == e.id) {
                problems.push(format!("Campo propio «{}»: el id está repetido.", e.id));
            }
            if e.label.trim().is_empty() || e.label.chars().count() > 200 {
                problems.push(format!(
                    "Campo propio «{}»: la etiqueta es obligatoria, hasta 200 caracteres.",
                    e.id
                ));
            }
            if e.help.chars().count() > 500 {
                problems.push(format!(
                    "Campo propio «{}»: la ayuda tiene hasta 500 caracteres.",
                    e.id
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// An own field by id.
    pub fn extra_field(&self, id: &str) -> Option<&ExtraField> {
        self.extra.iter().find(|e| e.id == id)
    }
}

/// Checks the values typed for the own fields that are not documents (URLs, commitments):
/// the stored values (a commitment: `si` or nothing) and the problems, by field id.
pub fn validate_extra(
    definition: &Definition,
    input: &std::collections::BTreeMap<String, String>,
) -> (
    std::collections::BTreeMap<String, String>,
    Vec<(String, String)>,
) {
    let mut stored = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for field in &definition.extra {
        let value = input.get(&field.id).map(|v| v.trim()).unwrap_or_default();
        match field.kind {
            ExtraKind::Url => {
                if value.is_empty() {
                    if field.required {
                        problems.push((field.id.clone(), "Este campo es obligatorio.".into()));
                    }
                    continue;
                }
                match crate::fields::https_url(value, crate::fields::Network::Any) {
                    Ok(url) => {
                        stored.insert(field.id.clone(), url);
                    }
                    Err(message) => {
                        stored.insert(field.id.clone(), value.to_string());
                        problems.push((field.id.clone(), message));
                    }
                }
            }
            ExtraKind::Commitment => {
                if value == "si" {
                    stored.insert(field.id.clone(), "si".into());
                } else if field.required {
                    problems.push((
                        field.id.clone(),
                        "Para enviar el cuestionario, este compromiso debe aceptarse.".into(),
                    ));
                }
            }
            ExtraKind::Document => {}
        }
    }
    (stored, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COAHUILA: &str = r#"{"extra": [
        {"id": "video", "kind": "url", "label": "Video de presentación"},
        {"id": "tres_de_tres", "kind": "document", "label": "Declaraciones «3 de 3»", "required": true},
        {"id": "contra_corrupcion", "kind": "commitment", "label": "Me comprometo a combatir la corrupción", "required": true},
        {"id": "no_discriminacion", "kind": "commitment", "label": "Me comprometo a no discriminar"}
    ]}"#;

    #[test]
    fn the_lineamientos_alone_pass_and_a_bodys_own_fields_are_added() {
        assert!(Definition::lineamientos().check().is_ok());
        let d = Definition::parse(COAHUILA).unwrap();
        assert_eq!(d.extra.len(), 4);
        assert_eq!(d.sections, Definition::lineamientos().sections);
        assert!(d.extra_field("video").unwrap().public);
    }

    #[test]
    fn a_definition_that_drops_a_mandatory_field_or_reuses_its_name_is_refused_with_why() {
        let mut d = Definition::lineamientos();
        d.sections[0].fields.retain(|f| f != "private_email");
        let problems = d.check().unwrap_err();
        assert!(
            problems[0].contains("«Correo electrónico para aclaraciones»")
                && problems[0].contains("obligatorio según los Lineamientos"),
            "{problems:?}"
        );
        let clash = r#"{"extra": [{"id": "private_email", "kind": "url", "label": "x"},
                                   {"id": "Video", "kind": "url", "label": ""},
                                   {"id": "a1", "kind": "commitment", "label": "a"},
                                   {"id": "a1", "kind": "commitment", "label": "b"}]}"#;
        let problems = Definition::parse(clash).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("es de un campo de los Lineamientos"))
        );
        assert!(problems.iter().any(|p| p.contains("«Video» debe tener")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("la etiqueta es obligatoria"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("«a1»: el id está repetido"))
        );
        let unknown = r#"{"sections": [{"id": "hobbies", "fields": []}]}"#;
        let problems = Definition::parse(unknown).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("«hobbies» no es de los Lineamientos"))
        );
        assert!(
            Definition::parse(r#"{"extra": [{"id": "v", "kind": "audio", "label": "x"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn own_fields_are_checked_as_typed() {
        let d = Definition::parse(COAHUILA).unwrap();
        let typed = [
            ("video".to_string(), "http://inseguro.mx".to_string()),
            ("no_discriminacion".to_string(), "si".to_string()),
        ]
        .into_iter()
        .collect();
        let (stored, problems) = validate_extra(&d, &typed);
        assert_eq!(stored["no_discriminacion"], "si");
        let fields: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["video", "contra_corrupcion"]);
    }

    proptest! {
        /// Whatever a body writes, parsing answers a checked definition or the reasons — never a
        /// panic — and a definition it accepts keeps every field of the Lineamientos.
        #[test]
        fn parsing_never_panics_and_accepted_definitions_keep_the_lineamientos(json in ".{0,300}") {
            if let Ok(d) = Definition::parse(&json) {
                prop_assert!(d.check().is_ok());
            }
        }

        #[test]
        fn any_own_field_with_a_lowercase_id_and_a_label_is_accepted(
            id in "[a-z][a-z0-9_]{1,30}", label in "[A-Za-zÁÉÍÓÚáéíóúñ ]{1,60}"
        ) {
            prop_assume!(!label.trim().is_empty());
            let base: Vec<&str> = Section::ALL.iter()
                .flat_map(|s| s.fields(&Bounds::default()).into_iter().map(|f| f.name)).collect();
            prop_assume!(!base.contains(&id.as_str()));
            let json = serde_json::json!({"extra": [{"id": id, "kind": "commitment", "label": label}]});
            prop_assert!(Definition::parse(&json.to_string()).is_ok());
        }
    }
}
