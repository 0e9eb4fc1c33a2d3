//! Page models of the account pages (templates in `templates/`).

use askama::Template;

use crate::http::layout::Chrome;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub email: String,
    pub next: String,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub forced: bool,
    pub done: bool,
    pub errors: Vec<String>,
    /// `conoceles_kit::PASSWORD_RULE`.
    pub rule: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub chrome: Chrome,
    pub email: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub is_statistician: bool,
}

#[derive(Template)]
#[template(path = "mail_preferences.html")]
pub struct MailPreferencesPage {
    pub chrome: Chrome,
    /// A candidate's account (its candidacy's private email), else a party's.
    pub candidate: bool,
    pub private_email: String,
    /// The party account's own address (as typed when refused).
    pub email: String,
    /// Receives observations, deadlines and approvals.
    pub receive: bool,
    pub saved: bool,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "help.html")]
pub struct HelpPage {
    pub chrome: Chrome,
    pub manual: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_form_keeps_the_email_escaped_and_lists_its_problems() {
        let html = LoginPage {
            chrome: Chrome {
                nav: None,
                csrf: "c".into(),
            },
            email: "a\"><b>@x.mx".into(),
            next: "/captura".into(),
            errors: vec!["Correo o contraseña incorrectos.".into()],
        }
        .render()
        .unwrap();
        assert!(
            html.contains("Revise lo siguiente")
                && html.contains("Correo o contraseña incorrectos.")
        );
        assert!(!html.contains("a\"><b>@x.mx"), "the typed email is escaped");
        assert!(html.contains("name=\"siguiente\" value=\"/captura\""));
        assert!(html.contains("autocomplete=\"current-password\""));
    }

    #[test]
    fn a_forced_password_change_says_why_and_shows_the_rule() {
        let html = PasswordPage {
            chrome: Chrome {
                nav: None,
                csrf: "c".into(),
            },
            forced: true,
            done: false,
            errors: Vec::new(),
            rule: conoceles_kit::PASSWORD_RULE,
        }
        .render()
        .unwrap();
        assert!(html.contains("cambie la contraseña que recibió antes de continuar"));
        assert!(html.contains(conoceles_kit::PASSWORD_RULE));
        assert!(
            !html.contains("Revise lo siguiente"),
            "no problems, no summary"
        );
    }
}
