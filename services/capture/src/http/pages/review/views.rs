//! Page models of the review pages (templates in `templates/`).

use askama::Template;

use crate::http::layout::Chrome;

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
    pub chrome: Chrome,
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
    pub chrome: Chrome,
    pub lines: Vec<QueueLine>,
    /// The outcome of the decision just taken.
    pub notice: Option<&'static str>,
    /// (code, name) of the election's offices and postulants, for the filters.
    pub offices: Vec<(String, String)>,
    pub postulants: Vec<(String, String)>,
    pub office: String,
    pub postulant: String,
    pub state: String,
    /// The age filter as typed: "", "24" or "72".
    pub age: String,
}

/// A field as sent, with what the previous round said when it changed.
pub struct ReviewItem {
    pub label: String,
    pub value: String,
    /// The previous round's value, when this round changed it («(vacío)» if it had none).
    pub before: Option<String>,
}

pub struct ReviewSection {
    pub slug: &'static str,
    pub title: &'static str,
    pub items: Vec<ReviewItem>,
    pub passed: bool,
    pub reason: String,
    /// The reviewer's choice as typed before a refusal: ticked, and the message.
    pub ticked: bool,
    pub message: String,
}

impl ReviewSection {
    /// Some field changed since the previous round.
    pub fn changed(&self) -> bool {
        self.items.iter().any(|i| i.before.is_some())
    }
}

pub struct ReviewPerson {
    /// `holder` or `alternate`: names the form fields of this person's sections.
    pub role: &'static str,
    pub role_label: &'static str,
    pub full_name: String,
    pub sections: Vec<ReviewSection>,
    /// The photo sent and the date declared for it.
    pub photo: Option<String>,
    pub photo_date: String,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub chrome: Chrome,
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
    /// The previous round compared with (none in round 1).
    pub previous_round: Option<i32>,
    /// Observations of earlier rounds: (round, section's title, message).
    pub earlier: Vec<(i32, String, String)>,
    /// Why the observations just sent were refused (what was typed is kept).
    pub errors: Vec<String>,
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
    pub chrome: Chrome,
    pub election_name: String,
    pub at: String,
    /// The day typed for the cut-off (empty: now).
    pub day: String,
    pub capture_closes: String,
    pub publication_starts: String,
    pub election_day: String,
    pub lines: Vec<ComplianceLine>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::layout::nav_for_tests;
    use conoceles_kit::access::Role;

    fn queue(lines: Vec<QueueLine>) -> String {
        QueuePage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Reviewer)),
                csrf: String::new(),
            },
            lines,
            notice: Some("Se aprobó el envío."),
            offices: vec![("diputacion_mr".into(), "Diputación MR".into())],
            postulants: vec![("PVEM".into(), "Partido Verde".into())],
            office: "diputacion_mr".into(),
            postulant: "pvem".into(),
            state: String::new(),
            age: "24".into(),
        }
        .render()
        .unwrap()
    }

    #[test]
    fn the_queue_links_each_submission_and_says_when_nothing_waits() {
        let html = queue(vec![QueueLine {
            submission: "0190f5c6-0000-7000-8000-000000000001".into(),
            holder: "Ana María Pérez".into(),
            postulant: "Partido Verde".into(),
            office: "Diputación MR".into(),
            constituency: "Distrito 08 — Torreón".into(),
            round: 2,
            submitted: "3 de abril de 2027, 10:15".into(),
            waiting_hours: 30,
            failing: 1,
        }]);
        assert!(html.contains(
            "<a href=\"/revision/0190f5c6-0000-7000-8000-000000000001\">Ana María Pérez</a>"
        ));
        assert!(html.contains("Distrito 08 — Torreón"));
        assert!(!html.contains("No hay envíos con estos filtros."));
        assert!(queue(Vec::new()).contains("No hay envíos con estos filtros."));
        // The filters offer names; the chosen ones stay chosen (the party's code in any case);
        // the decision just taken is said.
        assert!(html.contains("<option value=\"diputacion_mr\" selected>Diputación MR</option>"));
        assert!(html.contains("<option value=\"PVEM\" selected>Partido Verde</option>"));
        assert!(html.contains("role=\"status\"><p>Se aprobó el envío.</p>"));
    }
}
