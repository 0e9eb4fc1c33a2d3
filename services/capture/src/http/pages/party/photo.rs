//! Each person's photo: the form, the upload with its checks, and the image itself.

use super::*;

async fn photo_page(
    state: &FrontState,
    session: &SessionInfo,
    caller: &Caller,
    c: &Candidacy,
    role: PersonRole,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let person = match c.person(role) {
        Ok(p) => p,
        Err(e) => return error_page(session, &e),
    };
    let info = curricular::progress(&state.pool, c)
        .await
        .ok()
        .and_then(|p| p.into_iter().find(|x| x.role == role))
        .and_then(|p| p.photo);
    render(
        status,
        &PhotoPage {
            chrome: Chrome::of(session),
            heading: heading(c),
            role: role.segment(),
            role_label: c.role_label(role),
            person_name: person.full_name.clone(),
            has_photo: info.is_some(),
            taken_on: info
                .map(|i| i.taken_on.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            max_kb: c.photo_max_bytes / 1024,
            observation: observation_of(state, c, "photo").await,
            editable: curricular::check_editable(
                &actor(caller),
                c,
                None,
                conoceles_kit::clock::now(),
            )
            .is_ok(),
            errors,
        },
    )
}

/// `GET /captura/{id}/{role}/foto`
pub async fn photo_form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    Ok(photo_page(
        &state,
        &session,
        &caller,
        &c,
        role,
        Vec::new(),
        StatusCode::OK,
    )
    .await)
}

/// The upload limit of the photo routes: above any election's photo limit, so the election's
/// own limit gives the clear message.
pub const PHOTO_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// `POST /captura/{id}/{role}/foto` (multipart: `csrf`, `fecha`, `foto`).
pub async fn photo_upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let page = |errors: Vec<String>, status: StatusCode| {
        photo_page(&state, &session, &caller, &c, role, errors, status)
    };
    // One upload at a time per account, and the election's limit enforced while reading.
    let (_turn, form) =
        match crate::http::upload::receive(actor(&caller).account_id, multipart, c.photo_max_bytes)
            .await
        {
            Ok(received) => received,
            Err(crate::http::upload::UploadError::TooLarge { limit, .. }) => {
                let message = format!(
                    "La fotografía pesa más de {}, el máximo de esta elección.",
                    crate::http::upload::size(limit)
                );
                return Ok(page(vec![message], StatusCode::PAYLOAD_TOO_LARGE).await);
            }
            Err(e) => return Ok(page(vec![e.message()], e.status()).await),
        };
    let (csrf, date, bytes) = (
        form.text("csrf"),
        form.text("fecha"),
        form.file("foto").unwrap_or_default(),
    );
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Ok(page(vec![PAGE_EXPIRED.into()], StatusCode::FORBIDDEN).await);
    }
    let taken_on = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok();
    Ok(
        match curricular::save_photo(
            &state.pool,
            &actor(&caller),
            &c,
            role,
            bytes,
            taken_on,
            conoceles_kit::clock::now(),
        )
        .await
        {
            Ok(()) => Redirect::to(&format!("/captura/{id}?guardado=foto")).into_response(),
            Err(e) => {
                let status = e.code().http_status();
                page(e.messages(), status).await
            }
        },
    )
}

/// `GET /captura/{id}/{role}/foto.jpg`: the public derivative, for its owner's preview.
pub async fn photo_image(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let Ok(person) = c.person(role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    Ok(
        match curricular::photo_bytes(&state.pool, person.id).await {
            Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response(),
            Ok(None) => crate::http::not_found().await.into_response(),
            Err(e) => error_page(&session, &e.into()),
        },
    )
}
