//! Page models of the review pages (templates in `templates/`).

use askama::Template;

use crate::http::layout::Nav;

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
