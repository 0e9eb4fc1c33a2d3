//! Business days of an election's calendar: Monday to Friday, except the non-working days the
//! electoral body declares (`elections.holidays`).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Whether `day` is a business day.
pub fn is_business_day(day: NaiveDate, holidays: &[NaiveDate]) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day)
}

/// The first business day after `day` ("el día hábil siguiente").
pub fn next_business_day(day: NaiveDate, holidays: &[NaiveDate]) -> NaiveDate {
    let mut next = day + Duration::days(1);
    // A year of holidays cannot hold this back more than a year; stop there whatever the data.
    for _ in 0..366 {
        if is_business_day(next, holidays) {
            return next;
        }
        next += Duration::days(1);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_friday_request_is_due_on_monday_and_holidays_are_skipped() {
        assert_eq!(
            next_business_day(date("2027-04-09"), &[]),
            date("2027-04-12")
        );
        assert_eq!(
            next_business_day(date("2027-04-12"), &[]),
            date("2027-04-13")
        );
        // Saturday and Sunday requests are due on Monday too.
        assert_eq!(
            next_business_day(date("2027-04-10"), &[]),
            date("2027-04-12")
        );
        // A Monday holiday moves it to Tuesday.
        let holidays = [date("2027-04-12")];
        assert_eq!(
            next_business_day(date("2027-04-09"), &holidays),
            date("2027-04-13")
        );
    }

    proptest! {
        #[test]
        fn the_next_business_day_is_the_first_one_after(
            start in 0i64..3650,
            offsets in proptest::collection::vec(1i64..30, 0..8),
        ) {
            let day = date("2026-01-01") + Duration::days(start);
            let holidays: Vec<NaiveDate> = offsets.iter().map(|o| day + Duration::days(*o)).collect();
            let next = next_business_day(day, &holidays);
            prop_assert!(next > day);
            prop_assert!(is_business_day(next, &holidays));
            let mut between = day + Duration::days(1);
            while between < next {
                prop_assert!(!is_business_day(between, &holidays));
                between += Duration::days(1);
            }
        }
    }
}
