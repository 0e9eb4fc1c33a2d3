//! The admin's way into the public site's preview.

/// `GET /admin/vista-previa-sitio`: sends the admin to the public site's preview with a
/// short-lived token `auth` signs for the site on the admin's behalf.
pub async fn open(
    axum::extract::State(state): axum::extract::State<crate::http::FrontState>,
    axum::Extension(session): axum::Extension<std::sync::Arc<crate::http::session::SessionInfo>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state
        .site_preview
        .tokens
        .acting_token(
            conoceles_kit::access::token::PREVIEW_AUDIENCE,
            &session.token,
        )
        .await
    {
        Ok(token) => axum::response::Redirect::to(&format!(
            "{}/vista-previa?token={token}",
            state.site_preview.url.trim_end_matches('/')
        ))
        .into_response(),
        Err(status) => crate::http::layout::render(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &crate::http::layout::MessagePage::new(
                &session,
                &crate::http::status_messages(&status).join(" "),
            ),
        ),
    }
}
