//! Page models of the account pages (templates in `templates/`).

use askama::Template;

use crate::http::layout::Nav;

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

#[derive(Template)]
#[template(path = "help.html")]
pub struct HelpPage {
    pub nav: Option<Nav>,
    pub manual: String,
}
