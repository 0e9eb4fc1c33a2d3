//! The demo elections, loaded by `conoceles-capture seed-demo [--process=sonora]` (`make run`
//! does it; `make run DEMO=sonora` loads the second): Coahuila 2026, local deputies, and a
//! Sonora-like process of local deputies and ayuntamientos. Idempotent: a second run changes
//! nothing.

use chrono::{Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::election::{self, NewElection};
use crate::domain::import::{self, ImportSummary};

/// The demo election's fixed id.
pub const DEMO_ELECTION: Uuid = Uuid::from_u128(0x0196_0000_c0a4_7000_8000_0000_0000_2026);

fn problems(errors: Vec<import::ImportError>) -> anyhow::Error {
    anyhow::anyhow!(
        "demo data rejected:\n{}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// A demo process: its election, catalogs and candidacies.
#[derive(Debug)]
pub struct Process {
    pub id: Uuid,
    pub name: &'static str,
    pub state_code: &'static str,
    pub time_zone: &'static str,
    /// `clave,nombre,principio,circunscripcion[,planilla]`.
    pub offices: &'static str,
    pub districts: &'static str,
    pub municipalities: &'static str,
    /// Each municipality's ayuntamiento (empty: the process elects no ayuntamientos).
    pub compositions: &'static str,
    pub postulants: &'static str,
    /// `seccion,municipio,distrito`: the secciones of the voter card (illustrative).
    pub sections: &'static str,
    /// Where citizens report errors (an address of the reserved `.example` domain: illustrative).
    pub corrections_email: &'static str,
    /// The electoral body the site presents and its colour (the site says it is a demonstration).
    pub body_name: &'static str,
    pub body_color: &'static str,
    /// The capture deadline's rule: `None` the election's window (Coahuila, Durango), or so
    /// many natural days from the delivery of each candidacy's accounts (Sonora: 15).
    pub days_from_delivery: Option<i32>,
    pub candidacies: fn() -> String,
}

/// Coahuila 2026: local deputies (the default demo).
pub const COAHUILA: Process = Process {
    id: DEMO_ELECTION,
    name: "Proceso Electoral Local 2025-2026 de Coahuila: diputaciones locales (demostración)",
    state_code: "05",
    time_zone: "America/Monterrey",
    offices: "clave,nombre,principio,circunscripcion\n\
              diputacion_mr,Diputación local de mayoría relativa,mr,distrito\n\
              diputacion_rp,Diputación local de representación proporcional,rp,lista\n",
    districts: include_str!("../../demo/distritos.csv"),
    municipalities: include_str!("../../demo/municipios.csv"),
    compositions: "",
    postulants: include_str!("../../demo/partidos.csv"),
    sections: include_str!("../../demo/secciones.csv"),
    corrections_email: "transparencia@iec-coahuila.example",
    body_name: "Instituto Electoral de Coahuila",
    body_color: "#1f4e79",
    days_from_delivery: None,
    candidacies: || include_str!("../../demo/candidaturas.csv").to_string(),
};

/// The Sonora-like demo's fixed id.
pub const SONORA_ELECTION: Uuid = Uuid::from_u128(0x0196_0000_50a0_7000_8000_0000_0000_2027);

/// A Sonora-like process: local deputies and ayuntamientos in one election, with illustrative
/// catalogs (`services/capture/demo/sonora/README.md`) and 15 natural days of capture from the
/// delivery of each candidacy's accounts.
pub const SONORA: Process = Process {
    id: SONORA_ELECTION,
    name: "Proceso Electoral Local 2026-2027 de Sonora: diputaciones y ayuntamientos (demostración, catálogos ilustrativos)",
    state_code: "26",
    time_zone: "America/Hermosillo",
    offices: include_str!("../../demo/sonora/cargos.csv"),
    districts: include_str!("../../demo/sonora/distritos.csv"),
    municipalities: include_str!("../../demo/sonora/municipios.csv"),
    compositions: include_str!("../../demo/sonora/ayuntamientos.csv"),
    postulants: include_str!("../../demo/sonora/partidos.csv"),
    sections: include_str!("../../demo/sonora/secciones.csv"),
    corrections_email: "transparencia@ieepc-sonora.example",
    body_name: "Instituto Estatal Electoral y de Participación Ciudadana de Sonora",
    body_color: "#7a2e0e",
    days_from_delivery: Some(15),
    candidacies: crate::tools::generator::sonora_csv,
};

/// The demo process `name` names (`coahuila`, `sonora`).
pub fn process(name: &str) -> Option<&'static Process> {
    match name {
        "coahuila" => Some(&COAHUILA),
        "sonora" => Some(&SONORA),
        _ => None,
    }
}

/// Loads the Coahuila demo.
pub async fn seed(pool: &PgPool) -> anyhow::Result<ImportSummary> {
    seed_process(pool, &COAHUILA).await
}

pub async fn seed_process(pool: &PgPool, demo: &Process) -> anyhow::Result<ImportSummary> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    // The capture window is open, publication has started and election day is ahead, so every
    // part of the system has something to show.
    let created = election::create(
        &mut tx,
        &NewElection {
            id: demo.id,
            name: demo.name,
            state_code: demo.state_code,
            time_zone: demo.time_zone,
            capture_opens_at: now - Duration::days(1),
            capture_closes_at: now + Duration::days(15),
            publication_starts_at: now - Duration::days(1),
            // Relative to today, like the windows, so the demo always makes sense.
            election_day: (now + Duration::days(30)).date_naive(),
        },
    )
    .await?;
    if created && let Some(days) = demo.days_from_delivery {
        election::count_deadlines_from_delivery(&mut tx, demo.id, days).await?;
    }
    election::load_offices(&mut tx, demo.id, demo.offices)
        .await
        .map_err(problems)?;
    for (kind, file) in [
        ("district", demo.districts),
        ("municipality", demo.municipalities),
        (
            "list",
            "clave,nombre\nRP,Lista de representación proporcional\n",
        ),
    ] {
        election::load_constituencies(&mut tx, demo.id, kind, file)
            .await
            .map_err(problems)?;
    }
    if !demo.compositions.is_empty() {
        election::load_compositions(&mut tx, demo.id, demo.compositions)
            .await
            .map_err(problems)?;
    }
    election::load_postulants(&mut tx, demo.id, demo.postulants)
        .await
        .map_err(problems)?;
    crate::domain::places::load_sections(&mut tx, demo.id, demo.sections)
        .await
        .map_err(problems)?;
    crate::domain::places::announce(&mut tx, demo.id).await?;
    election::set_corrections_email_if_unset(&mut tx, demo.id, demo.corrections_email).await?;
    present_if_unset(&mut tx, demo).await?;
    tx.commit().await?;

    if !created {
        // The demo loaded last is the one the back office (the election created last) and the
        // public site (the latest publication start) show: a database may hold both processes.
        election::make_current(pool, demo.id).await?;
    }
    election::announce(pool, demo.id).await?;
    // Only the candidacies still missing: what the unit did since (substitutions,
    // cancellations) is never undone by loading the demo again.
    let registered: std::collections::HashSet<String> =
        crate::domain::candidacies::external_ids(pool, demo.id)
            .await?
            .into_iter()
            .collect();
    let file = (demo.candidacies)();
    let mut lines = file.lines();
    let header = lines.next().unwrap_or_default();
    let (missing, present): (Vec<&str>, Vec<&str>) =
        lines.partition(|l| !registered.contains(l.split(',').next().unwrap_or_default()));
    let skipped = present.len();
    if missing.is_empty() {
        return Ok(ImportSummary {
            unchanged: skipped,
            ..Default::default()
        });
    }
    let catalog = election::catalog(pool, demo.id).await?;
    let text = format!("{header}\n{}\n", missing.join("\n"));
    let rows = import::parse(text.as_bytes(), &catalog).map_err(problems)?;
    let mut summary = import::apply(pool, demo.id, &catalog, &rows, None).await?;
    summary.unchanged += skipped;
    Ok(summary)
}

/// The demo's presentation on the public site (its body, colour and illustrative emblems, marked
/// as a demonstration), unless the unit has set one: its changes are never undone (announced with
/// the election).
async fn present_if_unset(conn: &mut sqlx::PgConnection, demo: &Process) -> anyhow::Result<()> {
    use crate::domain::site_identity::{self, SiteIdentity};
    if site_identity::is_set(&mut *conn, demo.id).await? {
        return Ok(());
    }
    site_identity::save(
        &mut *conn,
        demo.id,
        &SiteIdentity {
            body_name: demo.body_name.into(),
            color: demo.body_color.into(),
            demonstration: true,
        },
    )
    .await?;
    let mut owners = vec![String::new()];
    owners.extend(
        demo.postulants
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .filter(|c| !c.is_empty())
            .map(str::to_string),
    );
    for owner in owners {
        let svg = crate::tools::demo_emblems::svg(&owner, demo.body_color);
        let png = site_identity::derive_emblem(svg.as_bytes())
            .map_err(|e| anyhow::anyhow!("demo emblem of {owner:?}: {e}"))?;
        site_identity::save_emblem(&mut *conn, demo.id, &owner, &png).await?;
    }
    Ok(())
}

/// Gives `postulant` at least `count` candidacies in the demo election, for load and fault runs
/// (`seed-demo --grow=PVEM:1000`): the missing ones are generated and imported, each in a
/// district of its own added for the purpose, as a state-wide load would be; a later call
/// numbers its districts after the earlier ones. Returns how many were added.
pub async fn grow(pool: &PgPool, postulant: &str, count: usize) -> anyhow::Result<usize> {
    use crate::tools::generator;
    let (existing, grown) = crate::domain::candidacies::count_of_postulant(
        pool,
        DEMO_ELECTION,
        postulant,
        &format!("CARGA-{postulant}-"),
    )
    .await?;
    let missing = count.saturating_sub(usize::try_from(existing).unwrap_or(0));
    if missing == 0 {
        return Ok(0);
    }
    let first = usize::try_from(grown).unwrap_or(0) + 1;
    let numbers = first..first + missing;
    let districts: String = numbers
        .clone()
        .map(|d| format!("C{d:04},Distrito de carga {d}\n"))
        .collect();
    let mut tx = pool.begin().await?;
    election::load_constituencies(
        &mut tx,
        DEMO_ELECTION,
        "district",
        &format!("clave,nombre\n{districts}"),
    )
    .await
    .map_err(problems)?;
    tx.commit().await?;
    let slots: Vec<generator::Slot<'_>> = numbers
        .map(|d| generator::Slot {
            office: "diputacion_mr",
            principle: "mr",
            constituency: format!("C{d:04}"),
            postulant,
            list_position: 0,
        })
        .collect();
    // Each call's own seed and id prefix: new people, new external ids.
    let csv = generator::candidacies_csv(
        7 + first as u64,
        &format!("CARGA-{postulant}-{first}"),
        &slots,
    );
    let catalog = election::catalog(pool, DEMO_ELECTION).await?;
    let rows = import::parse(csv.as_bytes(), &catalog).map_err(problems)?;
    import::apply(pool, DEMO_ELECTION, &catalog, &rows, None).await?;
    Ok(missing)
}

/// Every seventh candidacy of the demo is left not started: chosen by what it is (its holder,
/// district and postulant), not by its random id, so the same ones are left on every run.
fn left_for_the_back_office(row: &crate::domain::curricular::DashboardRow) -> bool {
    let key = format!("{}|{}|{}", row.holder, row.constituency_code, row.postulant);
    // FNV-1a: stable across runs and builds.
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 7 == 0
}

/// The demo's capture: every party fills its candidacies through the bulk-capture path with
/// generated answers and photos, and submits them when `submit` (else leaves them as drafts
/// ready to submit, for `make bench`'s pipeline run), except every seventh candidacy, left not
/// started so the back office has something to chase. Only candidacies not started are touched,
/// so running it again changes nothing. Returns how many were filled.
pub async fn capture_answers(
    pool: &PgPool,
    election_id: Uuid,
    submit: bool,
) -> anyhow::Result<usize> {
    use conoceles_kit::access::{Actor, Role};

    use crate::domain::curricular::{self, bulk};
    use crate::tools::generator::curricula::{fill_template, photo_jpeg};

    let now = Utc::now();
    let parties = curricular::responsible_parties(pool, election_id).await?;
    let mut filled = 0;
    for party in parties {
        let actor = Actor {
            account_id: Uuid::nil(),
            role: Role::Party,
            party_id: Some(party),
            candidacy_id: None,
        };
        let rows = curricular::dashboard(pool, &actor).await?;
        let pending: Vec<Uuid> = rows
            .iter()
            .filter(|r| {
                r.status == conoceles_kit::CandidacyStatus::NotStarted
                    && !left_for_the_back_office(r)
            })
            .map(|r| r.id)
            .collect();
        if pending.is_empty() {
            continue;
        }
        let template = bulk::template(pool, &actor, None)
            .await
            .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
        let seed = party.as_u128() as u64;
        let answers = fill_template(&template, seed)?;
        // Keep only the rows of the candidacies to capture.
        let mut lines = answers.lines();
        let mut chosen = String::from(lines.next().unwrap_or_default());
        chosen.push_str("\r\n");
        for line in lines.filter(|l| pending.iter().any(|id| l.starts_with(&id.to_string()))) {
            chosen.push_str(line);
            chosen.push_str("\r\n");
        }
        let outcome = bulk::apply(pool, &actor, chosen.as_bytes(), now)
            .await
            .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
        anyhow::ensure!(
            outcome.errors.is_empty(),
            "demo answers rejected: {:?}",
            outcome.errors
        );
        for id in pending {
            let candidacy = curricular::load(pool, id, &actor)
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            for person in candidacy.persons.clone() {
                let photo = photo_jpeg(person.id.as_u128() as u64, 480, 600);
                curricular::save_photo(
                    pool,
                    &actor,
                    &candidacy,
                    person.role,
                    photo,
                    Some(now.date_naive()),
                    now,
                )
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            }
            if submit {
                let candidacy = curricular::load(pool, id, &actor)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
                curricular::submit(pool, &actor, &candidacy, now)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            }
            filled += 1;
        }
    }
    Ok(filled)
}
