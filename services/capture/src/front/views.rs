//! Page models rendered by the askama templates in `templates/`.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use conoceles_kit::access::Role;
use http::StatusCode;

use super::session::SessionInfo;

/// The logged-in person, for the header of every page.
pub struct Nav {
    pub email: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub is_admin: bool,
    pub is_capturer: bool,
    pub is_parity: bool,
    pub is_reviewer: bool,
}

impl Nav {
    pub fn of(session: &SessionInfo) -> Self {
        Self {
            email: session.email.clone(),
            role_label: session.role.label(),
            csrf: session.csrf_token.clone(),
            is_admin: session.role == Role::Admin,
            is_capturer: matches!(session.role, Role::Party | Role::Candidate),
            is_parity: matches!(session.role, Role::ParityReviewer | Role::Admin),
            is_reviewer: matches!(session.role, Role::Reviewer | Role::Admin),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub email: String,
    pub next: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub forced: bool,
    pub done: bool,
    pub errors: Vec<String>,
    /// `conoceles_kit::PASSWORD_RULE`.
    pub rule: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub nav: Option<Nav>,
    pub email: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub is_statistician: bool,
}

pub struct AccountRow {
    pub id: String,
    pub email: String,
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
    pub nav: Option<Nav>,
    pub csrf: String,
    pub roles: Vec<(&'static str, &'static str)>,
    pub accounts: Vec<AccountRow>,
    pub total: u64,
    pub next_page: String,
    pub notice: Option<String>,
    pub shown_password: Option<ShownPassword>,
    pub errors: Vec<String>,
}

/// Renders a page with a status; a template error is an internal error.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Ocurrió un error interno.",
            )
                .into_response()
        }
    }
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
    pub nav: Option<Nav>,
    pub csrf: String,
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
    pub nav: Option<Nav>,
    pub csrf: String,
    pub election_name: String,
    pub offices: Vec<(String, String)>,
    pub postulants: Vec<(String, String)>,
    pub statuses: Vec<(String, &'static str)>,
    pub rows: Vec<CandidacyRow>,
    /// (status label, how many) in the filtered list.
    pub counts: Vec<(&'static str, usize)>,
    pub filters: crate::candidacies::Filters,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub nav: Option<Nav>,
    pub csrf: String,
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

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub nav: Option<Nav>,
    pub message: String,
}

impl MessagePage {
    pub fn new(session: &SessionInfo, message: &str) -> Self {
        Self {
            nav: Some(Nav::of(session)),
            message: message.to_string(),
        }
    }
}

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
}

#[derive(Template)]
#[template(path = "election.html")]
pub struct ElectionPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub form: ElectionForm,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "new_election.html")]
pub struct NewElectionPage {
    pub nav: Option<Nav>,
    pub csrf: String,
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
    pub nav: Option<Nav>,
    pub csrf: String,
    pub election_name: String,
    pub lines: Vec<CatalogLine>,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

pub struct ParityLine {
    pub postulant: String,
    pub office: String,
    pub persons: usize,
    pub done: usize,
    pub percent: usize,
}

#[derive(Template)]
#[template(path = "parity.html")]
pub struct ParityPage {
    pub nav: Option<Nav>,
    pub election_name: String,
    pub lines: Vec<ParityLine>,
}

pub struct QueueLine {
    pub submission: String,
    pub holder: String,
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    pub round: u32,
    pub submitted: String,
    pub waiting_hours: i64,
    pub failing: usize,
}

#[derive(Template)]
#[template(path = "review_queue.html")]
pub struct QueuePage {
    pub nav: Option<Nav>,
    pub lines: Vec<QueueLine>,
    pub office: String,
    pub postulant: String,
    pub state: String,
    /// The age filter as typed: "", "24" or "72".
    pub age: String,
}

pub struct ReviewSection {
    pub slug: &'static str,
    pub title: &'static str,
    pub items: Vec<(&'static str, String)>,
    pub passed: bool,
    pub reason: String,
}

pub struct ReviewPerson {
    /// `holder` or `alternate`: names the form fields of this person's sections.
    pub role: &'static str,
    pub role_label: &'static str,
    pub full_name: String,
    pub sections: Vec<ReviewSection>,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub submission: String,
    pub round: u32,
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    pub sha256: String,
    pub pending: bool,
    /// The round's person was substituted (or the candidacy cancelled) after it was sent.
    pub superseded: bool,
    pub persons: Vec<ReviewPerson>,
}

#[derive(Default)]
pub struct ComplianceLine {
    pub postulant: String,
    pub office: String,
    pub total: usize,
    pub not_started: usize,
    pub incomplete: usize,
    pub observed: usize,
    pub identity_missing: usize,
}

#[derive(Template)]
#[template(path = "compliance.html")]
pub struct CompliancePage {
    pub nav: Option<Nav>,
    pub election_name: String,
    pub at: String,
    /// The day typed for the cut-off (empty: now).
    pub day: String,
    pub capture_closes: String,
    pub publication_starts: String,
    pub election_day: String,
    pub lines: Vec<ComplianceLine>,
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
    pub nav: Option<Nav>,
    pub csrf: String,
    pub errors: Vec<String>,
    pub kinds: Vec<(&'static str, &'static str)>,
    pub reports: Vec<ReportLine>,
}

/// A stored report: `body` is the fragment `statistics` rendered (escaped there).
#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub nav: Option<Nav>,
    pub summary: ReportLine,
    pub body: String,
}

#[derive(Template)]
#[template(path = "notices.html")]
pub struct NoticesPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub election_id: String,
    pub election_name: String,
    pub simplified: String,
    pub full: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}
