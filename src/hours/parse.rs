//! Free-text opening hours ("Mon-Fri 9am-5pm", "Tuesdays 10:00 - 12:00") to
//! weekly rules, for imports. Conservative: a part of the text that is not
//! fully understood, or could be read two ways ("9-5": 9am to 5pm, or an
//! overnight 09:00 to 05:00?), is kept as text instead of guessed at.
//!
//! The text is split into parts at `;`, `|` and line breaks. Each part is a
//! list of groups, each a list of days and a list of time ranges in either
//! order: "Mon, Wed & Fri 10am–2pm", "9:00am-4:30pm Monday to Thursday",
//! "Mon-Fri 9am-12pm, 1pm-5pm, Sat 10-12". "24 hours" and "24/7" mean all
//! day (every day when no days are named); "Sun closed" removes Sunday from
//! the other parts' rules.
//!
//! Times: "9am", "9.30pm", "9 a.m.", "09:00", "0900", "12 noon", "noon",
//! "midnight". A bare hour borrows am/pm from the other end when that makes
//! a forward range ("10-2pm" is 10:00–14:00, "9am-5" is 09:00–17:00). With no
//! am/pm at all, "10-12" and "9:30-16:00" read as the 24-hour clock, but only
//! from a start between 8 and 12 ("1-3" and "7-9" are left as text). A range
//! runs past midnight only when both ends are unmistakable ("10pm-2am",
//! "22:00-02:00", "6pm-midnight").

use chrono::{NaiveTime, Weekday};

use super::timetable::{DaySpec, Rule};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedHours {
    pub rules: Vec<Rule>,
    /// The parts that were not understood, joined with "; ".
    pub unparsed: Option<String>,
}

pub fn parse_hours(text: &str) -> ParsedHours {
    let mut rules = Vec::new();
    let mut closed_days: Vec<Weekday> = Vec::new();
    let mut unparsed = Vec::new();
    let parts = text
        .split(is_part_break)
        .map(str::trim)
        .filter(|p| !p.is_empty());
    for part in parts {
        let Some(groups) = parse_part(part) else {
            unparsed.push(part);
            continue;
        };
        for group in groups {
            match group.hours {
                Hours::Closed => closed_days.extend(group.days),
                Hours::Open(slots) => {
                    rules.extend(slots.into_iter().map(|slot| weekly_rule(&group.days, slot)))
                }
            }
        }
    }
    // "Mon-Fri 9-5; Wed closed": a day said to be closed has no hours.
    for rule in &mut rules {
        if let DaySpec::Weekly(days) = &mut rule.days {
            days.retain(|day| !closed_days.contains(day));
        }
    }
    rules.retain(|rule| !matches!(&rule.days, DaySpec::Weekly(days) if days.is_empty()));
    ParsedHours {
        rules,
        unparsed: (!unparsed.is_empty()).then(|| unparsed.join("; ")),
    }
}

fn is_part_break(c: char) -> bool {
    matches!(c, ';' | '|' | '\n' | '\r')
}

/// Opening time, closing time, and whether it runs past midnight.
type Slot = (NaiveTime, NaiveTime, bool);

const FULL_DAY: Slot = (NaiveTime::MIN, NaiveTime::MIN, true);

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn weekly_rule(days: &[Weekday], (opens, closes, overnight): Slot) -> Rule {
    // In week order, each day once.
    let days = WEEK.into_iter().filter(|d| days.contains(d)).collect();
    Rule {
        days: DaySpec::Weekly(days),
        opens,
        closes,
        overnight,
        valid_from: None,
        valid_to: None,
    }
}

// ---------------------------------------------------------------------------
// Characters to raw tokens.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw {
    Word(String),
    Number(Number),
    Punct(char),
    /// Digits that cannot be a time ("12345", "930").
    Bad,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Number {
    hour: u32,
    minute: u32,
    /// Written the 24-hour way: "09:00", "17:30", "0900", "09".
    definite: bool,
    /// Just digits, no minutes: "9", "24".
    bare: bool,
}

fn raw_tokens(text: &str) -> Vec<Raw> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let (token, next) = number(&chars, i);
            tokens.push(token);
            i = next;
        } else if c.is_alphabetic() {
            let start = i;
            while chars.get(i).is_some_and(|c| c.is_alphabetic()) {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            tokens.push(Raw::Word(word.to_lowercase()));
        } else {
            tokens.push(Raw::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// Reads "9", "09", "9:30", "9.30", "0930" starting at `start`; returns the
/// token and the index after it.
fn number(chars: &[char], start: usize) -> (Raw, usize) {
    let mut end = start;
    while chars.get(end).is_some_and(|c| c.is_ascii_digit()) {
        end += 1;
    }
    let digits = chars.get(start..end).unwrap_or_default();
    let leading_zero = digits.len() == 2 && digits.first() == Some(&'0');
    // "9:30" / "9.30": one or two digits, a separator, exactly two digits.
    let minutes = chars.get(end + 1..end + 3).filter(|m| {
        m.iter().all(|c| c.is_ascii_digit())
            && !chars.get(end + 3).is_some_and(|c| c.is_ascii_digit())
    });
    if let (1..=2, Some(':' | '.'), Some(minutes)) = (digits.len(), chars.get(end), minutes) {
        let number = Number {
            hour: value(digits),
            minute: value(minutes),
            definite: digits.len() == 2,
            bare: false,
        };
        return (Raw::Number(number), end + 3);
    }
    let token = match digits {
        [_] | [_, _] => Raw::Number(Number {
            hour: value(digits),
            minute: 0,
            definite: leading_zero,
            bare: true,
        }),
        [h1, h2, m1, m2] => Raw::Number(Number {
            hour: value(&[*h1, *h2]),
            minute: value(&[*m1, *m2]),
            definite: true,
            bare: false,
        }),
        _ => Raw::Bad,
    };
    (token, end)
}

/// The value of at most four ASCII digits.
fn value(digits: &[char]) -> u32 {
    digits
        .iter()
        .filter_map(|c| c.to_digit(10))
        .fold(0, |acc, d| acc * 10 + d)
}

// ---------------------------------------------------------------------------
// Raw tokens to meaningful ones.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Days(Vec<Weekday>),
    Time(Clock),
    /// "-", "–", "to", "until".
    Through,
    /// ",", "&", "and", "/".
    And,
    /// "24 hours", "24/7".
    AllDay,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    Am,
    Pm,
}

impl Meridiem {
    fn other(self) -> Meridiem {
        match self {
            Meridiem::Am => Meridiem::Pm,
            Meridiem::Pm => Meridiem::Am,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Clock {
    hour: u32,
    minute: u32,
    meridiem: Option<Meridiem>,
    /// Needs no am/pm to be understood: "17:00", "09:00", "noon".
    definite: bool,
}

const NOON: Clock = Clock {
    hour: 12,
    minute: 0,
    meridiem: None,
    definite: true,
};

/// Hour 24 reads as 00:00, the end of the day.
const MIDNIGHT: Clock = Clock {
    hour: 24,
    minute: 0,
    meridiem: None,
    definite: true,
};

/// None when any token is not understood.
fn tokens(raw: &[Raw]) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(rest) = raw.get(i..).filter(|r| !r.is_empty()) {
        let (found, used) = classify(rest)?;
        tokens.extend(found);
        i += used;
    }
    Some(tokens)
}

/// The tokens the start of `raw` stands for (none for filler like "open")
/// and how many raw tokens that used.
fn classify(raw: &[Raw]) -> Option<(Vec<Token>, usize)> {
    match raw.first()? {
        Raw::Number(number) => Some(number_token(*number, raw.get(1..).unwrap_or_default())),
        Raw::Word(word) => word_token(word, raw.get(1..).unwrap_or_default()),
        Raw::Punct(c) => punct_token(*c),
        Raw::Bad => None,
    }
}

fn word_at(raw: &[Raw], index: usize) -> Option<&str> {
    match raw.get(index) {
        Some(Raw::Word(word)) => Some(word.as_str()),
        _ => None,
    }
}

fn number_token(number: Number, rest: &[Raw]) -> (Vec<Token>, usize) {
    let next = word_at(rest, 0);
    if number.bare && number.hour == 24 {
        if matches!(next, Some("hours" | "hour" | "hrs" | "hr" | "h")) {
            return (vec![Token::AllDay], 2);
        }
        let seven = Raw::Number(Number {
            hour: 7,
            minute: 0,
            definite: false,
            bare: true,
        });
        if rest.first() == Some(&Raw::Punct('/')) && rest.get(1) == Some(&seven) {
            return (vec![Token::Days(WEEK.to_vec()), Token::AllDay], 3);
        }
    }
    if let Some((meridiem, used)) = meridiem(rest) {
        let clock = Clock {
            hour: number.hour,
            minute: number.minute,
            meridiem: Some(meridiem),
            definite: false,
        };
        return (vec![Token::Time(clock)], 1 + used);
    }
    if number.hour == 12 && number.minute == 0 {
        match next {
            Some("noon" | "midday") => return (vec![Token::Time(NOON)], 2),
            Some("midnight") => return (vec![Token::Time(MIDNIGHT)], 2),
            _ => {}
        }
    }
    let clock = Clock {
        hour: number.hour,
        minute: number.minute,
        meridiem: None,
        definite: number.definite || number.hour >= 13 || number.hour == 0,
    };
    (vec![Token::Time(clock)], 1)
}

/// "am", "pm", "a.m.", "p.m" after a number.
fn meridiem(rest: &[Raw]) -> Option<(Meridiem, usize)> {
    match word_at(rest, 0)? {
        "am" => return Some((Meridiem::Am, 1)),
        "pm" => return Some((Meridiem::Pm, 1)),
        _ => {}
    }
    let which = match word_at(rest, 0)? {
        "a" => Meridiem::Am,
        "p" => Meridiem::Pm,
        _ => return None,
    };
    if rest.get(1) != Some(&Raw::Punct('.')) || word_at(rest, 2) != Some("m") {
        return None;
    }
    let used = if rest.get(3) == Some(&Raw::Punct('.')) {
        4
    } else {
        3
    };
    Some((which, used))
}

fn word_token(word: &str, rest: &[Raw]) -> Option<(Vec<Token>, usize)> {
    if let Some(day) = day_word(word) {
        return Some((vec![Token::Days(vec![day])], 1));
    }
    let token = match word {
        "every" if word_at(rest, 0) == Some("day") => {
            return Some((vec![Token::Days(WEEK.to_vec())], 2))
        }
        "daily" | "everyday" => Token::Days(WEEK.to_vec()),
        "weekdays" | "weekday" => Token::Days(WEEK[..5].to_vec()),
        "weekends" | "weekend" => Token::Days(WEEK[5..].to_vec()),
        "noon" | "midday" => Token::Time(NOON),
        "midnight" => Token::Time(MIDNIGHT),
        "to" | "till" | "til" | "until" | "through" | "thru" => Token::Through,
        "and" => Token::And,
        "closed" => Token::Closed,
        "open" | "opening" | "hours" | "from" | "on" | "every" => return Some((Vec::new(), 1)),
        _ => return None,
    };
    Some((vec![token], 1))
}

fn day_word(word: &str) -> Option<Weekday> {
    let day = match word {
        "mon" | "monday" | "mondays" => Weekday::Mon,
        "tue" | "tues" | "tuesday" | "tuesdays" => Weekday::Tue,
        "wed" | "weds" | "wednesday" | "wednesdays" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" | "thursdays" => Weekday::Thu,
        "fri" | "friday" | "fridays" => Weekday::Fri,
        "sat" | "saturday" | "saturdays" => Weekday::Sat,
        "sun" | "sunday" | "sundays" => Weekday::Sun,
        _ => return None,
    };
    Some(day)
}

fn punct_token(c: char) -> Option<(Vec<Token>, usize)> {
    let found = match c {
        '-' | '–' | '—' | '‒' | '−' | '~' => vec![Token::Through],
        ',' | '&' | '+' | '/' => vec![Token::And],
        // "Mon-Fri: 9-5." and the like.
        ':' | '.' => Vec::new(),
        _ => return None,
    };
    Some((found, 1))
}

// ---------------------------------------------------------------------------
// Tokens to groups of days and hours.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Hours {
    Open(Vec<Slot>),
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    days: Vec<Weekday>,
    hours: Hours,
}

/// The groups of one part, or None if any of it is not understood.
fn parse_part(part: &str) -> Option<Vec<Group>> {
    let tokens = tokens(&raw_tokens(part))?;
    let mut parser = Parser {
        tokens: &tokens,
        position: 0,
    };
    let mut groups = Vec::new();
    while parser.position < tokens.len() {
        // Groups may be separated by a comma; a trailing one is harmless.
        if !groups.is_empty() && parser.eat(&Token::And) && parser.position >= tokens.len() {
            break;
        }
        groups.push(parser.group()?);
    }
    (!groups.is_empty()).then_some(groups)
}

struct Parser<'a> {
    tokens: &'a [Token],
    position: usize,
}

impl Parser<'_> {
    fn peek(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.position + ahead)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.peek(0).cloned();
        self.position += 1;
        token
    }

    fn eat(&mut self, token: &Token) -> bool {
        let found = self.peek(0) == Some(token);
        if found {
            self.position += 1;
        }
        found
    }

    fn days_at(&self, ahead: usize) -> bool {
        matches!(self.peek(ahead), Some(Token::Days(_)))
    }

    fn hours_at(&self, ahead: usize) -> bool {
        matches!(
            self.peek(ahead),
            Some(Token::Time(_) | Token::AllDay | Token::Closed)
        )
    }

    /// Days then hours, or hours then days, optionally with a comma between.
    fn group(&mut self) -> Option<Group> {
        if self.days_at(0) {
            let days = self.days()?;
            if self.peek(0) == Some(&Token::And) && self.hours_at(1) {
                self.position += 1;
            }
            let hours = self.hours()?;
            return Some(Group { days, hours });
        }
        let hours = self.hours()?;
        if self.peek(0) == Some(&Token::And) && self.days_at(1) {
            self.position += 1;
        }
        // "24 hours" on its own means every day; other hours need days.
        let days = if !self.days_at(0) && hours == Hours::Open(vec![FULL_DAY]) {
            WEEK.to_vec()
        } else {
            self.days()?
        };
        Some(Group { days, hours })
    }

    /// "Mon", "Mon-Fri", "Mon, Wed & Fri", "Monday to Thursday, Sat".
    fn days(&mut self) -> Option<Vec<Weekday>> {
        let mut days = Vec::new();
        loop {
            let Some(Token::Days(first)) = self.next() else {
                return None;
            };
            if self.peek(0) == Some(&Token::Through) && self.days_at(1) {
                self.position += 1;
                let Some(Token::Days(last)) = self.next() else {
                    return None;
                };
                days.extend(day_range(&first, &last)?);
            } else {
                days.extend(first);
            }
            if self.peek(0) == Some(&Token::And) && self.days_at(1) {
                self.position += 1;
            } else {
                return Some(days);
            }
        }
    }

    /// "9am-5pm", "9-12, 1-4pm", "24 hours", "closed".
    fn hours(&mut self) -> Option<Hours> {
        if self.eat(&Token::AllDay) {
            return Some(Hours::Open(vec![FULL_DAY]));
        }
        if self.eat(&Token::Closed) {
            return Some(Hours::Closed);
        }
        let mut slots = Vec::new();
        loop {
            let Some(Token::Time(start)) = self.next() else {
                return None;
            };
            if !self.eat(&Token::Through) {
                return None;
            }
            let Some(Token::Time(end)) = self.next() else {
                return None;
            };
            slots.push(resolve(start, end)?);
            if self.peek(0) == Some(&Token::And) && matches!(self.peek(1), Some(Token::Time(_))) {
                self.position += 1;
            } else {
                return Some(Hours::Open(slots));
            }
        }
    }
}

/// "Mon" to "Fri"; both ends single days ("weekdays to Sat" is not a range).
/// A range may wrap round the week: "Fri to Mon".
fn day_range(first: &[Weekday], last: &[Weekday]) -> Option<Vec<Weekday>> {
    let ([first], [last]) = (first, last) else {
        return None;
    };
    let mut days = vec![*first];
    let mut day = *first;
    while day != *last && days.len() < 7 {
        day = day.succ();
        days.push(day);
    }
    Some(days)
}

// ---------------------------------------------------------------------------
// Clock readings to opening times.

/// One way to read a clock, and whether it needed no guessing.
#[derive(Debug, Clone, Copy)]
struct Reading {
    time: NaiveTime,
    definite: bool,
}

/// The first reading of the two ends that makes a sensible range.
fn resolve(start: Clock, end: Clock) -> Option<Slot> {
    for opens in readings(start, end.meridiem, true) {
        for closes in readings(end, start.meridiem, false) {
            if let Some(slot) = accept(opens, closes) {
                return Some(slot);
            }
        }
    }
    None
}

/// The readings of `clock`, preferred first. A bare hour borrows am/pm from
/// the other end (`partner`), then tries the opposite.
fn readings(clock: Clock, partner: Option<Meridiem>, is_start: bool) -> Vec<Reading> {
    let sure = |time| Reading {
        time,
        definite: true,
    };
    let guess = |time| Reading {
        time,
        definite: false,
    };
    if let Some(meridiem) = clock.meridiem {
        return with_meridiem(clock, meridiem)
            .map(sure)
            .into_iter()
            .collect();
    }
    if clock.definite {
        return twenty_four_hour(clock).map(sure).into_iter().collect();
    }
    if let Some(meridiem) = partner {
        return [meridiem, meridiem.other()]
            .into_iter()
            .filter_map(|m| with_meridiem(clock, m))
            .map(guess)
            .collect();
    }
    // No am/pm anywhere: "10-12" is morning, but "1-3" or "7-9" could be
    // either half of the day.
    if is_start && !(8..=12).contains(&clock.hour) {
        return Vec::new();
    }
    twenty_four_hour(clock).map(guess).into_iter().collect()
}

/// A forward range, or one past midnight when both ends are unmistakable.
fn accept(opens: Reading, closes: Reading) -> Option<Slot> {
    if opens.time < closes.time {
        return Some((opens.time, closes.time, false));
    }
    let whole_day = opens.time == NaiveTime::MIN && closes.time == NaiveTime::MIN;
    let distinct = opens.time != closes.time;
    if opens.definite && closes.definite && (distinct || whole_day) {
        return Some((opens.time, closes.time, true));
    }
    None
}

fn with_meridiem(clock: Clock, meridiem: Meridiem) -> Option<NaiveTime> {
    if !(1..=12).contains(&clock.hour) {
        return None;
    }
    let hour = match meridiem {
        Meridiem::Am => clock.hour % 12,
        Meridiem::Pm => clock.hour % 12 + 12,
    };
    NaiveTime::from_hms_opt(hour, clock.minute, 0)
}

fn twenty_four_hour(clock: Clock) -> Option<NaiveTime> {
    if clock.hour == 24 && clock.minute == 0 {
        return Some(NaiveTime::MIN);
    }
    NaiveTime::from_hms_opt(clock.hour, clock.minute, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Weekday::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    fn rule(days: &[Weekday], opens: &str, closes: &str, overnight: bool) -> Rule {
        Rule {
            days: DaySpec::Weekly(days.to_vec()),
            opens: t(opens),
            closes: t(closes),
            overnight,
            valid_from: None,
            valid_to: None,
        }
    }

    const WEEKDAYS: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri];
    const ALL: &[Weekday] = &[Mon, Tue, Wed, Thu, Fri, Sat, Sun];

    #[test]
    fn understood_text_becomes_rules() {
        let table: Vec<(&str, Vec<Rule>)> = vec![
            (
                "Mon-Fri 9am-5pm",
                vec![rule(WEEKDAYS, "09:00", "17:00", false)],
            ),
            (
                "Monday to Friday 9:00-17:00",
                vec![rule(WEEKDAYS, "09:00", "17:00", false)],
            ),
            (
                "Tuesdays 10:00 - 12:00",
                vec![rule(&[Tue], "10:00", "12:00", false)],
            ),
            (
                "9:00am-4:30pm Monday to Thursday",
                vec![rule(&[Mon, Tue, Wed, Thu], "09:00", "16:30", false)],
            ),
            (
                "Mon, Wed & Fri 10am–2pm",
                vec![rule(&[Mon, Wed, Fri], "10:00", "14:00", false)],
            ),
            (
                "Mon, Wed & Fri 10am-2pm",
                vec![rule(&[Mon, Wed, Fri], "10:00", "14:00", false)],
            ),
            ("Sat 10-12", vec![rule(&[Sat], "10:00", "12:00", false)]),
            (
                "Mon-Fri 9am-5pm; Sat 10am-1pm",
                vec![
                    rule(WEEKDAYS, "09:00", "17:00", false),
                    rule(&[Sat], "10:00", "13:00", false),
                ],
            ),
            ("24 hours", vec![rule(ALL, "00:00", "00:00", true)]),
            ("Open 24 hours", vec![rule(ALL, "00:00", "00:00", true)]),
            ("24/7", vec![rule(ALL, "00:00", "00:00", true)]),
            (
                "Mon-Fri 24hrs",
                vec![rule(WEEKDAYS, "00:00", "00:00", true)],
            ),
            (
                "Mon-Fri 9am-12 noon",
                vec![rule(WEEKDAYS, "09:00", "12:00", false)],
            ),
            (
                "Thursday 12 noon - 2pm",
                vec![rule(&[Thu], "12:00", "14:00", false)],
            ),
            (
                "Fri 6pm-midnight",
                vec![rule(&[Fri], "18:00", "00:00", true)],
            ),
            (
                "Fri 6pm - 12 midnight",
                vec![rule(&[Fri], "18:00", "00:00", true)],
            ),
            (
                "Fri & Sat 10pm-2am",
                vec![rule(&[Fri, Sat], "22:00", "02:00", true)],
            ),
            (
                "Fri 22:00-02:00",
                vec![rule(&[Fri], "22:00", "02:00", true)],
            ),
            ("Wed 10-2pm", vec![rule(&[Wed], "10:00", "14:00", false)]),
            ("Wed 1-3pm", vec![rule(&[Wed], "13:00", "15:00", false)]),
            ("Wed 8-10pm", vec![rule(&[Wed], "20:00", "22:00", false)]),
            ("Wed 9am-5", vec![rule(&[Wed], "09:00", "17:00", false)]),
            ("Wed 12-2pm", vec![rule(&[Wed], "12:00", "14:00", false)]),
            (
                "Wed 9.30am - 3.30pm",
                vec![rule(&[Wed], "09:30", "15:30", false)],
            ),
            (
                "Wed 9 a.m. to 5 p.m.",
                vec![rule(&[Wed], "09:00", "17:00", false)],
            ),
            ("Wed 0900-1700", vec![rule(&[Wed], "09:00", "17:00", false)]),
            (
                "Wed 9:30-16:00",
                vec![rule(&[Wed], "09:30", "16:00", false)],
            ),
            (
                "WEDNESDAYS 10AM-12PM",
                vec![rule(&[Wed], "10:00", "12:00", false)],
            ),
            (
                "Wed: 10am-12pm.",
                vec![rule(&[Wed], "10:00", "12:00", false)],
            ),
            (
                "Opening hours: Wed 10am-12pm",
                vec![rule(&[Wed], "10:00", "12:00", false)],
            ),
            (
                "Weekdays 8am-6pm",
                vec![rule(WEEKDAYS, "08:00", "18:00", false)],
            ),
            (
                "Weekends 10am-4pm",
                vec![rule(&[Sat, Sun], "10:00", "16:00", false)],
            ),
            ("Daily 7am-7pm", vec![rule(ALL, "07:00", "19:00", false)]),
            (
                "Every day 7am - 7pm",
                vec![rule(ALL, "07:00", "19:00", false)],
            ),
            (
                "Fri to Mon 10am-4pm",
                vec![rule(&[Mon, Fri, Sat, Sun], "10:00", "16:00", false)],
            ),
            (
                "Monday to Friday, 9am to 5pm",
                vec![rule(WEEKDAYS, "09:00", "17:00", false)],
            ),
            (
                "Mon-Fri 9am-12pm & 1pm-5pm",
                vec![
                    rule(WEEKDAYS, "09:00", "12:00", false),
                    rule(WEEKDAYS, "13:00", "17:00", false),
                ],
            ),
            (
                "Mon-Fri 9am-5pm, Sat 10am-1pm",
                vec![
                    rule(WEEKDAYS, "09:00", "17:00", false),
                    rule(&[Sat], "10:00", "13:00", false),
                ],
            ),
            (
                "10am-12pm Tuesdays and Thursdays",
                vec![rule(&[Tue, Thu], "10:00", "12:00", false)],
            ),
            (
                "Mon-Fri 9am-5pm\nSat-Sun closed",
                vec![rule(WEEKDAYS, "09:00", "17:00", false)],
            ),
            (
                "Mon-Fri 9am-5pm; Wed closed",
                vec![rule(&[Mon, Tue, Thu, Fri], "09:00", "17:00", false)],
            ),
            (
                "Closed Sundays; Sat 10-12",
                vec![rule(&[Sat], "10:00", "12:00", false)],
            ),
        ];
        for (text, expected) in table {
            let parsed = parse_hours(text);
            assert_eq!(parsed.rules, expected, "{text:?}");
            assert_eq!(parsed.unparsed, None, "{text:?}");
        }
    }

    #[test]
    fn unclear_text_is_kept() {
        let table: &[(&str, usize, Option<&str>)] = &[
            // (text, rules found, text kept)
            ("By appointment", 0, Some("By appointment")),
            ("", 0, None),
            ("   ", 0, None),
            ("9am-5pm", 0, Some("9am-5pm")),         // which days?
            ("Mon-Fri 9-5", 0, Some("Mon-Fri 9-5")), // 9am–5pm or overnight?
            ("Sat 1-3", 0, Some("Sat 1-3")),         // afternoon or night?
            ("Wed 7-9", 0, Some("Wed 7-9")),         // morning or evening?
            ("Fri 6-midnight", 0, Some("Fri 6-midnight")),
            ("Wed 12:30-1:30", 0, Some("Wed 12:30-1:30")),
            ("Wed 13pm-2pm", 0, Some("Wed 13pm-2pm")),
            ("Wed 10:75-11:00", 0, Some("Wed 10:75-11:00")),
            ("Wed 25:00-26:00", 0, Some("Wed 25:00-26:00")),
            ("Wed 9am-9am", 0, Some("Wed 9am-9am")),
            ("Closed", 0, Some("Closed")),
            ("Temporarily closed", 0, Some("Temporarily closed")),
            (
                "Mon-Fri 9am-5pm (term time only)",
                0,
                Some("Mon-Fri 9am-5pm (term time only)"),
            ),
            ("Mon 10am-12pm; by appointment", 1, Some("by appointment")),
            (
                "Mon-Fri 9am-5pm; closed bank holidays",
                1,
                Some("closed bank holidays"),
            ),
            ("Mon 10am-12pm; ???; Tue 2pm-4pm; ask", 2, Some("???; ask")),
            (
                "Weekdays to Sat 9am-5pm",
                0,
                Some("Weekdays to Sat 9am-5pm"),
            ),
            ("Mon 930-1200", 0, Some("Mon 930-1200")),
        ];
        for (text, rules, kept) in table {
            let parsed = parse_hours(text);
            assert_eq!(parsed.rules.len(), *rules, "{text:?}: {:?}", parsed.rules);
            assert_eq!(parsed.unparsed.as_deref(), *kept, "{text:?}");
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let long_word = "a".repeat(10_000);
        let long_rules = "Mon-Fri 9am-5pm, ".repeat(600);
        let digits = "9".repeat(10_000);
        let dashes = "-".repeat(10_000);
        let mixed: String = "Mon–Fri 9:3٣ am–5pm 🙂 "
            .chars()
            .cycle()
            .take(10_000)
            .collect();
        let table: Vec<&str> = vec![
            &long_word,
            &long_rules,
            &digits,
            &dashes,
            &mixed,
            "!!!,,,;;;...---",
            ".",
            ";;;",
            ":",
            "-",
            "9:",
            "9.",
            "12:",
            "a.m.",
            "24/",
            "24/7/7",
            "Lun–Ven 9h–17h",
            "月曜日 9時〜17時",
            "Mon\u{0}Fri 9am\u{202e}5pm",
            "ß ǅ İ ﬁ",
            "٠٩:٠٠-١٧:٠٠",
            "9️⃣am-5pm",
        ];
        for text in table {
            let parsed = parse_hours(text);
            for rule in &parsed.rules {
                assert!(rule.opens < rule.closes || rule.overnight, "{rule:?}");
            }
        }
        assert_eq!(parse_hours(&long_rules).rules.len(), 600);
        assert_eq!(parse_hours(&long_word).unparsed, Some(long_word));
    }
}
