//! The statistics' one table service: the predeclared tables computed at a cut-off (or found in
//! the cache), which the HTTP API, the gRPC service and the Council's reports all call.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use conoceles_kit::error::{AppError, ErrorCode};

use crate::cache::Results;
use crate::privacy::{Ledger, Protection, Release};
use crate::sources::Sources;
use crate::tables::{
    self, COMPLIANCE, CURRICULAR_FILTERS, PROGRESS_DIMENSIONS, SUBSTITUTIONS, Table,
};

#[derive(Clone)]
/// The statistics' sources, the cache of computed tables and the reports' database: what every
/// table and report is computed from.
pub struct Statistics {
    pub sources: Sources,
    pub results: Results,
    pub pool: sqlx::PgPool,
    pub profiles: Arc<Profiles>,
}

/// The curricular profile as capture counts it (one aggregate over every active person), kept
/// for the change version it was counted at and at most a minute (the window a table "as of
/// now" shares): every curricular table, and each of its filters, is computed from the same
/// counts, so after a change only the first of them waits for capture (docs/benchmarks.md,
/// "Statistics at national scale"). Concurrent first requests wait for one count.
#[derive(Default)]
pub struct Profiles {
    held: tokio::sync::Mutex<Option<HeldProfile>>,
}

struct HeldProfile {
    version: i64,
    counted: std::time::Instant,
    profile: Arc<conoceles_proto::capture::v1::CountCurricularProfileResponse>,
}

impl Profiles {
    const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(60);

    async fn get(
        &self,
        version: i64,
        sources: &Sources,
    ) -> Result<Arc<conoceles_proto::capture::v1::CountCurricularProfileResponse>, tonic::Status>
    {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && h.version == version
            && h.counted.elapsed() < Self::FRESH_FOR
        {
            return Ok(h.profile.clone());
        }
        let profile = Arc::new(sources.curricular_profile().await?);
        *held = Some(HeldProfile {
            version,
            counted: std::time::Instant::now(),
            profile: profile.clone(),
        });
        Ok(profile)
    }
}

/// What a table is asked for: the cut-off as people write it (RFC 3339 or a day `AAAA-MM-DD`;
/// absent: now) and the dimension filters (codes).
#[derive(Debug, Clone, Default)]
pub struct TableQuery {
    pub at: Option<String>,
    pub filters: BTreeMap<String, String>,
}

impl TableQuery {
    /// No filters, at the instant `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        Self {
            at: Some(at.to_rfc3339()),
            filters: BTreeMap::new(),
        }
    }
}

/// A source's answer passed on: bad input and "not found" as they are; anything else (the
/// statistics' own credentials refused included) is the source being unavailable.
pub(crate) fn upstream(status: tonic::Status) -> AppError {
    let passed_on = match status.code() {
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => AppError::new(
            ErrorCode::Unavailable,
            ErrorCode::Unavailable.default_message(),
        ),
        _ => AppError::from_status(&status),
    };
    if passed_on.code() == ErrorCode::Unavailable {
        tracing::warn!(code = ?status.code(), "a source of the statistics is unavailable");
    }
    passed_on
}

pub(crate) fn invalid(field: &str, reason: &str, message: &str) -> AppError {
    AppError::field(field, reason, message)
}

/// `at` (RFC 3339 or a day `AAAA-MM-DD`, its end in UTC); in the future it is refused (a day
/// that has begun counts up to now); absent: now.
pub fn cut_off(at: Option<&str>) -> Result<(DateTime<Utc>, bool), AppError> {
    let now = Utc::now();
    let Some(value) = at.map(str::trim) else {
        return Ok((now, true));
    };
    let instant = DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .ok();
    // A day counts up to its end, or up to now if it has begun.
    let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| {
            Some((
                d.and_hms_opt(0, 0, 0)?.and_utc(),
                d.and_hms_opt(23, 59, 59)?.and_utc(),
            ))
        })
        .filter(|(start, _)| *start <= now)
        .map(|(_, end)| end.min(now));
    let future = || {
        invalid(
            "at",
            "in_the_future",
            "El corte no puede estar en el futuro.",
        )
    };
    let at = match (instant, day) {
        (Some(at), _) if at > now + Duration::seconds(60) => return Err(future()),
        (Some(at), _) | (None, Some(at)) => at,
        (None, None) if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() => {
            return Err(future());
        }
        (None, None) => {
            return Err(invalid(
                "at",
                "invalid_format",
                "Use una fecha RFC 3339 o AAAA-MM-DD.",
            ));
        }
    };
    Ok((at.min(now), at >= now - Duration::seconds(60)))
}

pub async fn identity_tables(state: &Statistics) -> Result<(String, Vec<String>), AppError> {
    let election = state.sources.election().await.map_err(upstream)?;
    let definition = state
        .sources
        .definition(&election)
        .await
        .map_err(upstream)?;
    let definition = conoceles_identity_questionnaire::Definition::parse(&definition)
        .map_err(|e| anyhow::anyhow!("identity's definition does not parse: {e}"))?;
    Ok((election, definition.aggregate_tables()))
}

/// The election's protection of its identity tables and its privacy-loss ledger.
pub async fn ledger(state: &Statistics) -> Result<Ledger, AppError> {
    let election = state.sources.election().await.map_err(upstream)?;
    let ledger = state
        .sources
        .privacy_ledger(&election)
        .await
        .map_err(upstream)?;
    Ok(Ledger::from_proto(&ledger))
}

/// Computes (or finds in the cache) one table.
pub async fn compute(
    state: &Statistics,
    name: &str,
    query: &TableQuery,
) -> Result<Table, AppError> {
    let (at, live) = cut_off(query.at.as_deref())?;
    let filters = &query.filters;
    // JSON, not `k=v&…`: a value holding `&` or `=` cannot pass for two filters and poison the
    // genuine query's entry.
    let filter_key = serde_json::to_string(filters).unwrap_or_default();
    let key = if live {
        format!(
            "table:{name}:{filter_key}:now:v{}",
            state.results.version().await
        )
    } else {
        format!("table:{name}:{filter_key}:{}", at.timestamp())
    };
    if let Some(hit) = state.results.get(&key).await
        && let Ok(table) = serde_json::from_str::<Table>(&hit)
    {
        return Ok(table);
    }
    // Only identity tables need identity's names (and the election they belong to).
    let (election, identity_names) = if name.starts_with("identity.") {
        identity_tables(state).await?
    } else {
        (String::new(), Vec::new())
    };
    let definition = tables::catalog(&identity_names)
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa tabla predeclarada."))?;
    let table = if let Some(dimension) = name.strip_prefix("progress.by_") {
        for key in filters.keys() {
            if !PROGRESS_DIMENSIONS.contains(&key.as_str()) || key == dimension {
                return Err(invalid(
                    key,
                    "unknown_filter",
                    "Filtro desconocido para esta tabla.",
                ));
            }
        }
        let group_by = tables::progress_grouping(dimension, filters);
        let rows = state
            .sources
            .progress(at, group_by)
            .await
            .map_err(upstream)?;
        Table::counts(
            definition,
            at,
            tables::progress(&rows.rows, dimension, filters),
        )
    } else if let Some((measure, dimension)) = name
        .strip_prefix("curricular.")
        .and_then(|rest| rest.split_once(".by_"))
    {
        if !live {
            return Err(invalid(
                "at",
                "not_supported",
                "El perfil curricular se calcula al momento de la consulta.",
            ));
        }
        for key in filters.keys() {
            if !CURRICULAR_FILTERS.contains(&key.as_str()) || key == dimension || key == measure {
                return Err(invalid(
                    key,
                    "unknown_filter",
                    "Filtro desconocido para esta tabla.",
                ));
            }
        }
        let version = state.results.version().await;
        let rows = state
            .profiles
            .get(version, &state.sources)
            .await
            .map_err(upstream)?;
        let cut_off =
            conoceles_kit::proto_time::from_proto(rows.computed_at.as_ref()).unwrap_or(at);
        Table::counts(
            definition,
            cut_off,
            tables::curricular(&rows.rows, measure, dimension, filters),
        )
    } else if name == SUBSTITUTIONS {
        if let Some(key) = filters.keys().next() {
            return Err(invalid(
                key,
                "unknown_filter",
                "Esta tabla no tiene filtros.",
            ));
        }
        let rows = state.sources.substitutions(at).await.map_err(upstream)?;
        Table::counts(definition, at, tables::substitutions(&rows.rows))
    } else if name == COMPLIANCE {
        if let Some(key) = filters.keys().next() {
            return Err(invalid(
                key,
                "unknown_filter",
                "Esta tabla no tiene filtros.",
            ));
        }
        let rows = state.sources.compliance(at).await.map_err(upstream)?;
        Table::counts(definition, at, tables::compliance(&rows.rows))
    } else {
        let t = state
            .sources
            .identity_table(
                &election,
                name,
                filters.clone().into_iter().collect(),
                (!live).then_some(at),
            )
            .await
            .map_err(upstream)?;
        let private = t.release.is_some();
        Table {
            definition,
            cut_off: conoceles_kit::proto_time::from_proto(t.cut_off.as_ref()).unwrap_or(at),
            n: t.n,
            answered: t.answered,
            declined: t.declined,
            protection: Protection::from_proto(t.protection.as_ref()),
            release: t.release.as_ref().map(Release::from_proto),
            n_half_width_90: private.then_some(t.n_half_width_90),
            cells: t
                .cells
                .into_iter()
                .map(|c| tables::Cell {
                    dimensions: c.dimensions.into_iter().collect(),
                    count: c.count,
                    suppressed: c.suppressed,
                    half_width_90: private.then_some(c.half_width_90),
                    coarsened: c.coarsened,
                })
                .collect(),
        }
    };
    if let Ok(text) = serde_json::to_string(&table) {
        state
            .results
            .put(&key, &text, if live { 30 } else { 86_400 })
            .await;
    }
    Ok(table)
}
