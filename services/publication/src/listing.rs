//! The list of published candidacies held in memory by each replica, so that filtered lists,
//! searches and the API's pages are answered without a query per request.
//!
//! Every profile row carries the read-model version of its last change (`revision`, migration
//! 0005), and versions commit in order. A list request asks the database for the version (one
//! row); when it has moved, one replica task reads only the rows changed since the version held
//! (withdrawals included) in a single snapshot and swaps in the new list; concurrent requests
//! wait for that one catch-up instead of each running it. A fresh replica reads everything once.
//!
//! A request walks only the candidacies of its most selective filter: the snapshot keeps, for
//! every value of the election, office, principle, constituency, postulant, sex and schooling,
//! the positions in the neutral order that have it (a district's list reads its few hundred
//! rows, not the country's 100,000). A name search with no narrower filter runs once over all
//! the names laid end to end (`memchr`'s vectorised substring search), not row by row.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::model::{Filters, Listed, PAGE_SIZE, fold, listed};

/// One published candidacy as the list needs it.
struct Entry {
    election: Uuid,
    /// Where it goes in the neutral order ([`order_key`]).
    rank: (String, i32),
    /// Names lower-cased without accents (the `search` column).
    search: String,
    listed: Listed,
}

/// A filterable column of the list.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Election,
    Office,
    Principle,
    Constituency,
    Postulant,
    Sex,
    Education,
}

/// What a replica holds: the rows at `version`, in the neutral order, and for each value of
/// each filterable column the (ascending) positions of the rows that have it.
#[derive(Default)]
struct Snapshot {
    version: i64,
    ordered: Vec<Arc<Entry>>,
    positions: HashMap<(Column, String), Vec<u32>>,
    /// Every row's `search` text in the neutral order, each followed by a newline (which no
    /// name holds), and where each row's text starts.
    names: Vec<u8>,
    name_starts: Vec<u32>,
    /// How many rows of each election have each value of each column (the filters' counts).
    counts: HashMap<(Column, String, Uuid), usize>,
}

/// Below this many rows, a search checks the narrower filter's rows one by one instead of
/// reading all the names.
const SEARCH_ROW_BY_ROW: usize = 5_000;

impl Snapshot {
    fn new(version: i64, ordered: Vec<Arc<Entry>>) -> Self {
        let mut positions: HashMap<(Column, String), Vec<u32>> = HashMap::new();
        let mut names = Vec::new();
        let mut name_starts = Vec::with_capacity(ordered.len());
        let mut counts: HashMap<(Column, String, Uuid), usize> = HashMap::new();
        for (i, e) in ordered.iter().enumerate() {
            name_starts.push(names.len() as u32);
            names.extend_from_slice(e.search.as_bytes());
            names.push(b'\n');
            let l = &e.listed;
            for key in [
                (Column::Election, e.election.to_string()),
                (Column::Office, l.office_code.clone()),
                (Column::Principle, l.principle.clone()),
                (Column::Constituency, l.constituency_code.clone()),
                (Column::Postulant, l.postulant_code.clone()),
                (Column::Sex, l.holder_sex.clone()),
                (Column::Education, l.education_level.clone()),
            ] {
                if key.0 != Column::Election {
                    *counts
                        .entry((key.0, key.1.clone(), e.election))
                        .or_default() += 1;
                }
                positions.entry(key).or_default().push(i as u32);
            }
        }
        Self {
            version,
            ordered,
            positions,
            names,
            name_starts,
            counts,
        }
    }

    /// The positions to walk for `m`, in the neutral order: those of its most selective filter,
    /// or those whose names hold the searched text when that is narrower to find.
    fn candidates(&self, election: Uuid, m: &Matcher) -> std::borrow::Cow<'_, [u32]> {
        let narrowest = self.narrowest(election, m);
        match &m.search {
            Some(q) if narrowest.len() > SEARCH_ROW_BY_ROW => self.named(q.needle()).into(),
            _ => narrowest.into(),
        }
    }

    /// The rows whose names hold `q`, from one pass over all the names.
    fn named(&self, q: &[u8]) -> Vec<u32> {
        if q.contains(&b'\n') {
            return Vec::new();
        }
        let mut rows: Vec<u32> = Vec::new();
        for at in memchr::memmem::find_iter(&self.names, q) {
            let row = self.name_starts.partition_point(|&s| s as usize <= at) as u32 - 1;
            if rows.last() != Some(&row) {
                rows.push(row);
            }
        }
        rows
    }

    /// The positions of the most selective of `m`'s column filters.
    fn narrowest(&self, election: Uuid, m: &Matcher) -> &[u32] {
        let wanted = [
            Some((Column::Election, election.to_string())),
            m.office.clone().map(|v| (Column::Office, v)),
            m.principle.clone().map(|v| (Column::Principle, v)),
            m.constituency.clone().map(|v| (Column::Constituency, v)),
            m.postulant.clone().map(|v| (Column::Postulant, v)),
            m.sex.clone().map(|v| (Column::Sex, v)),
            m.education.clone().map(|v| (Column::Education, v)),
        ];
        wanted
            .into_iter()
            .flatten()
            .map(|key| self.positions.get(&key).map_or(&[][..], Vec::as_slice))
            .min_by_key(|p| p.len())
            .unwrap_or(&[])
    }
}

#[derive(Default)]
pub struct Listing {
    current: RwLock<Arc<Snapshot>>,
    /// One catch-up at a time.
    refresh: tokio::sync::Mutex<()>,
}

impl Listing {
    /// One page of the filtered list in the neutral order, and the total, as of the read
    /// model's current version.
    pub async fn list(
        &self,
        pool: &PgPool,
        election: Uuid,
        f: &Filters,
    ) -> sqlx::Result<(Vec<Listed>, i64)> {
        let snapshot = self.current(pool).await?;
        let matches = Matcher::new(f);
        let skip = (f.pagina.get() as usize - 1) * PAGE_SIZE as usize;
        let mut total = 0i64;
        let mut page = Vec::new();
        for &i in snapshot.candidates(election, &matches).iter() {
            let entry = &snapshot.ordered[i as usize];
            if entry.election == election && matches.accepts(entry) {
                if total as usize >= skip && page.len() < PAGE_SIZE as usize {
                    page.push(entry.listed.clone());
                }
                total += 1;
            }
        }
        Ok((page, total))
    }

    /// The (code, name) choices of an office, constituency or postulant filter: the values
    /// published in `election`, by code.
    pub async fn choices(
        &self,
        pool: &PgPool,
        election: Uuid,
        column: Column,
    ) -> sqlx::Result<Vec<(String, String)>> {
        let snapshot = self.current(pool).await?;
        let mut choices: Vec<(String, String)> = snapshot
            .positions
            .iter()
            .filter(|((c, _), _)| *c == column)
            .filter_map(|((_, code), rows)| {
                let e = rows
                    .iter()
                    .map(|&i| &snapshot.ordered[i as usize])
                    .find(|e| e.election == election)?;
                let name = match column {
                    Column::Office => &e.listed.office,
                    Column::Constituency => &e.listed.constituency,
                    Column::Postulant => &e.listed.postulant,
                    _ => code,
                };
                Some((code.clone(), name.clone()))
            })
            .collect();
        choices.sort();
        Ok(choices)
    }

    /// How many published candidacies of `election` have each value of `column`.
    pub async fn counts(
        &self,
        pool: &PgPool,
        election: Uuid,
        column: Column,
    ) -> sqlx::Result<HashMap<String, usize>> {
        let snapshot = self.current(pool).await?;
        Ok(snapshot
            .counts
            .iter()
            .filter(|((c, _, e), _)| *c == column && *e == election)
            .map(|((_, value, _), n)| (value.clone(), *n))
            .collect())
    }

    /// The snapshot at the database's current version, catching up first if it moved.
    async fn current(&self, pool: &PgPool) -> sqlx::Result<Arc<Snapshot>> {
        let version = crate::open_data::version(pool).await?;
        let held = self.held();
        if held.version >= version {
            return Ok(held);
        }
        let _one_at_a_time = self.refresh.lock().await;
        let held = self.held();
        if held.version >= version {
            return Ok(held); // another request caught up meanwhile
        }
        let next = Arc::new(catch_up(pool, &held).await?);
        *self.current.write().expect("listing lock") = next.clone();
        Ok(next)
    }

    fn held(&self) -> Arc<Snapshot> {
        self.current.read().expect("listing lock").clone()
    }
}

/// The rows changed since `held.version`, applied to a copy of it, read in one snapshot with
/// the version they add up to.
async fn catch_up(pool: &PgPool, held: &Snapshot) -> sqlx::Result<Snapshot> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM read_model_version")
        .fetch_one(&mut *tx)
        .await?;
    // Rows from before revisions existed carry 0: a fresh replica (version 0) reads them too.
    let since = if held.version == 0 { -1 } else { held.version };
    let rows = sqlx::query(
        "SELECT candidacy_id, election_id, office_code, office, principle, constituency_code, constituency, \
                postulant_code, postulant, list_position, slate_role, holder_name, holder_sex, holder_age, education_level, \
                affirmative_action, corrected_at, search, neutral_rank, withdrawn_at IS NOT NULL AS withdrawn \
         FROM profiles WHERE revision > $1",
    )
    .bind(since)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    // The held list without the changed rows, then their new state (withdrawn ones stay out),
    // sorted again: the list is nearly in order already, which the sort takes in one pass.
    let changed: HashSet<Uuid> = rows.iter().map(|r| r.get("candidacy_id")).collect();
    let mut ordered: Vec<Arc<Entry>> = held
        .ordered
        .iter()
        .filter(|e| !changed.contains(&e.listed.id))
        .cloned()
        .collect();
    for row in rows.iter().filter(|r| !r.get::<bool, _>("withdrawn")) {
        let entry = listed(row);
        ordered.push(Arc::new(Entry {
            election: row.get("election_id"),
            rank: order_key(row.get("election_id"), row.get("neutral_rank"), &entry),
            search: row.get("search"),
            listed: entry,
        }));
    }
    if !changed.is_empty() {
        ordered.sort_by(|a, b| (&a.rank, a.listed.id).cmp(&(&b.rank, b.listed.id)));
    }
    tracing::debug!(
        version,
        changed = rows.len(),
        held = ordered.len(),
        "list caught up"
    );
    Ok(Snapshot::new(version, ordered))
}

/// Where a candidacy goes in the neutral order: its own rank; the candidacies of a list
/// (representación proporcional) all take their list's rank — drawn the same way from the
/// election, office, constituency and postulant — and follow one another in list order. The
/// neutral order applies between postulants, never inside a list.
pub(crate) fn order_key(election: Uuid, neutral_rank: String, listed: &Listed) -> (String, i32) {
    use sha2::{Digest, Sha256};
    if listed.principle == "rp" && listed.list_position > 0 {
        let digest = Sha256::digest(format!(
            "{election}:{}:{}:{}",
            listed.office_code, listed.constituency_code, listed.postulant_code
        ));
        (hex::encode(&digest[..16]), listed.list_position)
    } else {
        (neutral_rank, 0)
    }
}

/// The list's filters, parsed once per request.
struct Matcher {
    office: Option<String>,
    principle: Option<String>,
    constituency: Option<String>,
    postulant: Option<String>,
    sex: Option<String>,
    age: (Option<i32>, Option<i32>),
    education: Option<String>,
    affirmative_action: Option<String>,
    search: Option<memchr::memmem::Finder<'static>>,
}

fn some(v: &str) -> Option<String> {
    (!v.trim().is_empty()).then(|| v.trim().to_string())
}

impl Matcher {
    fn new(f: &Filters) -> Self {
        let age = match f.edad.as_str() {
            "18-29" => (Some(18), Some(29)),
            "30-44" => (Some(30), Some(44)),
            "45-59" => (Some(45), Some(59)),
            "60+" => (Some(60), None),
            _ => (None, None),
        };
        Self {
            office: some(&f.cargo),
            principle: some(&f.principio),
            constituency: some(&f.distrito).or_else(|| some(&f.municipio)),
            postulant: some(&f.postulante).map(|p| p.to_uppercase()),
            sex: some(&f.sexo),
            age,
            education: some(&f.escolaridad),
            affirmative_action: some(&f.accion_afirmativa),
            search: some(&f.q)
                .map(|q| memchr::memmem::Finder::new(fold(&q).as_bytes()).into_owned()),
        }
    }

    fn accepts(&self, e: &Entry) -> bool {
        let l = &e.listed;
        let is =
            |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
        is(&self.office, &l.office_code)
            && is(&self.principle, &l.principle)
            && is(&self.constituency, &l.constituency_code)
            && is(&self.postulant, &l.postulant_code)
            && is(&self.sex, &l.holder_sex)
            && self.age.0.is_none_or(|min| l.holder_age >= min)
            && self.age.1.is_none_or(|max| l.holder_age <= max)
            && is(&self.education, &l.education_level)
            && self.affirmative_action.as_deref().is_none_or(|a| {
                (a == "si" && !l.affirmative_action.is_empty()) || a == l.affirmative_action
            })
            && self
                .search
                .as_ref()
                .is_none_or(|q| q.find(e.search.as_bytes()).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidacy(principle: &str, postulant: &str, position: i32) -> Listed {
        Listed {
            id: Uuid::now_v7(),
            office_code: "diputacion_rp".into(),
            office: "Diputación RP".into(),
            principle: principle.into(),
            constituency_code: "1".into(),
            constituency: "Circunscripción 1".into(),
            postulant_code: postulant.into(),
            postulant: postulant.into(),
            list_position: position,
            slate_role: String::new(),
            holder_name: format!("{postulant} {position}"),
            holder_sex: "mujer".into(),
            holder_age: 40,
            education_level: String::new(),
            affirmative_action: String::new(),
            corrected_at: None,
        }
    }

    #[test]
    fn a_list_keeps_its_order_and_its_place_among_the_others_is_drawn() {
        let election = Uuid::now_v7();
        let ranked = |c: &Listed, own: &str| (order_key(election, own.to_string(), c), c.id);
        let mut all: Vec<(Listed, &str)> = vec![
            (candidacy("rp", "PT", 2), "f0"),
            (candidacy("rp", "PAN", 1), "a0"),
            (candidacy("rp", "PT", 4), "00"),
            (candidacy("rp", "PT", 1), "ff"),
            (candidacy("rp", "PAN", 2), "10"),
            (candidacy("mr", "PT", 0), "55"),
        ];
        all.sort_by_key(|a| ranked(&a.0, a.1));
        let pt: Vec<i32> = all
            .iter()
            .filter(|(c, _)| c.postulant == "PT" && c.principle == "rp")
            .map(|(c, _)| c.list_position)
            .collect();
        assert_eq!(pt, [1, 2, 4], "lugar 1, 2, 4 whatever each one's own rank");
        // Each list stays together.
        let lists: Vec<&str> = all
            .iter()
            .filter(|(c, _)| c.principle == "rp")
            .map(|(c, _)| c.postulant.as_str())
            .collect();
        let changes = lists.windows(2).filter(|w| w[0] != w[1]).count();
        assert_eq!(changes, 1, "{lists:?}");
        // A candidacy of mayoría relativa keeps its own rank.
        let mr = &all.iter().find(|(c, _)| c.principle == "mr").unwrap().0;
        assert_eq!(order_key(election, "55".into(), mr), ("55".to_string(), 0));
    }
}
