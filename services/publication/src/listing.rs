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
//!
//! Memory (docs/benchmarks.md, "Where publication's memory goes"): at national scale the list
//! is the largest thing a replica holds for as long as it runs, so a row keeps each text that
//! many rows share (an office's name, a party's code, a sex, a district) once, in [`Strings`],
//! and names it by number; its search text lives only in the names laid end to end. A row
//! takes about 200 bytes instead of about 1 KB as sixteen `String`s.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::model::{Filters, Listed, PAGE_SIZE, fold, listed};

/// The number of a text kept in [`Strings`].
type Sym = u32;

/// Texts many rows share, each kept once and named by its number. Append-only: a snapshot
/// copies the table it was built with (a few thousand texts at national scale).
#[derive(Default, Clone)]
struct Strings {
    ids: HashMap<Arc<str>, Sym>,
    values: Vec<Arc<str>>,
}

impl Strings {
    fn intern(&mut self, text: &str) -> Sym {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.values.len() as Sym;
        let text: Arc<str> = Arc::from(text);
        self.values.push(text.clone());
        self.ids.insert(text, id);
        id
    }

    fn id(&self, text: &str) -> Option<Sym> {
        self.ids.get(text).copied()
    }

    fn get(&self, id: Sym) -> &str {
        &self.values[id as usize]
    }
}

/// One published candidacy as the list needs it, its shared texts by number.
struct Entry {
    id: Uuid,
    /// Where it goes in the neutral order ([`order_key`]).
    rank: (Box<str>, i32),
    /// The values of the filterable columns, in [`Column::ALL`]'s order.
    columns: [Sym; Column::ALL.len()],
    office: Sym,
    constituency: Sym,
    postulant: Sym,
    slate_role: Sym,
    affirmative_action: Sym,
    list_position: i32,
    holder_age: i32,
    holder_name: Box<str>,
    corrected_at: Option<DateTime<Utc>>,
}

impl Entry {
    fn from_listed(strings: &mut Strings, election: Uuid, rank: (String, i32), l: &Listed) -> Self {
        let mut columns = [0; Column::ALL.len()];
        let election = election.to_string();
        for (slot, column) in columns.iter_mut().zip(Column::ALL) {
            *slot = strings.intern(match column {
                Column::Election => &election,
                Column::Office => &l.office_code,
                Column::Principle => &l.principle,
                Column::Constituency => &l.constituency_code,
                Column::Postulant => &l.postulant_code,
                Column::Sex => &l.holder_sex,
                Column::Education => &l.education_level,
            });
        }
        Self {
            id: l.id,
            rank: (rank.0.into_boxed_str(), rank.1),
            columns,
            office: strings.intern(&l.office),
            constituency: strings.intern(&l.constituency),
            postulant: strings.intern(&l.postulant),
            slate_role: strings.intern(&l.slate_role),
            affirmative_action: strings.intern(&l.affirmative_action),
            list_position: l.list_position,
            holder_age: l.holder_age,
            holder_name: l.holder_name.as_str().into(),
            corrected_at: l.corrected_at,
        }
    }

    fn column(&self, c: Column) -> Sym {
        self.columns[c as usize]
    }

    fn to_listed(&self, s: &Strings) -> Listed {
        let text = |c: Column| s.get(self.column(c)).to_string();
        Listed {
            id: self.id,
            office_code: text(Column::Office),
            office: s.get(self.office).to_string(),
            principle: text(Column::Principle),
            constituency_code: text(Column::Constituency),
            constituency: s.get(self.constituency).to_string(),
            postulant_code: text(Column::Postulant),
            postulant: s.get(self.postulant).to_string(),
            list_position: self.list_position,
            slate_role: s.get(self.slate_role).to_string(),
            holder_name: self.holder_name.to_string(),
            holder_sex: text(Column::Sex),
            holder_age: self.holder_age,
            education_level: text(Column::Education),
            affirmative_action: s.get(self.affirmative_action).to_string(),
            corrected_at: self.corrected_at,
        }
    }
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

impl Column {
    const ALL: [Column; 7] = [
        Column::Election,
        Column::Office,
        Column::Principle,
        Column::Constituency,
        Column::Postulant,
        Column::Sex,
        Column::Education,
    ];
}

/// What a replica holds: the rows at `version`, in the neutral order, and for each value of
/// each filterable column the (ascending) positions of the rows that have it.
#[derive(Default)]
struct Snapshot {
    version: i64,
    strings: Strings,
    ordered: Vec<Arc<Entry>>,
    positions: HashMap<(Column, Sym), Vec<u32>>,
    /// Every row's `search` text in the neutral order, each followed by a newline (which no
    /// name holds), and where each row's text starts.
    names: Vec<u8>,
    name_starts: Vec<u32>,
    /// How many rows of each election have each value of each column (the filters' counts).
    counts: HashMap<(Column, Sym, Sym), usize>,
}

/// Below this many rows, a search checks the narrower filter's rows one by one instead of
/// reading all the names.
const SEARCH_ROW_BY_ROW: usize = 5_000;

impl Snapshot {
    /// The rows in the neutral order, each with its search text (new, or row `i` of `held`).
    fn new(
        version: i64,
        strings: Strings,
        rows: Vec<(Arc<Entry>, Search)>,
        held: &Snapshot,
    ) -> Self {
        let mut positions: HashMap<(Column, Sym), Vec<u32>> = HashMap::new();
        let mut names = Vec::new();
        let mut name_starts = Vec::with_capacity(rows.len() + 1);
        let mut counts: HashMap<(Column, Sym, Sym), usize> = HashMap::new();
        let mut ordered = Vec::with_capacity(rows.len());
        for (i, (e, search)) in rows.into_iter().enumerate() {
            name_starts.push(names.len() as u32);
            match search {
                Search::Held(at) => names.extend_from_slice(held.search(at as usize)),
                Search::New(text) => names.extend_from_slice(&text),
            }
            names.push(b'\n');
            let election = e.column(Column::Election);
            for column in Column::ALL {
                let value = e.column(column);
                if column != Column::Election {
                    *counts.entry((column, value, election)).or_default() += 1;
                }
                positions.entry((column, value)).or_default().push(i as u32);
            }
            ordered.push(e);
        }
        name_starts.push(names.len() as u32);
        names.shrink_to_fit();
        for rows in positions.values_mut() {
            rows.shrink_to_fit();
        }
        Self {
            version,
            strings,
            ordered,
            positions,
            names,
            name_starts,
            counts,
        }
    }

    /// Row `i`'s search text.
    fn search(&self, i: usize) -> &[u8] {
        let (start, end) = (
            self.name_starts[i] as usize,
            self.name_starts[i + 1] as usize,
        );
        &self.names[start..end - 1]
    }

    /// The positions to walk for `m`, in the neutral order: those of its most selective filter,
    /// or those whose names hold the searched text when that is narrower to find.
    fn candidates(&self, m: &Matcher) -> std::borrow::Cow<'_, [u32]> {
        let narrowest = self.narrowest(m);
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
    fn narrowest(&self, m: &Matcher) -> &[u32] {
        m.columns
            .iter()
            .map(|(column, value)| match value {
                Some(v) => self
                    .positions
                    .get(&(*column, *v))
                    .map_or(&[][..], Vec::as_slice),
                None => &[][..], // a value no row has
            })
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
        let matches = Matcher::new(&snapshot.strings, election, f);
        let skip = (f.pagina.get() as usize - 1) * PAGE_SIZE as usize;
        let mut total = 0i64;
        let mut page = Vec::new();
        for &i in snapshot.candidates(&matches).iter() {
            if matches.accepts(&snapshot, i as usize) {
                if total as usize >= skip && page.len() < PAGE_SIZE as usize {
                    page.push(snapshot.ordered[i as usize].to_listed(&snapshot.strings));
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
        let s = &snapshot.strings;
        let Some(election) = s.id(&election.to_string()) else {
            return Ok(Vec::new());
        };
        let mut choices: Vec<(String, String)> = snapshot
            .positions
            .iter()
            .filter(|((c, _), _)| *c == column)
            .filter_map(|((_, code), rows)| {
                let e = rows
                    .iter()
                    .map(|&i| &snapshot.ordered[i as usize])
                    .find(|e| e.column(Column::Election) == election)?;
                let name = match column {
                    Column::Office => e.office,
                    Column::Constituency => e.constituency,
                    Column::Postulant => e.postulant,
                    _ => *code,
                };
                Some((s.get(*code).to_string(), s.get(name).to_string()))
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
        let s = &snapshot.strings;
        let Some(election) = s.id(&election.to_string()) else {
            return Ok(HashMap::new());
        };
        Ok(snapshot
            .counts
            .iter()
            .filter(|((c, _, e), _)| *c == column && *e == election)
            .map(|((_, value, _), n)| (s.get(*value).to_string(), *n))
            .collect())
    }

    /// The bytes the list holds, roughly (rows, texts, names and positions), for the
    /// `publication_listing_bytes` gauge.
    pub fn approximate_bytes(&self) -> usize {
        let s = self.held();
        let texts: usize = s.strings.values.iter().map(|t| t.len() + 48).sum();
        let rows: usize = s
            .ordered
            .iter()
            .map(|e| std::mem::size_of::<Entry>() + 16 + 8 + e.rank.0.len() + e.holder_name.len())
            .sum();
        let positions: usize = s.positions.values().map(|p| p.capacity() * 4 + 48).sum();
        texts + rows + positions + s.names.capacity() + s.name_starts.capacity() * 4
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

    /// Whether the list was loaded from the read model at least once. A new replica's first
    /// load takes seconds at national scale: it is not ready for traffic before.
    pub fn loaded(&self) -> bool {
        self.held().version > 0
    }

    /// Loads the list at start, without waiting for a first request; retried until it is
    /// loaded or `stop`.
    pub async fn warm_up(&self, pool: &PgPool, stop: &tokio_util::sync::CancellationToken) {
        loop {
            match self.current(pool).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "loading the list of profiles failed; retrying")
                }
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    }
}

/// Loads the list at start, then sets the `publication_listing_bytes` gauge every `every`, so an operator sees what the list
/// takes beside the page cache (`page_cache_bytes`) and the allocator's figures (recorded at
/// each scrape of `/metrics`).
pub async fn report_memory(
    listing: Arc<Listing>,
    pool: PgPool,
    every: std::time::Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    listing.warm_up(&pool, &stop).await;
    loop {
        metrics::gauge!("publication_listing_bytes").set(listing.approximate_bytes() as f64);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Where a row's search text comes from when a snapshot is built.
enum Search {
    /// Row `i` of the snapshot held before.
    Held(u32),
    New(Box<[u8]>),
}

/// The rows changed since `held.version`, applied to a copy of it, read in one snapshot with
/// the version they add up to. The rows are read as a stream and kept in the compact layout
/// as they come (a fresh replica at national scale never holds them all as database rows).
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
    let mut strings = held.strings.clone();
    let mut changed: HashSet<Uuid> = HashSet::new();
    let mut fresh: Vec<(Arc<Entry>, Search)> = Vec::new();
    {
        let mut rows = sqlx::query(
            "SELECT candidacy_id, election_id, office_code, office, principle, constituency_code, constituency, \
                    postulant_code, postulant, list_position, slate_role, holder_name, holder_sex, holder_age, education_level, \
                    affirmative_action, corrected_at, search, neutral_rank, withdrawn_at IS NOT NULL AS withdrawn \
             FROM profiles WHERE revision > $1",
        )
        .bind(since)
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            changed.insert(row.get("candidacy_id"));
            if row.get::<bool, _>("withdrawn") {
                continue;
            }
            let l = listed(&row);
            let election: Uuid = row.get("election_id");
            let rank = order_key(election, row.get("neutral_rank"), &l);
            let entry = Entry::from_listed(&mut strings, election, rank, &l);
            let search: String = row.get("search");
            fresh.push((Arc::new(entry), Search::New(search.into_bytes().into())));
        }
    }
    tx.commit().await?;

    // The held list without the changed rows, then their new state (withdrawn ones stay out),
    // sorted again: the list is nearly in order already, which the sort takes in one pass.
    let mut ordered: Vec<(Arc<Entry>, Search)> = held
        .ordered
        .iter()
        .enumerate()
        .filter(|(_, e)| !changed.contains(&e.id))
        .map(|(i, e)| (e.clone(), Search::Held(i as u32)))
        .collect();
    ordered.extend(fresh);
    if !changed.is_empty() {
        ordered.sort_by(|(a, _), (b, _)| (&a.rank, a.id).cmp(&(&b.rank, b.id)));
    }
    tracing::debug!(
        version,
        changed = changed.len(),
        held = ordered.len(),
        "list caught up"
    );
    Ok(Snapshot::new(version, strings, ordered, held))
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

/// The list's filters, parsed once per request, the columns' values by their numbers.
struct Matcher {
    /// The election's and each column filter's value: `None` when no row has it.
    columns: Vec<(Column, Option<Sym>)>,
    age: (Option<i32>, Option<i32>),
    affirmative_action: Option<String>,
    search: Option<memchr::memmem::Finder<'static>>,
}

fn some(v: &str) -> Option<String> {
    (!v.trim().is_empty()).then(|| v.trim().to_string())
}

impl Matcher {
    fn new(strings: &Strings, election: Uuid, f: &Filters) -> Self {
        let age = match f.edad.as_str() {
            "18-29" => (Some(18), Some(29)),
            "30-44" => (Some(30), Some(44)),
            "45-59" => (Some(45), Some(59)),
            "60+" => (Some(60), None),
            _ => (None, None),
        };
        let wanted = [
            (Column::Election, Some(election.to_string())),
            (Column::Office, some(&f.cargo)),
            (Column::Principle, some(&f.principio)),
            (
                Column::Constituency,
                some(&f.distrito).or_else(|| some(&f.municipio)),
            ),
            (
                Column::Postulant,
                some(&f.postulante).map(|p| p.to_uppercase()),
            ),
            (Column::Sex, some(&f.sexo)),
            (Column::Education, some(&f.escolaridad)),
        ];
        Self {
            columns: wanted
                .into_iter()
                .filter_map(|(column, value)| Some((column, strings.id(&value?))))
                .collect(),
            age,
            affirmative_action: some(&f.accion_afirmativa),
            search: some(&f.q)
                .map(|q| memchr::memmem::Finder::new(fold(&q).as_bytes()).into_owned()),
        }
    }

    fn accepts(&self, snapshot: &Snapshot, i: usize) -> bool {
        let e = &snapshot.ordered[i];
        self.columns
            .iter()
            .all(|(column, value)| *value == Some(e.column(*column)))
            && self.age.0.is_none_or(|min| e.holder_age >= min)
            && self.age.1.is_none_or(|max| e.holder_age <= max)
            && self.affirmative_action.as_deref().is_none_or(|a| {
                let has = snapshot.strings.get(e.affirmative_action);
                (a == "si" && !has.is_empty()) || a == has
            })
            && self
                .search
                .as_ref()
                .is_none_or(|q| q.find(snapshot.search(i)).is_some())
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
