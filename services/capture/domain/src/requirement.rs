//! The unit's requirements ("requerimientos"): telling each party — and each independent
//! candidacy on its own — which of its candidacies have unanswered or incomplete questionnaires
//! or open observations, with the date by which to attend them ("Informar a los partidos … los
//! cuestionarios que no hayan sido respondidos"). Each is stored as produced (canonical JSON)
//! with its SHA-256 and a folio, printable, and emailed to the party's accounts (and to the
//! independent candidate) through the mail outbox in the same transaction.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::CandidacyStatus;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::curricular::RESPONSIBLE_PARTY;
use crate::election;
use crate::mail::{self, Kind, Outgoing, messages::section_title};

/// A live candidacy as a requirement reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Live {
    pub id: Uuid,
    pub external_id: String,
    pub holder: Option<String>,
    pub party_id: Uuid,
    pub party: String,
    pub independent: bool,
    pub office: String,
    pub constituency: String,
    pub status: String,
    pub deadline: DateTime<Utc>,
    /// The persons who answer the identity questionnaire.
    pub persons: Vec<Uuid>,
}

/// The election's live candidacies with the party responsible for each.
pub async fn live(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Live>> {
    sqlx::query_as(&format!(
        "SELECT c.id, c.external_id, h.full_name AS holder, r.id AS party_id, r.name AS party, \
                s.kind = 'independent' AS independent, o.name AS office, \
                COALESCE(k.name, c.constituency_code) AS constituency, c.status, \
                COALESCE(c.capture_deadline, e.capture_closes_at) AS deadline, \
                ARRAY(SELECT p.id FROM persons p WHERE p.candidacy_id = c.id AND p.active \
                      AND (p.role = 'holder' OR e.alternate_questionnaire) ORDER BY p.role DESC) AS persons \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         JOIN postulants r ON r.id = {RESPONSIBLE_PARTY} \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' \
         ORDER BY r.name, o.name, c.external_id"
    ))
    .bind(election)
    .fetch_all(pool)
    .await
}

/// The open observations (the latest round of each observed candidacy): candidacy → (section,
/// message).
pub async fn open_observations(
    pool: &PgPool,
    election: Uuid,
) -> sqlx::Result<HashMap<Uuid, Vec<(String, String)>>> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT o.candidacy_id, o.section, o.message FROM observations o \
         JOIN candidacies c ON c.id = o.candidacy_id \
         WHERE c.election_id = $1 AND c.status = 'observed' \
           AND o.round = (SELECT max(round) FROM observations x WHERE x.candidacy_id = o.candidacy_id) \
         ORDER BY o.id",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    let mut open: HashMap<Uuid, Vec<(String, String)>> = HashMap::new();
    for (candidacy, section, message) in rows {
        open.entry(candidacy).or_default().push((section, message));
    }
    Ok(open)
}

/// One candidacy of a requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub registro: String,
    pub persona: String,
    pub cargo: String,
    pub demarcacion: String,
    pub estado: String,
    /// The candidacy's own capture deadline, in the election's time zone.
    pub plazo_de_captura: String,
    pub falta: Vec<String>,
    pub observaciones: Vec<String>,
}

/// A requirement's content as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub folio: String,
    pub eleccion: String,
    /// The party (or independent candidacy's postulant) it is addressed to.
    pub destinatario: String,
    /// For an independent candidacy: its registry id.
    pub candidatura: Option<String>,
    /// The day it is issued, in the election's time zone.
    pub fecha: NaiveDate,
    /// The instant it counts at (UTC).
    pub corte: DateTime<Utc>,
    /// The date by which to attend it.
    pub plazo: NaiveDate,
    pub lineas: Vec<Line>,
}

/// What a live candidacy lacks: its curricular questionnaire not sent or observed, each
/// answering person's identity questionnaire not sent, and its open observations.
pub fn line(
    c: &Live,
    identity_sent: &HashSet<Uuid>,
    observations: &[(String, String)],
    time_zone: &str,
) -> Option<Line> {
    let status = CandidacyStatus::parse(&c.status);
    let mut falta = Vec::new();
    if matches!(
        status,
        Some(CandidacyStatus::NotStarted | CandidacyStatus::Draft | CandidacyStatus::Observed)
    ) {
        falta.push(format!(
            "Cuestionario curricular sin enviar ({})",
            status.map_or("sin estado", CandidacyStatus::label)
        ));
    }
    falta.extend(crate::council_notice::identity_unsent(
        &c.persons,
        identity_sent,
    ));
    let observaciones: Vec<String> = observations
        .iter()
        .map(|(section, message)| format!("{}: {message}", section_title(section)))
        .collect();
    (!falta.is_empty() || !observaciones.is_empty()).then(|| Line {
        registro: c.external_id.clone(),
        persona: c.holder.clone().unwrap_or_default(),
        cargo: c.office.clone(),
        demarcacion: c.constituency.clone(),
        estado: status
            .map_or("Desconocido", CandidacyStatus::label)
            .to_string(),
        plazo_de_captura: election::local_deadline(c.deadline, time_zone),
        falta,
        observaciones,
    })
}

/// Who a requirement goes to: a party, or one independent candidacy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Addressee {
    pub party_name: String,
    pub party_id: Uuid,
    /// Set for an independent candidacy: (registry id, candidacy).
    pub independent: Option<(String, Uuid)>,
}

/// The requirements the live candidacies call for: one per party with something missing, one per
/// independent candidacy with something missing; each with its lines in registry order.
pub fn group(
    live: &[Live],
    identity_sent: &HashSet<Uuid>,
    observations: &HashMap<Uuid, Vec<(String, String)>>,
    time_zone: &str,
) -> BTreeMap<Addressee, Vec<Line>> {
    let mut groups: BTreeMap<Addressee, Vec<Line>> = BTreeMap::new();
    for c in live {
        let open = observations.get(&c.id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(line) = line(c, identity_sent, open, time_zone) {
            let addressee = Addressee {
                party_name: c.party.clone(),
                party_id: c.party_id,
                independent: c.independent.then(|| (c.external_id.clone(), c.id)),
            };
            groups.entry(addressee).or_default().push(line);
        }
    }
    groups
}

/// The requirement's email: the same content as its printout, in plain text.
pub fn mail(content: &Content, id: Uuid, addressee: &Addressee, link: &str) -> Outgoing {
    let mut body = format!(
        "REQUERIMIENTO {}\n{}\nFecha: {}\nDirigido a: {}{}\n\n\
         La Unidad de Transparencia le informa que las candidaturas siguientes tienen cuestionarios \
         sin responder o incompletos, u observaciones sin atender. Le requerimos atenderlos a más \
         tardar el {}.\n",
        content.folio,
        content.eleccion,
        election::day(content.fecha),
        content.destinatario,
        content
            .candidatura
            .as_deref()
            .map(|r| format!(" (candidatura {r})"))
            .unwrap_or_default(),
        election::day(content.plazo),
    );
    for l in &content.lineas {
        body.push_str(&format!(
            "\n{} — {}, {} (registro {}; estado: {}; plazo de captura: {})\n",
            if l.persona.is_empty() {
                "Persona sin registrar"
            } else {
                &l.persona
            },
            l.cargo,
            l.demarcacion,
            l.registro,
            l.estado,
            l.plazo_de_captura,
        ));
        for f in &l.falta {
            body.push_str(&format!("  • Falta: {f}\n"));
        }
        for o in &l.observaciones {
            body.push_str(&format!("  • Observación: {o}\n"));
        }
    }
    body.push_str(&format!(
        "\nIngrese a {link} para atenderlo. Este requerimiento se conserva con su huella SHA-256 en el \
         sistema de la Unidad.\n"
    ));
    Outgoing {
        kind: Kind::Requirement,
        dedup_key: format!("requirement:{id}"),
        party: Some(addressee.party_id),
        candidacy: addressee.independent.as_ref().map(|(_, c)| *c),
        subject: format!(
            "Requerimiento {} — cuestionarios pendientes ({} candidatura{})",
            content.folio,
            content.lineas.len(),
            if content.lineas.len() == 1 { "" } else { "s" }
        ),
        body,
    }
}

/// A stored requirement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: Uuid,
    /// The party (or independent) it is addressed to.
    pub party_id: Uuid,
    pub folio: String,
    pub due_on: NaiveDate,
    pub content: String,
    pub content_sha256: String,
    pub lines: i32,
    pub produced_at: DateTime<Utc>,
    pub mail_id: Option<Uuid>,
}

impl Stored {
    pub fn content(&self) -> Result<Content, serde_json::Error> {
        serde_json::from_str(&self.content)
    }
}

/// The pieces a batch of requirements is issued with.
pub struct Issue<'a> {
    pub election: Uuid,
    pub election_name: &'a str,
    pub year: i32,
    pub today: NaiveDate,
    pub due_on: NaiveDate,
    pub now: DateTime<Utc>,
    pub produced_by: Option<Uuid>,
    pub link: &'a str,
}

/// Stores one requirement per group, each with the next folio of the election and its email
/// queued, all in one transaction: either every requirement is issued and queued, or none.
pub async fn issue(
    pool: &PgPool,
    issue: &Issue<'_>,
    groups: BTreeMap<Addressee, Vec<Line>>,
) -> anyhow::Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('requirements:' || $1::text))")
        .bind(issue.election)
        .execute(&mut *tx)
        .await?;
    let mut next: i64 =
        sqlx::query_scalar("SELECT count(*) + 1 FROM requirements WHERE election_id = $1")
            .bind(issue.election)
            .fetch_one(&mut *tx)
            .await?;
    let mut ids = Vec::new();
    for (addressee, lineas) in groups {
        let id = Uuid::now_v7();
        let content = Content {
            folio: format!("UT/REQ/{}/{next:04}", issue.year),
            eleccion: issue.election_name.to_string(),
            destinatario: addressee.party_name.clone(),
            candidatura: addressee.independent.as_ref().map(|(r, _)| r.clone()),
            fecha: issue.today,
            corte: issue.now,
            plazo: issue.due_on,
            lineas,
        };
        let text = serde_json::to_string(&content)?;
        let sha = hex::encode(Sha256::digest(text.as_bytes()));
        let mail_id = mail::queue(
            &mut tx,
            issue.election,
            &mail(&content, id, &addressee, issue.link),
            issue.now,
        )
        .await?;
        sqlx::query(
            "INSERT INTO requirements (id, election_id, folio, party_id, candidacy_id, due_on, content, \
             content_sha256, lines, produced_at, produced_by, mail_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id)
        .bind(issue.election)
        .bind(&content.folio)
        .bind(addressee.party_id)
        .bind(addressee.independent.as_ref().map(|(_, c)| *c))
        .bind(issue.due_on)
        .bind(&text)
        .bind(&sha)
        .bind(i32::try_from(content.lineas.len()).unwrap_or(i32::MAX))
        .bind(issue.now)
        .bind(issue.produced_by)
        .bind(mail_id)
        .execute(&mut *tx)
        .await?;
        ids.push(id);
        next += 1;
    }
    tx.commit().await?;
    Ok(ids)
}

const COLUMNS: &str =
    "id, party_id, folio, due_on, content, content_sha256, lines, produced_at, mail_id";

/// The election's requirements, newest first.
pub async fn list(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Stored>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM requirements WHERE election_id = $1 ORDER BY produced_at DESC, folio DESC"
    ))
    .bind(election)
    .fetch_all(pool)
    .await
}

/// A party's requirements (its own and its independents'), newest first.
pub async fn of_party(pool: &PgPool, party: Uuid) -> sqlx::Result<Vec<Stored>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM requirements WHERE party_id = $1 ORDER BY produced_at DESC, folio DESC"
    ))
    .bind(party)
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM requirements WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// How the requirement's email went: (deliveries sent, deliveries waiting, resolved yet).
pub async fn delivery(pool: &PgPool, mail_id: Uuid) -> sqlx::Result<(i64, i64, bool)> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM mail_deliveries WHERE mail_id = $1 AND state = 'sent'), \
                (SELECT count(*) FROM mail_deliveries WHERE mail_id = $1 AND state = 'pending'), \
                (SELECT expanded_at IS NOT NULL FROM mail_outbox WHERE id = $1)",
    )
    .bind(mail_id)
    .fetch_one(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(party: &str, external: &str, status: &str, persons: Vec<Uuid>) -> Live {
        Live {
            id: Uuid::now_v7(),
            external_id: external.into(),
            holder: Some(format!("Persona {external}")),
            party_id: Uuid::from_u128(party.len() as u128),
            party: party.into(),
            independent: party.starts_with("Independiente"),
            office: "Diputación MR".into(),
            constituency: "Distrito 08".into(),
            status: status.into(),
            deadline: "2027-04-10T05:59:59Z".parse().unwrap(),
            persons,
        }
    }

    #[test]
    fn each_party_gets_its_own_lines_and_each_independent_candidacy_its_own_requirement() {
        let (a, b, c, d) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let all = [
            live("Partido Verde", "V-1", "draft", vec![a]),
            live("Partido Verde", "V-2", "published", vec![b]),
            live("Independiente", "I-1", "approved", vec![c]),
            live("Independiente", "I-2", "observed", vec![d]),
        ];
        let sent: HashSet<Uuid> = [a, b, d].into_iter().collect();
        let observations: HashMap<Uuid, Vec<(String, String)>> = [(
            all[3].id,
            vec![("education".to_string(), "Falta el grado.".to_string())],
        )]
        .into_iter()
        .collect();
        let groups = group(&all, &sent, &observations, "America/Monterrey");
        assert_eq!(groups.len(), 3, "{groups:?}");
        let verde: Vec<_> = groups
            .iter()
            .filter(|(k, _)| k.party_name == "Partido Verde")
            .collect();
        assert_eq!(verde.len(), 1);
        assert_eq!(verde[0].1.len(), 1, "the published one lacks nothing");
        assert_eq!(
            verde[0].1[0].falta,
            ["Cuestionario curricular sin enviar (En captura)"]
        );
        let independents: Vec<_> = groups.keys().filter(|k| k.independent.is_some()).collect();
        assert_eq!(independents.len(), 2);
        let observed = groups
            .iter()
            .find(|(k, _)| k.independent.as_ref().is_some_and(|(r, _)| r == "I-2"))
            .unwrap()
            .1;
        assert_eq!(observed[0].observaciones, ["Escolaridad: Falta el grado."]);
        assert_eq!(observed[0].plazo_de_captura, "09/04/2027 23:59 (CST)");
    }
}
