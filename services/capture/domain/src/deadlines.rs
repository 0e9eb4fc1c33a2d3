//! Each candidacy's own capture deadline, by the election's rule.
//!
//! The Lineamientos give either one window for every candidacy (Coahuila, Durango) or N natural
//! days counted from the delivery of the candidacy's accounts (Sonora: 15), and in both cases a
//! substitution or a late registration needs time of its own. A deadline is an instant that
//! capture refuses at and after (`now < deadline` captures), and none passes the election's
//! outer bound: by default the start of the day before election day, in the election's zone.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use conoceles_kit::FieldViolation;
use conoceles_kit::error::{AppError, ErrorCode};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// How an election gives candidacies their deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// One window for every candidacy registered before it opened; a substitution or a late
    /// registration gets at least `days` natural days from the day after it.
    #[default]
    Fixed,
    /// `days` natural days from the day after the accounts were delivered; before delivery, the
    /// election's window.
    FromDelivery,
}

impl RuleKind {
    pub fn code(self) -> &'static str {
        match self {
            RuleKind::Fixed => "fixed",
            RuleKind::FromDelivery => "from_delivery",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "fixed" => Some(RuleKind::Fixed),
            "from_delivery" => Some(RuleKind::FromDelivery),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RuleKind::Fixed => "Un periodo fijo para todas las candidaturas",
            RuleKind::FromDelivery => "Días naturales a partir de la entrega de las cuentas",
        }
    }
}

/// The election's rule, as it is configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRule {
    pub kind: RuleKind,
    /// Natural days a candidacy has (from delivery, substitution or late registration).
    pub days: i32,
    /// No deadline passes this instant (None: the start of the day before election day).
    pub outer_bound: Option<DateTime<Utc>>,
}

impl Default for DeadlineRule {
    fn default() -> Self {
        Self {
            kind: RuleKind::Fixed,
            days: 15,
            outer_bound: None,
        }
    }
}

/// The election facts a deadline is computed from.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub rule: DeadlineRule,
    pub time_zone: chrono_tz::Tz,
    pub capture_opens_at: DateTime<Utc>,
    pub capture_closes_at: DateTime<Utc>,
    pub election_day: NaiveDate,
}

/// The start (00:00, election zone) of `date`.
fn start_of(date: NaiveDate, tz: chrono_tz::Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    tz.from_local_datetime(&midnight)
        .earliest()
        // A zone whose clocks skip midnight: the first instant of the day.
        .unwrap_or_else(|| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
                .expect("one hour after a skipped midnight exists")
        })
        .with_timezone(&Utc)
}

/// Natural days, counted from the day after a candidacy's approval, within which its accounts
/// are delivered (Sonora's plan; the same in Coahuila's and Durango's).
pub const ACCOUNT_DELIVERY_DAYS: u32 = 3;

impl Calendar {
    /// 00:00 of `day` in the election's zone.
    pub fn start_of_day(&self, day: NaiveDate) -> DateTime<Utc> {
        start_of(day, self.time_zone)
    }

    /// The latest instant any deadline may be.
    pub fn outer_bound(&self) -> DateTime<Utc> {
        self.rule.outer_bound.unwrap_or_else(|| {
            start_of(
                self.election_day
                    .checked_sub_days(Days::new(1))
                    .unwrap_or(self.election_day),
                self.time_zone,
            )
        })
    }

    /// The end of the `days`-th natural day counted from the day after `from` (election zone):
    /// from Monday 10:00 and 3 days, the end of Thursday.
    pub fn days_after(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let local = from.with_timezone(&self.time_zone).date_naive();
        let last = local
            .checked_add_days(Days::new(u64::from(days) + 1))
            .unwrap_or(local);
        start_of(last, self.time_zone)
    }

    fn bounded(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.min(self.outer_bound())
    }

    fn days(&self) -> u32 {
        self.rule.days.max(1) as u32
    }

    /// The deadline of a candidacy that starts capturing at `at` outside the regular calendar:
    /// a substitution, or a registration after the window opened. None: the election's window.
    pub fn for_new_person(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if at < self.capture_opens_at {
            return None;
        }
        let own = self.days_after(at, self.days());
        Some(self.bounded(match self.rule.kind {
            RuleKind::Fixed => own.max(self.capture_closes_at),
            RuleKind::FromDelivery => own,
        }))
    }

    /// The deadline once the accounts were delivered at `at` (only the delivery rule counts
    /// from it; None: keep what the candidacy has).
    pub fn for_delivery(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.rule.kind {
            RuleKind::Fixed => None,
            RuleKind::FromDelivery => Some(self.bounded(self.days_after(at, self.days()))),
        }
    }
}

/// The election's calendar, for the candidacy `id`'s election.
pub async fn calendar(conn: &mut PgConnection, candidacy: Uuid) -> Result<Calendar, AppError> {
    let row = sqlx::query(
        "SELECT e.deadline_rule, e.deadline_days, e.capture_outer_bound, e.time_zone, e.capture_opens_at, \
                e.capture_closes_at, e.election_day \
         FROM elections e JOIN candidacies c ON c.election_id = e.id WHERE c.id = $1",
    )
    .bind(candidacy)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa candidatura."))?;
    Ok(calendar_of(&row))
}

pub(crate) fn rule_of(row: &sqlx::postgres::PgRow) -> DeadlineRule {
    DeadlineRule {
        kind: RuleKind::parse(row.get("deadline_rule")).unwrap_or_default(),
        days: row.get("deadline_days"),
        outer_bound: row.get("capture_outer_bound"),
    }
}

fn calendar_of(row: &sqlx::postgres::PgRow) -> Calendar {
    Calendar {
        rule: rule_of(row),
        time_zone: row
            .get::<&str, _>("time_zone")
            .parse()
            .unwrap_or(chrono_tz::America::Mexico_City),
        capture_opens_at: row.get("capture_opens_at"),
        capture_closes_at: row.get("capture_closes_at"),
        election_day: row.get("election_day"),
    }
}

/// Gives the candidacy the deadline of a new person starting at `at` (substitution, late
/// registration); returns the candidacy's own deadline (None: the election's window).
pub async fn assign_for_new_person(
    conn: &mut PgConnection,
    candidacy: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let deadline = calendar(conn, candidacy).await?.for_new_person(at);
    // An extension already later than the new deadline stays.
    Ok(sqlx::query_scalar(
        "UPDATE candidacies SET capture_deadline = CASE WHEN $2::timestamptz IS NULL THEN capture_deadline \
             ELSE GREATEST(capture_deadline, $2) END WHERE id = $1 RETURNING capture_deadline",
    )
    .bind(candidacy)
    .bind(deadline)
    .fetch_one(&mut *conn)
    .await?)
}

/// The accounts of `candidacies` were delivered at `at`: where the election's rule counts from
/// delivery, each gets that deadline (an extension or a later deadline already given stays).
/// Candidacies this election does not know are skipped.
pub async fn accounts_delivered(
    conn: &mut PgConnection,
    candidacies: &[Uuid],
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    // One party's delivery: its candidacies this service knows, by election (one calendar each).
    let known: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT election_id, id FROM candidacies WHERE id = ANY($1) ORDER BY election_id",
    )
    .bind(candidacies)
    .fetch_all(&mut *conn)
    .await?;
    for group in known.chunk_by(|a, b| a.0 == b.0) {
        let ids: Vec<Uuid> = group.iter().map(|(_, id)| *id).collect();
        let Some(deadline) = calendar(conn, ids[0]).await?.for_delivery(at) else {
            continue;
        };
        sqlx::query(
            "UPDATE candidacies SET capture_deadline = GREATEST(capture_deadline, $2) \
             WHERE id = ANY($1) AND status <> 'withdrawn'",
        )
        .bind(&ids)
        .bind(deadline)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO candidacy_history (candidacy_id, at, action, detail) \
             SELECT id, $2, 'accounts_delivered', jsonb_build_object('deadline', $3::timestamptz) \
             FROM UNNEST($1::uuid[]) AS t(id)",
        )
        .bind(&ids)
        .bind(at)
        .bind(deadline)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The candidacy's deadline now in force.
pub async fn effective(conn: &mut PgConnection, candidacy: Uuid) -> sqlx::Result<DateTime<Utc>> {
    sqlx::query_scalar(
        "SELECT COALESCE(c.capture_deadline, e.capture_closes_at) FROM candidacies c \
         JOIN elections e ON e.id = c.election_id WHERE c.id = $1",
    )
    .bind(candidacy)
    .fetch_one(conn)
    .await
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::invalid(vec![FieldViolation::new(field, "invalid", message)])
}

/// The unit extends one candidacy's deadline to `until`, with a reason: later than the one in
/// force, not past the outer bound; recorded in the candidacy's history. Returns the previous
/// deadline.
pub async fn extend(
    pool: &PgPool,
    candidacy: Uuid,
    until: DateTime<Utc>,
    reason: &str,
    actor: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(invalid("motivo", "Indique el motivo de la prórroga."));
    }
    let mut tx = pool.begin().await?;
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM candidacies WHERE id = $1 FOR UPDATE")
            .bind(candidacy)
            .fetch_optional(&mut *tx)
            .await?;
    match status.as_deref() {
        None => {
            return Err(AppError::new(
                ErrorCode::NotFound,
                "No existe esa candidatura.",
            ));
        }
        Some("withdrawn") => {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                "La candidatura está cancelada; no tiene plazo de captura.",
            ));
        }
        _ => {}
    }
    let calendar = calendar(&mut tx, candidacy).await?;
    let before = effective(&mut tx, candidacy).await?;
    let tz = calendar.time_zone.name();
    if until <= before.max(now) {
        return Err(invalid(
            "hasta",
            &format!(
                "La prórroga debe terminar después del plazo vigente ({}) y de este momento.",
                crate::election::local_deadline(before, tz)
            ),
        ));
    }
    let outer = calendar.outer_bound();
    if until > outer {
        return Err(invalid(
            "hasta",
            &format!(
                "Ningún plazo puede pasar del límite de la elección: {}.",
                crate::election::local_deadline(outer, tz)
            ),
        ));
    }
    sqlx::query("UPDATE candidacies SET capture_deadline = $2, updated_at = $3 WHERE id = $1")
        .bind(candidacy)
        .bind(until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    crate::import::apply_history(
        &mut tx,
        candidacy,
        now,
        "deadline_extended",
        actor,
        serde_json::json!({ "from": before, "to": until, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar(kind: RuleKind) -> Calendar {
        let tz: chrono_tz::Tz = "America/Hermosillo".parse().unwrap();
        Calendar {
            rule: DeadlineRule {
                kind,
                days: 15,
                outer_bound: None,
            },
            time_zone: tz,
            capture_opens_at: start_of(NaiveDate::from_ymd_opt(2027, 4, 20).unwrap(), tz),
            capture_closes_at: start_of(NaiveDate::from_ymd_opt(2027, 5, 5).unwrap(), tz),
            election_day: NaiveDate::from_ymd_opt(2027, 6, 6).unwrap(),
        }
    }

    fn at(local: &str) -> DateTime<Utc> {
        let tz: chrono_tz::Tz = "America/Hermosillo".parse().unwrap();
        tz.from_local_datetime(
            &chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap(),
        )
        .unwrap()
        .with_timezone(&Utc)
    }

    #[test]
    fn days_are_natural_days_counted_from_the_day_after_in_the_election_zone() {
        let c = calendar(RuleKind::FromDelivery);
        // Delivered Tuesday 20 April at 23:30 local (already Wednesday in UTC): 15 days are
        // 21 April .. 5 May, so capture ends when 6 May starts, local time.
        assert_eq!(
            c.days_after(at("2027-04-20 23:30"), 15),
            at("2027-05-06 00:00")
        );
        assert_eq!(
            c.for_delivery(at("2027-04-20 08:00")),
            Some(at("2027-05-06 00:00"))
        );
        // Three days after an approval on Monday 19 April: the end of Thursday 22.
        assert_eq!(
            c.days_after(at("2027-04-19 18:00"), 3),
            at("2027-04-23 00:00")
        );
    }

    #[test]
    fn no_deadline_passes_the_outer_bound() {
        let c = calendar(RuleKind::FromDelivery);
        assert_eq!(c.outer_bound(), at("2027-06-05 00:00"));
        assert_eq!(
            c.for_delivery(at("2027-05-30 10:00")),
            Some(at("2027-06-05 00:00"))
        );
        let mut bounded = calendar(RuleKind::Fixed);
        bounded.rule.outer_bound = Some(at("2027-05-20 00:00"));
        assert_eq!(
            bounded.for_new_person(at("2027-05-15 09:00")),
            Some(at("2027-05-20 00:00"))
        );
    }

    #[test]
    fn a_fixed_window_gives_a_substitution_at_least_its_days_and_never_less_than_the_window() {
        let c = calendar(RuleKind::Fixed);
        // Before the window opens, the window is the deadline.
        assert_eq!(c.for_new_person(at("2027-04-10 12:00")), None);
        // On the window's first day, 15 days (21 April .. 5 May) end one day after the window
        // (which closes as 5 May starts): the later one counts.
        assert_eq!(
            c.for_new_person(at("2027-04-20 12:00")),
            Some(at("2027-05-06 00:00"))
        );
        // A window longer than the days: the window.
        let mut long = calendar(RuleKind::Fixed);
        long.capture_closes_at = at("2027-05-20 00:00");
        assert_eq!(
            long.for_new_person(at("2027-04-21 12:00")),
            Some(at("2027-05-20 00:00"))
        );
        // The delivery of accounts does not move a fixed window.
        assert_eq!(c.for_delivery(at("2027-04-25 12:00")), None);
    }
}
