//! "Is it open?": a service's schedules turned into a timetable, and the
//! opening block computed into every service response as of the request
//! time (or `at=`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::read::{Schedule, ScheduleException, Service};
use crate::hours::timetable::{parse_clock, parse_closing};
use crate::hours::{Exception, HolidayCalendar, Timetable};

/// Opening state at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Opening {
    /// The instant this was computed for.
    pub as_of: DateTime<Utc>,
    /// Null when the listing has no structured hours to tell (its hours
    /// notes, if any, are then the summary).
    pub open_now: Option<bool>,
    /// When the current opening ends, if open now.
    pub closes_at: Option<DateTime<Utc>>,
    /// When it next opens (the current opening's start is not repeated).
    pub next_open: Option<DateTime<Utc>>,
    /// E.g. "Mon–Fri 09:00–17:00; first Sat 10:00–12:00; closed public
    /// holidays; closed 24 Dec 2026 to 2 Jan 2027": the regular pattern,
    /// then the next few dated exceptions. Without structured hours, the
    /// listing's hours notes.
    pub summary: String,
}

/// The parts of a service that decide when it is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    pub schedules: Vec<Schedule>,
    pub exceptions: Vec<ScheduleException>,
    pub closed_on_public_holidays: bool,
    pub open_24_hours: bool,
    pub by_appointment: bool,
    /// The listing's free-text hours, for the summary when nothing above
    /// says when it opens. Not part of a timetable: left out of the index's
    /// shared timetable values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Dated exceptions named in a summary; the rest are in `exceptions`.
const SUMMARY_EXCEPTIONS: usize = 3;

impl Hours {
    pub fn of(service: &Service) -> Hours {
        Hours {
            schedules: service.schedules.clone(),
            exceptions: service.exceptions.clone(),
            closed_on_public_holidays: service.closed_on_public_holidays,
            open_24_hours: service.open_24_hours,
            by_appointment: service.by_appointment,
            notes: service.hours_notes.clone(),
        }
    }

    /// Whether anything structured says when the service opens: without
    /// it, "open now" is unknown rather than false.
    pub fn is_known(&self) -> bool {
        !self.schedules.is_empty()
            || self.open_24_hours
            || self.by_appointment
            || self
                .exceptions
                .iter()
                .any(|e| e.opens_at.is_some() && e.closes_at.is_some())
    }

    /// Whether the hours have anything a weekly pattern cannot express.
    pub fn has_dated_parts(&self) -> bool {
        !self.exceptions.is_empty()
            || self
                .schedules
                .iter()
                .any(|s| s.valid_from.is_some() || s.valid_to.is_some())
    }

    pub fn timetable(&self) -> Timetable {
        let mut t = Timetable::from_schedules(&self.schedules, self.closed_on_public_holidays);
        t.open_24_hours = self.open_24_hours;
        t.by_appointment = self.by_appointment;
        for e in &self.exceptions {
            let hours = match (&e.opens_at, &e.closes_at) {
                (Some(o), Some(c)) => parse_clock(o).zip(parse_closing(c).map(|(t, _)| t)),
                _ => None,
            };
            match hours {
                None => t.exceptions.push(Exception::Closed {
                    from: e.starts_on,
                    to: e.ends_on,
                }),
                Some((opens, closes)) => {
                    // Validation caps a range at a year.
                    for date in e
                        .starts_on
                        .iter_days()
                        .take_while(|d| *d <= e.ends_on)
                        .take(367)
                    {
                        t.exceptions.push(Exception::Hours {
                            date,
                            opens,
                            closes,
                        });
                    }
                }
            }
        }
        t
    }

    pub fn opening(&self, at: DateTime<Utc>, holidays: &HolidayCalendar) -> Opening {
        if !self.is_known() {
            return Opening {
                as_of: at,
                open_now: None,
                closes_at: None,
                next_open: None,
                summary: self.notes.clone().unwrap_or_default(),
            };
        }
        let timetable = self.timetable();
        // A round-the-clock service has no closing time worth walking a year
        // of days to find.
        let current = if self.open_24_hours {
            timetable.is_open_at(at, holidays).then_some(None)
        } else {
            timetable
                .current_interval(at, holidays)
                .map(|(_, end)| Some(end))
        };
        let mut summary: Vec<String> = Some(timetable.summary())
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let today = at.with_timezone(&chrono_tz::Europe::London).date_naive();
        summary.extend(timetable.exceptions_summary(today, SUMMARY_EXCEPTIONS));
        Opening {
            as_of: at,
            open_now: Some(current.is_some()),
            closes_at: current.flatten(),
            next_open: if self.open_24_hours && current.is_some() {
                None
            } else {
                timetable.next_open(at, holidays)
            },
            summary: summary.join("; "),
        }
    }
}
