//! Table-driven tests of timetable evaluation. Instants are written either
//! as London wall-clock times (`local`) or, around the clock changes, as UTC.

use chrono::Weekday::{Fri, Mon, Sat, Sun, Thu, Tue, Wed};
use uuid::Uuid;

use super::*;

const WEEKDAYS: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];
const ALL_WEEK: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri, Sat, Sun];

/// An expected interval, as two instants in the row's notation.
type Interval = Option<(&'static str, &'static str)>;

fn t(text: &str) -> NaiveTime {
    NaiveTime::parse_from_str(text, "%H:%M").unwrap()
}

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A UTC instant: "2026-03-29T01:00:00Z".
fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// An unambiguous London wall-clock time: "2026-06-01 09:00".
fn local(text: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    London
        .from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn weekly(days: &[Weekday], opens: &str, closes: &str) -> Rule {
    Rule {
        days: DaySpec::Weekly(days.to_vec()),
        opens: t(opens),
        closes: t(closes),
        overnight: false,
        valid_from: None,
        valid_to: None,
    }
}

fn overnight(days: &[Weekday], opens: &str, closes: &str) -> Rule {
    Rule {
        overnight: true,
        ..weekly(days, opens, closes)
    }
}

fn monthly(entries: &[(i8, Weekday)], opens: &str, closes: &str) -> Rule {
    Rule {
        days: DaySpec::Monthly(entries.to_vec()),
        ..weekly(&[], opens, closes)
    }
}

fn valid(rule: Rule, from: Option<&str>, to: Option<&str>) -> Rule {
    Rule {
        valid_from: from.map(d),
        valid_to: to.map(d),
        ..rule
    }
}

fn timetable(rules: Vec<Rule>) -> Timetable {
    Timetable {
        rules,
        ..Timetable::default()
    }
}

fn office() -> Timetable {
    timetable(vec![weekly(WEEKDAYS, "09:00", "17:00")])
}

fn office_closed_on_holidays() -> Timetable {
    Timetable {
        closed_on_public_holidays: true,
        ..office()
    }
}

fn no_extra() -> HolidayCalendar {
    HolidayCalendar::default()
}

/// Checks `is_open_at` for each (label, instant, expected) row.
fn check_open(timetable: &Timetable, rows: &[(&str, DateTime<Utc>, bool)]) {
    for (label, at, expected) in rows {
        assert_eq!(
            timetable.is_open_at(*at, &no_extra()),
            *expected,
            "{label} ({at})"
        );
    }
}

#[test]
fn ordinary_week() {
    check_open(
        &office(),
        &[
            ("Mon before opening", local("2026-06-01 08:59"), false),
            ("Mon at opening", local("2026-06-01 09:00"), true),
            ("Mon midday", local("2026-06-01 12:00"), true),
            ("Mon just before closing", local("2026-06-01 16:59"), true),
            ("Mon at closing", local("2026-06-01 17:00"), false),
            ("Fri afternoon", local("2026-06-05 16:59"), true),
            ("Sat", local("2026-06-06 12:00"), false),
            ("Sun", local("2026-06-07 12:00"), false),
            ("winter Mon at opening", local("2026-01-05 09:00"), true),
            ("winter Mon at closing", local("2026-01-05 17:00"), false),
            // In summer 09:00 in London is 08:00 UTC.
            ("BST opening in UTC", utc("2026-06-01T08:00:00Z"), true),
            (
                "BST before opening in UTC",
                utc("2026-06-01T07:59:59Z"),
                false,
            ),
            (
                "BST before closing in UTC",
                utc("2026-06-01T15:59:59Z"),
                true,
            ),
            ("BST closing in UTC", utc("2026-06-01T16:00:00Z"), false),
        ],
    );
}

#[test]
fn several_intervals_a_day() {
    let split = timetable(vec![
        weekly(WEEKDAYS, "09:00", "12:00"),
        weekly(WEEKDAYS, "13:00", "17:00"),
        weekly(&[Tue], "18:00", "20:00"),
    ]);
    check_open(
        &split,
        &[
            ("morning", local("2026-06-01 11:59"), true),
            ("lunch starts", local("2026-06-01 12:00"), false),
            ("lunch", local("2026-06-01 12:30"), false),
            ("afternoon starts", local("2026-06-01 13:00"), true),
            ("Mon evening", local("2026-06-01 18:30"), false),
            ("Tue evening", local("2026-06-02 18:30"), true),
            ("Tue evening ends", local("2026-06-02 20:00"), false),
        ],
    );
}

#[test]
fn midnight_crossing() {
    let late = timetable(vec![overnight(&[Fri], "22:00", "02:00")]);
    check_open(
        &late,
        &[
            ("Fri before", local("2026-06-05 21:59"), false),
            ("Fri at opening", local("2026-06-05 22:00"), true),
            ("Fri late", local("2026-06-05 23:59"), true),
            ("Sat midnight", local("2026-06-06 00:00"), true),
            ("Sat 01:00", local("2026-06-06 01:00"), true),
            ("Sat 01:59", local("2026-06-06 01:59"), true),
            ("Sat at closing", local("2026-06-06 02:00"), false),
            (
                "Fri early morning (Thu night)",
                local("2026-06-05 01:00"),
                false,
            ),
            (
                "Sun early morning (Sat night)",
                local("2026-06-07 01:00"),
                false,
            ),
        ],
    );
    assert_eq!(
        late.current_interval(local("2026-06-06 01:00"), &no_extra()),
        Some((local("2026-06-05 22:00"), local("2026-06-06 02:00")))
    );
}

/// 29 March 2026: at 01:00 UTC the clocks go from 01:00 GMT to 02:00 BST,
/// so 01:00–02:00 local does not exist. 25 October 2026: at 01:00 UTC they go
/// from 02:00 BST back to 01:00 GMT, so 01:00–02:00 local happens twice.
#[test]
fn clock_change_sundays() {
    let wide = timetable(vec![weekly(&[Sun], "00:30", "03:00")]);
    let narrow = timetable(vec![weekly(&[Sun], "01:00", "02:00")]);
    let rows: &[(&str, &Timetable, &str, bool)] = &[
        // March, 00:30–03:00 local: 00:30 GMT to 03:00 BST, 90 real minutes.
        ("Mar wide 00:29 GMT", &wide, "2026-03-29T00:29:00Z", false),
        ("Mar wide 00:30 GMT", &wide, "2026-03-29T00:30:00Z", true),
        ("Mar wide 00:59:59 GMT", &wide, "2026-03-29T00:59:59Z", true),
        ("Mar wide 02:00 BST", &wide, "2026-03-29T01:00:00Z", true),
        ("Mar wide 02:30 BST", &wide, "2026-03-29T01:30:00Z", true),
        ("Mar wide 02:59:59 BST", &wide, "2026-03-29T01:59:59Z", true),
        ("Mar wide 03:00 BST", &wide, "2026-03-29T02:00:00Z", false),
        // March, 01:00–02:00 local never shows on the clock.
        (
            "Mar narrow 00:30 GMT",
            &narrow,
            "2026-03-29T00:30:00Z",
            false,
        ),
        (
            "Mar narrow 00:59:59 GMT",
            &narrow,
            "2026-03-29T00:59:59Z",
            false,
        ),
        (
            "Mar narrow 02:00 BST",
            &narrow,
            "2026-03-29T01:00:00Z",
            false,
        ),
        (
            "Mar narrow 02:30 BST",
            &narrow,
            "2026-03-29T01:30:00Z",
            false,
        ),
        // October, 00:30–03:00 local: 00:30 BST to 03:00 GMT, 3.5 real hours.
        ("Oct wide 00:29 BST", &wide, "2026-10-24T23:29:00Z", false),
        ("Oct wide 00:30 BST", &wide, "2026-10-24T23:30:00Z", true),
        ("Oct wide 01:30 BST", &wide, "2026-10-25T00:30:00Z", true),
        ("Oct wide 01:30 GMT", &wide, "2026-10-25T01:30:00Z", true),
        ("Oct wide 02:59:59 GMT", &wide, "2026-10-25T02:59:59Z", true),
        ("Oct wide 03:00 GMT", &wide, "2026-10-25T03:00:00Z", false),
        // October, 01:00–02:00 local: both passes, two real hours.
        (
            "Oct narrow 00:59:59 BST",
            &narrow,
            "2026-10-24T23:59:59Z",
            false,
        ),
        (
            "Oct narrow 01:00 BST",
            &narrow,
            "2026-10-25T00:00:00Z",
            true,
        ),
        (
            "Oct narrow 01:30 BST",
            &narrow,
            "2026-10-25T00:30:00Z",
            true,
        ),
        (
            "Oct narrow 01:59:59 BST",
            &narrow,
            "2026-10-25T00:59:59Z",
            true,
        ),
        (
            "Oct narrow 01:00 GMT",
            &narrow,
            "2026-10-25T01:00:00Z",
            true,
        ),
        (
            "Oct narrow 01:30 GMT",
            &narrow,
            "2026-10-25T01:30:00Z",
            true,
        ),
        (
            "Oct narrow 01:59:59 GMT",
            &narrow,
            "2026-10-25T01:59:59Z",
            true,
        ),
        (
            "Oct narrow 02:00 GMT",
            &narrow,
            "2026-10-25T02:00:00Z",
            false,
        ),
    ];
    for (label, timetable, at, expected) in rows {
        assert_eq!(
            timetable.is_open_at(utc(at), &no_extra()),
            *expected,
            "{label}"
        );
    }
}

#[test]
fn clock_change_intervals() {
    let rows: &[(&str, Rule, &str, Interval)] = &[
        (
            "Mar wide",
            weekly(&[Sun], "00:30", "03:00"),
            "2026-03-29T00:45:00Z",
            Some(("2026-03-29T00:30:00Z", "2026-03-29T02:00:00Z")),
        ),
        (
            "Mar narrow",
            weekly(&[Sun], "01:00", "02:00"),
            "2026-03-29T01:00:00Z",
            None,
        ),
        (
            // Opening at a time that does not exist: opens when the clock jumps.
            "Mar opens in the gap",
            weekly(&[Sun], "01:30", "05:00"),
            "2026-03-29T01:00:00Z",
            Some(("2026-03-29T01:00:00Z", "2026-03-29T04:00:00Z")),
        ),
        (
            "Mar closes in the gap",
            weekly(&[Sun], "00:00", "01:30"),
            "2026-03-29T00:30:00Z",
            Some(("2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z")),
        ),
        (
            "Oct wide",
            weekly(&[Sun], "00:30", "03:00"),
            "2026-10-25T00:30:00Z",
            Some(("2026-10-24T23:30:00Z", "2026-10-25T03:00:00Z")),
        ),
        (
            "Oct narrow, first pass",
            weekly(&[Sun], "01:00", "02:00"),
            "2026-10-25T00:30:00Z",
            Some(("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")),
        ),
        (
            "Oct narrow, second pass",
            weekly(&[Sun], "01:00", "02:00"),
            "2026-10-25T01:30:00Z",
            Some(("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")),
        ),
        (
            // 01:30–01:45 shows twice, with 01:45 BST to 01:30 GMT between.
            "Oct quarter hour, first pass",
            weekly(&[Sun], "01:30", "01:45"),
            "2026-10-25T00:35:00Z",
            Some(("2026-10-25T00:30:00Z", "2026-10-25T00:45:00Z")),
        ),
        (
            "Oct quarter hour, between",
            weekly(&[Sun], "01:30", "01:45"),
            "2026-10-25T01:00:00Z",
            None,
        ),
        (
            "Oct quarter hour, second pass",
            weekly(&[Sun], "01:30", "01:45"),
            "2026-10-25T01:40:00Z",
            Some(("2026-10-25T01:30:00Z", "2026-10-25T01:45:00Z")),
        ),
    ];
    for (label, rule, at, expected) in rows {
        let timetable = timetable(vec![rule.clone()]);
        let found = timetable.current_interval(utc(at), &no_extra());
        assert_eq!(found, expected.map(|(s, e)| (utc(s), utc(e))), "{label}");
        assert_eq!(
            timetable.is_open_at(utc(at), &no_extra()),
            expected.is_some(),
            "{label}"
        );
    }
    let quarter = timetable(vec![weekly(&[Sun], "01:30", "01:45")]);
    assert_eq!(
        quarter.next_open(utc("2026-10-25T00:35:00Z"), &no_extra()),
        Some(utc("2026-10-25T01:30:00Z"))
    );
    let gap = timetable(vec![weekly(&[Sun], "01:30", "05:00")]);
    assert_eq!(
        gap.next_open(utc("2026-03-29T00:00:00Z"), &no_extra()),
        Some(utc("2026-03-29T01:00:00Z"))
    );
}

const HOLIDAYS_2026_2027: &[&str] = &[
    "2026-01-01",
    "2026-01-02",
    "2026-04-03",
    "2026-05-04",
    "2026-05-25",
    "2026-08-03",
    "2026-11-30",
    "2026-12-25",
    "2026-12-28",
    "2027-01-01",
    "2027-01-04",
    "2027-03-26",
    "2027-05-03",
    "2027-05-31",
    "2027-08-02",
    "2027-11-30",
    "2027-12-27",
    "2027-12-28",
];

#[test]
fn every_2026_and_2027_holiday_closes_a_weekday_service() {
    let closing = office_closed_on_holidays();
    for date in HOLIDAYS_2026_2027 {
        let noon = local(&format!("{date} 12:00"));
        assert!(!closing.is_open_at(noon, &no_extra()), "{date}");
        // Every one falls on a weekday, so without the flag it is open.
        assert!(office().is_open_at(noon, &no_extra()), "{date}");
    }
    for date in [
        "2026-04-06", // Easter Monday
        "2027-03-29", // Easter Monday
        "2026-12-29",
        "2027-01-05",
        "2026-08-31", // English summer bank holiday
    ] {
        let noon = local(&format!("{date} 12:00"));
        assert!(closing.is_open_at(noon, &no_extra()), "{date}");
    }
    // Configured extra dates close it too.
    let extra = HolidayCalendar::new([d("2026-06-09")]);
    assert!(!closing.is_open_at(local("2026-06-09 12:00"), &extra));
    assert!(office().is_open_at(local("2026-06-09 12:00"), &extra));
}

#[test]
fn monthly_rules() {
    let last_friday = monthly(&[(-1, Fri)], "17:00", "19:00");
    let fourth_friday = monthly(&[(4, Fri)], "17:00", "19:00");
    let fifth_saturday = monthly(&[(5, Sat)], "10:00", "12:00");
    let first_and_third_tuesday = monthly(&[(1, Tue), (3, Tue)], "10:00", "12:00");
    let rows: &[(&str, &Rule, &str, bool)] = &[
        // February 2026 has four Fridays (6, 13, 20, 27), January five (2 … 30).
        (
            "last Fri, Feb (4 Fridays)",
            &last_friday,
            "2026-02-27 18:00",
            true,
        ),
        ("not last Fri, Feb", &last_friday, "2026-02-20 18:00", false),
        (
            "last Fri, Jan (5 Fridays)",
            &last_friday,
            "2026-01-30 18:00",
            true,
        ),
        (
            "fourth Fri is not last, Jan",
            &last_friday,
            "2026-01-23 18:00",
            false,
        ),
        (
            "last Fri at closing",
            &last_friday,
            "2026-01-30 19:00",
            false,
        ),
        ("fourth Fri, Jan", &fourth_friday, "2026-01-23 18:00", true),
        (
            "fourth Fri is last, Feb",
            &fourth_friday,
            "2026-02-27 18:00",
            true,
        ),
        (
            "fifth Fri is not fourth",
            &fourth_friday,
            "2026-01-30 18:00",
            false,
        ),
        ("fifth Sat, Jan", &fifth_saturday, "2026-01-31 11:00", true),
        (
            "fourth Sat, Jan",
            &fifth_saturday,
            "2026-01-24 11:00",
            false,
        ),
        (
            "no fifth Sat in Feb",
            &fifth_saturday,
            "2026-02-28 11:00",
            false,
        ),
        (
            "first Tue, Jan",
            &first_and_third_tuesday,
            "2026-01-06 11:00",
            true,
        ),
        (
            "second Tue, Jan",
            &first_and_third_tuesday,
            "2026-01-13 11:00",
            false,
        ),
        (
            "third Tue, Jan",
            &first_and_third_tuesday,
            "2026-01-20 11:00",
            true,
        ),
        (
            "fourth Tue, Jan",
            &first_and_third_tuesday,
            "2026-01-27 11:00",
            false,
        ),
        (
            "first Tue, Feb",
            &first_and_third_tuesday,
            "2026-02-03 11:00",
            true,
        ),
        (
            "second Tue, Feb",
            &first_and_third_tuesday,
            "2026-02-10 11:00",
            false,
        ),
        (
            "third Tue, Feb",
            &first_and_third_tuesday,
            "2026-02-17 11:00",
            true,
        ),
        (
            "a Wednesday",
            &first_and_third_tuesday,
            "2026-01-07 11:00",
            false,
        ),
    ];
    for (label, rule, at, expected) in rows {
        let at = local(at);
        // Guard against a wrong date in the table: the weekday must be the rule's.
        let weekday = to_local(at).unwrap().weekday();
        if *expected {
            assert!(rule.days.has_weekday(weekday), "{label}");
        }
        let timetable = timetable(vec![(*rule).clone()]);
        assert_eq!(timetable.is_open_at(at, &no_extra()), *expected, "{label}");
    }
}

#[test]
fn validity_window_edges_are_inclusive() {
    let summer = timetable(vec![
        valid(
            weekly(ALL_WEEK, "10:00", "12:00"),
            Some("2026-04-01"),
            Some("2026-09-30"),
        ),
        // An overnight span starting on the last valid day runs to its end.
        valid(
            overnight(&[Sat], "22:00", "02:00"),
            None,
            Some("2026-09-26"),
        ),
    ]);
    check_open(
        &summer,
        &[
            ("day before", local("2026-03-31 11:00"), false),
            ("first day", local("2026-04-01 11:00"), true),
            ("last day", local("2026-09-30 11:00"), true),
            ("day after", local("2026-10-01 11:00"), false),
            ("overnight from last day", local("2026-09-27 01:00"), true),
            ("overnight a week later", local("2026-10-04 01:00"), false),
        ],
    );
}

#[test]
fn exceptions_override_rules() {
    let mut shop = office_closed_on_holidays();
    shop.exceptions = vec![
        Exception::Closed {
            from: d("2026-06-03"),
            to: d("2026-06-04"),
        },
        Exception::Hours {
            date: d("2026-06-06"),
            opens: t("10:00"),
            closes: t("12:00"),
        },
        Exception::Hours {
            date: d("2026-06-08"),
            opens: t("10:00"),
            closes: t("12:00"),
        },
        Exception::Hours {
            date: d("2026-06-08"),
            opens: t("14:00"),
            closes: t("15:00"),
        },
        Exception::Closed {
            from: d("2026-06-10"),
            to: d("2026-06-12"),
        },
        // Special hours win over a closure on the same date.
        Exception::Hours {
            date: d("2026-06-11"),
            opens: t("10:00"),
            closes: t("11:00"),
        },
        // Backwards range: covers nothing.
        Exception::Closed {
            from: d("2026-06-16"),
            to: d("2026-06-15"),
        },
        // Special hours past midnight: closes before it opens.
        Exception::Hours {
            date: d("2026-06-13"),
            opens: t("22:00"),
            closes: t("02:00"),
        },
        // Special hours on a public holiday open the service.
        Exception::Hours {
            date: d("2026-12-25"),
            opens: t("10:00"),
            closes: t("12:00"),
        },
    ];
    check_open(
        &shop,
        &[
            ("ordinary Tue", local("2026-06-02 10:00"), true),
            ("closed Wed", local("2026-06-03 10:00"), false),
            ("closed Thu (last day)", local("2026-06-04 16:00"), false),
            ("Fri after closure", local("2026-06-05 10:00"), true),
            ("special Sat", local("2026-06-06 11:00"), true),
            ("special Sat ends", local("2026-06-06 12:00"), false),
            ("ordinary Sun", local("2026-06-07 11:00"), false),
            (
                "special Mon replaces 09:00",
                local("2026-06-08 09:30"),
                false,
            ),
            ("special Mon morning", local("2026-06-08 11:00"), true),
            (
                "special Mon replaces 13:00",
                local("2026-06-08 13:00"),
                false,
            ),
            ("special Mon afternoon", local("2026-06-08 14:30"), true),
            ("closure start", local("2026-06-10 10:00"), false),
            (
                "special hours inside closure",
                local("2026-06-11 10:30"),
                true,
            ),
            (
                "outside special hours inside closure",
                local("2026-06-11 12:00"),
                false,
            ),
            ("closure end", local("2026-06-12 10:00"), false),
            ("special overnight", local("2026-06-14 01:00"), true),
            ("backwards closure ignored", local("2026-06-15 10:00"), true),
            (
                "backwards closure ignored (2)",
                local("2026-06-16 10:00"),
                true,
            ),
            ("Christmas special hours", local("2026-12-25 11:00"), true),
            (
                "Christmas outside special hours",
                local("2026-12-25 13:00"),
                false,
            ),
            ("Boxing Day substitute", local("2026-12-28 11:00"), false),
        ],
    );
}

#[test]
fn open_24_hours() {
    let always = Timetable {
        open_24_hours: true,
        ..Timetable::default()
    };
    for at in [
        local("2026-06-01 03:00"),
        local("2026-12-25 12:00"),
        utc("2026-03-29T01:00:00Z"),
        utc("2026-10-25T01:30:00Z"),
    ] {
        assert!(always.is_open_at(at, &no_extra()), "{at}");
        let (start, end) = always.current_interval(at, &no_extra()).unwrap();
        assert!(
            start <= at - Duration::days(399) && end >= at + Duration::days(399),
            "{at}"
        );
        assert_eq!(always.next_open(at, &no_extra()), None);
    }

    let except_holidays = Timetable {
        closed_on_public_holidays: true,
        ..always
    };
    check_open(
        &except_holidays,
        &[
            ("Christmas Eve late", local("2026-12-24 23:59"), true),
            ("Christmas Day", local("2026-12-25 12:00"), false),
            ("Boxing Day (Saturday)", local("2026-12-26 12:00"), true),
            ("Boxing Day substitute", local("2026-12-28 12:00"), false),
        ],
    );
    let holidays = no_extra();
    assert_eq!(
        except_holidays.current_interval(local("2026-12-26 12:00"), &holidays),
        Some((local("2026-12-26 00:00"), local("2026-12-28 00:00")))
    );
    assert_eq!(
        except_holidays.next_open(local("2026-12-24 12:00"), &holidays),
        Some(local("2026-12-26 00:00"))
    );
    assert_eq!(
        except_holidays.next_open(local("2026-12-25 12:00"), &holidays),
        Some(local("2026-12-26 00:00"))
    );
}

#[test]
fn next_open() {
    let empty = Timetable::default();
    let appointment_only = Timetable {
        by_appointment: true,
        ..Timetable::default()
    };
    let ended = timetable(vec![valid(
        weekly(WEEKDAYS, "09:00", "17:00"),
        None,
        Some("2026-01-31"),
    )]);
    let starts_in_300_days = timetable(vec![valid(
        weekly(WEEKDAYS, "09:00", "17:00"),
        Some("2027-03-29"),
        None,
    )]);
    let starts_in_500_days = timetable(vec![valid(
        weekly(WEEKDAYS, "09:00", "17:00"),
        Some("2027-10-15"),
        None,
    )]);
    let first_saturday = timetable(vec![monthly(&[(1, Sat)], "10:00", "12:00")]);
    let office = office();
    let closing = office_closed_on_holidays();
    let rows: &[(&str, &Timetable, &str, Option<&str>)] = &[
        (
            "Fri evening to Mon",
            &office,
            "2026-06-05 18:00",
            Some("2026-06-08 09:00"),
        ),
        (
            "open Fri to Mon",
            &office,
            "2026-06-05 12:00",
            Some("2026-06-08 09:00"),
        ),
        (
            "Mon early",
            &office,
            "2026-06-01 08:00",
            Some("2026-06-01 09:00"),
        ),
        (
            "Mon at opening: the next one",
            &office,
            "2026-06-01 09:00",
            Some("2026-06-02 09:00"),
        ),
        (
            "Mon at closing",
            &office,
            "2026-06-01 17:00",
            Some("2026-06-02 09:00"),
        ),
        ("Sat", &office, "2026-06-06 12:00", Some("2026-06-08 09:00")),
        (
            "over the spring clock change",
            &office,
            "2026-03-28 12:00",
            Some("2026-03-30 09:00"),
        ),
        (
            "over Christmas 2026",
            &closing,
            "2026-12-24 18:00",
            Some("2026-12-29 09:00"),
        ),
        (
            "over Christmas 2027",
            &closing,
            "2027-12-24 18:00",
            Some("2027-12-29 09:00"),
        ),
        (
            "over New Year 2027",
            &closing,
            "2026-12-31 18:00",
            Some("2027-01-05 09:00"),
        ),
        (
            "over Good Friday 2026",
            &closing,
            "2026-04-02 18:00",
            Some("2026-04-06 09:00"),
        ),
        (
            "over St Andrew's Day 2026",
            &closing,
            "2026-11-27 18:00",
            Some("2026-12-01 09:00"),
        ),
        (
            "first Sat next month",
            &first_saturday,
            "2026-01-04 12:00",
            Some("2026-02-07 10:00"),
        ),
        ("no rules", &empty, "2026-06-01 12:00", None),
        (
            "by appointment only",
            &appointment_only,
            "2026-06-01 12:00",
            None,
        ),
        ("ended", &ended, "2026-06-01 12:00", None),
        (
            "within 400 days",
            &starts_in_300_days,
            "2026-06-01 12:00",
            Some("2027-03-29 09:00"),
        ),
        (
            "beyond 400 days",
            &starts_in_500_days,
            "2026-06-01 12:00",
            None,
        ),
    ];
    for (label, timetable, at, expected) in rows {
        assert_eq!(
            timetable.next_open(local(at), &no_extra()),
            expected.map(local),
            "{label}"
        );
    }
}

#[test]
fn current_interval() {
    let office = office();
    let adjacent = timetable(vec![
        weekly(WEEKDAYS, "09:00", "12:00"),
        weekly(WEEKDAYS, "12:00", "17:00"),
    ]);
    let overlapping = timetable(vec![
        weekly(WEEKDAYS, "09:00", "13:00"),
        weekly(WEEKDAYS, "12:00", "17:00"),
    ]);
    let split = timetable(vec![
        weekly(WEEKDAYS, "09:00", "12:00"),
        weekly(WEEKDAYS, "13:00", "17:00"),
    ]);
    let late = timetable(vec![
        overnight(&[Fri], "22:00", "00:00"),
        weekly(&[Sat], "00:00", "03:00"),
    ]);
    let rows: &[(&str, &Timetable, &str, Interval)] = &[
        (
            "open",
            &office,
            "2026-06-01 12:00",
            Some(("2026-06-01 09:00", "2026-06-01 17:00")),
        ),
        (
            "at opening",
            &office,
            "2026-06-01 09:00",
            Some(("2026-06-01 09:00", "2026-06-01 17:00")),
        ),
        ("at closing", &office, "2026-06-01 17:00", None),
        ("before opening", &office, "2026-06-01 08:59", None),
        (
            "adjacent rules join",
            &adjacent,
            "2026-06-01 10:00",
            Some(("2026-06-01 09:00", "2026-06-01 17:00")),
        ),
        (
            "overlapping rules join",
            &overlapping,
            "2026-06-01 16:00",
            Some(("2026-06-01 09:00", "2026-06-01 17:00")),
        ),
        (
            "lunch break splits",
            &split,
            "2026-06-01 10:00",
            Some(("2026-06-01 09:00", "2026-06-01 12:00")),
        ),
        (
            "over midnight, before",
            &late,
            "2026-06-05 23:00",
            Some(("2026-06-05 22:00", "2026-06-06 03:00")),
        ),
        (
            "over midnight, after",
            &late,
            "2026-06-06 02:00",
            Some(("2026-06-05 22:00", "2026-06-06 03:00")),
        ),
    ];
    for (label, timetable, at, expected) in rows {
        assert_eq!(
            timetable.current_interval(local(at), &no_extra()),
            expected.map(|(s, e)| (local(s), local(e))),
            "{label}"
        );
    }
}

#[test]
fn openings_between() {
    let office = office();
    let week = office.openings_between(
        local("2026-06-01 12:00"),
        local("2026-06-08 00:00"),
        &no_extra(),
    );
    let expected: Vec<_> = [
        ("2026-06-01 12:00", "2026-06-01 17:00"),
        ("2026-06-02 09:00", "2026-06-02 17:00"),
        ("2026-06-03 09:00", "2026-06-03 17:00"),
        ("2026-06-04 09:00", "2026-06-04 17:00"),
        ("2026-06-05 09:00", "2026-06-05 17:00"),
    ]
    .into_iter()
    .map(|(s, e)| (local(s), local(e)))
    .collect();
    assert_eq!(week, expected);
    let late = timetable(vec![overnight(&[Fri], "22:00", "02:00")]);
    assert_eq!(
        late.openings_between(
            local("2026-06-06 00:00"),
            local("2026-06-07 00:00"),
            &no_extra()
        ),
        vec![(local("2026-06-06 00:00"), local("2026-06-06 02:00"))]
    );
    // A long range is cut at SEARCH_DAYS rather than walked to the end.
    let from = local("2026-06-01 00:00");
    let capped = office.openings_between(from, local("2100-01-01 00:00"), &no_extra());
    let last_start = capped.last().unwrap().0;
    assert!(last_start > from + Duration::days(395) && last_start < from + Duration::days(401));
    let _ = office.openings_between(
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        &no_extra(),
    );
}

#[test]
fn open_during() {
    let mixed = Timetable {
        rules: vec![
            weekly(WEEKDAYS, "09:00", "17:00"),
            monthly(&[(1, Sat)], "10:00", "12:00"),
            overnight(&[Fri], "22:00", "02:00"),
            // Seasonal and ended rules still count: a typical week ignores validity.
            valid(weekly(&[Sun], "14:00", "16:00"), None, Some("2020-01-01")),
        ],
        // And exceptions.
        exceptions: vec![Exception::Closed {
            from: d("2000-01-01"),
            to: d("2100-01-01"),
        }],
        ..Timetable::default()
    };
    let rows: &[(&str, Weekday, &str, &str, bool)] = &[
        ("window ends at opening", Mon, "08:00", "09:00", false),
        ("window overlaps opening", Mon, "08:00", "09:01", true),
        ("window overlaps closing", Mon, "16:59", "18:00", true),
        ("window starts at closing", Mon, "17:00", "18:00", false),
        ("moment inside", Mon, "12:00", "12:00", true),
        ("moment at closing", Mon, "17:00", "17:00", false),
        ("monthly Sat", Sat, "09:00", "11:00", true),
        ("Sat afternoon", Sat, "13:00", "18:00", false),
        ("Fri night", Fri, "23:00", "23:30", true),
        ("Sat small hours from Fri", Sat, "01:00", "01:30", true),
        ("Sat after overnight", Sat, "02:00", "03:00", false),
        ("window past midnight from Fri", Fri, "23:30", "01:00", true),
        (
            "window past midnight from Thu",
            Thu,
            "23:00",
            "01:00",
            false,
        ),
        (
            "window past midnight into Mon opening",
            Sun,
            "23:00",
            "09:30",
            true,
        ),
        ("Sun seasonal", Sun, "15:00", "15:30", true),
        ("Sun morning", Sun, "09:00", "12:00", false),
        ("Tue evening", Tue, "18:00", "21:00", false),
    ];
    for (label, day, start, end, expected) in rows {
        assert_eq!(
            mixed.open_during(*day, t(start), t(end)),
            *expected,
            "{label}"
        );
    }
    let always = Timetable {
        open_24_hours: true,
        ..Timetable::default()
    };
    assert!(always.open_during(Sun, t("03:00"), t("04:00")));
    let appointment_only = Timetable {
        by_appointment: true,
        ..Timetable::default()
    };
    assert!(!appointment_only.open_during(Mon, t("00:00"), t("23:59")));
}

#[test]
fn ended() {
    let rows: &[(&str, Timetable, &str, bool)] = &[
        ("no rules", Timetable::default(), "2026-06-01", false),
        (
            "all ended",
            timetable(vec![
                valid(weekly(&[Mon], "09:00", "10:00"), None, Some("2026-01-31")),
                valid(
                    weekly(&[Tue], "09:00", "10:00"),
                    Some("2026-02-01"),
                    Some("2026-03-31"),
                ),
            ]),
            "2026-04-01",
            true,
        ),
        (
            "last day still running",
            timetable(vec![valid(
                weekly(&[Mon], "09:00", "10:00"),
                None,
                Some("2026-03-31"),
            )]),
            "2026-03-31",
            false,
        ),
        (
            "one open-ended rule",
            timetable(vec![
                valid(weekly(&[Mon], "09:00", "10:00"), None, Some("2026-01-31")),
                weekly(&[Tue], "09:00", "10:00"),
            ]),
            "2026-04-01",
            false,
        ),
        (
            "not started yet",
            timetable(vec![valid(
                weekly(&[Mon], "09:00", "10:00"),
                Some("2027-01-01"),
                None,
            )]),
            "2026-04-01",
            false,
        ),
    ];
    for (label, timetable, today, expected) in rows {
        assert_eq!(timetable.ended(d(today)), *expected, "{label}");
    }
}

#[test]
fn summary() {
    let rows: Vec<(&str, Timetable, &str)> = vec![
        (
            "the example",
            Timetable {
                closed_on_public_holidays: true,
                ..timetable(vec![
                    weekly(WEEKDAYS, "09:00", "17:00"),
                    monthly(&[(1, Sat)], "10:00", "12:00"),
                    monthly(&[(-1, Fri)], "17:00", "19:00"),
                ])
            },
            "Mon–Fri 09:00–17:00; first Sat 10:00–12:00; last Fri 17:00–19:00; closed public holidays",
        ),
        ("nothing", Timetable::default(), ""),
        (
            "holiday flag alone says nothing",
            Timetable {
                closed_on_public_holidays: true,
                ..Timetable::default()
            },
            "",
        ),
        ("separate days", timetable(vec![weekly(&[Wed, Mon], "10:00", "14:00")]), "Mon, Wed 10:00–14:00"),
        ("two days", timetable(vec![weekly(&[Sat, Sun], "10:00", "16:00")]), "Sat, Sun 10:00–16:00"),
        (
            "run and a single day",
            timetable(vec![weekly(&[Mon, Tue, Wed, Fri], "09:00", "17:00")]),
            "Mon–Wed, Fri 09:00–17:00",
        ),
        (
            "two intervals, and Saturday",
            timetable(vec![
                weekly(WEEKDAYS, "09:00", "12:00"),
                weekly(WEEKDAYS, "13:00", "17:00"),
                weekly(&[Sat], "10:00", "12:00"),
            ]),
            "Mon–Fri 09:00–12:00, 13:00–17:00; Sat 10:00–12:00",
        ),
        (
            "days with different hours",
            timetable(vec![weekly(WEEKDAYS, "09:00", "17:00"), weekly(&[Thu], "18:00", "20:00")]),
            "Mon–Wed, Fri 09:00–17:00; Thu 09:00–17:00, 18:00–20:00",
        ),
        ("overnight", timetable(vec![overnight(&[Fri], "22:00", "02:00")]), "Fri 22:00–02:00"),
        ("every day", timetable(vec![weekly(ALL_WEEK, "08:00", "20:00")]), "Every day 08:00–20:00"),
        ("whole days", timetable(vec![overnight(ALL_WEEK, "00:00", "00:00")]), "24 hours"),
        ("whole weekdays", timetable(vec![overnight(WEEKDAYS, "00:00", "00:00")]), "Mon–Fri 24 hours"),
        (
            "24 hours flag",
            Timetable {
                open_24_hours: true,
                closed_on_public_holidays: true,
                ..Timetable::default()
            },
            "24 hours; closed public holidays",
        ),
        (
            "by appointment",
            Timetable {
                by_appointment: true,
                ..Timetable::default()
            },
            "by appointment",
        ),
        (
            "hours and by appointment",
            Timetable {
                by_appointment: true,
                ..timetable(vec![weekly(&[Tue], "10:00", "12:00")])
            },
            "Tue 10:00–12:00; by appointment",
        ),
        (
            "first and third",
            timetable(vec![monthly(&[(3, Tue), (1, Tue)], "10:00", "12:00")]),
            "first and third Tue 10:00–12:00",
        ),
        (
            "monthly rules with the same hours join",
            timetable(vec![
                monthly(&[(1, Sat)], "10:00", "12:00"),
                monthly(&[(-1, Sat), (2, Sun)], "10:00", "12:00"),
            ]),
            "first and last Sat, second Sun 10:00–12:00",
        ),
        (
            "seasonal",
            timetable(vec![valid(weekly(&[Sat], "10:00", "12:00"), Some("2026-04-01"), Some("2026-09-30"))]),
            "Sat 10:00–12:00 (from 1 Apr 2026 to 30 Sep 2026)",
        ),
        (
            "seasonal and regular",
            timetable(vec![
                weekly(WEEKDAYS, "09:00", "17:00"),
                valid(weekly(&[Sat], "10:00", "12:00"), Some("2026-04-01"), None),
                valid(monthly(&[(1, Sun)], "10:00", "12:00"), None, Some("2026-09-30")),
            ]),
            "Mon–Fri 09:00–17:00; Sat 10:00–12:00 (from 1 Apr 2026); first Sun 10:00–12:00 (until 30 Sep 2026)",
        ),
    ];
    for (label, timetable, expected) in rows {
        assert_eq!(timetable.summary(), expected, "{label}");
    }
}

fn schedule(freq: &str, byday: &[&str], opens: &str, closes: &str) -> Schedule {
    Schedule {
        id: Uuid::nil(),
        freq: freq.to_string(),
        byday: byday.iter().map(|s| s.to_string()).collect(),
        opens_at: opens.to_string(),
        closes_at: closes.to_string(),
        valid_from: None,
        valid_to: None,
        description: None,
        location_id: None,
        overnight: false,
    }
}

#[test]
fn from_schedules() {
    let seasonal = Schedule {
        valid_from: Some(d("2026-04-01")),
        valid_to: Some(d("2026-09-30")),
        ..schedule("weekly", &["SA"], "10:00", "12:00")
    };
    let schedules = vec![
        schedule("weekly", &["MO", "TU", "WE", "TH", "FR"], "09:00", "17:00"),
        schedule("monthly", &["1SA", "-1FR"], "10:00", "12:00"),
        schedule(" Weekly ", &["xx", " we ", "1MO"], "18:00", "20:00"),
        Schedule {
            overnight: true,
            ..schedule("weekly", &["FR"], "22:00", "02:00")
        },
        // Past midnight without the flag: read as overnight all the same.
        schedule("weekly", &["SA"], "18:00", "00:00"),
        seasonal,
        // Skipped: nothing usable.
        schedule("weekly", &["1MO"], "09:00", "10:00"),
        schedule("daily", &["MO"], "09:00", "10:00"),
        schedule("weekly", &["MO"], "9am", "10:00"),
        schedule("weekly", &["MO"], "09:00", "25:00"),
        schedule(
            "monthly",
            &["0SA", "6SA", "SA", "-6FR", "ÅÅSA", "é", "", "1", "-"],
            "09:00",
            "10:00",
        ),
        schedule("weekly", &[], "09:00", "10:00"),
    ];
    let built = Timetable::from_schedules(&schedules, true);
    let expected = Timetable {
        rules: vec![
            weekly(WEEKDAYS, "09:00", "17:00"),
            monthly(&[(1, Sat), (-1, Fri)], "10:00", "12:00"),
            weekly(&[Wed], "18:00", "20:00"),
            overnight(&[Fri], "22:00", "02:00"),
            overnight(&[Sat], "18:00", "00:00"),
            valid(
                weekly(&[Sat], "10:00", "12:00"),
                Some("2026-04-01"),
                Some("2026-09-30"),
            ),
        ],
        closed_on_public_holidays: true,
        ..Timetable::default()
    };
    assert_eq!(built, expected);
    assert_eq!(
        built.summary(),
        "Mon, Tue, Thu 09:00–17:00; Wed 09:00–17:00, 18:00–20:00; \
         Fri 09:00–17:00, 22:00–02:00; Sat 18:00–24:00; Sat 10:00–12:00 (from 1 Apr 2026 to 30 Sep 2026); \
         first Sat, last Fri 10:00–12:00; closed public holidays"
    );
}

#[test]
fn a_closing_time_of_24_00_or_23_59_ends_the_day() {
    for until in ["24:00", "23:59"] {
        let schedules = vec![
            schedule("weekly", &["MO", "TU"], "00:00", "02:00"),
            schedule("weekly", &["MO"], "18:00", until),
        ];
        let built = Timetable::from_schedules(&schedules, false);
        assert_eq!(
            built.rules[1],
            overnight(&[Mon], "18:00", "00:00"),
            "{until}"
        );
        // Monday evening runs on into Tuesday's early opening.
        assert_eq!(
            built.current_interval(local("2026-11-23 23:59"), &no_extra()),
            Some((local("2026-11-23 18:00"), local("2026-11-24 02:00"))),
            "{until}"
        );
        assert_eq!(
            built.summary(),
            "Mon 00:00–02:00, 18:00–24:00; Tue 00:00–02:00",
            "{until}"
        );
    }
    let all_day =
        Timetable::from_schedules(&[schedule("weekly", &["SA"], "00:00", "24:00")], false);
    assert_eq!(all_day.summary(), "Sat 24 hours");
}

#[test]
fn upcoming_exceptions_are_summarised_soonest_first() {
    let mut timetable = office();
    timetable.exceptions = vec![
        Exception::Closed {
            from: d("2026-12-24"),
            to: d("2027-01-02"),
        },
        Exception::Closed {
            from: d("2026-11-01"),
            to: d("2026-11-02"),
        },
        Exception::Hours {
            date: d("2026-12-05"),
            opens: t("13:00"),
            closes: t("15:00"),
        },
        Exception::Hours {
            date: d("2026-12-05"),
            opens: t("10:00"),
            closes: t("12:00"),
        },
        Exception::Closed {
            from: d("2027-02-01"),
            to: d("2027-02-01"),
        },
    ];
    assert_eq!(
        timetable.exceptions_summary(d("2026-11-21"), 3),
        [
            "5 Dec 2026 10:00–12:00, 13:00–15:00",
            "closed 24 Dec 2026 to 2 Jan 2027",
            "closed 1 Feb 2027",
        ]
    );
    // A closure already under way is still news; one that has ended is not.
    assert_eq!(
        timetable.exceptions_summary(d("2026-12-30"), 1),
        ["closed 24 Dec 2026 to 2 Jan 2027"]
    );
}

#[test]
fn hostile_values_do_not_panic() {
    let odd = Timetable {
        rules: vec![
            // Invalid: closes at midnight without `overnight`. Never open.
            weekly(ALL_WEEK, "09:00", "00:00"),
            weekly(ALL_WEEK, "12:00", "12:00"),
            monthly(
                &[
                    (0, Mon),
                    (9, Tue),
                    (-9, Wed),
                    (i8::MIN, Thu),
                    (i8::MAX, Fri),
                ],
                "09:00",
                "10:00",
            ),
            valid(
                weekly(ALL_WEEK, "09:00", "10:00"),
                Some("2026-06-01"),
                Some("2026-01-01"),
            ),
            Rule {
                valid_from: NaiveDate::MAX.pred_opt(),
                ..overnight(ALL_WEEK, "23:00", "01:00")
            },
        ],
        exceptions: vec![
            Exception::Closed {
                from: NaiveDate::MIN,
                to: NaiveDate::MIN,
            },
            Exception::Hours {
                date: NaiveDate::MAX,
                opens: t("23:00"),
                closes: t("01:00"),
            },
            Exception::Hours {
                date: NaiveDate::MIN,
                opens: t("00:00"),
                closes: t("00:00"),
            },
        ],
        ..Timetable::default()
    };
    let holidays = HolidayCalendar::new([NaiveDate::MIN, NaiveDate::MAX]);
    for at in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        local("2026-06-01 09:30"),
        utc("2026-03-29T01:00:00Z"),
        utc("2026-10-25T01:00:00Z"),
        NaiveDate::MAX.and_time(t("23:30")).and_utc(),
        NaiveDate::MIN.and_time(t("00:30")).and_utc(),
    ] {
        let _ = odd.is_open_at(at, &holidays);
        let _ = odd.current_interval(at, &holidays);
        let _ = odd.next_open(at, &holidays);
        let later = at.checked_add_signed(Duration::days(2)).unwrap_or(at);
        let _ = odd.openings_between(at, later, &holidays);
    }
    assert!(!odd.is_open_at(local("2026-06-01 09:30"), &holidays));
    assert!(!odd.is_open_at(local("2026-06-01 12:00"), &holidays));
    for day in ALL_WEEK {
        let _ = odd.open_during(*day, t("00:00"), t("23:59"));
    }
    let _ = odd.summary();
    let _ = odd.ended(NaiveDate::MAX);
}

#[test]
fn timetable_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Timetable>();
    check::<HolidayCalendar>();
}
