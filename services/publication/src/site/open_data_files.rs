//! The contents of the open-data files: the CSV (one row per person, the columns of INE's
//! historic export, multi-valued fields in their own columns), the JSON, and Popolo (Person,
//! Organization, Post, Membership). Only what the public profile holds: never a private field.

use conoceles_kit::csv::csv_field;
use serde_json::{Value, json};

use crate::model::Published;

/// The CSV's columns and what each holds (the data dictionary on `/datos`).
pub const COLUMNS: [(&str, &str); 38] = [
    ("ID_CANDIDATURA", "Identificador estable de la candidatura"),
    ("ID_PERSONA", "Identificador estable de la persona"),
    (
        "PARTIDO_COALICION",
        "Partido, coalición, candidatura común o independiente",
    ),
    ("CARGO", "Cargo"),
    (
        "PRINCIPIO",
        "mr (mayoría relativa) o rp (representación proporcional)",
    ),
    ("ENTIDAD", "Entidad federativa"),
    ("DISTRITO_LOCAL", "Distrito local (cargos de distrito)"),
    (
        "CIRCUNSCRIPCION",
        "Circunscripción o lista (representación proporcional)",
    ),
    ("MUNICIPIO", "Municipio (cargos municipales)"),
    ("NUM_LISTA_O_FORMULA", "Lugar en la lista o fórmula (RP)"),
    ("NOMBRE_CANDIDATO", "Nombre completo"),
    ("TIPO_CANDIDATO", "PROPIETARIO o SUPLENTE"),
    ("EDAD", "Edad el día de la jornada electoral"),
    ("SEXO", "mujer, hombre o no_binario"),
    ("ACCION_AFIRMATIVA", "Tipo de acción afirmativa, si la hay"),
    (
        "DIRECCION_CASA_CAMPANA",
        "Domicilios de casa de campaña, separados por « | »",
    ),
    ("TELEFONO", "Teléfonos públicos, separados por « | »"),
    (
        "CORREO_ELECTRONICO",
        "Correos electrónicos públicos, separados por « | »",
    ),
    ("PAGINA_WEB", "Página web"),
    ("REDES_FACEBOOK", "Facebook"),
    ("REDES_X", "X (Twitter)"),
    ("REDES_YOUTUBE", "YouTube"),
    ("REDES_INSTAGRAM", "Instagram"),
    ("REDES_TIKTOK", "TikTok"),
    ("REDES_OTRA", "Otra red social"),
    ("ESCOLARIDAD", "Grado máximo de estudios"),
    ("ESTATUS_ESCOLARIDAD", "Situación del grado máximo"),
    ("CURSOS", "Otra formación"),
    ("HISTORIA_PROFESIONAL", "Trayectoria profesional"),
    (
        "TRAYECTORIA_POLITICA",
        "Trayectoria política y participación ciudadana",
    ),
    (
        "MOTIVO_CARGO_PUBLICO",
        "Por qué quiere ocupar un cargo público",
    ),
    ("PROPUESTA_1", "Propuesta 1"),
    ("PROPUESTA_2", "Propuesta 2"),
    (
        "PROPUESTA_GENERO",
        "Propuesta en materia de género o del grupo que representa",
    ),
    (
        "FECHA_CORRECCION",
        "Fecha de la última corrección (vacía si no la hubo)",
    ),
    ("HUELLA_SHA256", "Huella SHA-256 del contenido publicado"),
    (
        "INFORMACION_ADICIONAL",
        "Campos propios del organismo electoral marcados como públicos, «etiqueta: valor» separados por « | » (ligas; «Aceptado» para compromisos; documentos como dirección de descarga en el sitio)",
    ),
    (
        "URL_FOTO",
        "Dirección de la fotografía en el sitio, relativa a su dirección (vacía si no hay)",
    ),
];

/// The web page and the social networks of the general section, in the CSV's column order.
const NETWORKS: [&str; 7] = [
    "website",
    "facebook",
    "x",
    "youtube",
    "instagram",
    "tiktok",
    "other_network",
];

fn field(person: &Value, section: &str, name: &str) -> String {
    person["sections"][section]["fields"][name]["shown"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The election's own public fields of a person, «label: value» joined by « | ».
fn additional(person: &Value) -> String {
    person["sections"]["adicional"]["fields"]
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, v)| {
                    let shown = if v["has_document"] == Value::Bool(true) {
                        format!(
                            "/documentos/{}/{name}",
                            person["person_id"].as_str().unwrap_or_default()
                        )
                    } else {
                        v["shown"].as_str().unwrap_or_default().to_string()
                    };
                    format!("{}: {shown}", v["label"].as_str().unwrap_or_default())
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

/// Every value of a numbered field (`phone_1` … `phone_3`), joined by « | ».
fn all(person: &Value, section: &str, name: &str) -> String {
    (1..=3)
        .map(|n| field(person, section, &format!("{name}_{n}")))
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn persons(p: &Published) -> Vec<Value> {
    p.profile["persons"].as_array().cloned().unwrap_or_default()
}

fn rows(p: &Published) -> Vec<Vec<String>> {
    let l = &p.listed;
    let kind = p.profile["constituency_kind"].as_str().unwrap_or_default();
    let in_kind = |k: &str| {
        if kind == k {
            l.constituency.clone()
        } else {
            String::new()
        }
    };
    persons(p)
        .iter()
        .map(|person| {
            let mut row = first_columns(
                p,
                &in_kind,
                Person {
                    id: person["person_id"].as_str().unwrap_or_default().to_string(),
                    name: person["full_name"].as_str().unwrap_or_default().to_string(),
                    alternate: person["role"] == "alternate",
                    age: person["age"].as_i64().unwrap_or(0).to_string(),
                    sex: person["sex"].as_str().unwrap_or_default().to_string(),
                },
            );
            row.extend([
                all(person, "general", "campaign_address"),
                all(person, "general", "phone"),
                all(person, "general", "public_email"),
                field(person, "general", "website"),
            ]);
            for network in &NETWORKS[1..] {
                row.push(field(person, "general", network));
            }
            row.extend([
                field(person, "education", "level"),
                field(person, "education", "status"),
                field(person, "education", "other_training"),
                field(person, "professional", "history"),
                field(person, "political", "trajectory"),
                field(person, "motivation", "reason"),
                field(person, "proposals", "proposal_1"),
                field(person, "proposals", "proposal_2"),
                field(person, "gender", "proposal"),
                l.corrected_at.map(|c| c.to_rfc3339()).unwrap_or_default(),
                p.profile["content_sha256"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                additional(person),
                if person["has_photo"].as_bool().unwrap_or(true) {
                    person["person_id"]
                        .as_str()
                        .map(|id| format!("/fotos/{id}"))
                        .unwrap_or_default()
                } else {
                    String::new()
                },
            ]);
            row
        })
        .chain(alternate_row(p, &in_kind))
        .collect()
}

/// The alternate's row when only the holder answers the questionnaire: the registry's name and
/// sex, the candidacy's columns, nothing of a questionnaire.
fn alternate_row(p: &Published, in_kind: &dyn Fn(&str) -> String) -> Option<Vec<String>> {
    let a = p.registered_alternate.as_ref()?;
    let mut row = first_columns(
        p,
        in_kind,
        Person {
            id: a.id.map(|id| id.to_string()).unwrap_or_default(),
            name: a.full_name.clone(),
            alternate: true,
            age: String::new(),
            sex: a.sex.clone(),
        },
    );
    row.resize(COLUMNS.len(), String::new());
    Some(row)
}

/// A row's person: who it is, as the CSV's columns name it.
struct Person {
    id: String,
    name: String,
    alternate: bool,
    age: String,
    sex: String,
}

/// The columns up to ACCION_AFIRMATIVA: the candidacy's and the row's person's.
fn first_columns(p: &Published, in_kind: &dyn Fn(&str) -> String, person: Person) -> Vec<String> {
    let l = &p.listed;
    vec![
        l.id.to_string(),
        person.id,
        l.postulant.clone(),
        l.office.clone(),
        l.principle.clone(),
        p.profile["state"].as_str().unwrap_or_default().to_string(),
        in_kind("district"),
        in_kind("list"),
        in_kind("municipality"),
        if l.list_position > 0 {
            l.list_position.to_string()
        } else {
            String::new()
        },
        person.name,
        if person.alternate {
            "SUPLENTE"
        } else {
            "PROPIETARIO"
        }
        .to_string(),
        person.age,
        person.sex,
        l.affirmative_action.clone(),
    ]
}

/// The CSV's header line.
pub fn csv_header() -> String {
    let mut out = COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// The CSV lines of one candidacy (one per person).
pub fn csv_lines(p: &Published) -> String {
    let mut out = String::new();
    for row in rows(p) {
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

/// One candidacy as the JSON API and the JSON file give it.
pub fn public_json(p: &Published) -> Value {
    json!({
        "id": p.listed.id,
        "office": p.listed.office,
        "office_code": p.listed.office_code,
        "principle": p.listed.principle,
        "constituency": p.listed.constituency,
        "constituency_code": p.listed.constituency_code,
        "postulant": p.listed.postulant,
        "postulant_code": p.listed.postulant_code,
        "list_position": p.listed.list_position,
        "slate_role": p.listed.slate_role,
        "affirmative_action": p.listed.affirmative_action,
        "corrected_at": p.listed.corrected_at,
        "persons": p.profile["persons"],
        "identity": p.identity,
        "alternate_identity": p.alternate_identity,
        "content_sha256": p.profile["content_sha256"],
    })
}

/// Popolo (popoloproject.com), written as candidacies stream by: persons as they come, then
/// the postulants as organizations, the contested seats as posts, and one membership per
/// person and candidacy. Only organizations, posts and the memberships (compressed) are kept
/// until the end.
pub struct Popolo {
    organizations: std::collections::BTreeMap<String, Value>,
    posts: std::collections::BTreeMap<String, Value>,
    /// The memberships written so far (they close the document, after every person),
    /// gzip-compressed as they come: at national scale they are ~130 MB as text.
    memberships: flate2::write::GzEncoder<Vec<u8>>,
    memberships_written: usize,
    persons_written: usize,
}

impl Default for Popolo {
    fn default() -> Self {
        Self {
            organizations: Default::default(),
            posts: Default::default(),
            memberships: flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()),
            memberships_written: 0,
            persons_written: 0,
        }
    }
}

/// What closes a Popolo document, in blocks of text ([`Closing::next_block`]): the
/// organizations and posts, then the memberships decompressed a block at a time.
pub struct Closing {
    head: Option<String>,
    memberships: Option<flate2::read::GzDecoder<std::io::Cursor<Vec<u8>>>>,
}

impl Closing {
    /// The next block of the closing text (`None`: the document is complete).
    pub fn next_block(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        use std::io::Read;
        if let Some(head) = self.head.take() {
            return Ok(Some(head.into_bytes()));
        }
        let Some(memberships) = self.memberships.as_mut() else {
            return Ok(None);
        };
        let mut block = vec![0u8; 64 * 1024];
        let n = memberships.read(&mut block)?;
        if n == 0 {
            self.memberships = None;
            return Ok(Some(b"]}\n".to_vec()));
        }
        block.truncate(n);
        Ok(Some(block))
    }
}

impl Popolo {
    pub const OPENING: &'static str = "{\"persons\":[";

    /// The persons of one candidacy, as text to append to the `persons` array.
    pub fn add(&mut self, election: &str, p: &Published) -> std::io::Result<String> {
        use std::io::Write;
        let l = &p.listed;
        let organization = format!("postulante/{}", l.postulant_code);
        self.organizations
            .entry(organization.clone())
            .or_insert_with(
                || json!({ "id": organization, "name": l.postulant, "classification": "party" }),
            );
        // Each position of an ayuntamiento's slate is a post of its own (Sindicatura 1,
        // Regiduría 3); other offices' post is the contested seat.
        let (post, label) = if l.slate_role.is_empty() || l.list_position == 0 {
            (
                format!("cargo/{}/{}", l.office_code, l.constituency_code),
                format!("{} · {}", l.office, l.constituency),
            )
        } else {
            (
                format!(
                    "cargo/{}/{}/{}",
                    l.office_code, l.constituency_code, l.list_position
                ),
                format!("{} {} · {}", l.office, l.list_position, l.constituency),
            )
        };
        self.posts
            .entry(post.clone())
            .or_insert_with(|| json!({ "id": post, "label": label, "role": l.office }));
        let mut out = String::new();
        for person in persons(p) {
            let id = format!(
                "persona/{}",
                person["person_id"].as_str().unwrap_or_default()
            );
            let mut contact_details = Vec::new();
            for (kind, value) in [
                ("email", field(&person, "general", "public_email_1")),
                ("voice", field(&person, "general", "phone_1")),
            ] {
                if !value.is_empty() {
                    contact_details.push(json!({ "type": kind, "value": value }));
                }
            }
            let links: Vec<Value> = NETWORKS
                .iter()
                .map(|n| field(&person, "general", n))
                .filter(|u| !u.is_empty())
                .map(|u| json!({ "url": u }))
                .collect();
            if self.persons_written > 0 {
                out.push_str(",\n");
            }
            self.persons_written += 1;
            out.push_str(
                &json!({
                    "id": id,
                    "name": person["full_name"],
                    "gender": person["sex"],
                    "contact_details": contact_details,
                    "links": links,
                })
                .to_string(),
            );
            if self.memberships_written > 0 {
                self.memberships.write_all(b",\n")?;
            }
            self.memberships_written += 1;
            self.memberships.write_all(
                json!({
                    "id": format!("candidatura/{}/{}", l.id, person["role"].as_str().unwrap_or_default()),
                    "person_id": id,
                    "organization_id": organization,
                    "post_id": post,
                    "role": if person["role"] == "alternate" { "suplente" } else { "propietario" },
                    "label": format!("Candidatura en {election}"),
                })
                .to_string()
                .as_bytes(),
            )?;
        }
        Ok(out)
    }

    /// What closes the document after the last candidacy, in blocks.
    pub fn finish(self) -> std::io::Result<Closing> {
        let list = |values: Vec<Value>| {
            values
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(",\n")
        };
        let head = format!(
            "],\n\"organizations\":[{}],\n\"posts\":[{}],\n\"memberships\":[",
            list(self.organizations.into_values().collect()),
            list(self.posts.into_values().collect()),
        );
        Ok(Closing {
            head: Some(head),
            memberships: Some(flate2::read::GzDecoder::new(std::io::Cursor::new(
                self.memberships.finish()?,
            ))),
        })
    }
}
