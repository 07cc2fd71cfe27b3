//! Opening-hours model and evaluation, in local time (Europe/London).
//!
//! Rules produce openings ("spans") on local dates: a span on date D runs from
//! D+opens to D+closes, or to D+1+closes when `overnight`. Spans are
//! half-open, `[opens, closes)`. A service is open at an instant when the
//! wall-clock reading in London at that instant falls inside a span, so:
//! - 01:30 on the March change Sunday never shows on a clock; a span that
//!   starts or ends there starts or ends when the clock jumps (01:00 UTC);
//! - 01:30 on the October change Sunday shows twice; a span covering it is
//!   open at both instants.
//!
//! Exceptions work on the spans that *start* on their dates, so an overnight
//! span from the day before still runs into them. On a date, an `Hours`
//! exception wins over everything (rules, `Closed`, public holidays), then
//! `Closed`, then the public-holiday closure, then the rules.

use chrono::{
    DateTime, Datelike, Days, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Europe::London;

use super::holidays::HolidayCalendar;
use crate::model::read::Schedule;

/// How far `next_open` looks ahead, and how far `current_interval` follows
/// an unbroken opening (a 24-hour service) in each direction.
pub const SEARCH_DAYS: u64 = 400;

/// London is never more than two hours from UTC (double summer time in the
/// 1940s), so every instant whose local time falls in a span lies within
/// this margin of the span's wall-clock times read as UTC.
const OFFSET_MARGIN_HOURS: i64 = 3;

const SECONDS_PER_DAY: i64 = 86_400;

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// Which dates a rule applies on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaySpec {
    Weekly(Vec<Weekday>),
    /// (ordinal, weekday): ordinal 1..=5 counts from the start of the month,
    /// -1 is the last such weekday (-2..=-5 count back further). Any other
    /// ordinal never matches.
    Monthly(Vec<(i8, Weekday)>),
}

impl DaySpec {
    pub fn matches(&self, date: NaiveDate) -> bool {
        match self {
            DaySpec::Weekly(days) => days.contains(&date.weekday()),
            DaySpec::Monthly(entries) => entries
                .iter()
                .any(|(ordinal, day)| *day == date.weekday() && ordinal_matches(date, *ordinal)),
        }
    }

    /// Whether the rule can apply on this weekday in some week.
    fn has_weekday(&self, day: Weekday) -> bool {
        match self {
            DaySpec::Weekly(days) => days.contains(&day),
            DaySpec::Monthly(entries) => entries
                .iter()
                .any(|(ordinal, d)| *d == day && valid_ordinal(*ordinal)),
        }
    }
}

/// The ordinals a monthly rule may use: 1 to 5 count from the start of
/// the month, -1 to -5 from its end.
pub const MONTHLY_ORDINALS: [i8; 10] = [1, 2, 3, 4, 5, -1, -2, -3, -4, -5];

fn valid_ordinal(ordinal: i8) -> bool {
    MONTHLY_ORDINALS.contains(&ordinal)
}

/// `date`'s place among the days of its month on the same weekday,
/// counted from the start (1 to 5) and from the end (-1 to -5).
pub fn monthly_ordinals(date: NaiveDate) -> (i8, i8) {
    let from_start = (date.day0() / 7 + 1) as i8;
    let from_end = days_in_month(date).map_or(0, |days| ((days - date.day()) / 7 + 1) as i8);
    (from_start, -from_end)
}

/// Whether `date` is the `ordinal`th of its weekday in its month.
fn ordinal_matches(date: NaiveDate, ordinal: i8) -> bool {
    let (from_start, from_end) = monthly_ordinals(date);
    valid_ordinal(ordinal) && (ordinal == from_start || ordinal == from_end)
}

fn days_in_month(date: NaiveDate) -> Option<u32> {
    let (year, month) = if date.month() == 12 {
        (date.year().checked_add(1)?, 1)
    } else {
        (date.year(), date.month() + 1)
    };
    Some(NaiveDate::from_ymd_opt(year, month, 1)?.pred_opt()?.day())
}

/// A regular opening: on the matching dates, from `opens` to `closes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub days: DaySpec,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    /// `closes` is on the next day (22:00–02:00).
    pub overnight: bool,
    /// First date the rule applies on (inclusive).
    pub valid_from: Option<NaiveDate>,
    /// Last date the rule applies on (inclusive).
    pub valid_to: Option<NaiveDate>,
}

impl Rule {
    pub fn applies_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date)
            && self.valid_to.is_none_or(|to| date <= to)
            && self.days.matches(date)
    }
}

/// A one-off change to the regular rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exception {
    /// Closed on every date from `from` to `to` inclusive.
    Closed { from: NaiveDate, to: NaiveDate },
    /// On `date`, open only these hours (several may be given for one date).
    /// `closes` at or before `opens` means it runs past midnight.
    Hours {
        date: NaiveDate,
        opens: NaiveTime,
        closes: NaiveTime,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timetable {
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Exception>,
    pub closed_on_public_holidays: bool,
    /// Open all day every day (still subject to exceptions and holidays).
    pub open_24_hours: bool,
    /// By appointment: shown in the summary; it does not make the service
    /// open at any time by itself.
    pub by_appointment: bool,
}

/// An opening in local wall-clock time, `[start, end)`.
type LocalSpan = (NaiveDateTime, NaiveDateTime);
/// An opening as UTC instants, `[start, end)`.
type UtcSpan = (DateTime<Utc>, DateTime<Utc>);
/// A validity window of a rule.
type Window = (Option<NaiveDate>, Option<NaiveDate>);
/// Opening and closing times of a rule, and whether it runs past midnight.
type Slot = (NaiveTime, NaiveTime, bool);
/// Monthly (ordinal, weekday) entries sharing a validity window and hours.
type MonthlyGroup = ((Window, Slot), Vec<(i8, Weekday)>);

impl Timetable {
    /// Converts stored schedules (see [`Schedule`]: freq `weekly`|`monthly`,
    /// byday like `["MO","TU"]` or `["1SA","-1FR"]`, opens_at/closes_at
    /// `HH:MM`, overnight, valid_from/valid_to) into rules. A closing time
    /// before the opening time counts as overnight even without the flag.
    /// Unknown day codes are skipped, and so is a schedule left with no days
    /// or with an unreadable time; never panics. Which schedules apply (a
    /// service's, or a service at one location) is the caller's choice;
    /// exceptions and the other flags are set on the result.
    pub fn from_schedules(schedules: &[Schedule], closed_on_public_holidays: bool) -> Timetable {
        Timetable {
            rules: schedules.iter().filter_map(rule_from_schedule).collect(),
            exceptions: Vec::new(),
            closed_on_public_holidays,
            open_24_hours: false,
            by_appointment: false,
        }
    }

    pub fn is_open_at(&self, at: DateTime<Utc>, holidays: &HolidayCalendar) -> bool {
        let Some(local) = to_local(at) else {
            return false;
        };
        let today = local.date();
        // A span lasts at most two days, so only yesterday's can reach today.
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .flat_map(|date| self.spans_on(date, holidays))
            .any(|(start, end)| start <= local && local < end)
    }

    /// The interval containing `at`, as UTC instants (for `closes_at`).
    /// Touching or overlapping openings count as one (09:00–12:00 and
    /// 12:00–17:00 give 09:00–17:00); an unbroken opening is followed for at
    /// most [`SEARCH_DAYS`] each way, so a 24-hour service gets those edges.
    pub fn current_interval(
        &self,
        at: DateTime<Utc>,
        holidays: &HolidayCalendar,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let today = to_local(at)?.date();
        let nearby: Vec<UtcSpan> = [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .flat_map(|date| self.pieces_on(date, holidays))
            .collect();
        let mut interval = *nearby.iter().find(|(s, e)| *s <= at && at < *e)?;
        absorb(&mut interval, &nearby);
        self.extend_forward(today, &mut interval, holidays);
        self.extend_backward(today, &mut interval, holidays);
        Some(interval)
    }

    /// The start of the next opening strictly after `at` (or after the end of
    /// `at`'s interval, if open then), searching up to [`SEARCH_DAYS`] days.
    pub fn next_open(
        &self,
        at: DateTime<Utc>,
        holidays: &HolidayCalendar,
    ) -> Option<DateTime<Utc>> {
        let after = match self.current_interval(at, holidays) {
            Some((_, end)) => end,
            None => at,
        };
        let last = to_local(at)?
            .date()
            .checked_add_days(Days::new(SEARCH_DAYS))?;
        // Start a day early: yesterday's overnight span may still be ahead of `after`.
        let mut date = to_local(after)?.date().pred_opt()?;
        while date <= last {
            let next = self
                .pieces_on(date, holidays)
                .into_iter()
                .map(|(start, _)| start)
                .filter(|start| *start > after)
                .min();
            if next.is_some() {
                return next;
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// Every opening that overlaps `[from, to)`, merged and clipped to it, as
    /// UTC instants: for precomputing "open at" in a search index. Looks at
    /// most [`SEARCH_DAYS`] days past `from`.
    pub fn openings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        holidays: &HolidayCalendar,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let (Some(first), Some(last)) = (to_local(from), to_local(to)) else {
            return Vec::new();
        };
        let limit = first
            .date()
            .checked_add_days(Days::new(SEARCH_DAYS))
            .map_or(last.date(), |limit| limit.min(last.date()));
        let mut pieces = Vec::new();
        let mut date = first.date().pred_opt();
        while let Some(day) = date.filter(|d| *d <= limit) {
            pieces.extend(self.pieces_on(day, holidays));
            date = day.succ_opt();
        }
        let clipped = pieces
            .into_iter()
            .map(|(s, e)| (s.max(from), e.min(to)))
            .filter(|(s, e)| s < e)
            .collect();
        merge(clipped)
    }

    /// ORUK-style: open at some point between `start` and `end` on `day` in a
    /// typical week (weekly and monthly rules; exceptions, holidays and
    /// validity windows ignored). `end` before `start` is a window running
    /// past midnight; `end` equal to `start` asks about that moment.
    pub fn open_during(&self, day: Weekday, start: NaiveTime, end: NaiveTime) -> bool {
        if self.open_24_hours {
            return true;
        }
        let from = seconds(start);
        let to = if end < start {
            seconds(end) + SECONDS_PER_DAY
        } else {
            seconds(end)
        };
        // Rules of the day before (overnight), the day and the day after (a
        // window past midnight), shifted onto `day`'s clock.
        let neighbours = [
            (day.pred(), -SECONDS_PER_DAY),
            (day, 0),
            (day.succ(), SECONDS_PER_DAY),
        ];
        self.rules.iter().any(|rule| {
            neighbours.iter().any(|(weekday, shift)| {
                rule.days.has_weekday(*weekday)
                    && rule_seconds(rule)
                        .is_some_and(|(o, c)| overlaps(o + shift, c + shift, from, to))
            })
        })
    }

    /// Every programme window has ended: all rules have a `valid_to` before
    /// `today` (false when there are no rules or the service is 24 hours).
    pub fn ended(&self, today: NaiveDate) -> bool {
        !self.open_24_hours
            && !self.rules.is_empty()
            && self
                .rules
                .iter()
                .all(|rule| rule.valid_to.is_some_and(|to| to < today))
    }

    /// A human summary, e.g. "Mon–Fri 09:00–17:00; first Sat 10:00–12:00;
    /// closed public holidays". Empty when there is nothing to say.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.open_24_hours {
            parts.push("24 hours".to_string());
        } else {
            parts.extend(self.weekly_summary());
            parts.extend(self.monthly_summary());
        }
        if self.by_appointment {
            parts.push("by appointment".to_string());
        }
        if self.closed_on_public_holidays && !parts.is_empty() {
            parts.push("closed public holidays".to_string());
        }
        parts.join("; ")
    }

    /// The dated exceptions still to come on or after `today`, soonest
    /// first, at most `limit`: "closed 24 Dec 2026 to 2 Jan 2027", "27 Dec
    /// 2026 10:00–14:00". For the human summary: the weekly pattern alone
    /// would hide a closure next week.
    pub fn exceptions_summary(&self, today: NaiveDate, limit: usize) -> Vec<String> {
        let date = |d: NaiveDate| d.format("%-d %b %Y").to_string();
        let mut upcoming: Vec<(NaiveDate, String)> = Vec::new();
        let mut special: Vec<(NaiveDate, Vec<Slot>)> = Vec::new();
        for exception in &self.exceptions {
            match *exception {
                Exception::Closed { from, to } if to >= today => {
                    let text = if from == to {
                        format!("closed {}", date(from))
                    } else {
                        format!("closed {} to {}", date(from), date(to))
                    };
                    upcoming.push((from, text));
                }
                Exception::Hours {
                    date: on,
                    opens,
                    closes,
                } if on >= today => {
                    let slot = (opens, closes, closes <= opens);
                    match special.iter_mut().find(|(d, _)| *d == on) {
                        Some((_, slots)) => slots.push(slot),
                        None => special.push((on, vec![slot])),
                    }
                }
                _ => {}
            }
        }
        for (on, mut slots) in special {
            slots.sort();
            let hours: Vec<String> = slots.iter().map(slot_text).collect();
            upcoming.push((on, format!("{} {}", date(on), hours.join(", "))));
        }
        upcoming.sort();
        upcoming.dedup();
        upcoming
            .into_iter()
            .take(limit)
            .map(|(_, text)| text)
            .collect()
    }

    /// The local spans starting on `date`, after exceptions and holidays.
    fn spans_on(&self, date: NaiveDate, holidays: &HolidayCalendar) -> Vec<LocalSpan> {
        let special: Vec<LocalSpan> = self
            .exceptions
            .iter()
            .filter_map(|exception| match exception {
                Exception::Hours {
                    date: d,
                    opens,
                    closes,
                } if *d == date => local_span(date, *opens, *closes, closes <= opens),
                _ => None,
            })
            .collect();
        let has_special = self
            .exceptions
            .iter()
            .any(|e| matches!(e, Exception::Hours { date: d, .. } if *d == date));
        if has_special {
            return special;
        }
        if self.exceptions.iter().any(|e| closes_on(e, date)) {
            return Vec::new();
        }
        let mut spans = Vec::new();
        if self.open_24_hours {
            spans.extend(local_span(date, NaiveTime::MIN, NaiveTime::MIN, true));
        }
        for rule in self.rules.iter().filter(|rule| rule.applies_on(date)) {
            spans.extend(local_span(date, rule.opens, rule.closes, rule.overnight));
        }
        // Checked last: most days have no spans, and then no holiday lookup.
        if !spans.is_empty() && self.closed_on_public_holidays && holidays.is_holiday(date) {
            return Vec::new();
        }
        spans
    }

    /// The spans starting on `date` as UTC instants, in order.
    fn pieces_on(&self, date: NaiveDate, holidays: &HolidayCalendar) -> Vec<UtcSpan> {
        let pieces = self
            .spans_on(date, holidays)
            .into_iter()
            .flat_map(utc_pieces)
            .collect();
        merge(pieces)
    }

    /// Grows `interval` by the openings of the following days that touch it.
    fn extend_forward(&self, today: NaiveDate, interval: &mut UtcSpan, holidays: &HolidayCalendar) {
        let mut date = today;
        for _ in 0..SEARCH_DAYS {
            let Some(next) = date.succ_opt() else { return };
            date = next;
            // Spans starting on `date` start at its midnight or later.
            match earliest_instant(date.and_time(NaiveTime::MIN)) {
                Some(midnight) if midnight <= interval.1 => {}
                _ => return,
            }
            absorb(interval, &self.pieces_on(date, holidays));
        }
    }

    /// Grows `interval` by the openings of the preceding days that touch it.
    /// Yesterday's are already in; a span lasts at most two days.
    fn extend_backward(
        &self,
        today: NaiveDate,
        interval: &mut UtcSpan,
        holidays: &HolidayCalendar,
    ) {
        let Some(mut date) = today.pred_opt() else {
            return;
        };
        for _ in 0..SEARCH_DAYS {
            let Some(previous) = date.pred_opt() else {
                return;
            };
            date = previous;
            let latest_end = date
                .checked_add_days(Days::new(2))
                .and_then(|d| latest_instant(d.and_time(NaiveTime::MIN)));
            match latest_end {
                Some(end) if end >= interval.0 => {}
                _ => return,
            }
            absorb(interval, &self.pieces_on(date, holidays));
        }
    }

    /// Weekly rules grouped by validity window, then by days with the same
    /// hours: "Mon–Fri 09:00–17:00", "Mon, Wed 10:00–12:00, 13:00–15:00".
    fn weekly_summary(&self) -> Vec<String> {
        let mut parts = Vec::new();
        for window in self.windows(|days| matches!(days, DaySpec::Weekly(_))) {
            let mut by_day: [Vec<Slot>; 7] = Default::default();
            for rule in self.rules.iter().filter(|r| window_of(r) == window) {
                if let DaySpec::Weekly(days) = &rule.days {
                    for day in days {
                        by_day[day.num_days_from_monday() as usize].push(slot_of(rule));
                    }
                }
            }
            let mut groups: Vec<(Vec<Weekday>, Vec<Slot>)> = Vec::new();
            for (day, mut slots) in WEEK.into_iter().zip(by_day) {
                slots.sort();
                slots.dedup();
                if slots.is_empty() {
                    continue;
                }
                match groups.iter_mut().find(|(_, s)| *s == slots) {
                    Some((days, _)) => days.push(day),
                    None => groups.push((vec![day], slots)),
                }
            }
            for (days, slots) in groups {
                let hours = slots.iter().map(slot_text).collect::<Vec<_>>().join(", ");
                let text = if days.len() == 7 && hours == "24 hours" {
                    hours
                } else {
                    format!("{} {hours}", day_list_text(&days))
                };
                parts.push(format!("{text}{}", window_text(window)));
            }
        }
        parts
    }

    /// Monthly rules grouped by validity window and hours: "first and third
    /// Tue 10:00–12:00", "last Fri 17:00–19:00".
    fn monthly_summary(&self) -> Vec<String> {
        let mut groups: Vec<MonthlyGroup> = Vec::new();
        for rule in &self.rules {
            let DaySpec::Monthly(entries) = &rule.days else {
                continue;
            };
            let key = (window_of(rule), slot_of(rule));
            let index = match groups.iter().position(|(k, _)| *k == key) {
                Some(index) => index,
                None => {
                    groups.push((key, Vec::new()));
                    groups.len() - 1
                }
            };
            for entry in entries.iter().filter(|(o, _)| valid_ordinal(*o)) {
                if !groups[index].1.contains(entry) {
                    groups[index].1.push(*entry);
                }
            }
        }
        groups
            .into_iter()
            .filter(|(_, entries)| !entries.is_empty())
            .map(|((window, slot), entries)| {
                format!(
                    "{} {}{}",
                    monthly_days_text(&entries),
                    slot_text(&slot),
                    window_text(window)
                )
            })
            .collect()
    }

    /// The distinct validity windows of the rules matching `kind`, in order.
    fn windows(&self, kind: impl Fn(&DaySpec) -> bool) -> Vec<Window> {
        let mut windows = Vec::new();
        for rule in self.rules.iter().filter(|r| kind(&r.days)) {
            if !windows.contains(&window_of(rule)) {
                windows.push(window_of(rule));
            }
        }
        windows
    }
}

fn rule_from_schedule(schedule: &Schedule) -> Option<Rule> {
    let opens = parse_clock(&schedule.opens_at)?;
    let (closes, end_of_day) = parse_closing(&schedule.closes_at)?;
    let days = match schedule.freq.trim().to_ascii_lowercase().as_str() {
        "weekly" => {
            let days: Vec<Weekday> = schedule.byday.iter().filter_map(|c| day_code(c)).collect();
            (!days.is_empty()).then_some(DaySpec::Weekly(days))?
        }
        "monthly" => {
            let entries: Vec<(i8, Weekday)> = schedule
                .byday
                .iter()
                .filter_map(|c| monthly_code(c))
                .collect();
            (!entries.is_empty()).then_some(DaySpec::Monthly(entries))?
        }
        _ => return None,
    };
    Some(Rule {
        days,
        opens,
        closes,
        overnight: schedule.overnight || closes < opens || end_of_day,
        valid_from: schedule.valid_from,
        valid_to: schedule.valid_to,
    })
}

pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

/// A closing time, and whether it is the end of the day: `24:00`, or
/// `23:59` (the usual way of writing "until midnight" where 24:00 is not
/// allowed). The end of the day is midnight of the next day, so it runs on
/// into an opening that starts at 00:00.
pub fn parse_closing(text: &str) -> Option<(NaiveTime, bool)> {
    match text.trim() {
        "24:00" | "24:00:00" | "23:59" | "23:59:00" | "23:59:59" => Some((NaiveTime::MIN, true)),
        other => parse_clock(other).map(|t| (t, false)),
    }
}

/// `MO`..`SU`, any case.
fn day_code(code: &str) -> Option<Weekday> {
    match code.trim().to_ascii_uppercase().as_str() {
        "MO" => Some(Weekday::Mon),
        "TU" => Some(Weekday::Tue),
        "WE" => Some(Weekday::Wed),
        "TH" => Some(Weekday::Thu),
        "FR" => Some(Weekday::Fri),
        "SA" => Some(Weekday::Sat),
        "SU" => Some(Weekday::Sun),
        _ => None,
    }
}

/// An ordinal and a day code: `1SA`, `3TU`, `-1FR`.
fn monthly_code(code: &str) -> Option<(i8, Weekday)> {
    let code = code.trim();
    // `get` rather than indexing: a multi-byte character must not panic.
    let split = code.len().checked_sub(2)?;
    let ordinal: i8 = code.get(..split)?.parse().ok()?;
    let day = day_code(code.get(split..)?)?;
    valid_ordinal(ordinal).then_some((ordinal, day))
}

fn local_span(
    date: NaiveDate,
    opens: NaiveTime,
    closes: NaiveTime,
    overnight: bool,
) -> Option<LocalSpan> {
    let start = date.and_time(opens);
    let end_date = if overnight { date.succ_opt()? } else { date };
    let end = end_date.and_time(closes);
    // A rule closing at or before it opens without `overnight` is invalid:
    // it simply never opens.
    (start < end).then_some((start, end))
}

fn closes_on(exception: &Exception, date: NaiveDate) -> bool {
    match exception {
        Exception::Closed { from, to } => *from <= date && date <= *to,
        Exception::Hours { .. } => false,
    }
}

/// London's offset from UTC at a UTC instant, in seconds.
fn offset_at(utc: NaiveDateTime) -> i64 {
    i64::from(
        London
            .offset_from_utc_datetime(&utc)
            .fix()
            .local_minus_utc(),
    )
}

/// The wall-clock reading in London at `at` (None only at chrono's limits).
fn to_local(at: DateTime<Utc>) -> Option<NaiveDateTime> {
    let utc = at.naive_utc();
    utc.checked_add_signed(Duration::seconds(offset_at(utc)))
}

/// The first instant showing `local` on the clock (for a time skipped in
/// March: none; the caller treats that as "unknown").
fn earliest_instant(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    London
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn latest_instant(local: NaiveDateTime) -> Option<DateTime<Utc>> {
    London
        .from_local_datetime(&local)
        .latest()
        .map(|t| t.with_timezone(&Utc))
}

/// The instants whose wall-clock reading falls in `span`: one interval, or
/// two when the clocks go back in the middle of it (the repeated hour is
/// open twice, the part after `end` on the first pass is not).
fn utc_pieces((start, end): LocalSpan) -> Vec<UtcSpan> {
    let margin = Duration::hours(OFFSET_MARGIN_HOURS);
    let (Some(low), Some(high)) = (
        start.checked_sub_signed(margin),
        end.checked_add_signed(margin),
    ) else {
        return Vec::new();
    };
    let (before, after) = (offset_at(low), offset_at(high));
    if before == after {
        return stretch(low, high, before, (start, end))
            .into_iter()
            .collect();
    }
    // Clock changes are months apart, so there is exactly one in between.
    let change = offset_change(low, high, before);
    let pieces = [
        stretch(low, change, before, (start, end)),
        stretch(change, high, after, (start, end)),
    ];
    merge(pieces.into_iter().flatten().collect())
}

/// Within `[from, to)`, where the offset is constant, the instants whose
/// local time falls in `span`.
fn stretch(
    from: NaiveDateTime,
    to: NaiveDateTime,
    offset: i64,
    span: LocalSpan,
) -> Option<UtcSpan> {
    let offset = Duration::seconds(offset);
    let start = from.max(span.0.checked_sub_signed(offset)?);
    let end = to.min(span.1.checked_sub_signed(offset)?);
    (start < end).then(|| (start.and_utc(), end.and_utc()))
}

/// The instant the offset changes from `before`, somewhere in `(low, high]`,
/// by bisection on whole seconds (changes happen on whole seconds).
fn offset_change(low: NaiveDateTime, high: NaiveDateTime, before: i64) -> NaiveDateTime {
    let offset_at_second =
        |second: i64| DateTime::from_timestamp(second, 0).map(|t| offset_at(t.naive_utc()));
    let mut low_second = low.and_utc().timestamp();
    let mut high_second = high.and_utc().timestamp();
    while high_second - low_second > 1 {
        let middle = low_second + (high_second - low_second) / 2;
        if offset_at_second(middle) == Some(before) {
            low_second = middle;
        } else {
            high_second = middle;
        }
    }
    DateTime::from_timestamp(high_second, 0).map_or(high, |t| t.naive_utc())
}

/// Sorts and joins overlapping or touching intervals.
fn merge(mut spans: Vec<UtcSpan>) -> Vec<UtcSpan> {
    spans.sort();
    let mut merged: Vec<UtcSpan> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Grows `interval` by every piece that overlaps or touches it.
fn absorb(interval: &mut UtcSpan, pieces: &[UtcSpan]) {
    loop {
        let mut grew = false;
        for (start, end) in pieces {
            if *start <= interval.1 && *end >= interval.0 {
                if *start < interval.0 {
                    interval.0 = *start;
                    grew = true;
                }
                if *end > interval.1 {
                    interval.1 = *end;
                    grew = true;
                }
            }
        }
        if !grew {
            return;
        }
    }
}

fn seconds(time: NaiveTime) -> i64 {
    i64::from(time.num_seconds_from_midnight())
}

/// A rule's span in seconds from the start of its day; None if invalid.
fn rule_seconds(rule: &Rule) -> Option<(i64, i64)> {
    let opens = seconds(rule.opens);
    let closes = seconds(rule.closes) + if rule.overnight { SECONDS_PER_DAY } else { 0 };
    (opens < closes).then_some((opens, closes))
}

/// Whether `[opens, closes)` meets the window `[from, to)` (or the moment
/// `from`, when the window is empty).
fn overlaps(opens: i64, closes: i64, from: i64, to: i64) -> bool {
    if from == to {
        opens <= from && from < closes
    } else {
        opens < to && from < closes
    }
}

fn window_of(rule: &Rule) -> Window {
    (rule.valid_from, rule.valid_to)
}

fn slot_of(rule: &Rule) -> Slot {
    (rule.opens, rule.closes, rule.overnight)
}

fn slot_text((opens, closes, overnight): &Slot) -> String {
    if *overnight && *opens == NaiveTime::MIN && *closes == NaiveTime::MIN {
        return "24 hours".to_string();
    }
    let closing = if *overnight && *closes == NaiveTime::MIN {
        "24:00".to_string()
    } else {
        closes.format("%H:%M").to_string()
    };
    format!("{}–{closing}", opens.format("%H:%M"))
}

fn window_text(window: Window) -> String {
    let date = |d: NaiveDate| d.format("%-d %b %Y").to_string();
    match window {
        (None, None) => String::new(),
        (Some(from), Some(to)) => format!(" (from {} to {})", date(from), date(to)),
        (Some(from), None) => format!(" (from {})", date(from)),
        (None, Some(to)) => format!(" (until {})", date(to)),
    }
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// "Every day", "Mon–Fri", "Mon, Wed", "Mon–Wed, Fri". `days` are in week
/// order; runs of three or more consecutive days get an en dash.
fn day_list_text(days: &[Weekday]) -> String {
    if days.len() == 7 {
        return "Every day".to_string();
    }
    let mut runs: Vec<Vec<Weekday>> = Vec::new();
    for day in days {
        match runs.last_mut() {
            Some(run)
                if run
                    .last()
                    .is_some_and(|last| last.succ() == *day && *day != Weekday::Mon) =>
            {
                run.push(*day)
            }
            _ => runs.push(vec![*day]),
        }
    }
    let mut names = Vec::new();
    for run in runs {
        match (run.first(), run.last()) {
            (Some(first), Some(last)) if run.len() >= 3 => {
                names.push(format!("{}–{}", day_name(*first), day_name(*last)))
            }
            _ => names.extend(run.iter().map(|d| day_name(*d).to_string())),
        }
    }
    names.join(", ")
}

/// "first and third Tue", "first Sat, last Fri".
fn monthly_days_text(entries: &[(i8, Weekday)]) -> String {
    let mut weekdays: Vec<Weekday> = Vec::new();
    for (_, day) in entries {
        if !weekdays.contains(day) {
            weekdays.push(*day);
        }
    }
    weekdays
        .into_iter()
        .map(|day| {
            let mut ordinals: Vec<i8> = entries
                .iter()
                .filter(|(_, d)| *d == day)
                .map(|(o, _)| *o)
                .collect();
            // First to fifth, then last, second last, ...
            ordinals.sort_by_key(|o| {
                if *o > 0 {
                    i16::from(*o)
                } else {
                    100 - i16::from(*o)
                }
            });
            let words: Vec<&str> = ordinals.into_iter().map(ordinal_word).collect();
            format!("{} {}", and_list(&words), day_name(day))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ordinal_word(ordinal: i8) -> &'static str {
    match ordinal {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        5 => "fifth",
        -1 => "last",
        -2 => "second last",
        -3 => "third last",
        -4 => "fourth last",
        -5 => "fifth last",
        // Callers pass valid ordinals only.
        _ => "",
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(words: &[&str]) -> String {
    match words.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests;
