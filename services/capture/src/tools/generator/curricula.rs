//! Synthetic curricular answers and photos, deterministic by seed: a bulk-capture template
//! filled with realistic answers (every section valid with the default bounds, lengths spread
//! between the minimum and about three times it), and small valid portraits as JPEG.

use std::io::Cursor;

use super::Rng;
use crate::domain::curricular::bulk::{column_name, field_columns};
use crate::domain::curricular::sections::{EDUCATION_LEVELS, EDUCATION_STATUSES};
use conoceles_kit::csv::csv_field;

const CAREERS: [&str; 10] = [
    "Derecho",
    "Contaduría Pública",
    "Administración de Empresas",
    "Medicina",
    "Ingeniería Civil",
    "Ciencias Políticas",
    "Trabajo Social",
    "Economía",
    "Arquitectura",
    "Ciencias de la Comunicación",
];

const PLACES: [&str; 8] = [
    "el ayuntamiento de Saltillo",
    "una cooperativa agrícola de la Laguna",
    "el hospital general de Monclova",
    "un despacho contable de Torreón",
    "la universidad autónoma del estado",
    "una organización de la sociedad civil",
    "una empresa de transporte regional",
    "el sistema estatal para el desarrollo integral de la familia",
];

const SENTENCES: [&str; 12] = [
    "Durante {n} años trabajé en {place}, donde coordiné equipos y proyectos con la comunidad.",
    "Estudié {career} y me titulé con un trabajo sobre las necesidades de mi región.",
    "He participado como voluntaria o voluntario en campañas de salud, limpieza y lectura en colonias populares.",
    "Mi experiencia en {place} me enseñó a escuchar a las personas antes de tomar decisiones.",
    "Fui integrante del comité vecinal durante {n} años y gestioné obras de alumbrado y agua potable.",
    "Impulsaré la transparencia en el uso de los recursos públicos con informes trimestrales abiertos.",
    "Propongo crear un programa de becas para jóvenes que combine estudio y trabajo en empresas locales.",
    "Trabajaré para que las mujeres tengan acceso a guarderías de tiempo completo y empleos dignos.",
    "Promoveré la participación de personas con discapacidad en el diseño de los espacios públicos.",
    "Buscaré que cada peso del presupuesto llegue a las colonias que más lo necesitan, con metas medibles.",
    "En {place} aprendí que la coordinación entre órdenes de gobierno resuelve problemas concretos.",
    "Me comprometo a rendir cuentas cada seis meses en asambleas abiertas a toda la ciudadanía.",
];

/// A Spanish text with between `min` and about `3 × min` characters without spaces.
pub fn text(rng: &mut Rng, min: usize, max: usize) -> String {
    let target = (min + rng.below(min * 2 + 1)).min(max);
    let mut out = String::new();
    while crate::domain::curricular::fields::chars_without_spaces(&out) < target.max(1) {
        let sentence = rng
            .pick(&SENTENCES)
            .replace("{n}", &(2 + rng.below(18)).to_string())
            .replace("{place}", rng.pick(&PLACES))
            .replace("{career}", rng.pick(&CAREERS));
        if crate::domain::curricular::fields::chars_without_spaces(&out)
            + crate::domain::curricular::fields::chars_without_spaces(&sentence)
            > max
        {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&sentence);
    }
    out
}

fn value(rng: &mut Rng, row: usize, section: &str, field: &str) -> String {
    let (text_min, text_max, proposal_min, proposal_max) = (280, 5000, 280, 1600);
    match (section, field) {
        ("general", "private_email") => format!("aclaraciones.{row}@ejemplo.mx"),
        ("general", "public_email_1") if rng.below(2) == 0 => format!("contacto.{row}@ejemplo.mx"),
        ("general", "phone_1") => format!("8{:09}", rng.next_u64() % 1_000_000_000),
        ("general", "facebook") if rng.below(3) > 0 => {
            format!("https://www.facebook.com/candidatura{row}")
        }
        ("general", "x") if rng.below(3) == 0 => format!("https://x.com/candidatura{row}"),
        ("general", "campaign_address_1") if rng.below(2) == 0 => {
            format!("Calle Hidalgo {}, Centro", 1 + rng.below(900))
        }
        ("education", "level") => {
            // Weighted towards licenciatura, as among candidates.
            let index = [5, 5, 5, 3, 4, 6, 7, 8, 2, 9][rng.below(10)];
            EDUCATION_LEVELS[index].0.to_string()
        }
        ("education", "status") => EDUCATION_STATUSES[2 + rng.below(3)].0.to_string(),
        ("education", "other_training") if rng.below(2) == 0 => {
            format!("Diplomado en {}", rng.pick(&CAREERS))
        }
        ("professional" | "political" | "motivation", _) => text(rng, text_min, text_max),
        ("proposals" | "gender", "proposal_1" | "proposal_2" | "proposal") => {
            text(rng, proposal_min, proposal_max)
        }
        ("gender", "target_population") => rng
            .pick(&[
                "Mujeres jefas de familia",
                "Jóvenes de 18 a 29 años",
                "Personas adultas mayores",
                "Personas con discapacidad",
                "Comunidades indígenas",
            ])
            .to_string(),
        ("gender", "goals_and_deadlines") => {
            format!(
                "{} acciones en los primeros {} meses",
                2 + rng.below(5),
                6 + rng.below(12)
            )
        }
        _ => String::new(),
    }
}

/// Fills a bulk-capture template (as downloaded) with answers for every row.
pub fn fill_template(template: &str, seed: u64) -> anyhow::Result<String> {
    let mut rng = Rng::new(seed);
    let text = template.trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let columns = field_columns();
    let mut out = headers.iter().map(csv_field).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for (row, record) in reader.records().enumerate() {
        let record = record?;
        let cells: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, header)| {
                match columns.iter().find(|(s, f)| {
                    column_name(*s, f) == header || format!("{}.{f}", s.slug()) == header
                }) {
                    Some((section, field)) => value(&mut rng, row + 1, section.slug(), field),
                    None => record.get(i).unwrap_or_default().to_string(),
                }
            })
            .collect();
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok(out)
}

/// A small portrait-like JPEG (a coloured background and a lighter oval), different per seed.
pub fn photo_jpeg(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let background = [
        60 + rng.below(120) as u8,
        60 + rng.below(120) as u8,
        60 + rng.below(120) as u8,
    ];
    let skin = [
        180 + rng.below(60) as u8,
        130 + rng.below(60) as u8,
        100 + rng.below(50) as u8,
    ];
    let (cx, cy) = (width as f32 / 2.0, height as f32 * 0.42);
    let (rx, ry) = (width as f32 * 0.22, height as f32 * 0.28);
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
        if dx * dx + dy * dy <= 1.0 {
            image::Rgb(skin)
        } else {
            let shade = (y * 40 / height.max(1)) as u8;
            image::Rgb(background.map(|c| c.saturating_add(shade)))
        }
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encoding a JPEG in memory");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::curricular::sections::{Bounds, Fields, Section, validate};
    use std::collections::BTreeMap;

    fn template(rows: usize) -> String {
        let mut t = String::from("candidatura,persona,cargo,circunscripcion,nombre");
        for (s, f) in field_columns() {
            t.push_str(&format!(",{}.{f}", s.slug()));
        }
        t.push('\n');
        for i in 0..rows {
            t.push_str(&format!(
                "id-{i},holder,Diputación,Distrito {i},Persona {i}"
            ));
            t.push_str(&",".repeat(field_columns().len()));
            t.push('\n');
        }
        t
    }

    #[test]
    fn generated_answers_pass_every_rule_and_repeat_by_seed() {
        let filled = fill_template(&template(40), 7).unwrap();
        assert_eq!(filled, fill_template(&template(40), 7).unwrap());
        assert_ne!(filled, fill_template(&template(40), 8).unwrap());
        let mut reader = csv::Reader::from_reader(filled.as_bytes());
        let headers = reader.headers().unwrap().clone();
        for record in reader.records() {
            let record = record.unwrap();
            let mut sections: BTreeMap<Section, Fields> = BTreeMap::new();
            for (i, header) in headers.iter().enumerate() {
                if let Some((section, field)) = header.split_once('.') {
                    let section = Section::from_slug(section).unwrap();
                    let value = conoceles_kit::csv::csv_value(&record[i]).to_string();
                    sections
                        .entry(section)
                        .or_default()
                        .insert(field.into(), value);
                }
            }
            for section in Section::ALL {
                let (_, violations) = validate(section, &Bounds::default(), &sections[&section]);
                assert!(violations.is_empty(), "{section:?}: {violations:?}");
            }
        }
    }

    #[test]
    fn photos_are_valid_jpegs_that_pass_the_photo_checks() {
        let bytes = photo_jpeg(3, 480, 600);
        assert!(crate::domain::curricular::photo::check(&bytes, 700 * 1024).is_ok());
        assert_ne!(bytes, photo_jpeg(4, 480, 600));
    }
}
