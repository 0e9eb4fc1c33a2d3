//! Candidate photos: JPEG or PNG by content, bounded in size and in decoding cost, without
//! anything hidden after the image, re-encoded into a metadata-free public derivative.

use std::io::Cursor;

use chrono::{Months, NaiveDate};
use sha2::{Digest, Sha256};

/// Largest side accepted, in pixels (a 4000 × 4000 RGBA image decodes into 64 MiB).
pub const MAX_SIDE: u32 = 4000;
/// Memory the decoder may allocate.
const MAX_DECODE_BYTES: u64 = 96 * 1024 * 1024;
/// Width of the public derivative: 1.5 times the 240 CSS pixels a profile shows it at, so it stays
/// sharp on dense screens and light on a phone's data plan.
pub const PUBLIC_WIDTH: u32 = 360;
const PUBLIC_QUALITY: u8 = 80;

/// A photo that passed every check, ready to store.
#[derive(Debug)]
pub struct CheckedPhoto {
    pub media_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub original: Vec<u8>,
    /// Re-encoded JPEG, at most [`PUBLIC_WIDTH`] wide, no metadata.
    pub public_jpeg: Vec<u8>,
    pub sha256: String,
}

/// Why a photo was refused, in Spanish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PhotoError(pub String);

fn refuse(message: impl Into<String>) -> PhotoError {
    PhotoError(message.into())
}

/// The declared date of the photo: not in the future, not older than three months.
pub fn check_date(taken_on: NaiveDate, today: NaiveDate) -> Result<(), PhotoError> {
    if taken_on > today {
        return Err(refuse(
            "La fecha de la fotografía no puede ser posterior a hoy.",
        ));
    }
    let oldest = today.checked_sub_months(Months::new(3)).unwrap_or(today);
    if taken_on < oldest {
        return Err(refuse(format!(
            "La fotografía debe tener como máximo tres meses de antigüedad (tomada el {} o después).",
            oldest.format("%d/%m/%Y")
        )));
    }
    Ok(())
}

/// Checks `bytes` and builds the public derivative. CPU-bound: call from a blocking thread.
pub fn check(bytes: &[u8], max_bytes: usize) -> Result<CheckedPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(refuse("Seleccione una fotografía."));
    }
    if bytes.len() > max_bytes {
        return Err(refuse(format!(
            "La fotografía pesa {} KB; el máximo es {} KB.",
            bytes.len().div_ceil(1024),
            max_bytes / 1024
        )));
    }
    let (format, media_type) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (image::ImageFormat::Jpeg, "image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        (image::ImageFormat::Png, "image/png")
    } else {
        return Err(refuse(
            "La fotografía debe ser JPEG o PNG (se revisa el contenido del archivo, no su nombre).",
        ));
    };
    let end = match format {
        image::ImageFormat::Png => png_end(bytes),
        _ => jpeg_end(bytes),
    }
    .ok_or_else(|| refuse("El archivo de la fotografía está dañado o incompleto."))?;
    if end != bytes.len() || contains_markup(bytes) {
        return Err(refuse(
            "El archivo contiene datos que no son de la imagen. Guarde la fotografía de nuevo como JPEG o PNG.",
        ));
    }

    let damaged = |_| refuse("El archivo de la fotografía está dañado o incompleto.");
    // Reading the header costs nothing; the limits apply to decoding.
    let (width, height) = image::ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(damaged)?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(refuse(format!(
            "La fotografía mide {width} × {height} píxeles; el máximo es {MAX_SIDE} × {MAX_SIDE}."
        )));
    }
    let decoded = reader(bytes, format).decode().map_err(damaged)?;

    let public = if decoded.width() > PUBLIC_WIDTH {
        let h = (u64::from(decoded.height()) * u64::from(PUBLIC_WIDTH) / u64::from(decoded.width()))
            .max(1) as u32;
        decoded.resize_exact(PUBLIC_WIDTH, h, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    let mut public_jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut public_jpeg, PUBLIC_QUALITY)
        .encode_image(&public.to_rgb8())
        .map_err(|e| {
            tracing::error!(error = %e, "re-encoding a photo failed");
            refuse("No se pudo procesar la fotografía. Intente con otro archivo.")
        })?;
    Ok(CheckedPhoto {
        media_type,
        width,
        height,
        original: bytes.to_vec(),
        public_jpeg,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

pub(crate) fn reader(
    bytes: &[u8],
    format: image::ImageFormat,
) -> image::ImageReader<Cursor<&[u8]>> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    reader
}

/// Where the PNG's `IEND` chunk ends, walking the chunks.
pub(crate) fn png_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 8;
    loop {
        let len = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(at + 4..at + 8)?;
        let end = at.checked_add(12)?.checked_add(len)?;
        if end > bytes.len() {
            return None;
        }
        if kind == b"IEND" {
            return Some(end);
        }
        at = end;
    }
}

/// Where the JPEG's end-of-image marker ends, walking the segments and entropy-coded data.
pub(crate) fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let mut marker = *bytes.get(at + 1)?;
        while marker == 0xFF {
            at += 1;
            marker = *bytes.get(at + 1)?;
        }
        at += 2;
        match marker {
            0xD9 => return Some(at),
            0xD0..=0xD7 | 0x01 => continue,
            _ => {
                let len = u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]) as usize;
                if len < 2 {
                    return None;
                }
                at += len;
                if marker == 0xDA {
                    // Entropy-coded data: runs until a marker other than a stuffed 0xFF00 or a
                    // restart marker.
                    loop {
                        if *bytes.get(at)? == 0xFF {
                            let next = *bytes.get(at + 1)?;
                            if next != 0x00 && !(0xD0..=0xD7).contains(&next) {
                                break;
                            }
                            at += 2;
                        } else {
                            at += 1;
                        }
                    }
                }
            }
        }
    }
}

/// Markup a browser could run if it ever sniffed the file as a page.
pub(crate) fn contains_markup(bytes: &[u8]) -> bool {
    const NEEDLES: [&[u8]; 5] = [b"<script", b"<html", b"<?php", b"<svg", b"<iframe"];
    bytes.windows(7).any(|w| {
        NEEDLES
            .iter()
            .any(|n| w.len() >= n.len() && w[..n.len()].eq_ignore_ascii_case(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn jpeg_and_png_pass_and_get_a_bounded_derivative() {
        for (format, media) in [
            (image::ImageFormat::Jpeg, "image/jpeg"),
            (image::ImageFormat::Png, "image/png"),
        ] {
            let bytes = sample(format, 1200, 900);
            let photo = check(&bytes, 4 << 20).unwrap();
            assert_eq!(photo.media_type, media);
            assert_eq!((photo.width, photo.height), (1200, 900));
            let public = image::load_from_memory(&photo.public_jpeg).unwrap();
            assert_eq!(
                (public.width(), public.height()),
                (PUBLIC_WIDTH, 900 * PUBLIC_WIDTH / 1200)
            );
        }
    }

    #[test]
    fn content_decides_the_format_not_the_name() {
        let png = sample(image::ImageFormat::Png, 40, 40);
        assert_eq!(check(&png, 1 << 20).unwrap().media_type, "image/png");
    }

    #[test]
    fn hostile_or_broken_files_are_refused() {
        let jpeg = sample(image::ImageFormat::Jpeg, 300, 300);
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
        assert!(check(&gif, 1 << 20).unwrap_err().0.contains("JPEG o PNG"));
        let truncated = &jpeg[..jpeg.len() / 2];
        assert!(check(truncated, 1 << 20).unwrap_err().0.contains("dañado"));
        let mut polyglot = jpeg.clone();
        polyglot.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert!(
            check(&polyglot, 1 << 20)
                .unwrap_err()
                .0
                .contains("no son de la imagen")
        );
        assert!(check(&jpeg, 1024).unwrap_err().0.contains("máximo es 1 KB"));
        let mut huge = Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(image::GrayImage::new(8000, 8000))
            .write_to(&mut huge, image::ImageFormat::Png)
            .unwrap();
        let huge = huge.into_inner();
        assert!(huge.len() < 2 << 20, "a large image of small size");
        let err = check(&huge, 4 << 20).unwrap_err().0;
        assert!(err.contains("8000 × 8000"), "{err}");
    }

    #[test]
    fn photo_dates_are_at_most_three_months_old() {
        let today = NaiveDate::from_ymd_opt(2026, 5, 20).unwrap();
        assert!(check_date(today, today).is_ok());
        assert!(check_date(NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(), today).is_ok());
        assert!(check_date(NaiveDate::from_ymd_opt(2026, 2, 19).unwrap(), today).is_err());
        assert!(check_date(NaiveDate::from_ymd_opt(2026, 5, 21).unwrap(), today).is_err());
    }
}
