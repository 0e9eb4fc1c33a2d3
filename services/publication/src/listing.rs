//! The list of published candidacies held in memory by each replica, so that filtered lists,
//! searches and the API's pages are answered without a query per request.
//!
//! Every profile row carries the read-model version of its last change (`revision`, migration
//! 0005), and versions commit in order. A list request asks the database for the version (one
//! row); when it has moved, one replica task reads only the rows changed since the version held
//! (withdrawals included) in a single snapshot and swaps in the new list; concurrent requests
//! wait for that one catch-up instead of each running it. A fresh replica reads everything once.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::model::{Filters, Listed, PAGE_SIZE, fold, listed};

/// One published candidacy as the list needs it.
struct Entry {
    election: Uuid,
    neutral_rank: String,
    /// Names lower-cased without accents (the `search` column).
    search: String,
    listed: Listed,
}

/// What a replica holds: the rows at `version`, in the neutral order.
#[derive(Default)]
struct Snapshot {
    version: i64,
    ordered: Vec<Arc<Entry>>,
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
        for entry in snapshot.ordered.iter().filter(|e| e.election == election) {
            if matches.accepts(entry) {
                if total as usize >= skip && page.len() < PAGE_SIZE as usize {
                    page.push(entry.listed.clone());
                }
                total += 1;
            }
        }
        Ok((page, total))
    }

    /// The snapshot at the database's current version, catching up first if it moved.
    async fn current(&self, pool: &PgPool) -> sqlx::Result<Arc<Snapshot>> {
        let version: i64 = sqlx::query_scalar("SELECT version FROM read_model_version")
            .fetch_one(pool)
            .await?;
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
                postulant_code, postulant, list_position, holder_name, holder_sex, holder_age, education_level, \
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
        ordered.push(Arc::new(Entry {
            election: row.get("election_id"),
            neutral_rank: row.get("neutral_rank"),
            search: row.get("search"),
            listed: listed(row),
        }));
    }
    if !changed.is_empty() {
        ordered.sort_by(|a, b| {
            (a.neutral_rank.as_str(), a.listed.id).cmp(&(b.neutral_rank.as_str(), b.listed.id))
        });
    }
    tracing::debug!(
        version,
        changed = rows.len(),
        held = ordered.len(),
        "list caught up"
    );
    Ok(Snapshot { version, ordered })
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
    search: Option<String>,
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
            search: some(&f.q).map(|q| fold(&q)),
        }
    }

    fn accepts(&self, e: &Entry) -> bool {
        let l = &e.listed;
        let is = |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
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
                .as_deref()
                .is_none_or(|q| e.search.contains(q))
    }
}
