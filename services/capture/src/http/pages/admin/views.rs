//! Page models of the unit's administration pages (templates in `templates/`).

use askama::Template;
use conoceles_kit::access::Role;

use crate::http::layout::Chrome;

pub struct AccountRow {
    pub id: String,
    pub email: String,
    /// Whose account it is: the party's or the candidacy's holder by name (empty: staff).
    pub owner: String,
    pub role: &'static str,
    pub locked: bool,
    pub must_change_password: bool,
}

pub struct ShownPassword {
    pub email: String,
    pub password: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
pub struct AccountsPage {
    pub chrome: Chrome,
    pub roles: Vec<(&'static str, &'static str)>,
    pub accounts: Vec<AccountRow>,
    pub total: u64,
    pub next_page: String,
    pub notice: Option<String>,
    pub shown_password: Option<ShownPassword>,
    pub errors: Vec<String>,
    /// The search as typed: part of the address, and a role's code.
    pub search: String,
    pub search_role: String,
    /// The parties an account may belong to: (id, name).
    pub parties: Vec<(String, String)>,
    /// The new account's form as typed, kept when it is refused.
    pub typed: NewAccountTyped,
}

#[derive(Default, Clone)]
pub struct NewAccountTyped {
    pub email: String,
    pub role: String,
    pub party: String,
    pub candidacy: String,
}

pub fn role_options() -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect()
}

pub struct StatusRow {
    pub label: String,
    pub email: String,
    pub approved: String,
    pub deadline: String,
    pub issued: String,
    pub delivered: String,
    pub late: bool,
    pub locked: bool,
}

pub struct PartyCredentials {
    pub id: String,
    pub title: String,
    pub rows: Vec<StatusRow>,
}

#[derive(Template)]
#[template(path = "credentials.html")]
pub struct CredentialsPage {
    pub chrome: Chrome,
    pub parties: Vec<PartyCredentials>,
    pub late_count: usize,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

pub struct SheetCredential {
    pub label: String,
    pub email: String,
    pub password: String,
    pub deadline: String,
    pub kind: &'static str,
}

#[derive(Template)]
#[template(path = "sheet.html")]
pub struct SheetPage {
    pub issued: String,
    pub login_url: String,
    pub credentials: Vec<SheetCredential>,
}

pub struct CandidacyRow {
    pub id: String,
    pub external_id: String,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    pub holder: String,
    pub alternate: String,
    pub status_label: &'static str,
    pub withdrawn: bool,
    /// The capture deadline in force, in the election's zone.
    pub deadline: String,
}

#[derive(Template)]
#[template(path = "candidacies.html")]
pub struct CandidaciesPage {
    pub chrome: Chrome,
    pub election_name: String,
    pub offices: Vec<(String, String)>,
    pub postulants: Vec<(String, String)>,
    pub statuses: Vec<(String, &'static str)>,
    pub rows: Vec<CandidacyRow>,
    /// (status label, how many) in the filtered list.
    pub counts: Vec<(&'static str, usize)>,
    pub filters: crate::domain::candidacies::Filters,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub election_name: String,
    pub summary: Option<String>,
    pub problems: Vec<String>,
    pub preview: Option<ImportPreview>,
}

/// What a checked file would do, before the unit applies it.
pub struct ImportPreview {
    pub upload: String,
    /// "3 candidaturas nuevas, 1 con cambios, …".
    pub counts: String,
    /// (line, registry id, what, detail)
    pub lines: Vec<(usize, String, &'static str, String)>,
}

#[derive(Default)]
pub struct ElectionForm {
    pub name: String,
    pub time_zone: String,
    pub capture_opens: String,
    pub capture_closes: String,
    pub publication: String,
    pub election_day: String,
    pub photo_kb: String,
    pub text_min: String,
    pub text_max: String,
    pub proposal_min: String,
    pub proposal_max: String,
    pub retention_days: String,
    pub alternate: bool,
    /// `fixed` or `from_delivery`.
    pub deadline_rule: String,
    pub deadline_days: String,
    /// Empty: the start of the day before election day.
    pub outer_bound: String,
    /// The last day of the campaigns (`AAAA-MM-DD`), empty while not set.
    pub campaign_ends: String,
    /// The non-working days, one `AAAA-MM-DD` per line.
    pub holidays: String,
    pub corrections_email: String,
    /// `suppression` or `differential_privacy`, and each method's parameters.
    pub protection: String,
    pub suppression_threshold: String,
    pub rho_budget: String,
    pub rho_per_release: String,
    pub delta: String,
    pub detail_threshold: String,
}

#[derive(Template)]
#[template(path = "election.html")]
pub struct ElectionPage {
    pub chrome: Chrome,
    pub form: ElectionForm,
    pub notice: Option<String>,
    pub errors: Vec<String>,
    /// The identity statistics were published under another protection, which stays.
    pub protection_fixed: Option<String>,
}

#[derive(Template)]
#[template(path = "new_election.html")]
pub struct NewElectionPage {
    pub chrome: Chrome,
    pub states: Vec<(&'static str, &'static str)>,
    pub time_zones: &'static [&'static str],
    pub name: String,
    pub state: String,
    pub time_zone: String,
    pub capture_opens: String,
    pub capture_closes: String,
    pub publication: String,
    pub election_day: String,
    pub errors: Vec<String>,
}

pub struct CatalogLine {
    pub slug: &'static str,
    pub title: &'static str,
    pub columns: &'static str,
    pub count: i64,
}

#[derive(Template)]
#[template(path = "catalogs.html")]
pub struct CatalogsPage {
    pub chrome: Chrome,
    pub election_name: String,
    pub lines: Vec<CatalogLine>,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

pub struct ReportLine {
    pub id: String,
    pub kind: &'static str,
    pub cut_off: String,
    pub created_at: String,
    pub sha256: String,
    pub sha_short: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub chrome: Chrome,
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub reports: Vec<ReportLine>,
    /// How the identity statistics are protected, and the privacy-loss ledger.
    pub privacy: Option<PrivacySection>,
}

#[derive(Default)]
pub struct PrivacySection {
    /// Under differential privacy (the ledger and the release button apply).
    pub private: bool,
    /// The method and its parameters, in a sentence.
    pub method: String,
    pub remaining: String,
    pub per_release: String,
    /// An administrator, with budget left for one more release.
    pub can_release: bool,
    pub lines: Vec<PrivacyLine>,
}

pub struct PrivacyLine {
    pub sequence: u32,
    pub released_at: String,
    pub cut_off: String,
    pub rho: String,
    pub rho_total: String,
    pub epsilon: String,
    pub delta: String,
    pub scale: String,
    pub hash: String,
}

/// A stored report: `body` is the fragment `statistics` rendered (escaped there).
#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub chrome: Chrome,
    pub summary: ReportLine,
    pub body: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
pub struct NoticesPage {
    pub chrome: Chrome,
    pub election_id: String,
    pub election_name: String,
    pub simplified: String,
    pub full: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

pub struct AttemptLine {
    pub at: String,
    pub external_id: String,
    pub postulant: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "capture_attempts.html")]
pub struct AttemptsPage {
    pub chrome: Chrome,
    pub attempts: Vec<AttemptLine>,
}

/// One signed consent form in the unit's archive.
pub struct ConsentFormLine {
    pub person: String,
    pub full_name: String,
    /// «Propietaria», «Propietario», «Persona propietaria» or «Suplente».
    pub role_label: &'static str,
    /// Not in the candidacy any more (replaced, or the candidacy cancelled).
    pub former: bool,
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    /// «PDF», «JPEG», «PNG».
    pub kind: &'static str,
    pub received: String,
    pub sha256: String,
    pub accesses: i64,
}

#[derive(Template)]
#[template(path = "consent_forms.html")]
pub struct ConsentFormsPage {
    pub chrome: Chrome,
    pub election: String,
    pub forms: Vec<ConsentFormLine>,
}

/// A stored notice to the Council, as listed.
pub struct NoticeLine {
    pub id: String,
    pub cut_off: String,
    pub lacking: i32,
    pub sha256: String,
}

#[derive(Template)]
#[template(path = "council_notices.html")]
pub struct CouncilNoticesPage {
    pub chrome: Chrome,
    /// «30/05/2027», empty while the election has no campaign end.
    pub campaign_ends: String,
    /// The campaigns have ended: the notice can be produced.
    pub ready: bool,
    pub notices: Vec<NoticeLine>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "council_notice.html")]
pub struct CouncilNoticePage {
    pub chrome: Chrome,
    pub id: String,
    pub election: String,
    pub campaign_ends: String,
    pub cut_off: String,
    pub live: usize,
    pub lines: Vec<crate::domain::council_notice::Lacking>,
    pub sha256: String,
}

/// A party (or independent candidacy) with something missing now.
pub struct PendingParty {
    pub party: String,
    pub name: String,
    pub candidacies: usize,
}

/// An issued requirement in a list.
pub struct RequirementLine {
    pub id: String,
    pub folio: String,
    pub addressee: String,
    pub issued: String,
    pub due: String,
    pub candidacies: i32,
    /// How its email went (empty on the party's list).
    pub mail: String,
}

#[derive(Template)]
#[template(path = "requirements.html")]
pub struct RequirementsPage {
    pub chrome: Chrome,
    /// The date field's value (`YYYY-MM-DD`).
    pub due: String,
    pub pending: Vec<PendingParty>,
    pub issued: Vec<RequirementLine>,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "requirement.html")]
pub struct RequirementPage {
    pub chrome: Chrome,
    pub back: &'static str,
    pub issued: String,
    pub cut_off: String,
    pub due: String,
    pub content: crate::domain::requirement::Content,
    pub sha256: String,
    /// How its email went (the unit only).
    pub mail: Option<String>,
}

#[derive(Template)]
#[template(path = "party_requirements.html")]
pub struct PartyRequirementsPage {
    pub chrome: Chrome,
    pub issued: Vec<RequirementLine>,
}

/// A registered address.
pub struct ContactLine {
    pub id: String,
    pub party: String,
    pub email: String,
    pub own: bool,
    pub receive_optional: bool,
}

/// One delivery as the unit follows it.
pub struct DeliveryLine {
    pub kind: &'static str,
    pub subject: String,
    pub address: String,
    pub state: String,
    pub last_error: String,
    pub queued: String,
    pub sent: String,
}

#[derive(Template)]
#[template(path = "mail.html")]
pub struct MailPage {
    pub chrome: Chrome,
    /// (id, name) of the parties and independents.
    pub parties: Vec<(String, String)>,
    pub typed_party: String,
    pub typed_email: String,
    pub contacts: Vec<ContactLine>,
    pub deliveries: Vec<DeliveryLine>,
    pub waiting: i64,
    /// At most this many deliveries are listed.
    pub shown: i64,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

/// One of the election's own curricular fields.
pub struct OwnFieldLine {
    pub id: String,
    pub kind: &'static str,
    pub label: String,
    pub required: bool,
    pub public: bool,
}

#[derive(Template)]
#[template(path = "curricular_definition.html")]
pub struct CurricularDefinitionPage {
    pub chrome: Chrome,
    pub version: i32,
    pub fields: Vec<OwnFieldLine>,
    /// The textarea's text (the current definition, or as typed when refused).
    pub json: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

/// A registered correction request, as the unit follows it.
pub struct CorrectionLine {
    pub candidacy: String,
    pub external_id: String,
    pub holder: String,
    pub postulant: String,
    pub office: String,
    pub reference: String,
    pub change: String,
    pub requested: String,
    pub requested_by: String,
    pub due: String,
    /// «Pendiente», «Vencida», «Aplicada, en revisión», «Aplicada y publicada», «Candidatura cancelada».
    pub state: &'static str,
    /// Not applied yet (overdue or not).
    pub pending: bool,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "corrections.html")]
pub struct CorrectionsPage {
    pub chrome: Chrome,
    pub lines: Vec<CorrectionLine>,
    pub pending: usize,
    pub overdue: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::layout::nav_for_tests;

    #[test]
    fn a_new_password_is_shown_once_with_the_notice_and_roles_by_name() {
        let html = AccountsPage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Admin)),
                csrf: "c".into(),
            },
            roles: role_options(),
            accounts: vec![
                AccountRow {
                    id: "a1".into(),
                    email: "revisora@iec.org.mx".into(),
                    owner: String::new(),
                    role: "reviewer",
                    locked: false,
                    must_change_password: true,
                },
                AccountRow {
                    id: "a2".into(),
                    email: "morena.diputacion-mr.c0005@candidaturas.iec.mx".into(),
                    owner: "Ana Pérez — Diputación MR, Distrito 5".into(),
                    role: "candidate",
                    locked: false,
                    must_change_password: true,
                },
            ],
            total: 1,
            next_page: "revisora@iec.org.mx".into(),
            notice: Some("Se creó la cuenta revisora@iec.org.mx.".into()),
            shown_password: Some(ShownPassword {
                email: "revisora@iec.org.mx".into(),
                password: "caballo-bateria-grapa".into(),
            }),
            errors: Vec::new(),
            search: "iec".into(),
            search_role: "reviewer".into(),
            parties: vec![("p1".into(), "Morena".into())],
            typed: NewAccountTyped {
                party: "p1".into(),
                candidacy: "N-7".into(),
                ..NewAccountTyped::default()
            },
        }
        .render()
        .unwrap();
        assert!(html.contains("Se creó la cuenta revisora@iec.org.mx."));
        // Owners and parties by name; the typed form kept.
        assert!(html.contains("Ana Pérez — Diputación MR, Distrito 5"));
        assert!(
            html.contains("<option value=\"p1\" selected>Morena</option>"),
            "{html}"
        );
        assert!(
            html.contains("name=\"candidatura\" type=\"text\" value=\"N-7\""),
            "{html}"
        );
        assert_eq!(html.matches("caballo-bateria-grapa").count(), 1);
        assert!(
            html.contains(Role::Reviewer.label()),
            "roles are named, not coded"
        );
        assert!(
            html.contains("href=\"/admin/cuentas\""),
            "the admin's header"
        );
        // The search stays as typed and the next page keeps it.
        assert!(html.contains("name=\"q\" type=\"search\" value=\"iec\""));
        assert!(html.contains("<option value=\"reviewer\" selected>"));
        assert!(
            html.contains("q=iec&amp;rol=reviewer\">Siguientes 50</a>"),
            "{html}"
        );
    }

    #[test]
    fn a_requirement_prints_its_lines_observations_and_hash_and_the_party_sees_no_mail_state() {
        use crate::domain::requirement::{Content, Line};
        let content = Content {
            folio: "UT/REQ/2027/0004".into(),
            eleccion: "Proceso Electoral Local 2027".into(),
            destinatario: "Partido del Trabajo".into(),
            candidatura: None,
            fecha: "2027-04-05".parse().unwrap(),
            corte: "2027-04-05T16:00:00Z".parse().unwrap(),
            plazo: "2027-04-08".parse().unwrap(),
            lineas: vec![Line {
                registro: "COAH-3".into(),
                persona: "Beatriz Torres <Torres>".into(),
                cargo: "Diputación MR".into(),
                demarcacion: "Distrito 01".into(),
                estado: "Con observaciones".into(),
                plazo_de_captura: "09/04/2027 23:59 (CST)".into(),
                falta: vec!["Cuestionario curricular sin enviar (Con observaciones)".into()],
                observaciones: vec!["Escolaridad: Falta el grado.".into()],
            }],
        };
        let page = |mail: Option<String>| {
            RequirementPage {
                chrome: Chrome {
                    nav: Some(nav_for_tests(Role::Admin)),
                    csrf: String::new(),
                },
                back: "/admin/requerimientos",
                issued: "05/04/2027".into(),
                cut_off: "05/04/2027 10:00 (CST)".into(),
                due: "08/04/2027".into(),
                content: content.clone(),
                sha256: "ab12".into(),
                mail,
            }
            .render()
            .unwrap()
        };
        let html = page(Some("Enviado a 2 direcciones".into()));
        assert!(html.contains("Requerimiento UT/REQ/2027/0004"));
        assert!(html.contains("la candidatura siguiente tiene"));
        assert!(html.contains("a más tardar el <strong>08/04/2027</strong>"));
        assert!(
            html.contains("Beatriz Torres &#60;Torres&#62;")
                || html.contains("Beatriz Torres &lt;Torres&gt;")
        );
        assert!(html.contains("Observación — Escolaridad: Falta el grado."));
        assert!(html.contains("Correo: Enviado a 2 direcciones."));
        assert!(html.contains("<code class=\"huella\">ab12</code>"));
        assert!(!page(None).contains("Correo:"));
    }
}

/// An emblem's line on the site's presentation page: whose it is and what is stored.
pub struct EmblemLine {
    /// `''` for the electoral body; otherwise a postulant's code.
    pub owner: String,
    pub name: String,
    /// The stored derivative as a `data:` address, or none yet.
    pub image: Option<String>,
}

#[derive(Template)]
#[template(path = "site_identity.html")]
pub struct SiteIdentityPage {
    pub chrome: Chrome,
    pub election_name: String,
    pub body_name: String,
    pub color: String,
    pub demonstration: bool,
    pub emblems: Vec<EmblemLine>,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}
