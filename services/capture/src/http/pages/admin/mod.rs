//! The unit's administration: the election and its catalogs, candidacies and their import,
//! accounts and credential sheets, notices, the Council's reports, identity corrections, refused
//! submissions and the public site's preview.

pub mod accounts;
pub mod attempts;
pub mod candidacies;
pub mod catalogs;
pub mod consent_forms;
pub mod correction;
pub mod corrections;
pub mod council_notices;
pub mod credentials;
pub mod curricular_definition;
pub mod election;
pub mod mail;
pub mod notices;
pub mod reports;
pub mod requirements;
pub mod site_preview;
mod views;

use axum::routing::{get, post};
use conoceles_kit::access::Rule;
use conoceles_kit::http::DeclaredRouter;
use http::Method;

use super::{ADMINS, REPORTERS};
use crate::http::FrontState;

/// The unit's administration: the election and its catalogs, candidacies and their import, accounts and credentials, notices, reports, identity corrections, the site's preview.
pub fn routes(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    router
        .route(
            Method::GET,
            "/admin/correcciones",
            Rule::people(ADMINS),
            get(corrections::list),
        )
        .route(
            Method::GET,
            "/admin/vista-consejo",
            Rule::people(ADMINS),
            get(council_notices::list),
        )
        .route(
            Method::POST,
            "/admin/vista-consejo",
            Rule::people(ADMINS),
            post(council_notices::produce),
        )
        .route(
            Method::GET,
            "/admin/vista-consejo/{id}",
            Rule::people(ADMINS),
            get(council_notices::show),
        )
        .route(
            Method::GET,
            "/admin/vista-consejo/{id}/csv",
            Rule::people(ADMINS),
            get(council_notices::csv),
        )
        .route(
            Method::GET,
            "/admin/requerimientos",
            Rule::people(ADMINS),
            get(requirements::list),
        )
        .route(
            Method::POST,
            "/admin/requerimientos",
            Rule::people(ADMINS),
            post(requirements::issue),
        )
        .route(
            Method::GET,
            "/admin/requerimientos/{id}",
            Rule::people(ADMINS),
            get(requirements::show),
        )
        .route(
            Method::GET,
            "/admin/cuestionario-curricular",
            Rule::people(ADMINS),
            get(curricular_definition::show),
        )
        .route(
            Method::POST,
            "/admin/cuestionario-curricular",
            Rule::people(ADMINS),
            post(curricular_definition::add),
        )
        .route(
            Method::GET,
            "/admin/correos",
            Rule::people(ADMINS),
            get(mail::show),
        )
        .route(
            Method::POST,
            "/admin/correos",
            Rule::people(ADMINS),
            post(mail::add),
        )
        .route(
            Method::POST,
            "/admin/correos/{id}/quitar",
            Rule::people(ADMINS),
            post(mail::remove),
        )
        .route(
            Method::GET,
            "/admin/formatos-consentimiento",
            Rule::people(ADMINS),
            get(consent_forms::list),
        )
        .route(
            Method::GET,
            "/admin/formatos-consentimiento/{person}",
            Rule::people(ADMINS),
            get(consent_forms::file),
        )
        .route(
            Method::GET,
            "/admin/identidad/{id}/{role}/correccion",
            Rule::people(ADMINS),
            get(correction::form),
        )
        .route(
            Method::POST,
            "/admin/identidad/{id}/{role}/correccion",
            Rule::people(ADMINS),
            post(correction::apply),
        )
        .route(
            Method::GET,
            "/admin/vista-previa-sitio",
            Rule::people(ADMINS),
            get(site_preview::open),
        )
        .route(
            Method::GET,
            "/admin/avisos",
            Rule::people(ADMINS),
            get(notices::show),
        )
        .route(
            Method::POST,
            "/admin/avisos",
            Rule::people(ADMINS),
            post(notices::update),
        )
        .route(
            Method::GET,
            "/admin/informes",
            Rule::people(REPORTERS),
            get(reports::page),
        )
        .route(
            Method::POST,
            "/admin/informes",
            Rule::people(REPORTERS),
            post(reports::create),
        )
        .route(
            Method::GET,
            "/admin/informes/anexo-cualitativo.csv",
            Rule::people(REPORTERS),
            get(reports::qualitative_annex),
        )
        .route(
            Method::GET,
            "/admin/informes/{id}",
            Rule::people(REPORTERS),
            get(reports::show),
        )
        .route(
            Method::GET,
            "/admin/informes/{id}/csv",
            Rule::people(REPORTERS),
            get(reports::csv),
        )
        .route(
            Method::GET,
            "/admin/envios-fuera-de-plazo",
            Rule::people(ADMINS),
            get(attempts::attempts),
        )
        .route(
            Method::GET,
            "/admin/cuentas",
            Rule::people(ADMINS),
            get(accounts::list),
        )
        .route(
            Method::POST,
            "/admin/cuentas",
            Rule::people(ADMINS),
            post(accounts::create),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/bloquear",
            Rule::people(ADMINS),
            post(accounts::lock),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/desbloquear",
            Rule::people(ADMINS),
            post(accounts::unlock),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/restablecer",
            Rule::people(ADMINS),
            post(accounts::reset),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/rol",
            Rule::people(ADMINS),
            post(accounts::change_role),
        )
        .route(
            Method::GET,
            "/admin/credenciales",
            Rule::people(ADMINS),
            get(credentials::list),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/hoja",
            Rule::people(ADMINS),
            post(credentials::sheet),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/hoja.csv",
            Rule::people(ADMINS),
            post(credentials::sheet_csv),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/entregada",
            Rule::people(ADMINS),
            post(credentials::delivered),
        )
        .route(
            Method::GET,
            "/admin/elecciones/nueva",
            Rule::people(ADMINS),
            get(catalogs::new_election_form),
        )
        .route(
            Method::POST,
            "/admin/elecciones/nueva",
            Rule::people(ADMINS),
            post(catalogs::create_election),
        )
        .route(
            Method::GET,
            "/admin/catalogos",
            Rule::people(ADMINS),
            get(catalogs::catalogs),
        )
        .route(
            Method::POST,
            "/admin/catalogos",
            Rule::people(ADMINS),
            post(catalogs::upload_catalog).layer(axum::extract::DefaultBodyLimit::max(
                catalogs::CATALOG_MAX_BYTES + 64 * 1024,
            )),
        )
        .route(
            Method::GET,
            "/admin/eleccion",
            Rule::people(ADMINS),
            get(election::show),
        )
        .route(
            Method::POST,
            "/admin/eleccion",
            Rule::people(ADMINS),
            post(election::update),
        )
        .route(
            Method::GET,
            "/admin/candidaturas",
            Rule::people(ADMINS),
            get(candidacies::list),
        )
        .route(
            Method::GET,
            "/admin/candidaturas.csv",
            Rule::people(ADMINS),
            get(candidacies::export),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/sustituir",
            Rule::people(ADMINS),
            post(candidacies::substitute),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/reabrir",
            Rule::people(ADMINS),
            post(candidacies::reopen),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/cancelar",
            Rule::people(ADMINS),
            post(candidacies::cancel),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/prorrogar",
            Rule::people(ADMINS),
            post(candidacies::extend),
        )
        .route(
            Method::GET,
            "/admin/importar",
            Rule::people(ADMINS),
            get(candidacies::import_form),
        )
        .route(
            Method::POST,
            "/admin/importar/{id}/aplicar",
            Rule::people(ADMINS),
            post(candidacies::import_apply),
        )
        .route(
            Method::POST,
            "/admin/importar",
            Rule::people(ADMINS),
            post(candidacies::import_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::domain::import::MAX_BYTES + 64 * 1024,
            )),
        )
}
