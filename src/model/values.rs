//! Validated value types (newtypes) and the field-error collector used to
//! build them.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One problem with one field of a request, named by its JSON path
/// (e.g. `schedules[1].opens_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every field problem found in a request. Validation collects them all rather
/// than stopping at the first, so a client can fix a form in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// `field: message; …`, for the command line.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Collects field errors while a request is turned into domain values.
#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Runs a parser and records its error against `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.fail(field, message);
                None
            }
        }
    }

    /// Like [`Checker::check`] for optional inputs.
    pub fn check_opt<T, F>(&mut self, field: &str, raw: Option<String>, parse: F) -> Option<T>
    where
        F: FnOnce(String) -> Result<T, String>,
    {
        raw.and_then(|value| self.check(field, parse(value)))
    }

    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.errors))
        }
    }
}

fn has_control_chars(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r' || c == '\t')))
}

/// A required single-line text such as a name: trimmed, 1..=200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Name(String);

impl Name {
    pub const MAX: usize = 200;

    pub fn parse(raw: String) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("must not be empty".into());
        }
        if value.chars().count() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        if has_control_chars(value, false) {
            return Err("must be a single line without control characters".into());
        }
        Ok(Name(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text (descriptions, notes): trimmed, at most `max` characters, newlines allowed.
pub fn long_text(raw: String, max: usize) -> Result<String, String> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if has_control_chars(value, true) {
        return Err("must not contain control characters".into());
    }
    Ok(value.to_string())
}

/// Optional free text: blank becomes `None`.
pub fn optional_text(raw: Option<String>, max: usize) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let value = long_text(raw, max)?;
            Ok((!value.is_empty()).then_some(value))
        }
    }
}

/// Short optional single-line text (address lines, towns, reasons).
pub fn optional_line(raw: Option<String>, max: usize) -> Result<Option<String>, String> {
    let value = optional_text(raw, max)?;
    if let Some(v) = &value {
        if v.contains('\n') || v.contains('\r') {
            return Err("must be a single line".into());
        }
    }
    Ok(value)
}

pub const DESCRIPTION_MAX: usize = 10_000;
pub const NOTE_MAX: usize = 1_000;
pub const LINE_MAX: usize = 200;

/// Parses a UUID in any of the usual spellings; stored in canonical lowercase.
pub fn parse_uuid(raw: &str) -> Result<Uuid, String> {
    Uuid::parse_str(raw.trim()).map_err(|_| format!("'{}' is not a valid UUID", clip(raw)))
}

/// An email address: a pragmatic check (one `@`, a dotted domain, no spaces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: String) -> Result<Self, String> {
        let value = raw.trim();
        let invalid = || format!("'{}' is not a valid email address", clip(value));
        if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(value.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebUrl(String);

impl WebUrl {
    pub const MAX: usize = 2_000;

    pub fn parse(raw: String) -> Result<Self, String> {
        let value = raw.trim();
        if value.len() > Self::MAX {
            return Err(format!("must be at most {} characters", Self::MAX));
        }
        if value.chars().any(char::is_whitespace) {
            return Err("must not contain spaces".into());
        }
        let url = url::Url::parse(value)
            .map_err(|_| format!("'{}' is not a valid absolute URL", clip(value)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("must be an http or https URL with a host".into());
        }
        // Stored as written (not re-serialised) so an import round-trips exactly.
        Ok(WebUrl(value.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A telephone number: digits with the usual separators, 3..=20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: String) -> Result<Self, String> {
        let value = raw.trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()".contains(c));
        if !allowed || !(3..=20).contains(&digits) || value.len() > 30 {
            return Err(format!(
                "'{}' is not a valid phone number (digits, spaces, + - ( ) only)",
                clip(value)
            ));
        }
        Ok(PhoneNumber(value.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// WGS84 coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

impl Coordinates {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, Invalid> {
        let mut check = Checker::new();
        if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
            check.fail("latitude", "must be between -90 and 90");
        }
        if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
            check.fail("longitude", "must be between -180 and 180");
        }
        check.finish()?;
        Ok(Coordinates {
            latitude,
            longitude,
        })
    }
}

/// A lowercase taxonomy slug: `a-z`, `0-9` and single hyphens, at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: String) -> Result<Self, String> {
        let value = raw.trim();
        let ok = !value.is_empty()
            && value.len() <= 100
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if !ok {
            return Err(format!(
                "'{}' is not a valid slug (lowercase letters, digits and single hyphens)",
                clip(value)
            ));
        }
        Ok(Slug(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Shortens user input quoted back in an error message.
pub fn clip(raw: &str) -> String {
    const MAX: usize = 60;
    if raw.chars().count() <= MAX {
        raw.to_string()
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Food bank ".into()).unwrap().as_str(),
            "Food bank"
        );
        assert!(Name::parse("   ".into()).is_err());
        assert!(Name::parse("x".repeat(201)).is_err());
        assert!(Name::parse("two\nlines".into()).is_err());
    }

    #[test]
    fn emails() {
        assert!(Email::parse("help@larder.example".into()).is_ok());
        for bad in [
            "no-at.example",
            "a@b",
            "a b@c.example",
            "@c.example",
            "a@.example",
            "a@b..example",
        ] {
            assert!(Email::parse(bad.into()).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_web_urls() {
        assert!(WebUrl::parse("https://www.larder.example/food".into()).is_ok());
        for bad in [
            "ftp://x.example",
            "javascript:alert(1)",
            "not a url",
            "/relative",
        ] {
            assert!(WebUrl::parse(bad.into()).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert!(PhoneNumber::parse("0141 496 0123".into()).is_ok());
        assert!(PhoneNumber::parse("+44 (0)131 496 0000".into()).is_ok());
        assert!(PhoneNumber::parse("call me".into()).is_err());
        assert!(PhoneNumber::parse("12".into()).is_err());
    }

    #[test]
    fn coordinates_ranges() {
        assert!(Coordinates::new(55.86, -4.23).is_ok());
        let err = Coordinates::new(91.0, -181.0).unwrap_err();
        assert_eq!(err.0.len(), 2);
        assert!(Coordinates::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn slugs() {
        assert!(Slug::parse("food-banks".into()).is_ok());
        for bad in ["Food", "food banks", "-food", "food--banks", ""] {
            assert!(Slug::parse(bad.into()).is_err(), "{bad}");
        }
    }
}
