//! The manuals, shown to whoever asks (parties and candidates, or the unit's staff).

use std::sync::Arc;

use axum::Extension;
use axum::extract::Query;
use axum::response::Response;
use http::StatusCode;

use super::views::*;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;

/// The manuals, kept once in `docs/`: parties and candidates, and the electoral body's staff.
static MANUAL: &str = include_str!("../../../../../../docs/manual-captura.md");
static STAFF_MANUAL: &str = include_str!("../../../../../../docs/manual-revision.md");
static STATISTICS_MANUAL: &str = include_str!("../../../../../../docs/manual-estadistica.md");

/// A Markdown document as HTML, its tables included.
fn manual_html(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(
        &mut html,
        pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES),
    );
    // A table wider than a phone scrolls inside itself; it takes the keyboard focus to scroll.
    html.replace("<table>", "<table tabindex=\"0\">")
        .replace("<pre>", "<pre tabindex=\"0\">")
}

/// A page from a Markdown document of the repository (trusted content).
pub(crate) fn markdown_page(session: Option<Arc<SessionInfo>>, markdown: &str) -> Response {
    let html = manual_html(markdown);
    render(
        StatusCode::OK,
        &HelpPage {
            chrome: session.map_or_else(Chrome::public, |s| Chrome::of(&s)),
            manual: html,
        },
    )
}

#[derive(serde::Deserialize, Default)]
pub struct HelpQuery {
    #[serde(default)]
    manual: String,
}

/// `GET /ayuda[?manual=captura|revision|estadistica]`: the staff's manual for reviewers, parity
/// reviewers and admins, the statisticians' for statisticians, the capture manual for everyone
/// else (any of them on request).
pub async fn help(
    session: Option<Extension<Arc<SessionInfo>>>,
    Query(query): Query<HelpQuery>,
) -> Response {
    use conoceles_kit::access::Role;
    let session = session.map(|Extension(s)| s);
    let staff = session
        .as_ref()
        .is_some_and(|s| matches!(s.role, Role::Reviewer | Role::ParityReviewer | Role::Admin));
    let statistician = session
        .as_ref()
        .is_some_and(|s| s.role == Role::Statistician);
    let manual = match query.manual.as_str() {
        "revision" => STAFF_MANUAL,
        "captura" => MANUAL,
        "estadistica" => STATISTICS_MANUAL,
        _ if staff => STAFF_MANUAL,
        _ if statistician => STATISTICS_MANUAL,
        _ => MANUAL,
    };
    markdown_page(session, manual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manual_renders_its_tables_and_none_shows_markdown_syntax() {
        for (name, manual) in [
            ("captura", MANUAL),
            ("revision", STAFF_MANUAL),
            ("estadistica", STATISTICS_MANUAL),
        ] {
            let html = manual_html(manual);
            assert!(
                html.contains("<table tabindex=\"0\">"),
                "{name}: a table, focusable"
            );
            assert!(
                !html.contains("|---") && !html.contains("| ---"),
                "{name}: raw table syntax"
            );
            assert!(!html.contains("<p>|"), "{name}: a table left as text");
        }
    }
}
