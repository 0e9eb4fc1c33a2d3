//! Pages for any account, or for none: signing in and out, the first password change, the
//! landing page, the manuals and the privacy notice.

pub mod help;
pub mod home;
pub mod login;
pub mod mail;
pub mod password;
mod views;

use axum::routing::{get, post};
use conoceles_kit::access::Rule;
use conoceles_kit::http::DeclaredRouter;
use http::Method;

use super::{CAPTURERS, EVERYONE};
use crate::http::FrontState;

/// Signing in and out, the first password change, the landing page, the manuals and the privacy notice.
pub fn routes(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    router
        .route(Method::GET, "/ingresar", Rule::public(), get(login::form))
        .route(Method::GET, "/", Rule::people(EVERYONE), get(home::page))
        .route(Method::GET, "/ayuda", Rule::public(), get(help::help))
        .route(
            Method::POST,
            "/ingresar",
            Rule::public(),
            post(login::submit),
        )
        .route_before_password_change(
            Method::POST,
            "/salir",
            Rule::people(EVERYONE),
            post(login::logout),
        )
        .route(
            Method::GET,
            "/aviso-de-privacidad",
            Rule::public(),
            get(super::party::privacy_notice),
        )
        .route(
            Method::GET,
            "/cuenta/avisos",
            Rule::people(CAPTURERS),
            get(mail::form),
        )
        .route(
            Method::POST,
            "/cuenta/avisos",
            Rule::people(CAPTURERS),
            post(mail::save),
        )
        .route_before_password_change(
            Method::GET,
            "/cuenta/contrasena",
            Rule::people(EVERYONE),
            get(password::form),
        )
        .route_before_password_change(
            Method::POST,
            "/cuenta/contrasena",
            Rule::people(EVERYONE),
            post(password::submit),
        )
}
