//! The party's or candidate's dashboard: every candidacy of the account with its progress.

use super::*;

/// `GET /captura`: the account's candidacies.
pub async fn dashboard(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let rows = match curricular::dashboard(&state.pool, &actor(&caller)).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&session, &e.into()),
    };
    let now = conoceles_kit::clock::now();
    let settings = match rows.first() {
        Some(_) => match crate::domain::election::current(&state.pool)
            .await
            .ok()
            .flatten()
        {
            Some(e) => crate::domain::election::settings(&state.pool, e.id)
                .await
                .ok(),
            None => None,
        },
        None => None,
    };
    let tz = settings
        .as_ref()
        .map(|s| s.time_zone.clone())
        .unwrap_or_else(|| "America/Mexico_City".into());
    // One text when every candidacy shares its deadline; otherwise each line shows its own.
    let window = match (&settings, rows.first()) {
        (Some(s), Some(first))
            if rows
                .iter()
                .all(|r| r.capture_closes_at == first.capture_closes_at) =>
        {
            window_text(s.capture_opens_at, first.capture_closes_at, &tz, now)
        }
        (Some(_), Some(_)) => {
            "Cada candidatura tiene su propio plazo de captura: véalo en la columna «Plazo»."
                .to_string()
        }
        _ => String::new(),
    };
    let mut lines = Vec::new();
    let mut slates: Vec<SlateGroup> = Vec::new();
    let mut sent_in_slate = Vec::new();
    for r in rows {
        let slate = r.slate().map(|title| (title, r.constituency_code.clone()));
        let sent = r.status.is_sent();
        let line = DashboardLine {
            id: r.id.to_string(),
            office: r.seat(),
            constituency: r.constituency,
            postulant: r.postulant,
            holder: r.holder,
            status_label: r.status_label,
            done: r.done,
            total: r.total,
            deadline: local_deadline(r.capture_closes_at, &tz),
            closed: now >= r.capture_closes_at,
        };
        match slate {
            None => lines.push(line),
            Some((title, municipality)) => {
                if slates.last().is_none_or(|g| g.title != title) {
                    slates.push(SlateGroup {
                        title,
                        municipality,
                        summary: String::new(),
                        lines: Vec::new(),
                    });
                    sent_in_slate.push(0);
                }
                if let (Some(group), Some(count)) = (slates.last_mut(), sent_in_slate.last_mut()) {
                    group.lines.push(line);
                    *count += usize::from(sent);
                }
            }
        }
    }
    for (group, sent) in slates.iter_mut().zip(sent_in_slate) {
        let (done, total) = group
            .lines
            .iter()
            .fold((0, 0), |(d, t), l| (d + l.done, t + l.total));
        group.summary = format!(
            "{sent} de {} posiciones enviadas · {done} de {total} secciones y fotografías completas",
            group.lines.len()
        );
    }
    let requirements = match caller.actor.as_ref().and_then(|a| a.party_id) {
        Some(party) => crate::domain::requirement::of_party(&state.pool, party)
            .await
            .map_or(0, |r| r.len()),
        None => 0,
    };
    render(
        StatusCode::OK,
        &DashboardPage {
            chrome: Chrome::of(&session),
            lines,
            slates,
            window,
            requirements,
        },
    )
}
