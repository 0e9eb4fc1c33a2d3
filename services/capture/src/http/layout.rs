//! The chrome every page shares: the logged-in person's header (`Nav`), the message page, and
//! `render`, which turns a page model into a response.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use conoceles_kit::access::Role;
use http::StatusCode;

use crate::http::session::SessionInfo;

/// The logged-in person, for the header of every page.
#[derive(Clone)]
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

/// What every page model carries for the shared layout: the header of the person logged in (none
/// on public pages) and the CSRF token its forms send back. Page handlers take it as an
/// extractor or build it from the session, once per page.
#[derive(Clone)]
pub struct Chrome {
    pub nav: Option<Nav>,
    pub csrf: String,
}

impl Chrome {
    pub fn of(session: &SessionInfo) -> Self {
        Self {
            nav: Some(Nav::of(session)),
            csrf: session.csrf_token.clone(),
        }
    }

    /// A page for nobody in particular (no header, no forms of a session).
    pub fn public() -> Self {
        Self {
            nav: None,
            csrf: String::new(),
        }
    }
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

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub message: String,
}

impl MessagePage {
    pub fn new(session: &SessionInfo, message: &str) -> Self {
        Self {
            chrome: Chrome::of(session),
            message: message.to_string(),
        }
    }
}

/// The step before an action that cannot be undone: what will happen, what cannot be undone,
/// and the same form posted again with `confirmado=si` (or a way back).
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub title: String,
    pub lead: Vec<String>,
    pub irreversible: String,
    /// Where the confirmed form goes, with its fields (the CSRF token included).
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub confirm_label: String,
    pub back: String,
    pub back_label: String,
}

/// Whether a form carries the confirmation of its confirmation page.
pub fn confirmed(value: &str) -> bool {
    value == "si"
}

/// The header of a person with `role`, for the render tests of every audience's pages.
#[cfg(test)]
pub(crate) fn nav_for_tests(role: Role) -> Nav {
    Nav::of(&SessionInfo {
        token: "t".into(),
        csrf_token: "token-de-la-sesion".into(),
        email: "persona@iec.org.mx".into(),
        role,
        must_change_password: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_page_escapes_its_text_and_shows_who_is_logged_in() {
        let html = MessagePage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Party)),
                csrf: String::new(),
            },
            message: "<script>alert(1)</script> Listo".into(),
        }
        .render()
        .unwrap();
        assert!(html.contains("<html lang=\"es-MX\">"));
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("persona@iec.org.mx") && html.contains("Cerrar sesión"));
        assert!(html.contains("name=\"csrf\" value=\"token-de-la-sesion\""));
        // A party's header offers capture, not the unit's administration.
        assert!(html.contains("href=\"/captura\"") && !html.contains("href=\"/admin/cuentas\""));

        let confirm = ConfirmPage {
            chrome: Chrome {
                nav: Some(nav_for_tests(Role::Reviewer)),
                csrf: "token-de-la-sesion".into(),
            },
            title: "¿Aprobar el envío?".into(),
            lead: vec!["Morena · Distrito 03".into()],
            irreversible: "La candidatura se publica.".into(),
            action: "/revision/x/aprobar".into(),
            fields: vec![
                ("csrf".into(), "token-de-la-sesion".into()),
                ("ronda".into(), "2".into()),
            ],
            confirm_label: "Sí, aprobar".into(),
            back: "/revision/x".into(),
            back_label: "Volver a la revisión".into(),
        }
        .render()
        .unwrap();
        assert!(confirm.contains("No se puede deshacer."));
        assert!(confirm.contains("name=\"ronda\" value=\"2\""));
        assert!(confirm.contains("name=\"confirmado\" value=\"si\""));
        assert!(confirm.contains("action=\"/revision/x/aprobar\""));

        let anonymous = MessagePage {
            chrome: Chrome::public(),
            message: "Aviso".into(),
        }
        .render()
        .unwrap();
        assert!(!anonymous.contains("Cerrar sesión"));
    }
}
