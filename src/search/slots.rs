//! Opening hours as index terms, so "open now", "open at" and "open on
//! Saturday morning" are term lookups rather than a scan.
//!
//! The week (local time, Monday 00:00 first) is cut into 672 quarter-hour
//! slots. Weekly rules index `wh{hour}` for each hour of the week they cover
//! whole and `w{slot}` for each quarter of an hour they cover in part; a
//! monthly rule ("first Saturday") does the same as `mh{ordinal}:{hour}` and
//! `m{ordinal}:{slot}`; "24 hours" indexes `always`. Whole hours keep the
//! terms per service (and the time to index them) a quarter of what one
//! term per quarter took. Anything a weekly pattern cannot say exactly
//! (validity windows, dated exceptions, times off the quarter hour, monthly
//! rules running past midnight) marks the service for an exact check, made
//! on the candidates only with the timetable kept in a fast field.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Europe::London;

use crate::hours::timetable::{monthly_ordinals, MONTHLY_ORDINALS};
use crate::hours::{DaySpec, HolidayCalendar};
use crate::model::opening::Hours;

pub const SLOT_MINUTES: u32 = 15;
const SLOTS_PER_HOUR: u32 = 60 / SLOT_MINUTES;
const SLOTS_PER_DAY: u32 = 24 * 60 / SLOT_MINUTES;
const SLOTS_PER_WEEK: u32 = 7 * SLOTS_PER_DAY;
pub const ALWAYS: &str = "always";

/// Flags kept in the `hours_flags` fast field.
pub const NEEDS_EXACT: u64 = 1;
pub const CLOSED_ON_HOLIDAYS: u64 = 2;

/// Index terms for a service's hours, and its flags.
pub fn terms(hours: &Hours) -> (Vec<String>, u64) {
    let mut terms = Vec::new();
    let mut flags = 0;
    if hours.closed_on_public_holidays {
        flags |= CLOSED_ON_HOLIDAYS;
    }
    if hours.has_dated_parts() {
        flags |= NEEDS_EXACT;
    }
    if hours.by_appointment {
        return (terms, flags);
    }
    if hours.open_24_hours {
        terms.push(ALWAYS.to_string());
        return (terms, flags);
    }
    let timetable = hours.timetable();
    let mut weekly = Week::default();
    let mut monthly: BTreeMap<i8, Week> = BTreeMap::new();
    for rule in &timetable.rules {
        let opens = minute_of_day(rule.opens);
        let mut closes = minute_of_day(rule.closes);
        if rule.overnight || closes <= opens {
            closes += 24 * 60;
        }
        if !opens.is_multiple_of(SLOT_MINUTES) || !closes.is_multiple_of(SLOT_MINUTES) {
            flags |= NEEDS_EXACT;
        }
        // Slots touched at all: a superset, made exact by the check above.
        let first = opens / SLOT_MINUTES;
        let last = closes.div_ceil(SLOT_MINUTES);
        match &rule.days {
            DaySpec::Weekly(days) => {
                for day in days {
                    weekly.mark(*day, first..last);
                }
            }
            DaySpec::Monthly(entries) => {
                if closes > 24 * 60 {
                    flags |= NEEDS_EXACT;
                }
                for (ordinal, day) in entries {
                    monthly.entry(*ordinal).or_default().mark(*day, first..last);
                }
            }
        }
    }
    weekly.terms("wh", "w", &mut terms);
    for (ordinal, week) in &monthly {
        week.terms(
            &format!("mh{ordinal}:"),
            &format!("m{ordinal}:"),
            &mut terms,
        );
    }
    (terms, flags)
}

/// The quarter-hour slots of a week that a rule covers.
struct Week([bool; SLOTS_PER_WEEK as usize]);

impl Default for Week {
    fn default() -> Self {
        Week([false; SLOTS_PER_WEEK as usize])
    }
}

impl Week {
    /// Marks slots of `day` (past its end, into the next day and round
    /// from Sunday to Monday).
    fn mark(&mut self, day: Weekday, slots: std::ops::Range<u32>) {
        for s in slots {
            self.0[((day_index(day) * SLOTS_PER_DAY + s) % SLOTS_PER_WEEK) as usize] = true;
        }
    }

    /// `{hour_prefix}{hour}` for each whole hour covered, `{slot_prefix}{slot}`
    /// for each covered quarter of the others.
    fn terms(&self, hour_prefix: &str, slot_prefix: &str, out: &mut Vec<String>) {
        for (hour, quarters) in self.0.chunks(SLOTS_PER_HOUR as usize).enumerate() {
            if quarters.iter().all(|&q| q) {
                out.push(format!("{hour_prefix}{hour}"));
                continue;
            }
            for (q, _) in quarters.iter().enumerate().filter(|(_, &q)| q) {
                out.push(format!(
                    "{slot_prefix}{}",
                    hour * SLOTS_PER_HOUR as usize + q
                ));
            }
        }
    }
}

fn minute_of_day(t: NaiveTime) -> u32 {
    t.hour() * 60 + t.minute()
}

fn day_index(day: Weekday) -> u32 {
    day.num_days_from_monday()
}

/// The terms any of which means "open at this instant" (before the exact check).
pub fn terms_at(at: DateTime<Utc>) -> Vec<String> {
    let local = at.with_timezone(&London);
    let slot =
        day_index(local.weekday()) * SLOTS_PER_DAY + minute_of_day(local.time()) / SLOT_MINUTES;
    let hour = slot / SLOTS_PER_HOUR;
    let date = local.date_naive();
    let (from_start, from_end) = monthly_ordinals(date);
    let mut terms = vec![format!("w{slot}"), format!("wh{hour}"), ALWAYS.to_string()];
    for ordinal in [from_start, from_end] {
        terms.push(format!("m{ordinal}:{slot}"));
        terms.push(format!("mh{ordinal}:{hour}"));
    }
    terms
}

/// The terms any of which means "open at some point between `start` and
/// `end` on `day` in a typical week".
pub fn terms_during(day: Weekday, start: NaiveTime, end: NaiveTime) -> Vec<String> {
    let first = minute_of_day(start) / SLOT_MINUTES;
    let last = minute_of_day(end).div_ceil(SLOT_MINUTES).max(first + 1);
    let mut terms = vec![ALWAYS.to_string()];
    let mut hours = Vec::new();
    for s in first..last {
        let slot = day_index(day) * SLOTS_PER_DAY + s;
        terms.push(format!("w{slot}"));
        for ordinal in MONTHLY_ORDINALS {
            terms.push(format!("m{ordinal}:{slot}"));
        }
        if !hours.contains(&(slot / SLOTS_PER_HOUR)) {
            hours.push(slot / SLOTS_PER_HOUR);
        }
    }
    for hour in hours {
        terms.push(format!("wh{hour}"));
        for ordinal in MONTHLY_ORDINALS {
            terms.push(format!("mh{ordinal}:{hour}"));
        }
    }
    terms
}

/// When a search asks about opening hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeFilter {
    /// Open at this instant (`open_now`, `open_at`).
    At { at: DateTime<Utc>, holiday: bool },
    /// Open at some point in a window of a typical week (`day`, `start_time`, `end_time`).
    During {
        day: Weekday,
        start: NaiveTime,
        end: NaiveTime,
    },
}

impl TimeFilter {
    pub fn at(at: DateTime<Utc>, holidays: &HolidayCalendar) -> TimeFilter {
        TimeFilter::At {
            at,
            holiday: holidays.is_holiday(at.with_timezone(&London).date_naive()),
        }
    }

    pub fn terms(&self) -> Vec<String> {
        match self {
            TimeFilter::At { at, .. } => terms_at(*at),
            TimeFilter::During { day, start, end } => terms_during(*day, *start, *end),
        }
    }

    /// The exact answer for a candidate whose hours need it.
    pub fn exact(&self, hours: &Hours, holidays: &HolidayCalendar) -> bool {
        let timetable = hours.timetable();
        match self {
            TimeFilter::At { at, .. } => timetable.is_open_at(*at, holidays),
            TimeFilter::During { day, start, end } => timetable.open_during(*day, *start, *end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::read::Schedule;
    use chrono::TimeZone;

    fn hours(freq: &str, byday: &[&str], opens: &str, closes: &str) -> Hours {
        Hours {
            schedules: vec![Schedule {
                id: uuid::Uuid::nil(),
                freq: freq.into(),
                byday: byday.iter().map(|d| d.to_string()).collect(),
                opens_at: opens.into(),
                closes_at: closes.into(),
                valid_from: None,
                valid_to: None,
                description: None,
                location_id: None,
                overnight: closes < opens,
            }],
            exceptions: vec![],
            closed_on_public_holidays: false,
            open_24_hours: false,
            by_appointment: false,
            notes: None,
        }
    }

    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn weekly_slots_match_the_instants_they_cover() {
        let (terms, flags) = terms(&hours("weekly", &["MO", "FR"], "09:00", "17:00"));
        assert_eq!(flags, 0);
        assert_eq!(terms.len(), 2 * 8, "one term per whole hour");
        let open = terms_at(london(2026, 11, 23, 9, 0)); // a Monday
        assert!(open.iter().any(|t| terms.contains(t)));
        let closed = terms_at(london(2026, 11, 23, 17, 0));
        assert!(
            !closed.iter().any(|t| terms.contains(t)),
            "closing time is not open"
        );
        let summer = terms_at(london(2026, 7, 3, 16, 45)); // a Friday in BST
        assert!(summer.iter().any(|t| terms.contains(t)));
    }

    #[test]
    fn overnight_rules_wrap_into_the_next_day_and_the_week() {
        let (terms, _) = terms(&hours("weekly", &["SU"], "22:00", "02:00"));
        assert!(
            terms_at(london(2026, 11, 23, 1, 30))
                .iter()
                .any(|t| terms.contains(t)),
            "Monday 01:30"
        );
    }

    #[test]
    fn monthly_rules_use_the_ordinal_of_the_date() {
        let (terms, _) = terms(&hours("monthly", &["1SA", "-1FR"], "10:00", "12:00"));
        assert!(
            terms_at(london(2026, 11, 7, 11, 0))
                .iter()
                .any(|t| terms.contains(t)),
            "first Saturday"
        );
        assert!(
            !terms_at(london(2026, 11, 14, 11, 0))
                .iter()
                .any(|t| terms.contains(t)),
            "second Saturday"
        );
        assert!(
            terms_at(london(2026, 11, 27, 11, 0))
                .iter()
                .any(|t| terms.contains(t)),
            "last Friday"
        );
    }

    #[test]
    fn hours_covered_in_part_are_indexed_by_the_quarter() {
        let (terms, _) = terms(&hours("weekly", &["MO"], "09:30", "12:15"));
        // Monday 09:30-09:59 and 12:00-12:14 by the quarter, 10:00-11:59 whole.
        assert_eq!(terms, ["w38", "w39", "wh10", "wh11", "w48"]);
        let at = |h, m| terms_at(london(2026, 11, 23, h, m));
        assert!(!at(9, 15).iter().any(|t| terms.contains(t)));
        for (h, m) in [(9, 30), (10, 0), (11, 59), (12, 14)] {
            assert!(at(h, m).iter().any(|t| terms.contains(t)), "{h}:{m}");
        }
        assert!(!at(12, 15).iter().any(|t| terms.contains(t)));
    }

    #[test]
    fn rules_meeting_within_an_hour_make_it_whole() {
        let mut two = hours("weekly", &["TU"], "09:00", "09:30");
        let mut second = two.schedules[0].clone();
        second.opens_at = "09:30".into();
        second.closes_at = "10:00".into();
        two.schedules.push(second);
        assert_eq!(terms(&two).0, ["wh33"]);
    }

    #[test]
    fn monthly_ordinals_count_back_from_the_end_of_the_month() {
        let (terms, _) = terms(&hours("monthly", &["-2FR"], "10:00", "12:00"));
        // November 2026 has four Fridays: the 20th is the second to last.
        assert!(terms_at(london(2026, 11, 20, 11, 0))
            .iter()
            .any(|t| terms.contains(t)));
        assert!(!terms_at(london(2026, 11, 27, 11, 0))
            .iter()
            .any(|t| terms.contains(t)));
        let friday_morning = terms_during(
            Weekday::Fri,
            NaiveTime::from_hms_opt(11, 30, 0).unwrap(),
            NaiveTime::from_hms_opt(12, 30, 0).unwrap(),
        );
        assert!(friday_morning.iter().any(|t| terms.contains(t)));
    }

    #[test]
    fn off_quarter_times_and_dated_parts_need_an_exact_check() {
        assert_eq!(
            terms(&hours("weekly", &["MO"], "09:10", "17:00")).1 & NEEDS_EXACT,
            NEEDS_EXACT
        );
        let mut dated = hours("weekly", &["MO"], "09:00", "17:00");
        dated.schedules[0].valid_to = chrono::NaiveDate::from_ymd_opt(2026, 8, 14);
        assert_eq!(terms(&dated).1 & NEEDS_EXACT, NEEDS_EXACT);
    }

    #[test]
    fn windows_of_a_typical_week() {
        let (terms, _) = terms(&hours("weekly", &["SA"], "10:00", "12:00"));
        let morning = terms_during(
            Weekday::Sat,
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
        );
        assert!(morning.iter().any(|t| terms.contains(t)));
        let evening = terms_during(
            Weekday::Sat,
            NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        );
        assert!(!evening.iter().any(|t| terms.contains(t)));
    }
}
