//! Scottish public holidays (bank holidays in Scotland), computed from the
//! rules rather than stored, plus one-off extra dates from configuration.
//!
//! The rules: New Year's Day and 2 January, Good Friday, the early May bank
//! holiday (first Monday of May), the spring bank holiday (last Monday of
//! May), the summer bank holiday (FIRST Monday of August in Scotland), St
//! Andrew's Day (30 November), Christmas Day and Boxing Day. A fixed-date
//! holiday at a weekend moves to the next weekday that is not already a
//! holiday, so pairs chain: Christmas on a Saturday gives Monday 27 and
//! Tuesday 28 December. Easter Monday is not a bank holiday in Scotland.
//!
//! One-off changes (a jubilee, a coronation, a moved early May holiday) are
//! not predictable: they come in as extra dates.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

const NEW_YEAR: (&str, &str) = ("New Year's Day", "New Year's Day (substitute day)");
const SECOND_JANUARY: (&str, &str) = ("2nd January", "2nd January (substitute day)");
const ST_ANDREW: (&str, &str) = ("St Andrew's Day", "St Andrew's Day (substitute day)");
const CHRISTMAS: (&str, &str) = ("Christmas Day", "Christmas Day (substitute day)");
const BOXING_DAY: (&str, &str) = ("Boxing Day", "Boxing Day (substitute day)");

/// The name given to configured one-off dates.
pub const EXTRA_HOLIDAY: &str = "Additional public holiday";

/// Scottish public holidays plus configured extra dates. Plain data, so it is
/// `Send + Sync` and cheap to share; each lookup recomputes the year (a few
/// dozen date operations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    extra: BTreeSet<NaiveDate>,
}

impl HolidayCalendar {
    pub fn new(extra: impl IntoIterator<Item = NaiveDate>) -> HolidayCalendar {
        HolidayCalendar {
            extra: extra.into_iter().collect(),
        }
    }

    /// Every holiday in `year`, in date order, with its name. Configured
    /// extra dates are included unless they coincide with a regular holiday.
    pub fn holidays(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let mut all = scottish_holidays(year);
        for date in self.extra.iter().filter(|d| d.year() == year) {
            if !all.iter().any(|(d, _)| d == date) {
                all.push((*date, EXTRA_HOLIDAY));
            }
        }
        all.sort();
        all
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.extra.contains(&date)
            || scottish_holidays(date.year())
                .iter()
                .any(|(d, _)| *d == date)
    }
}

/// The regular Scottish public holidays of `year`, in date order. Empty for a
/// year chrono cannot represent.
pub fn scottish_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut all: Vec<(NaiveDate, &'static str)> = Vec::new();
    let movable = [
        (good_friday(year), "Good Friday"),
        (
            nth_weekday(year, 5, Weekday::Mon, 1),
            "Early May bank holiday",
        ),
        (last_weekday(year, 5, Weekday::Mon), "Spring bank holiday"),
        (nth_weekday(year, 8, Weekday::Mon, 1), "Summer bank holiday"),
    ];
    for (date, name) in movable {
        if let Some(date) = date {
            all.push((date, name));
        }
    }
    let fixed = [
        (ymd(year, 1, 1), NEW_YEAR),
        (ymd(year, 1, 2), SECOND_JANUARY),
        (ymd(year, 11, 30), ST_ANDREW),
        (ymd(year, 12, 25), CHRISTMAS),
        (ymd(year, 12, 26), BOXING_DAY),
    ];
    // Weekday holidays first, so weekend ones substitute around them
    // (New Year on a Sunday: 2 January stays Monday, the substitute is Tuesday).
    for (date, (name, _)) in fixed {
        if let Some(date) = date.filter(|d| !is_weekend(*d)) {
            all.push((date, name));
        }
    }
    for (date, (_, substitute_name)) in fixed {
        if let Some(date) = date.filter(|d| is_weekend(*d)) {
            if let Some(substitute) = free_weekday_from(date, &all) {
                all.push((substitute, substitute_name));
            }
        }
    }
    all.sort();
    all
}

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm
/// (Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let n = h + l - 7 * m + 114;
    let month = u32::try_from(n.div_euclid(31)).ok()?;
    let day = u32::try_from(n.rem_euclid(31) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn good_friday(year: i32) -> Option<NaiveDate> {
    easter_sunday(year)?.checked_sub_days(Days::new(2))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The `n`th (1-based) `weekday` of the month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    let mut date = ymd(next_year, next_month, 1)?.pred_opt()?;
    while date.weekday() != weekday {
        date = date.pred_opt()?;
    }
    Some(date)
}

/// The first weekday on or after `date` that is not already a holiday.
fn free_weekday_from(date: NaiveDate, taken: &[(NaiveDate, &str)]) -> Option<NaiveDate> {
    let mut candidate = date;
    // A handful of steps at most: two weekend days plus two taken weekdays.
    for _ in 0..7 {
        if !is_weekend(candidate) && !taken.iter().any(|(d, _)| *d == candidate) {
            return Some(candidate);
        }
        candidate = candidate.succ_opt()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    /// Every holiday listed explicitly, with its weekday checked from the
    /// calendar so a wrong expectation cannot hide.
    #[test]
    fn every_2026_and_2027_holiday() {
        // (year, [(date, its weekday, name)])
        type Year<'a> = (i32, &'a [(&'a str, Weekday, &'a str)]);
        let table: &[Year] = &[
            (
                2026,
                &[
                    ("2026-01-01", Weekday::Thu, "New Year's Day"),
                    ("2026-01-02", Weekday::Fri, "2nd January"),
                    ("2026-04-03", Weekday::Fri, "Good Friday"),
                    ("2026-05-04", Weekday::Mon, "Early May bank holiday"),
                    ("2026-05-25", Weekday::Mon, "Spring bank holiday"),
                    ("2026-08-03", Weekday::Mon, "Summer bank holiday"),
                    ("2026-11-30", Weekday::Mon, "St Andrew's Day"),
                    ("2026-12-25", Weekday::Fri, "Christmas Day"),
                    ("2026-12-28", Weekday::Mon, "Boxing Day (substitute day)"),
                ],
            ),
            (
                2027,
                &[
                    ("2027-01-01", Weekday::Fri, "New Year's Day"),
                    ("2027-01-04", Weekday::Mon, "2nd January (substitute day)"),
                    ("2027-03-26", Weekday::Fri, "Good Friday"),
                    ("2027-05-03", Weekday::Mon, "Early May bank holiday"),
                    ("2027-05-31", Weekday::Mon, "Spring bank holiday"),
                    ("2027-08-02", Weekday::Mon, "Summer bank holiday"),
                    ("2027-11-30", Weekday::Tue, "St Andrew's Day"),
                    ("2027-12-27", Weekday::Mon, "Christmas Day (substitute day)"),
                    ("2027-12-28", Weekday::Tue, "Boxing Day (substitute day)"),
                ],
            ),
        ];
        let calendar = HolidayCalendar::default();
        for (year, expected) in table {
            let expected: Vec<(NaiveDate, &str)> = expected
                .iter()
                .map(|(text, weekday, name)| {
                    let d = date(text);
                    assert_eq!(d.weekday(), *weekday, "{text}");
                    assert!(calendar.is_holiday(d), "{text}");
                    (d, *name)
                })
                .collect();
            assert_eq!(calendar.holidays(*year), expected, "{year}");
        }
    }

    #[test]
    fn ordinary_days_and_easter_monday_are_not_holidays() {
        let calendar = HolidayCalendar::default();
        for text in [
            "2026-04-06", // Easter Monday
            "2027-03-29", // Easter Monday
            "2026-12-26", // Boxing Day itself, a Saturday
            "2027-01-02", // 2 January itself, a Saturday
            "2026-08-31", // the English summer bank holiday
            "2026-06-15",
        ] {
            assert!(!calendar.is_holiday(date(text)), "{text}");
        }
    }

    #[test]
    fn substitute_days_chain() {
        // (year, expected weekday holidays among the fixed dates)
        let table: &[(i32, &[&str])] = &[
            // 1 Jan Saturday, 2 Jan Sunday: Monday 3 and Tuesday 4.
            (2022, &["2022-01-03", "2022-01-04"]),
            // 1 Jan Sunday: 2 January is Monday, New Year moves to Tuesday 3.
            (2023, &["2023-01-02", "2023-01-03"]),
            // 25 Dec Sunday: Boxing Day Monday 26, Christmas moves to Tuesday 27.
            (2022, &["2022-12-26", "2022-12-27"]),
            // 25 Dec Saturday: Monday 27 and Tuesday 28.
            (2021, &["2021-12-27", "2021-12-28"]),
            // 30 Nov Saturday and Sunday: the next Monday.
            (2024, &["2024-12-02"]),
            (2025, &["2025-12-01"]),
        ];
        for (year, dates) in table {
            let holidays = scottish_holidays(*year);
            for text in *dates {
                assert!(holidays.iter().any(|(d, _)| *d == date(text)), "{text}");
            }
        }
        // And the weekend dates themselves are not holidays.
        let calendar = HolidayCalendar::default();
        for text in ["2022-01-01", "2022-12-25", "2024-11-30", "2025-11-30"] {
            assert!(!calendar.is_holiday(date(text)), "{text}");
        }
    }

    #[test]
    fn known_easter_sundays() {
        let table = [
            (1900, "1900-04-15"),
            (1913, "1913-03-23"),
            (1943, "1943-04-25"),
            (1961, "1961-04-02"),
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2038, "2038-04-25"),
            (2100, "2100-03-28"),
            (2160, "2160-03-23"),
            (2200, "2200-04-06"),
        ];
        for (year, expected) in table {
            assert_eq!(easter_sunday(year), Some(date(expected)), "{year}");
        }
    }

    /// Lichtenberg's form of Gauss's Easter formula: an independent check.
    fn easter_gauss(year: i32) -> NaiveDate {
        let y = i64::from(year);
        let k = y / 100;
        let m = 15 + (3 * k + 3) / 4 - (8 * k + 13) / 25;
        let s = 2 - (3 * k + 3) / 4;
        let a = y % 19;
        let d = (19 * a + m) % 30;
        let r = (d + a / 11) / 29;
        let og = 21 + d - r;
        let sz = 7 - (y + y / 4 + s) % 7;
        let oe = 7 - (og - sz) % 7;
        let march_day = og + oe;
        let march_first = NaiveDate::from_ymd_opt(year, 3, 1).unwrap();
        march_first + chrono::Duration::days(march_day - 1)
    }

    #[test]
    fn every_year_1900_to_2200_is_sane() {
        for year in 1900..=2200 {
            let easter = easter_sunday(year).unwrap();
            assert_eq!(easter, easter_gauss(year), "{year}");
            assert_eq!(easter.weekday(), Weekday::Sun);
            let holidays = scottish_holidays(year);
            assert_eq!(holidays.len(), 9, "{year}: {holidays:?}");
            let distinct: BTreeSet<NaiveDate> = holidays.iter().map(|(d, _)| *d).collect();
            assert_eq!(distinct.len(), 9, "{year}");
            for (d, name) in &holidays {
                assert!(!is_weekend(*d), "{year}: {name} on {d}");
                assert_eq!(d.year(), year);
            }
            let summer = holidays
                .iter()
                .find(|(_, name)| *name == "Summer bank holiday")
                .unwrap()
                .0;
            assert!(summer.month() == 8 && summer.day() <= 7, "{year}");
        }
    }

    #[test]
    fn extra_dates_are_honoured() {
        let coronation = date("2023-05-08");
        let calendar = HolidayCalendar::new([coronation, date("2026-01-01")]);
        assert!(calendar.is_holiday(coronation));
        assert!(!HolidayCalendar::default().is_holiday(coronation));
        assert!(calendar
            .holidays(2023)
            .contains(&(coronation, EXTRA_HOLIDAY)));
        // An extra date that is already a holiday is not listed twice.
        let new_year: Vec<_> = calendar
            .holidays(2026)
            .into_iter()
            .filter(|(d, _)| *d == date("2026-01-01"))
            .collect();
        assert_eq!(new_year, vec![(date("2026-01-01"), "New Year's Day")]);
    }

    #[test]
    fn unrepresentable_years_do_not_panic() {
        for year in [i32::MIN, -1, 0, i32::MAX, 262_143, 262_144] {
            let _ = scottish_holidays(year);
            let _ = easter_sunday(year);
        }
        let calendar = HolidayCalendar::default();
        assert!(!calendar.is_holiday(NaiveDate::MAX));
        let _ = calendar.is_holiday(NaiveDate::MIN);
    }

    #[test]
    fn calendar_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<HolidayCalendar>();
    }
}
