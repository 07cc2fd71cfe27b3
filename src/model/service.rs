//! Services: what people actually go to. The aggregate includes phones,
//! eligibility, categories, community groups, service areas, the locations it
//! runs at and its schedules.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::{DeliveryMethod, ServiceStatus};
use super::organisation::blank_to_none;
use super::values::{
    long_text, optional_line, optional_text, Checker, Email, Invalid, Name, PhoneNumber, Slug,
    WebUrl, DESCRIPTION_MAX, NOTE_MAX,
};

pub const MAX_AGE: i64 = 120;
const MAX_LIST: usize = 50;

/// Body of `POST`/`PUT /services` (and the shape a `PATCH` merges into).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub organisation_id: Uuid,
    #[schema(example = "Saturday community pantry")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phones: Vec<PhoneInput>,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: Option<ServiceStatus>,
    /// Why the service is not active (required unless `active`).
    #[serde(default)]
    pub status_reason: Option<String>,
    /// For `temporarily_closed`: the date it expects to reopen.
    #[serde(default)]
    pub reopens_on: Option<NaiveDate>,
    /// For `defunct`: the service that replaces it.
    #[serde(default)]
    pub replaced_by: Option<Uuid>,
    #[serde(default)]
    pub delivery_methods: Vec<DeliveryMethod>,
    /// People can contact the service themselves.
    #[serde(default)]
    pub self_referral: Option<bool>,
    /// A professional referral (GP, link worker…) is needed.
    #[serde(default)]
    pub referral_required: Option<bool>,
    #[serde(default)]
    pub referral_url: Option<String>,
    /// `true` when free at the point of use; absent when unknown.
    #[serde(default)]
    pub free: Option<bool>,
    #[serde(default)]
    pub fees_text: Option<String>,
    /// ISO 639-1 language codes, e.g. `en`, `gd`, `pl`.
    #[serde(default)]
    pub languages: Vec<String>,
    /// Category slugs.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Community group slugs ("who it is for").
    #[serde(default)]
    pub community_groups: Vec<String>,
    #[serde(default)]
    pub eligibility: Option<EligibilityInput>,
    /// Service area codes (council area, HSCP, health board, S92000003 Scotland, K02000001 UK).
    #[serde(default)]
    pub service_areas: Vec<String>,
    /// Locations (of the same organisation) where the service runs.
    #[serde(default)]
    pub location_ids: Vec<Uuid>,
    #[serde(default)]
    pub schedules: Vec<ScheduleInput>,
    /// Dated exceptions to the schedules: closed, or special hours.
    #[serde(default)]
    pub exceptions: Vec<ExceptionInput>,
    #[serde(default)]
    pub closed_on_public_holidays: Option<bool>,
    /// Open round the clock, every day (schedules are then ignored).
    #[serde(default)]
    pub open_24_hours: Option<bool>,
    /// Seen by appointment only.
    #[serde(default)]
    pub by_appointment: Option<bool>,
    /// Free-text opening notes, e.g. "Closed over Christmas".
    #[serde(default)]
    pub hours_notes: Option<String>,
    /// Set `true` when the person saving has checked the whole listing is
    /// correct: this sets `last_verified_at`. Ordinary edits do not.
    #[serde(default)]
    pub verified: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PhoneInput {
    #[schema(example = "0141 496 0123")]
    pub number: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EligibilityInput {
    #[serde(default)]
    pub minimum_age: Option<i64>,
    #[serde(default)]
    pub maximum_age: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A regular opening rule (HSDS `schedule`). Evaluation (open now, next open)
/// comes with the hours module; here the rule is validated and stored.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// `weekly` or `monthly`.
    #[schema(example = "weekly")]
    pub freq: String,
    /// Weekly: day codes `MO`..`SU`. Monthly: ordinal + day, e.g. `1SA`
    /// (first Saturday), `3TU`, `-1FR` (last Friday).
    #[schema(example = json!(["MO", "TU", "WE", "TH", "FR"]))]
    pub byday: Vec<String>,
    /// Local time (Europe/London), `HH:MM`.
    #[schema(example = "09:00")]
    pub opens_at: String,
    #[schema(example = "17:00")]
    pub closes_at: String,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub description: Option<String>,
    /// When the rule applies at one location only.
    #[serde(default)]
    pub location_id: Option<Uuid>,
    /// The interval ends the next day (`closes_at` is before `opens_at`, e.g. 22:00–02:00).
    #[serde(default)]
    pub overnight: Option<bool>,
}

/// A date (or range) when the usual schedules do not apply: closed, or open
/// only at the given times.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExceptionInput {
    #[schema(example = "2026-12-24")]
    pub starts_on: NaiveDate,
    /// Defaults to `starts_on`.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// With `closes_at`: the special hours. Both absent: closed.
    #[serde(default)]
    pub opens_at: Option<String>,
    #[serde(default)]
    pub closes_at: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionDraft {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub hours: Option<(String, String)>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDraft {
    pub freq: String,
    pub byday: Vec<String>,
    pub opens_at: String,
    pub closes_at: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
    pub location_id: Option<Uuid>,
    pub overnight: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneDraft {
    pub number: PhoneNumber,
    pub description: Option<String>,
}

/// A validated service. References (organisation, slugs, area codes,
/// locations) are checked against the database when it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDraft {
    pub organisation_id: Uuid,
    pub name: Name,
    pub description: String,
    pub url: Option<WebUrl>,
    pub email: Option<Email>,
    pub phones: Vec<PhoneDraft>,
    pub status: ServiceStatus,
    pub status_reason: Option<String>,
    pub reopens_on: Option<NaiveDate>,
    pub replaced_by: Option<Uuid>,
    pub delivery_methods: Vec<DeliveryMethod>,
    pub self_referral: bool,
    pub referral_required: bool,
    pub referral_url: Option<WebUrl>,
    pub free: Option<bool>,
    pub fees_text: Option<String>,
    pub languages: Vec<String>,
    pub categories: Vec<Slug>,
    pub community_groups: Vec<Slug>,
    pub minimum_age: Option<i32>,
    pub maximum_age: Option<i32>,
    pub eligibility_description: Option<String>,
    pub service_areas: Vec<String>,
    pub location_ids: Vec<Uuid>,
    pub schedules: Vec<ScheduleDraft>,
    pub exceptions: Vec<ExceptionDraft>,
    pub closed_on_public_holidays: bool,
    pub open_24_hours: bool,
    pub by_appointment: bool,
    pub hours_notes: Option<String>,
    pub verified: bool,
}

impl ServiceDraft {
    /// Whether storing `other` would change nothing: the same fields, with
    /// the set-valued ones (categories, groups, areas, locations, languages)
    /// in any order, since they are stored without one.
    pub fn same_as(&self, other: &ServiceDraft) -> bool {
        self.in_order() == other.in_order()
    }

    fn in_order(&self) -> ServiceDraft {
        let mut d = self.clone();
        d.categories.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        d.community_groups
            .sort_by(|a, b| a.as_str().cmp(b.as_str()));
        d.service_areas.sort();
        d.location_ids.sort();
        d.languages.sort();
        d
    }
}

impl ServiceInput {
    pub fn validate(self) -> Result<ServiceDraft, Invalid> {
        let mut check = Checker::new();
        let name = check.check("name", Name::parse(self.name));
        let description = check
            .check(
                "description",
                long_text(self.description.unwrap_or_default(), DESCRIPTION_MAX),
            )
            .unwrap_or_default();
        let url = check.check_opt("url", blank_to_none(self.url), WebUrl::parse);
        let email = check.check_opt("email", blank_to_none(self.email), Email::parse);
        limit(&mut check, "phones", self.phones.len());
        let phones = self
            .phones
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let number =
                    check.check(&format!("phones[{i}].number"), PhoneNumber::parse(p.number));
                let description = check
                    .check(
                        &format!("phones[{i}].description"),
                        optional_line(p.description, 100),
                    )
                    .flatten();
                number.map(|number| PhoneDraft {
                    number,
                    description,
                })
            })
            .collect();

        let status = self.status.unwrap_or(ServiceStatus::Active);
        let status_reason = check
            .check("status_reason", optional_text(self.status_reason, NOTE_MAX))
            .flatten();
        if status != ServiceStatus::Active && status_reason.is_none() {
            check.fail("status_reason", "is required when status is not active");
        }
        if self.reopens_on.is_some() && status != ServiceStatus::TemporarilyClosed {
            check.fail(
                "reopens_on",
                "only applies when status is temporarily_closed",
            );
        }
        if self.replaced_by.is_some() && status != ServiceStatus::Defunct {
            check.fail("replaced_by", "only applies when status is defunct");
        }
        if self.replaced_by.is_some() && self.replaced_by == self.id {
            check.fail("replaced_by", "a service cannot replace itself");
        }

        let mut delivery_methods = Vec::new();
        for m in self.delivery_methods {
            if !delivery_methods.contains(&m) {
                delivery_methods.push(m);
            }
        }
        let referral_url = check.check_opt(
            "referral_url",
            blank_to_none(self.referral_url),
            WebUrl::parse,
        );
        let fees_text = check
            .check("fees_text", optional_text(self.fees_text, NOTE_MAX))
            .flatten();

        limit(&mut check, "languages", self.languages.len());
        let mut languages = Vec::new();
        for (i, raw) in self.languages.into_iter().enumerate() {
            if let Some(code) = check.check(&format!("languages[{i}]"), language_code(&raw)) {
                if !languages.contains(&code) {
                    languages.push(code);
                }
            }
        }
        let categories = slugs(&mut check, "categories", self.categories);
        let community_groups = slugs(&mut check, "community_groups", self.community_groups);

        let eligibility = self.eligibility.unwrap_or_default();
        let minimum_age = age(
            &mut check,
            "eligibility.minimum_age",
            eligibility.minimum_age,
        );
        let maximum_age = age(
            &mut check,
            "eligibility.maximum_age",
            eligibility.maximum_age,
        );
        if let (Some(min), Some(max)) = (minimum_age, maximum_age) {
            if min > max {
                check.fail(
                    "eligibility.maximum_age",
                    format!("must not be below minimum_age ({min})"),
                );
            }
        }
        let eligibility_description = check
            .check(
                "eligibility.description",
                optional_text(eligibility.description, NOTE_MAX),
            )
            .flatten();

        limit(&mut check, "service_areas", self.service_areas.len());
        let mut service_areas = Vec::new();
        for (i, raw) in self.service_areas.into_iter().enumerate() {
            let code = raw.trim().to_ascii_uppercase();
            if code.is_empty()
                || code.len() > 12
                || !code.chars().all(|c| c.is_ascii_alphanumeric())
            {
                check.fail(
                    format!("service_areas[{i}]"),
                    "is not a valid area code (e.g. S12000049)",
                );
            } else if !service_areas.contains(&code) {
                service_areas.push(code);
            }
        }
        limit(&mut check, "location_ids", self.location_ids.len());
        let mut location_ids = Vec::new();
        for id in self.location_ids {
            if !location_ids.contains(&id) {
                location_ids.push(id);
            }
        }
        limit(&mut check, "schedules", self.schedules.len());
        // Each valid schedule with its position in the input, for naming it.
        let mut numbered: Vec<(usize, ScheduleDraft)> = Vec::new();
        for (i, input) in self.schedules.into_iter().enumerate() {
            let Some(draft) = schedule(&mut check, &format!("schedules[{i}]"), input) else {
                continue;
            };
            // The same rule twice (common in imported data) says nothing
            // more: kept once rather than refused as an overlap.
            if !numbered.iter().any(|(_, kept)| *kept == draft) {
                numbered.push((i, draft));
            }
        }
        if let Some((earlier, later, day)) = first_overlap(&numbered) {
            check.fail(
                format!("schedules[{later}]"),
                format!("overlaps schedules[{earlier}] on {day}; give each opening once"),
            );
        }
        if self.open_24_hours == Some(true) && !numbered.is_empty() {
            check.fail(
                "open_24_hours",
                "a service open 24 hours has no weekly or monthly schedules; remove them or unset open_24_hours",
            );
        }
        for (i, s) in &numbered {
            if s.location_id
                .is_some_and(|loc| !location_ids.contains(&loc))
            {
                check.fail(
                    format!("schedules[{i}].location_id"),
                    "must be one of the service's location_ids",
                );
            }
        }
        let schedules: Vec<ScheduleDraft> = numbered.into_iter().map(|(_, s)| s).collect();
        limit(&mut check, "exceptions", self.exceptions.len());
        let exceptions = self
            .exceptions
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| exception(&mut check, &format!("exceptions[{i}]"), e))
            .collect();
        let hours_notes = check
            .check("hours_notes", optional_text(self.hours_notes, NOTE_MAX))
            .flatten();
        check.finish()?;

        Ok(ServiceDraft {
            organisation_id: self.organisation_id,
            name: name.ok_or_else(|| Invalid::one("name", "is required"))?,
            description,
            url,
            email,
            phones,
            status,
            status_reason,
            reopens_on: self.reopens_on,
            replaced_by: self.replaced_by,
            delivery_methods,
            self_referral: self.self_referral.unwrap_or(false),
            referral_required: self.referral_required.unwrap_or(false),
            referral_url,
            free: self.free,
            fees_text,
            languages,
            categories,
            community_groups,
            minimum_age,
            maximum_age,
            eligibility_description,
            service_areas,
            location_ids,
            schedules,
            exceptions,
            closed_on_public_holidays: self.closed_on_public_holidays.unwrap_or(false),
            open_24_hours: self.open_24_hours.unwrap_or(false),
            by_appointment: self.by_appointment.unwrap_or(false),
            hours_notes,
            verified: self.verified.unwrap_or(false),
        })
    }
}

fn limit(check: &mut Checker, field: &str, len: usize) {
    if len > MAX_LIST {
        check.fail(field, format!("must have at most {MAX_LIST} entries"));
    }
}

fn slugs(check: &mut Checker, field: &str, raw: Vec<String>) -> Vec<Slug> {
    limit(check, field, raw.len());
    let mut out = Vec::new();
    for (i, value) in raw.into_iter().enumerate() {
        if let Some(slug) = check.check(&format!("{field}[{i}]"), Slug::parse(value)) {
            if !out.contains(&slug) {
                out.push(slug);
            }
        }
    }
    out
}

fn age(check: &mut Checker, field: &str, value: Option<i64>) -> Option<i32> {
    match value {
        Some(v) if !(0..=MAX_AGE).contains(&v) => {
            check.fail(field, format!("must be between 0 and {MAX_AGE}"));
            None
        }
        Some(v) => Some(v as i32),
        None => None,
    }
}

/// ISO 639-1 (two letters) or 639-2/3 (three letters), stored lower case.
fn language_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_lowercase();
    if (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_lowercase()) {
        Ok(code)
    } else {
        Err(format!(
            "'{}' is not an ISO 639 language code (e.g. en, gd, pl)",
            super::values::clip(raw)
        ))
    }
}

pub const DAY_CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Parses a closing time: `HH:MM`, or `24:00` for the end of the day.
pub fn parse_closing_time(raw: &str) -> Result<(u32, u32), String> {
    if raw.trim() == "24:00" {
        return Ok((24, 0));
    }
    parse_clock_time(raw).map_err(|_| {
        format!(
            "'{}' is not a time of day as HH:MM (00:00 to 23:59, or 24:00 for the end of the day)",
            super::values::clip(raw)
        )
    })
}

const MINUTES_PER_WEEK: u32 = 7 * 24 * 60;

/// The first pair of weekly schedules that are open at the same time on
/// some day (same location, overlapping validity windows), as (earlier
/// number, later number, day code); schedules come numbered by their place
/// in the input. Touching intervals (09:00–12:00 and 12:00–17:00) do not
/// overlap.
fn first_overlap(schedules: &[(usize, ScheduleDraft)]) -> Option<(usize, usize, &'static str)> {
    // Minutes of the week, Monday 00:00 = 0; an overnight interval on Sunday
    // wraps round to Monday morning.
    let intervals = |s: &ScheduleDraft| -> Vec<(u32, u32, &'static str)> {
        let minutes = |t: &str| {
            let (h, m) = parse_closing_time(t).unwrap_or((0, 0));
            h * 60 + m
        };
        let (opens, mut closes) = (minutes(&s.opens_at), minutes(&s.closes_at));
        if s.overnight {
            closes += 24 * 60;
        }
        let mut out = Vec::new();
        for code in &s.byday {
            let Some(day) = DAY_CODES.iter().position(|d| d == code) else {
                continue;
            };
            let (start, end) = (day as u32 * 24 * 60 + opens, day as u32 * 24 * 60 + closes);
            if end > MINUTES_PER_WEEK {
                out.push((start, MINUTES_PER_WEEK, DAY_CODES[day]));
                out.push((0, end - MINUTES_PER_WEEK, DAY_CODES[day]));
            } else {
                out.push((start, end, DAY_CODES[day]));
            }
        }
        out
    };
    let windows_meet = |a: &ScheduleDraft, b: &ScheduleDraft| {
        a.valid_from.max(b.valid_from).is_none_or(|from| {
            [a.valid_to, b.valid_to]
                .into_iter()
                .flatten()
                .all(|to| from <= to)
        })
    };
    for (j, (later_number, later)) in schedules.iter().enumerate() {
        if later.freq != "weekly" {
            continue;
        }
        for (earlier_number, earlier) in &schedules[..j] {
            if earlier.freq != "weekly"
                || earlier.location_id != later.location_id
                || !windows_meet(earlier, later)
            {
                continue;
            }
            for (a0, a1, day) in intervals(later) {
                if intervals(earlier)
                    .iter()
                    .any(|&(b0, b1, _)| a0 < b1 && b0 < a1)
                {
                    return Some((*earlier_number, *later_number, day));
                }
            }
        }
    }
    None
}

/// Parses `HH:MM` (24-hour clock).
pub fn parse_clock_time(raw: &str) -> Result<(u32, u32), String> {
    let bad = || {
        format!(
            "'{}' is not a time of day as HH:MM (00:00 to 23:59)",
            super::values::clip(raw)
        )
    };
    let (h, m) = raw.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Ok((hour, minute))
}

fn schedule(check: &mut Checker, field: &str, input: ScheduleInput) -> Option<ScheduleDraft> {
    let freq = input.freq.trim().to_ascii_lowercase();
    let monthly = match freq.as_str() {
        "weekly" => false,
        "monthly" => true,
        _ => {
            check.fail(format!("{field}.freq"), "must be weekly or monthly");
            return None;
        }
    };
    if input.byday.is_empty() {
        check.fail(format!("{field}.byday"), "must name at least one day");
    }
    let mut byday = Vec::new();
    for (i, raw) in input.byday.iter().enumerate() {
        let code = raw.trim().to_ascii_uppercase();
        let (ordinal, day) = code.split_at(code.len().saturating_sub(2));
        let ordinal_ok = if monthly {
            matches!(ordinal, "1" | "2" | "3" | "4" | "5" | "-1")
        } else {
            ordinal.is_empty()
        };
        if !DAY_CODES.contains(&day) || !ordinal_ok {
            let expected = if monthly {
                "an ordinal and a day code, e.g. 1SA, 3TU, -1FR"
            } else {
                "a day code: MO, TU, WE, TH, FR, SA or SU"
            };
            check.fail(
                format!("{field}.byday[{i}]"),
                format!("'{}' is not {expected}", super::values::clip(raw)),
            );
        } else if !byday.contains(&code) {
            byday.push(code);
        }
    }
    let opens = check.check(
        &format!("{field}.opens_at"),
        parse_clock_time(&input.opens_at),
    );
    let closes = check.check(
        &format!("{field}.closes_at"),
        parse_closing_time(&input.closes_at),
    );
    let overnight = input.overnight.unwrap_or(false);
    if let (Some(o), Some(c)) = (opens, closes) {
        if overnight && o <= c {
            check.fail(
                format!("{field}.overnight"),
                "an overnight interval must close before it opens (e.g. 22:00 to 02:00)",
            );
        } else if !overnight && o >= c {
            check.fail(
                format!("{field}.closes_at"),
                "must be after opens_at (set overnight for intervals that cross midnight)",
            );
        }
    }
    if let (Some(from), Some(to)) = (input.valid_from, input.valid_to) {
        if from > to {
            check.fail(format!("{field}.valid_to"), "must not be before valid_from");
        }
    }
    let description = check
        .check(
            &format!("{field}.description"),
            optional_line(input.description, 200),
        )
        .flatten();
    let (o, c) = (opens?, closes?);
    Some(ScheduleDraft {
        freq,
        byday,
        opens_at: format!("{:02}:{:02}", o.0, o.1),
        closes_at: format!("{:02}:{:02}", c.0, c.1),
        valid_from: input.valid_from,
        valid_to: input.valid_to,
        description,
        location_id: input.location_id,
        overnight,
    })
}

fn exception(check: &mut Checker, field: &str, input: ExceptionInput) -> Option<ExceptionDraft> {
    let ends_on = input.ends_on.unwrap_or(input.starts_on);
    if ends_on < input.starts_on {
        check.fail(format!("{field}.ends_on"), "must not be before starts_on");
    }
    if (ends_on - input.starts_on).num_days() > 366 {
        check.fail(
            format!("{field}.ends_on"),
            "an exception may cover at most a year",
        );
    }
    let hours = match (input.opens_at, input.closes_at) {
        (None, None) => None,
        (Some(o), Some(c)) => {
            let opens = check.check(&format!("{field}.opens_at"), parse_clock_time(&o));
            let closes = check.check(&format!("{field}.closes_at"), parse_closing_time(&c));
            match (opens, closes) {
                (Some(a), Some(b)) if a < b => Some((
                    format!("{:02}:{:02}", a.0, a.1),
                    format!("{:02}:{:02}", b.0, b.1),
                )),
                (Some(_), Some(_)) => {
                    check.fail(format!("{field}.closes_at"), "must be after opens_at");
                    None
                }
                _ => None,
            }
        }
        (Some(_), None) => {
            check.fail(format!("{field}.closes_at"), "is required with opens_at");
            None
        }
        (None, Some(_)) => {
            check.fail(format!("{field}.opens_at"), "is required with closes_at");
            None
        }
    };
    let description = check
        .check(
            &format!("{field}.description"),
            optional_line(input.description, 200),
        )
        .flatten();
    Some(ExceptionDraft {
        starts_on: input.starts_on,
        ends_on,
        hours,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceInput {
        serde_json::from_value(serde_json::json!({
            "organisation_id": "0b6d7c8e-6b1a-4c8e-9a53-3f1f7b7f0a01",
            "name": "Walking group",
            "schedules": [{"freq": "weekly", "byday": ["MO"], "opens_at": "10:00", "closes_at": "11:30"}]
        }))
        .unwrap()
    }

    #[test]
    fn defaults_are_applied() {
        let draft = input().validate().unwrap();
        assert_eq!(draft.status, ServiceStatus::Active);
        assert!(!draft.verified);
        assert_eq!(draft.schedules[0].byday, ["MO"]);
    }

    #[test]
    fn schedule_rules_are_checked() {
        let mut bad = input();
        bad.schedules = vec![ScheduleInput {
            freq: "weekly".into(),
            byday: vec!["XX".into(), "1MO".into()],
            opens_at: "25:00".into(),
            closes_at: "9:00".into(),
            valid_from: NaiveDate::from_ymd_opt(2026, 5, 1),
            valid_to: NaiveDate::from_ymd_opt(2026, 4, 1),
            description: None,
            location_id: None,
            overnight: None,
        }];
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "schedules[0].byday[0]",
                "schedules[0].byday[1]",
                "schedules[0].opens_at",
                "schedules[0].closes_at",
                "schedules[0].valid_to"
            ]
        );
    }

    #[test]
    fn overnight_intervals_cross_midnight() {
        let mut ok = input();
        ok.schedules[0].opens_at = "22:00".into();
        ok.schedules[0].closes_at = "02:00".into();
        ok.schedules[0].overnight = Some(true);
        assert!(ok.validate().unwrap().schedules[0].overnight);
        let mut bad = input();
        bad.schedules[0].overnight = Some(true);
        assert_eq!(
            bad.validate().unwrap_err().0[0].field,
            "schedules[0].overnight"
        );
    }

    #[test]
    fn exceptions_are_checked() {
        let mut bad = input();
        bad.exceptions = vec![ExceptionInput {
            starts_on: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
            ends_on: NaiveDate::from_ymd_opt(2026, 12, 20),
            opens_at: Some("10:00".into()),
            closes_at: None,
            description: None,
        }];
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["exceptions[0].ends_on", "exceptions[0].closes_at"]);
    }

    #[test]
    fn opening_must_precede_closing() {
        let mut bad = input();
        bad.schedules[0].opens_at = "12:00".into();
        let err = bad.validate().unwrap_err();
        assert_eq!(err.0[0].field, "schedules[0].closes_at");
    }

    #[test]
    fn ages_and_status_rules() {
        let mut bad = input();
        bad.eligibility = Some(EligibilityInput {
            minimum_age: Some(65),
            maximum_age: Some(18),
            description: None,
        });
        bad.status = Some(ServiceStatus::Defunct);
        bad.reopens_on = NaiveDate::from_ymd_opt(2027, 1, 1);
        let fields: Vec<String> = bad
            .validate()
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["status_reason", "reopens_on", "eligibility.maximum_age"]
        );
    }

    #[test]
    fn monthly_rules_take_ordinals() {
        let mut ok = input();
        ok.schedules[0].freq = "monthly".into();
        ok.schedules[0].byday = vec!["1sa".into(), "-1FR".into()];
        assert_eq!(ok.validate().unwrap().schedules[0].byday, ["1SA", "-1FR"]);
    }
}
