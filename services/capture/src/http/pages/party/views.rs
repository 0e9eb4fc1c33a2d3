//! Page models of the capture pages (askama templates `capture_*.html`).

use askama::Template;

use crate::http::layout::Chrome;

/// The heading every capture page shows: which candidacy this is.
#[derive(Clone)]
pub struct Heading {
    pub id: String,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    pub holder: String,
    /// «propietaria», «propietario»…: agreeing with the holder's sex.
    pub holder_label: String,
    pub status_label: &'static str,
}

/// An ayuntamiento slate, or a municipality's list of RP regidurías, of one postulant.
pub struct SlateGroup {
    /// «Planilla de Morena en Hermosillo».
    pub title: String,
    /// The municipality's code (the bulk template of its slate).
    pub municipality: String,
    /// «2 de 10 posiciones enviadas · 45 de 120 secciones y fotografías».
    pub summary: String,
    pub lines: Vec<DashboardLine>,
}

pub struct DashboardLine {
    pub id: String,
    /// The office, or a slate's position («Sindicatura 1», «Regiduría 3»).
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub holder: String,
    pub status_label: &'static str,
    pub done: i64,
    pub total: i64,
    /// The candidacy's own capture deadline, in the election's zone.
    pub deadline: String,
    /// Whether the deadline passed.
    pub closed: bool,
}

#[derive(Template)]
#[template(path = "capture_dashboard.html")]
pub struct DashboardPage {
    pub chrome: Chrome,
    /// Candidacies outside ayuntamiento slates (deputies).
    pub lines: Vec<DashboardLine>,
    /// Each slate (and each municipal RP list) as a unit, positions in ballot order.
    pub slates: Vec<SlateGroup>,
    /// "Cierra el 30/04/2026 23:59 (CST) · quedan 3 días y 4 horas", empty without candidacies.
    pub window: String,
    /// The unit's requirements the party received (0 for a candidate's account).
    pub requirements: usize,
}

pub struct SectionLine {
    pub slug: &'static str,
    pub title: &'static str,
    pub complete: bool,
    pub started: bool,
    pub open: bool,
}

pub struct PersonLine {
    pub role: &'static str,
    /// Whether the identity questionnaire was sent (`None`: the service did not answer).
    pub identity_sent: Option<bool>,
    pub role_label: &'static str,
    pub full_name: String,
    pub sections: Vec<SectionLine>,
    pub photo: bool,
    pub photo_open: bool,
}

pub struct ReceiptLine {
    pub id: String,
    pub round: i32,
    pub at: String,
}

#[derive(Template)]
#[template(path = "capture_candidacy.html")]
pub struct CandidacyPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub persons: Vec<PersonLine>,
    pub window: String,
    pub editable: bool,
    /// An admin, who may apply the one identity correction.
    pub corrector: bool,
    /// An admin, and the candidacy is published and was never reopened for a correction.
    pub reopenable: bool,
    pub receipts: Vec<ReceiptLine>,
    pub notice: Option<String>,
    /// The reviewers' observations to answer: (section title, message).
    pub observations: Vec<(String, String)>,
}

pub struct FieldView {
    pub name: &'static str,
    pub label: &'static str,
    pub help: String,
    pub value: String,
    pub error: Option<String>,
    pub required: bool,
    /// `text`, `email`, `tel` or `url`: the phone's keyboard and the browser's autofill follow.
    pub input_type: &'static str,
    pub long: bool,
    pub max: usize,
    /// (code, label, selected) for closed lists.
    pub choices: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "capture_section.html")]
pub struct SectionPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub slug: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub fields: Vec<FieldView>,
    pub editable: bool,
    pub errors: Vec<String>,
    /// The unit's observation to attend here.
    pub observation: Option<String>,
}

impl SectionPage {
    /// Some field has an error: the summary lists each, linked to its field.
    pub fn has_field_errors(&self) -> bool {
        self.fields.iter().any(|f| f.error.is_some())
    }
}

/// One of the election's own fields on its form.
pub struct ExtraFieldView {
    pub id: String,
    /// `url`, `document` or `commitment`.
    pub kind: &'static str,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub public: bool,
    pub value: String,
    /// For a document already uploaded: «Documento cargado (240 KB, huella 3fa1…)».
    pub document: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "capture_extra.html")]
pub struct ExtraPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub title: &'static str,
    pub fields: Vec<ExtraFieldView>,
    pub editable: bool,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "capture_photo.html")]
pub struct PhotoPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub has_photo: bool,
    pub taken_on: String,
    pub max_kb: usize,
    pub editable: bool,
    pub errors: Vec<String>,
    /// The unit's observation of the photo, to attend here.
    pub observation: Option<String>,
}

pub struct PreviewSection {
    pub title: &'static str,
    /// (label, value) of the public fields that have a value.
    pub items: Vec<(&'static str, String)>,
}

pub struct PreviewPerson {
    pub role: &'static str,
    pub role_label: &'static str,
    pub full_name: String,
    pub has_photo: bool,
    pub sections: Vec<PreviewSection>,
}

#[derive(Template)]
#[template(path = "capture_preview.html")]
pub struct PreviewPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub persons: Vec<PreviewPerson>,
    pub missing: Vec<String>,
    pub can_submit: bool,
    pub window: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "capture_receipt.html")]
pub struct ReceiptPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub election: String,
    pub submission_id: String,
    pub round: i32,
    pub at: String,
    pub sha256: String,
}

#[derive(Template)]
#[template(path = "capture_bulk.html")]
pub struct BulkPage {
    pub chrome: Chrome,
    pub summary: Option<String>,
    pub errors: Vec<String>,
}

pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub kind: &'static str,
    /// (id, label, chosen)
    pub options: Vec<(String, String, bool)>,
    pub declined: bool,
    pub text_value: String,
    pub max: usize,
    /// When the question applies, in Spanish (empty: always).
    pub condition: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "capture_identity.html")]
pub struct IdentityPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub election_id: String,
    /// The person answers in their own account; otherwise the account declares it holds the
    /// person's signed consent.
    pub own_account: bool,
    /// The election's simplified privacy notice in paragraphs (empty: the default text).
    pub notice: Vec<String>,
    pub independent: bool,
    /// For independents: when the signed consent form was received, and its hash.
    pub consent_form: Option<String>,
    pub title: String,
    pub description: String,
    pub version: u32,
    pub questions: Vec<QuestionView>,
    pub processing: bool,
    pub publication: bool,
    pub statistics: bool,
    pub errors: Vec<String>,
    /// A draft saved or recovered.
    pub draft_notice: Option<String>,
}

#[derive(Template)]
#[template(path = "capture_identity_check.html")]
pub struct IdentityCheckPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    /// (question, answer as shown)
    pub items: Vec<(String, String)>,
    pub consents: Vec<(&'static str, bool)>,
    pub own_account: bool,
    /// The form as sent, carried to the final submission.
    pub hidden: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "capture_identity_done.html")]
pub struct IdentityDonePage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role_label: &'static str,
    pub person_name: String,
    /// (SHA-256, time) right after the submission; `None` when seen later.
    pub receipt: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "privacy_notice.html")]
pub struct NoticePage {
    pub chrome: Chrome,
    pub paragraphs: Vec<String>,
}

#[derive(Template)]
#[template(path = "capture_consent.html")]
pub struct ConsentPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub election_name: String,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub received: Option<String>,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "identity_correction.html")]
pub struct CorrectionPage {
    pub chrome: Chrome,
    pub heading: Heading,
    pub role: &'static str,
    pub role_label: &'static str,
    pub person_name: String,
    pub reference: String,
    pub reason: String,
    pub questions: Vec<QuestionView>,
    pub errors: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::layout::nav_for_tests;
    use conoceles_kit::access::Role;

    fn line(office: &str, closed: bool) -> DashboardLine {
        DashboardLine {
            id: "0190f5c6-0000-7000-8000-000000000002".into(),
            office: office.into(),
            constituency: "Hermosillo".into(),
            postulant: "Morena".into(),
            holder: "Lucía Ramírez".into(),
            status_label: "En captura",
            done: 3,
            total: 14,
            deadline: "30/04/2027 23:59".into(),
            closed,
        }
    }

    #[test]
    fn the_dashboard_groups_slates_and_says_each_deadline_in_words() {
        let html = DashboardPage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Party)),
                csrf: String::new(),
            },
            lines: vec![line("Diputación MR", true)],
            slates: vec![SlateGroup {
                title: "Planilla de Morena en Hermosillo".into(),
                municipality: "030".into(),
                summary: "0 de 1 posiciones enviadas".into(),
                lines: vec![line("Presidencia municipal", false)],
            }],
            window: String::new(),
            requirements: 0,
        }
        .render()
        .unwrap();
        assert!(html.contains("Venció el 30/04/2027 23:59"));
        assert!(html.contains("Hasta el 30/04/2027 23:59"));
        assert!(html.contains("Planilla de Morena en Hermosillo"));
        assert!(html.contains("3 de 14"));

        let empty = DashboardPage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Party)),
                csrf: String::new(),
            },
            lines: Vec::new(),
            slates: Vec::new(),
            window: String::new(),
            requirements: 0,
        }
        .render()
        .unwrap();
        assert!(!empty.contains("<table"), "no empty table");
        assert!(empty.contains("Esta cuenta aún no tiene candidaturas que capturar."));
    }
}
