//! Opening hours: Scottish public holidays, timetables evaluated in
//! Europe/London local time, and parsing of free-text hours. Pure: no
//! database, no HTTP.

pub mod holidays;
pub mod parse;
pub mod timetable;

pub use holidays::{easter_sunday, scottish_holidays, HolidayCalendar};
pub use parse::{parse_hours, ParsedHours};
pub use timetable::{DaySpec, Exception, Rule, Timetable};
