//! The signed express-consent form of independent candidates (DESIGN §4.4): printed from the
//! capture front, signed by hand, and uploaded as PDF, JPEG or PNG, checked by content. It
//! records consent only; the identity answers never come to this service.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::curricular::photo;

pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Scans at 300 dpi of a letter or legal page fit; decoding stays bounded.
const MAX_SIDE: u32 = 6000;

/// A file that passed the checks.
#[derive(Debug)]
pub struct CheckedForm {
    pub media_type: &'static str,
    pub sha256: String,
}

/// Why a file was refused, in Spanish.
#[derive(Debug, PartialEq, Eq)]
pub struct FormError(pub String);

fn refuse(message: impl Into<String>) -> FormError {
    FormError(message.into())
}

/// Checks the uploaded form by its content. CPU-bound for images: call from a blocking thread.
pub fn check(bytes: &[u8]) -> Result<CheckedForm, FormError> {
    if bytes.is_empty() {
        return Err(refuse("Seleccione el archivo del formato firmado."));
    }
    if bytes.len() > MAX_BYTES {
        return Err(refuse(format!(
            "El archivo pesa {} KB; el máximo es {} KB.",
            bytes.len().div_ceil(1024),
            MAX_BYTES / 1024
        )));
    }
    let media_type = if bytes.starts_with(b"%PDF-") {
        check_pdf(bytes)?;
        "application/pdf"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        check_image(bytes, image::ImageFormat::Jpeg)?;
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        check_image(bytes, image::ImageFormat::Png)?;
        "image/png"
    } else {
        return Err(refuse(
            "El formato firmado debe ser PDF, JPEG o PNG (se revisa el contenido del archivo, no su nombre).",
        ));
    };
    Ok(CheckedForm {
        media_type,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// A PDF ends with `%%EOF` and carries no active content (scripts, launch actions, embedded
/// files): a scanned, signed page needs none of them.
fn check_pdf(bytes: &[u8]) -> Result<(), FormError> {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(refuse("El PDF está dañado o incompleto."));
    }
    const ACTIVE: [&[u8]; 5] = [
        b"/JavaScript",
        b"/JS",
        b"/Launch",
        b"/EmbeddedFile",
        b"/OpenAction",
    ];
    if ACTIVE
        .iter()
        .any(|needle| bytes.windows(needle.len()).any(|w| w == *needle))
    {
        return Err(refuse(
            "El PDF contiene acciones o archivos incrustados. Escanee o imprima a PDF el formato firmado.",
        ));
    }
    Ok(())
}

fn check_image(bytes: &[u8], format: image::ImageFormat) -> Result<(), FormError> {
    let damaged = || refuse("La imagen del formato está dañada o incompleta.");
    let end = match format {
        image::ImageFormat::Png => photo::png_end(bytes),
        _ => photo::jpeg_end(bytes),
    }
    .ok_or_else(damaged)?;
    if end != bytes.len() || photo::contains_markup(bytes) {
        return Err(refuse(
            "El archivo contiene datos que no son de la imagen. Guárdelo de nuevo como JPEG o PNG.",
        ));
    }
    let (width, height) = image::ImageReader::with_format(std::io::Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| damaged())?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(refuse(format!(
            "La imagen mide {width} × {height} píxeles; el máximo es {MAX_SIDE} × {MAX_SIDE}."
        )));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(160 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|_| damaged())?;
    Ok(())
}

/// When the person's signed form was received, and its SHA-256.
pub async fn received(
    pool: &PgPool,
    person: Uuid,
) -> sqlx::Result<Option<(DateTime<Utc>, String)>> {
    sqlx::query_as("SELECT uploaded_at, content_sha256 FROM consent_forms WHERE person_id = $1")
        .bind(person)
        .fetch_optional(pool)
        .await
}

/// Stores (or replaces, until the questionnaire is sent) the person's signed form.
pub async fn save(
    pool: &PgPool,
    candidacy: Uuid,
    person: Uuid,
    account: Uuid,
    bytes: &[u8],
    checked: &CheckedForm,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO consent_forms (person_id, candidacy_id, media_type, content, content_sha256, uploaded_at, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id) DO UPDATE SET \
         media_type = EXCLUDED.media_type, content = EXCLUDED.content, content_sha256 = EXCLUDED.content_sha256, \
         uploaded_at = EXCLUDED.uploaded_at, uploaded_by = EXCLUDED.uploaded_by",
    )
    .bind(person)
    .bind(candidacy)
    .bind(checked.media_type)
    .bind(bytes)
    .bind(&checked.sha256)
    .bind(now)
    .bind(account)
    .execute(pool)
    .await?;
    Ok(())
}

/// A signed form in the unit's archive, with the candidacy and person it belongs to.
#[derive(Debug, sqlx::FromRow)]
pub struct Archived {
    pub person_id: Uuid,
    pub candidacy_id: Uuid,
    pub full_name: String,
    /// `holder` or `alternate`.
    pub role: String,
    /// `mujer`, `hombre` or `no_binario`.
    pub sex: String,
    /// Whether the person is still in the candidacy (not replaced, not cancelled).
    pub current: bool,
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    pub media_type: String,
    pub content_sha256: String,
    pub uploaded_at: DateTime<Utc>,
    /// How many times the unit has viewed or downloaded it.
    pub accesses: i64,
}

/// The election's signed forms, by postulant and constituency.
pub async fn archive(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Archived>> {
    sqlx::query_as(
        "SELECT f.person_id, f.candidacy_id, p.full_name, p.role, p.sex, \
                (p.active AND c.status <> 'withdrawn') AS current, s.name AS postulant, o.name AS office, \
                COALESCE(k.name, c.constituency_code) AS constituency, f.media_type, f.content_sha256, f.uploaded_at, \
                (SELECT count(*) FROM consent_form_access a WHERE a.person_id = f.person_id \
                   AND a.action IN ('viewed', 'downloaded')) AS accesses \
         FROM consent_forms f JOIN persons p ON p.id = f.person_id \
         JOIN candidacies c ON c.id = f.candidacy_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         WHERE c.election_id = $1 ORDER BY s.name, c.external_id, p.role DESC",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// How the unit opens a form: shown in the browser, or saved as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Viewed,
    Downloaded,
}

impl Access {
    fn code(self) -> &'static str {
        match self {
            Access::Viewed => "viewed",
            Access::Downloaded => "downloaded",
        }
    }
}

/// A form's file as the unit receives it.
pub struct Opened {
    pub media_type: String,
    pub content: Vec<u8>,
    pub content_sha256: String,
}

/// The person's signed form for the unit's account `by`, recording the access in the same
/// transaction (no access goes unrecorded); `None` if there is none (or no longer).
#[tracing::instrument(skip(pool), fields(person_id = %person))]
pub async fn open(
    pool: &PgPool,
    person: Uuid,
    by: Uuid,
    access: Access,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Opened>> {
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, String, Vec<u8>, String)> = sqlx::query_as(
        "SELECT candidacy_id, media_type, content, content_sha256 FROM consent_forms WHERE person_id = $1",
    )
    .bind(person)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((candidacy, media_type, content, content_sha256)) = found else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO consent_form_access (person_id, candidacy_id, action, account_id, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(person)
    .bind(candidacy)
    .bind(access.code())
    .bind(by)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Opened {
        media_type,
        content,
        content_sha256,
    }))
}

/// Deletes the forms of persons no longer in their candidacy (replaced, or the candidacy
/// cancelled) once the election's retention period since then is over, as `identity` does with
/// their answers; each deletion is recorded. Returns how many were deleted.
pub async fn delete_expired(pool: &PgPool, now: DateTime<Utc>) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    let expired: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT f.person_id, f.candidacy_id FROM consent_forms f \
         JOIN persons p ON p.id = f.person_id JOIN candidacies c ON c.id = f.candidacy_id \
         JOIN elections e ON e.id = c.election_id \
         WHERE COALESCE(CASE WHEN c.status = 'withdrawn' THEN c.withdrawn_at END, \
                        CASE WHEN NOT p.active THEN p.replaced_at END) \
               + make_interval(days => e.retention_days) <= $1 \
         FOR UPDATE OF f SKIP LOCKED",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    for (person, candidacy) in &expired {
        sqlx::query(
            "INSERT INTO consent_form_access (person_id, candidacy_id, action, account_id, at) \
             VALUES ($1, $2, 'deleted', NULL, $3)",
        )
        .bind(person)
        .bind(candidacy)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM consent_forms WHERE person_id = $1")
            .bind(person)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(expired.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(body: &str) -> Vec<u8> {
        format!("%PDF-1.4\n1 0 obj\n<< /Type /Catalog {body} >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
            .into_bytes()
    }

    #[test]
    fn a_plain_pdf_passes_and_active_or_broken_ones_do_not() {
        assert_eq!(check(&pdf("")).unwrap().media_type, "application/pdf");
        assert!(check(&pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")).is_err());
        let mut cut = pdf("");
        cut.truncate(cut.len() - 7);
        assert_eq!(
            check(&cut).unwrap_err(),
            FormError("El PDF está dañado o incompleto.".into())
        );
    }

    #[test]
    fn the_content_decides_not_the_name() {
        assert!(check(b"GIF89a....").is_err());
        assert!(check(b"<html><script>alert(1)</script></html>").is_err());
        assert!(check(&[]).is_err());
        let big = vec![b'%'; MAX_BYTES + 1];
        assert!(check(&big).unwrap_err().0.contains("el máximo"));
    }

    #[test]
    fn a_scanned_image_passes_and_trailing_data_does_not() {
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(850, 1100)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(check(&png).unwrap().media_type, "image/png");
        png.extend_from_slice(b"<script>");
        assert!(check(&png).is_err());
    }
}
