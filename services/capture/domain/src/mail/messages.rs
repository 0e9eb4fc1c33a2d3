//! The Spanish texts of the mail: who the message is about (person, office, constituency,
//! postulant), what happened and where to act. Plain text, no identity answer ever: only the
//! curricular questionnaire's state and the reviewers' observations.

use chrono::{DateTime, Utc};
use conoceles_curricular::Section;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Kind, Outgoing};
use crate::curricular::RESPONSIBLE_PARTY;
use crate::election;

/// Who a candidacy's message is about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct About {
    pub candidacy: Uuid,
    pub election: Uuid,
    pub election_name: String,
    pub time_zone: String,
    /// The party responsible for capturing it (for an independent, the independent itself).
    pub party: Option<Uuid>,
    pub person: Option<String>,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
}

impl About {
    /// "Ana Pérez — Diputación MR, Distrito 08 (Partido Verde)".
    pub fn line(&self) -> String {
        format!(
            "{} — {}, {} ({})",
            self.person.as_deref().unwrap_or("Persona sin registrar"),
            self.office,
            self.constituency,
            self.postulant
        )
    }
}

pub async fn about(conn: &mut PgConnection, candidacy: Uuid) -> sqlx::Result<About> {
    sqlx::query_as(&format!(
        "SELECT c.id AS candidacy, e.id AS election, e.name AS election_name, e.time_zone, \
                {RESPONSIBLE_PARTY} AS party, h.full_name AS person, o.name AS office, \
                COALESCE(k.name, c.constituency_code) AS constituency, s.name AS postulant \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.id = $1"
    ))
    .bind(candidacy)
    .fetch_one(conn)
    .await
}

/// The Spanish title of an observed section (`correccion`: a correction the unit requested).
pub fn section_title(slug: &str) -> String {
    match Section::from_slug(slug) {
        Some(s) => s.title().to_string(),
        None if slug == "correccion" => "Corrección solicitada".to_string(),
        None if slug == crate::curricular::definition::EXTRA_SECTION => {
            crate::curricular::definition::EXTRA_TITLE.to_string()
        }
        None if slug == "photo" => "Fotografía".to_string(),
        None => slug.to_string(),
    }
}

fn closing(link: &str) -> String {
    format!(
        "\n\nIngrese a {link} para atenderlo.\n\n\
         Este mensaje lo envía la Unidad de Transparencia del organismo electoral mediante Conóceles. \
         Puede dejar de recibir los avisos de observaciones, plazos y aprobaciones en «Avisos por correo» \
         de su cuenta; los requerimientos se envían siempre.\n"
    )
}

/// The reviewers observed round `round` of the candidacy's submission.
pub fn observation(
    about: &About,
    submission: Uuid,
    round: i32,
    observations: &[(String, String)],
    link: &str,
) -> Outgoing {
    let mut body = format!(
        "La revisión del cuestionario curricular de la candidatura\n{}\ntiene observaciones (ronda {round}). \
         Corrija lo señalado y envíe de nuevo el cuestionario:\n",
        about.line()
    );
    for (section, message) in observations {
        body.push_str(&format!("\n• {}: {message}", section_title(section)));
    }
    body.push_str(&closing(link));
    Outgoing {
        kind: Kind::Observation,
        dedup_key: format!("observation:{submission}:{round}"),
        party: about.party,
        candidacy: Some(about.candidacy),
        subject: format!(
            "Observaciones al cuestionario curricular de {}",
            about.person.as_deref().unwrap_or("una candidatura")
        ),
        body,
    }
}

/// The candidacy's curricular questionnaire was approved in round `round`.
pub fn approval(about: &About, round: i32, link: &str) -> Outgoing {
    Outgoing {
        kind: Kind::Approval,
        dedup_key: format!("approval:{}:{round}", about.candidacy),
        party: about.party,
        candidacy: Some(about.candidacy),
        subject: format!(
            "Cuestionario curricular aprobado: {}",
            about.person.as_deref().unwrap_or("candidatura")
        ),
        body: format!(
            "El cuestionario curricular de la candidatura\n{}\nfue aprobado y se publicará en el sitio \
             público a partir de la fecha de publicación de la elección «{}».\n\n\
             Este mensaje lo envía la Unidad de Transparencia del organismo electoral mediante Conóceles. \
             Puede dejar de recibir estos avisos en «Avisos por correo» de su cuenta en {link}.\n",
            about.line(),
            about.election_name
        ),
    }
}

/// The candidacy's deadline is near and its questionnaire is not sent.
pub fn deadline_reminder(about: &About, deadline: DateTime<Utc>, link: &str) -> Outgoing {
    let when = election::local_deadline(deadline, &about.time_zone);
    let mut body = format!(
        "El plazo para enviar el cuestionario curricular de la candidatura\n{}\nvence el {when}, \
         y el cuestionario aún no se ha enviado.",
        about.line()
    );
    body.push_str(&closing(link));
    Outgoing {
        kind: Kind::DeadlineReminder,
        dedup_key: format!("deadline:{}:{}", about.candidacy, deadline.timestamp()),
        party: about.party,
        candidacy: Some(about.candidacy),
        subject: format!(
            "El plazo de {} vence el {when}",
            about.person.as_deref().unwrap_or("una candidatura")
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> About {
        About {
            candidacy: Uuid::now_v7(),
            election: Uuid::now_v7(),
            election_name: "Proceso Electoral Local 2027".into(),
            time_zone: "America/Monterrey".into(),
            party: Some(Uuid::now_v7()),
            person: Some("Ana Pérez".into()),
            office: "Diputación MR".into(),
            constituency: "Distrito 08".into(),
            postulant: "Partido Verde".into(),
        }
    }

    #[test]
    fn an_observation_names_the_candidacy_and_each_section_in_spanish() {
        let about = ana();
        let submission = Uuid::now_v7();
        let mail = observation(
            &about,
            submission,
            2,
            &[("education".into(), "Falta el grado.".into())],
            "https://captura.ejemplo.mx",
        );
        assert!(
            mail.body
                .contains("Ana Pérez — Diputación MR, Distrito 08 (Partido Verde)")
        );
        assert!(mail.body.contains("• Escolaridad: Falta el grado."));
        assert!(mail.body.contains("(ronda 2)"));
        assert!(mail.body.contains("https://captura.ejemplo.mx"));
        assert_eq!(mail.dedup_key, format!("observation:{submission}:2"));
        assert_eq!(mail.candidacy, Some(about.candidacy));
    }

    #[test]
    fn a_reminder_gives_the_deadline_in_the_elections_time_zone_once_per_deadline() {
        let about = ana();
        let deadline = "2027-04-10T05:59:59Z".parse().unwrap();
        let mail = deadline_reminder(&about, deadline, "https://captura.ejemplo.mx");
        assert!(
            mail.subject.contains("09/04/2027 23:59"),
            "{}",
            mail.subject
        );
        let again = deadline_reminder(&about, deadline, "https://captura.ejemplo.mx");
        assert_eq!(mail.dedup_key, again.dedup_key);
    }
}
