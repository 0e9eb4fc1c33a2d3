//! How the citizens' site presents an election: the electoral body's name, its colour and emblem,
//! whether the site is a demonstration, and each postulant's emblem. The unit sets them in the
//! back office; the `election.site_identity_updated` event gives them to the public site.
//!
//! Emblems arrive as PNG or SVG and are checked by their content. Neither is ever kept or served
//! as sent: a PNG is decoded and encoded again, an SVG is drawn into pixels (no scripts, styles,
//! links, fonts or embedded images survive), and only that small PNG derivative is stored.

use std::io::Cursor;
use std::sync::Arc;

use conoceles_proto::events::v1 as events;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

/// The site's presentation for one election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteIdentity {
    /// «Instituto Electoral de Coahuila»; empty: the site shows only its own name.
    pub body_name: String,
    /// `#rrggbb`, lowercase.
    pub color: String,
    /// The site is a demonstration: every page says so.
    pub demonstration: bool,
}

impl Default for SiteIdentity {
    fn default() -> Self {
        SiteIdentity {
            body_name: String::new(),
            color: DEFAULT_COLOR.into(),
            demonstration: false,
        }
    }
}

pub const DEFAULT_COLOR: &str = "#5b1a6b";
/// Largest emblem file accepted.
pub const MAX_EMBLEM_BYTES: usize = 512 * 1024;
/// The derivative fits this box (pixels): twice the size the site shows it at.
pub const BOX_WIDTH: u32 = 256;
pub const BOX_HEIGHT: u32 = 128;
/// Largest side of a PNG accepted before decoding.
const MAX_SIDE: u32 = 4000;
/// WCAG 2.2 AA contrast for normal text.
const MIN_CONTRAST: f64 = 4.5;

/// Why a value was refused, in Spanish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refuse(message: impl Into<String>) -> Refused {
    Refused(message.into())
}

/// The body's colour as typed (`#1f4e79`, `1F4E79`): six hexadecimal digits, dark enough for the
/// white text the site writes on it.
pub fn parse_color(input: &str) -> Result<String, Refused> {
    let hex = input.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(refuse(
            "Escriba el color como # seguido de seis dígitos hexadecimales, por ejemplo #1f4e79.",
        ));
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let ratio = contrast_with_white(channel(0), channel(2), channel(4));
    if ratio < MIN_CONTRAST {
        return Err(refuse(format!(
            "El texto blanco sobre ese color tiene un contraste de {ratio:.1} a 1; se necesita al menos 4.5 a 1. Elija un tono más oscuro."
        )));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// WCAG's contrast ratio between white and the colour `(r, g, b)`.
pub fn contrast_with_white(r: u8, g: u8, b: u8) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    1.05 / (luminance + 0.05)
}

/// The body's name as typed: trimmed, at most 150 characters.
pub fn parse_body_name(input: &str) -> Result<String, Refused> {
    let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().count() > 150 {
        return Err(refuse(
            "El nombre del organismo electoral tiene más de 150 caracteres.",
        ));
    }
    Ok(name)
}

/// Checks an uploaded emblem by its content and makes its PNG derivative. CPU-bound: call from a
/// blocking thread.
pub fn derive_emblem(bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    if bytes.is_empty() {
        return Err(refuse("Seleccione el archivo del emblema."));
    }
    if bytes.len() > MAX_EMBLEM_BYTES {
        return Err(refuse(format!(
            "El emblema pesa {} KB; el máximo es {} KB.",
            bytes.len().div_ceil(1024),
            MAX_EMBLEM_BYTES / 1024
        )));
    }
    let rgba = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        from_png(bytes)?
    } else if looks_like_svg(bytes) {
        from_svg(bytes)?
    } else {
        return Err(refuse(
            "El emblema debe ser PNG o SVG (se revisa el contenido del archivo, no su nombre).",
        ));
    };
    if rgba.pixels().all(|p| p.0[3] == 0) {
        return Err(refuse(
            "El emblema no tiene nada visible. Si es un SVG con textos, conviértalos a trazos antes de cargarlo.",
        ));
    }
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(rgba)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| {
            tracing::error!(error = %e, "encoding an emblem failed");
            refuse("No se pudo procesar el emblema. Intente con otro archivo.")
        })?;
    Ok(png)
}

fn damaged() -> Refused {
    refuse("El archivo del emblema está dañado o incompleto.")
}

fn from_png(bytes: &[u8]) -> Result<image::RgbaImage, Refused> {
    let (width, height) =
        image::ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png)
            .into_dimensions()
            .map_err(|_| damaged())?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(refuse(format!(
            "El emblema mide {width} × {height} píxeles; el máximo es {MAX_SIDE} × {MAX_SIDE}."
        )));
    }
    let decoded = crate::curricular::photo::reader(bytes, image::ImageFormat::Png)
        .decode()
        .map_err(|_| damaged())?;
    let fitted = if decoded.width() > BOX_WIDTH || decoded.height() > BOX_HEIGHT {
        decoded.resize(BOX_WIDTH, BOX_HEIGHT, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    Ok(fitted.to_rgba8())
}

/// An XML document whose first element is `<svg`, after an optional byte-order mark, XML
/// declaration, comments and doctype.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(_) => return false,
    };
    let mut rest = text.trim_start();
    loop {
        if rest.starts_with("<svg") {
            return true;
        }
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
            // A doctype with an internal subset ends at `]>`.
            match (rest.find('['), rest.find('>')) {
                (Some(open), Some(close)) if open < close => rest.find("]>").map(|i| i + 2),
                (_, close) => close.map(|i| i + 1),
            }
        } else {
            None
        };
        match skip {
            Some(i) => rest = rest[i..].trim_start(),
            None => return false,
        }
    }
}

fn from_svg(bytes: &[u8]) -> Result<image::RgbaImage, Refused> {
    use resvg::{tiny_skia, usvg};
    // Entities can make a small file expand without end; a logo has no use for them.
    if bytes
        .windows(8)
        .any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"))
    {
        return Err(refuse(
            "El SVG declara entidades XML; guárdelo de nuevo sin ellas.",
        ));
    }
    // Nothing outside the file is read: no images by address or embedded, no system fonts.
    let options = usvg::Options {
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: Box::new(|_, _: Arc<Vec<u8>>, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(bytes, &options)
        .map_err(|_| refuse("El archivo SVG no se pudo leer; revise que sea un SVG válido."))?;
    let size = tree.size();
    let (w, h) = (size.width(), size.height());
    if !(w > 0.0 && h > 0.0) {
        return Err(damaged());
    }
    let scale = (BOX_WIDTH as f32 / w).min(BOX_HEIGHT as f32 / h);
    let width = ((w * scale).round() as u32).clamp(1, BOX_WIDTH);
    let height = ((h * scale).round() as u32).clamp(1, BOX_HEIGHT);
    let mut pixmap = tiny_skia::Pixmap::new(width, height).ok_or_else(damaged)?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    // tiny-skia keeps premultiplied colour; the PNG wants it straight.
    let pixels = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    image::RgbaImage::from_raw(width, height, pixels).ok_or_else(damaged)
}

/// The election's presentation (the defaults until the unit sets it).
pub async fn get(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<SiteIdentity> {
    Ok(sqlx::query(
        "SELECT body_name, color, demonstration FROM site_identity WHERE election_id = $1",
    )
    .bind(election)
    .fetch_optional(conn)
    .await?
    .map(|r| SiteIdentity {
        body_name: r.get("body_name"),
        color: r.get("color"),
        demonstration: r.get("demonstration"),
    })
    .unwrap_or_default())
}

/// Whether the unit (or the demo) has set the election's presentation.
pub async fn is_set(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM site_identity WHERE election_id = $1)")
        .bind(election)
        .fetch_one(conn)
        .await
}

/// Stores the presentation (the caller announces it, in the same transaction).
pub async fn save(
    conn: &mut PgConnection,
    election: Uuid,
    identity: &SiteIdentity,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO site_identity (election_id, body_name, color, demonstration) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (election_id) DO UPDATE SET body_name = EXCLUDED.body_name, color = EXCLUDED.color, \
         demonstration = EXCLUDED.demonstration, updated_at = now()",
    )
    .bind(election)
    .bind(&identity.body_name)
    .bind(&identity.color)
    .bind(identity.demonstration)
    .execute(conn)
    .await?;
    Ok(())
}

/// One emblem's derivative.
pub async fn emblem(
    conn: &mut PgConnection,
    election: Uuid,
    owner: &str,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT png FROM emblems WHERE election_id = $1 AND owner = $2")
        .bind(election)
        .bind(owner)
        .fetch_optional(conn)
        .await
}

/// Stores an emblem's derivative, replacing the owner's earlier one (the caller announces it).
pub async fn save_emblem(
    conn: &mut PgConnection,
    election: Uuid,
    owner: &str,
    png: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO emblems (election_id, owner, png, sha256) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (election_id, owner) DO UPDATE SET png = EXCLUDED.png, sha256 = EXCLUDED.sha256, uploaded_at = now()",
    )
    .bind(election)
    .bind(owner)
    .bind(png)
    .bind(hex::encode(Sha256::digest(png)))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes an emblem (the caller announces it); false when there was none.
pub async fn remove_emblem(
    conn: &mut PgConnection,
    election: Uuid,
    owner: &str,
) -> sqlx::Result<bool> {
    Ok(
        sqlx::query("DELETE FROM emblems WHERE election_id = $1 AND owner = $2")
            .bind(election)
            .bind(owner)
            .execute(conn)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Sends the election's presentation, emblems included, to the other services in this
/// transaction (outbox).
pub async fn announce(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<()> {
    let identity = get(&mut *conn, election).await?;
    let emblems =
        sqlx::query("SELECT owner, png FROM emblems WHERE election_id = $1 ORDER BY owner")
            .bind(election)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| events::Emblem {
                owner: r.get("owner"),
                png: r.get("png"),
            })
            .collect();
    let event = events::SiteIdentityUpdated {
        election_id: Some(conoceles_proto::common::v1::ElectionId::from(election)),
        body_name: identity.body_name,
        color: identity.color,
        demonstration: identity.demonstration,
        emblems,
        occurred_at: Some(conoceles_kit::proto_time::to_proto(chrono::Utc::now())),
    };
    conoceles_kit::amqp::enqueue_event(
        conn,
        conoceles_proto::routing_keys::SITE_IDENTITY_UPDATED,
        &event,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn png(w: u32, h: u32, alpha: u8) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 40, alpha]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    fn decoded(png: &[u8]) -> image::RgbaImage {
        image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .unwrap()
            .to_rgba8()
    }

    #[test]
    fn colours_must_be_hexadecimal_and_carry_white_text() {
        assert_eq!(parse_color("#1F4E79").unwrap(), "#1f4e79");
        assert_eq!(parse_color(" 5b1a6b ").unwrap(), "#5b1a6b");
        assert!(parse_color("rojo").unwrap_err().0.contains("seis dígitos"));
        let pale = parse_color("#ffd700").unwrap_err().0;
        assert!(pale.contains("4.5 a 1"), "{pale}");
        // Black on white is 21:1, white on white 1:1.
        assert!((contrast_with_white(0, 0, 0) - 21.0).abs() < 0.01);
        assert!((contrast_with_white(255, 255, 255) - 1.0).abs() < 0.01);
    }

    #[test]
    fn a_png_emblem_is_encoded_again_within_the_box() {
        let mut big = png(1000, 1000, 255);
        let out = derive_emblem(&big).unwrap();
        let img = decoded(&out);
        assert_eq!((img.width(), img.height()), (BOX_HEIGHT, BOX_HEIGHT));
        // Anything after the image's end is not carried over.
        big.extend_from_slice(b"<script>alert(1)</script>");
        let out = derive_emblem(&big).unwrap();
        assert!(!out.windows(7).any(|w| w == b"<script"));
    }

    #[test]
    fn an_svg_emblem_is_drawn_into_pixels_without_its_markup() {
        let svg = br##"<?xml version="1.0"?>
<!-- a party's logo -->
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">
  <script>alert(document.cookie)</script>
  <rect x="0" y="0" width="200" height="100" fill="#c00"/>
  <image href="file:///etc/passwd" width="10" height="10"/>
</svg>"##;
        let out = derive_emblem(svg).unwrap();
        assert!(out.starts_with(b"\x89PNG"));
        assert!(!out.windows(6).any(|w| w == b"script"));
        let img = decoded(&out);
        assert_eq!((img.width(), img.height()), (BOX_WIDTH, BOX_HEIGHT));
        assert_eq!(img.get_pixel(10, 10).0, [204, 0, 0, 255]);
    }

    #[test]
    fn other_files_and_empty_or_hostile_emblems_are_refused() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "Seleccione"),
            (b"GIF89a....".to_vec(), "PNG o SVG"),
            (b"<html><svg></svg></html>".to_vec(), "PNG o SVG"),
            (png(20, 20, 0), "nada visible"),
            (b"<svg xmlns='http://www.w3.org/2000/svg'><text>PRI</text>".to_vec(), "no se pudo leer"),
            (
                br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>"#.to_vec(),
                "entidades",
            ),
            (vec![0u8; MAX_EMBLEM_BYTES + 1], "máximo es 512 KB"),
            (b"\x89PNG\r\n\x1a\nbroken".to_vec(), "dañado"),
        ];
        for (bytes, expected) in cases {
            let refused = derive_emblem(&bytes).unwrap_err().0;
            assert!(refused.contains(expected), "{expected}: {refused}");
        }
    }

    proptest! {
        #[test]
        fn any_bytes_are_answered_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = derive_emblem(&bytes);
        }

        #[test]
        fn an_accepted_colour_always_carries_white_text(r in any::<u8>(), g in any::<u8>(), b in any::<u8>()) {
            let typed = format!("#{r:02x}{g:02x}{b:02x}");
            if parse_color(&typed).is_ok() {
                prop_assert!(contrast_with_white(r, g, b) >= MIN_CONTRAST);
            }
        }
    }
}
