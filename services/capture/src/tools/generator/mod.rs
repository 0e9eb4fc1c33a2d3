//! Synthetic candidacies, deterministic by seed: the demo election's file and, at any size up
//! to national scale, import files for tests and benchmarks. Names are invented from common
//! Spanish given names and surnames; sexes alternate for parity; ages, affirmative actions and
//! list positions follow simple, stated distributions.

pub mod curricula;

use std::fmt::Write as _;

/// SplitMix64: small, fast, and the same numbers on every machine for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WOMEN: [&str; 24] = [
    "María Fernanda",
    "Guadalupe",
    "Ana Sofía",
    "Verónica",
    "Claudia",
    "Patricia",
    "Rosa Elena",
    "Alejandra",
    "Diana Laura",
    "Mónica",
    "Gabriela",
    "Itzel",
    "Xóchitl",
    "Lucía",
    "Beatriz",
    "Carmen",
    "Leticia",
    "Adriana",
    "Yolanda",
    "Paola",
    "Marisol",
    "Elena",
    "Ximena",
    "Sandra",
];
const MEN: [&str; 24] = [
    "José Luis",
    "Juan Carlos",
    "Miguel Ángel",
    "Francisco",
    "Jesús",
    "Alejandro",
    "Ricardo",
    "Eduardo",
    "Fernando",
    "Héctor",
    "Raúl",
    "Sergio",
    "Arturo",
    "Jorge",
    "Óscar",
    "Rubén",
    "Emiliano",
    "Santiago",
    "Rodrigo",
    "Manuel",
    "Tomás",
    "Gerardo",
    "Iván",
    "Ramón",
];
const SURNAMES: [&str; 40] = [
    "Hernández",
    "García",
    "Martínez",
    "López",
    "González",
    "Rodríguez",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Flores",
    "Cruz",
    "Gómez",
    "Morales",
    "Vázquez",
    "Reyes",
    "Jiménez",
    "Torres",
    "Díaz",
    "Gutiérrez",
    "Ruiz",
    "Mendoza",
    "Aguilar",
    "Ortiz",
    "Moreno",
    "Castillo",
    "Romero",
    "Álvarez",
    "Méndez",
    "Chávez",
    "Rivera",
    "Juárez",
    "Ramos",
    "Domínguez",
    "Herrera",
    "Medina",
    "Castro",
    "Vargas",
    "Guzmán",
    "Velázquez",
    "Muñoz",
];
const AFFIRMATIVE: [&str; 5] = [
    "indigena",
    "joven",
    "discapacidad",
    "diversidad_sexual",
    "migrante",
];

/// One candidacy to write.
pub struct Slot<'a> {
    pub office: &'a str,
    pub principle: &'a str,
    pub constituency: String,
    pub postulant: &'a str,
    pub list_position: u32,
}

pub const HEADER: &str = "id_registro,cargo,principio,circunscripcion,postulante,posicion_lista,\
propietario_nombre,propietario_sexo,propietario_fecha_nacimiento,suplente_nombre,suplente_sexo,\
suplente_fecha_nacimiento,accion_afirmativa\n";

fn person(rng: &mut Rng, woman: bool, young: bool) -> (String, &'static str, String) {
    let given = if woman {
        rng.pick(&WOMEN)
    } else {
        rng.pick(&MEN)
    };
    let name = format!("{given} {} {}", rng.pick(&SURNAMES), rng.pick(&SURNAMES));
    // Ages 21–75 on election day 2026 (young: 21–29).
    let year = if young {
        1997 + rng.below(8)
    } else {
        1951 + rng.below(46)
    };
    let birth = format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28));
    (name, if woman { "mujer" } else { "hombre" }, birth)
}

/// A person no earlier row has (one person, one seat: the import refuses a name and birth date
/// twice), drawn again until new.
fn unique_person(
    rng: &mut Rng,
    seen: &mut std::collections::HashSet<(String, String)>,
    woman: bool,
    young: bool,
) -> (String, &'static str, String) {
    loop {
        let drawn = person(rng, woman, young);
        if seen.insert((drawn.0.clone(), drawn.2.clone())) {
            return drawn;
        }
    }
}

/// The CSV of `slots`, deterministic for `seed`. About one in twenty candidacies has an
/// affirmative action; the holder's sex alternates (parity) and the alternate shares it.
pub fn candidacies_csv(seed: u64, id_prefix: &str, slots: &[Slot<'_>]) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::from(HEADER);
    let mut seen = std::collections::HashSet::new();
    for (i, slot) in slots.iter().enumerate() {
        let woman = i % 2 == 0;
        let affirmative = if rng.below(20) == 0 {
            rng.pick(&AFFIRMATIVE)
        } else {
            ""
        };
        let young = affirmative == "joven";
        let (holder, sex, birth) = unique_person(&mut rng, &mut seen, woman, young);
        let (alternate, alt_sex, alt_birth) = unique_person(&mut rng, &mut seen, woman, young);
        let position = if slot.list_position > 0 {
            slot.list_position.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{id_prefix}-{:06},{},{},{},{},{position},{holder},{sex},{birth},{alternate},{alt_sex},{alt_birth},{affirmative}",
            i + 1,
            slot.office,
            slot.principle,
            slot.constituency,
            slot.postulant,
        );
    }
    out
}

/// `count` single-member candidacies of `postulants`, one per postulant in each synthetic
/// district (`00001`, `00002`, …): the shape of a national-scale import.
pub fn national_slots<'a>(count: usize, postulants: &[&'a str]) -> Vec<Slot<'a>> {
    (0..count)
        .map(|i| Slot {
            office: "diputacion_mr",
            principle: "mr",
            constituency: format!("{:05}", i / postulants.len() + 1),
            postulant: postulants[i % postulants.len()],
            list_position: 0,
        })
        .collect()
}

/// The parties of the national-scale files.
pub const NATIONAL_POSTULANTS: [&str; 6] = ["PAN", "PRI", "MORENA", "PT", "PVEM", "MC"];

/// The demo election's candidacies (Coahuila 2026, local deputies).
pub fn demo_csv() -> String {
    let mut slots = Vec::new();
    for district in 1..=16 {
        for postulant in ["COA1", "MORENA", "PT", "PVEM", "MC"] {
            slots.push(Slot {
                office: "diputacion_mr",
                principle: "mr",
                constituency: format!("{district:02}"),
                postulant,
                list_position: 0,
            });
        }
        if district == 3 {
            slots.push(Slot {
                office: "diputacion_mr",
                principle: "mr",
                constituency: "03".into(),
                postulant: "IND1",
                list_position: 0,
            });
        }
    }
    for postulant in ["PAN", "PRI", "MORENA", "PT", "PVEM", "MC", "UDC"] {
        for position in 1..=3 {
            slots.push(Slot {
                office: "diputacion_rp",
                principle: "rp",
                constituency: "RP".into(),
                postulant,
                list_position: position,
            });
        }
    }
    candidacies_csv(2026, "COAH26", &slots)
}

/// The Sonora-like demo's municipalities and their compositions (municipality, sindicaturas,
/// regidurías MR, regidurías RP), read from its catalog file.
pub fn sonora_compositions() -> Vec<(String, u32, u32, u32)> {
    include_str!("../../../demo/sonora/ayuntamientos.csv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.get(2)?.parse().ok()?,
                f.get(3)?.parse().ok()?,
            ))
        })
        .collect()
}

/// The Sonora-like demo's candidacies: local deputies (six districts and a state list) and,
/// in each municipality, every postulant's slate — presidencia, sindicaturas, regidurías of
/// mayoría relativa in number order — plus the parties' lists of regidurías of representación
/// proporcional.
pub fn sonora_csv() -> String {
    let mut slots = Vec::new();
    for district in 1..=6 {
        for postulant in ["COA2", "MORENA", "PT", "MC"] {
            slots.push(Slot {
                office: "diputacion_mr",
                principle: "mr",
                constituency: format!("{district:02}"),
                postulant,
                list_position: 0,
            });
        }
    }
    for postulant in ["PAN", "PRI", "MORENA", "PT", "MC"] {
        for position in 1..=2 {
            slots.push(Slot {
                office: "diputacion_rp",
                principle: "rp",
                constituency: "RP".into(),
                postulant,
                list_position: position,
            });
        }
    }
    for (municipality, syndics, councillors_mr, councillors_rp) in sonora_compositions() {
        for postulant in ["COA2", "MORENA", "PT", "MC"] {
            let positions = std::iter::once(("presidencia_municipal", 0))
                .chain((1..=syndics).map(|p| ("sindicatura", p)))
                .chain((1..=councillors_mr).map(|p| ("regiduria_mr", p)));
            for (office, list_position) in positions {
                slots.push(Slot {
                    office,
                    principle: "mr",
                    constituency: municipality.clone(),
                    postulant,
                    list_position,
                });
            }
        }
        for postulant in ["MORENA", "PT", "MC"] {
            for position in 1..=councillors_rp {
                slots.push(Slot {
                    office: "regiduria_rp",
                    principle: "rp",
                    constituency: municipality.clone(),
                    postulant,
                    list_position: position,
                });
            }
        }
    }
    candidacies_csv(2027, "SON27", &slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sonora_demo_has_a_slate_per_postulant_and_municipality() {
        let csv = sonora_csv();
        assert_eq!(csv, sonora_csv());
        let presidencias = csv
            .lines()
            .filter(|l| l.contains(",presidencia_municipal,"))
            .count();
        assert_eq!(presidencias, 5 * 4, "five municipalities, four postulants");
        // Hermosillo: one sindicatura and eight regidurías MR per slate, five RP per list.
        let hermosillo = |office: &str| {
            csv.lines()
                .filter(|l| l.contains(&format!(",{office},")) && l.contains(",030,"))
                .count()
        };
        assert_eq!(
            (
                hermosillo("sindicatura"),
                hermosillo("regiduria_mr"),
                hermosillo("regiduria_rp")
            ),
            (4, 4 * 8, 3 * 5)
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_file() {
        assert_eq!(demo_csv(), demo_csv());
        assert_eq!(demo_csv().lines().count(), 1 + 102);
    }

    #[test]
    fn the_demo_has_parity_and_affirmative_actions() {
        let csv = demo_csv();
        let women = csv.lines().filter(|l| l.contains(",mujer,")).count();
        let men = csv.lines().filter(|l| l.contains(",hombre,")).count();
        assert_eq!(women, 51);
        assert_eq!(men, 51);
        assert!(
            csv.lines().skip(1).any(|l| !l.ends_with(',')),
            "some affirmative actions"
        );
    }
}
