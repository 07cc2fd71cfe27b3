//! Request bodies for keys, claims, suggestions and moderation decisions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::{ListingKind, Role};
use super::organisation::blank_to_none;
use super::values::{
    long_text, optional_line, optional_text, Checker, Email, Invalid, Name, PhoneNumber, LINE_MAX,
    NOTE_MAX,
};

/// Body of `POST /keys`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyInput {
    /// What the key is for, e.g. "EMIS integration" or "Jo Bloggs (editor)".
    #[schema(example = "Practice system sync")]
    pub name: String,
    pub role: Role,
    /// Organisations an `organisation` key may edit (required for that role, refused for others).
    #[serde(default)]
    pub organisation_ids: Vec<Uuid>,
    /// When the key stops working (RFC 3339); never when absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A validated key request.
#[derive(Debug, Clone)]
pub struct KeyDraft {
    pub name: Name,
    pub role: Role,
    pub organisation_ids: Vec<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeyInput {
    pub fn validate(self, now: DateTime<Utc>) -> Result<KeyDraft, Invalid> {
        let mut check = Checker::new();
        let name = check.check("name", Name::parse(self.name));
        let mut organisation_ids = self.organisation_ids;
        organisation_ids.sort();
        organisation_ids.dedup();
        match (self.role, organisation_ids.is_empty()) {
            (Role::Organisation, true) => check.fail(
                "organisation_ids",
                "an organisation key needs at least one organisation",
            ),
            (Role::Organisation, false) => {}
            (_, false) => check.fail(
                "organisation_ids",
                "only an organisation key belongs to organisations",
            ),
            (_, true) => {}
        }
        if organisation_ids.len() > 50 {
            check.fail("organisation_ids", "at most 50 organisations");
        }
        if self.expires_at.is_some_and(|e| e <= now) {
            check.fail("expires_at", "must be in the future");
        }
        check.finish()?;
        Ok(KeyDraft {
            name: name.ok_or_else(|| Invalid::one("name", "is required"))?,
            role: self.role,
            organisation_ids,
            expires_at: self.expires_at,
        })
    }
}

/// Body of `POST /organisations/{id}/claims`: someone saying "this is us".
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimInput {
    #[schema(example = "Jo Bloggs")]
    pub name: String,
    /// The claimant's role in the organisation.
    #[schema(example = "Volunteer coordinator")]
    pub role: String,
    #[schema(example = "jo@eastendlarder.example")]
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Anything that helps an editor check the claim.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ClaimDraft {
    pub name: Name,
    pub role: String,
    pub email: Email,
    pub phone: Option<PhoneNumber>,
    pub message: Option<String>,
}

impl ClaimInput {
    pub fn validate(self) -> Result<ClaimDraft, Invalid> {
        let mut check = Checker::new();
        let name = check.check("name", Name::parse(self.name));
        let role = check
            .check("role", optional_line(Some(self.role), LINE_MAX))
            .flatten();
        if role.is_none() {
            check.fail("role", "is required");
        }
        let email = check.check("email", Email::parse(self.email));
        let phone = check.check_opt("phone", blank_to_none(self.phone), PhoneNumber::parse);
        let message = check
            .check("message", optional_text(self.message, NOTE_MAX))
            .flatten();
        check.finish()?;
        Ok(ClaimDraft {
            name: name.ok_or_else(|| Invalid::one("name", "is required"))?,
            role: role.unwrap_or_default(),
            email: email.ok_or_else(|| Invalid::one("email", "is required"))?,
            phone,
            message,
        })
    }
}

/// Body of `POST /suggestions`: a proposed change to a listing, or a new one.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestionInput {
    pub entity_type: ListingKind,
    /// The listing to change; absent to propose a new listing.
    #[serde(default)]
    pub entity_id: Option<Uuid>,
    /// For a change: an RFC 7396 merge patch of the listing's input form
    /// (as for `PATCH`). For a new listing: the full input (as for `POST`).
    #[schema(value_type = Object)]
    pub changes: Value,
    /// Why, or where the information comes from.
    #[serde(default)]
    pub message: Option<String>,
    /// How an editor can reach the person suggesting (optional).
    #[serde(default)]
    pub email: Option<String>,
}

/// A suggestion's own fields, validated (its `changes` are checked against
/// the listing by the API layer).
#[derive(Debug, Clone)]
pub struct SuggestionDraft {
    pub entity_type: ListingKind,
    pub entity_id: Option<Uuid>,
    pub changes: Value,
    pub message: Option<String>,
    pub email: Option<Email>,
}

impl SuggestionInput {
    pub fn validate(self) -> Result<SuggestionDraft, Invalid> {
        let mut check = Checker::new();
        if !self.changes.is_object() {
            check.fail("changes", "must be a JSON object");
        } else if self.changes.as_object().is_some_and(|o| o.is_empty()) {
            check.fail("changes", "must change something");
        }
        let message = check
            .check("message", optional_text(self.message, NOTE_MAX))
            .flatten();
        let email = check.check_opt("email", blank_to_none(self.email), Email::parse);
        check.finish()?;
        Ok(SuggestionDraft {
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            changes: self.changes,
            message,
            email,
        })
    }
}

/// Body of a moderation decision (approve, apply, reject).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Why (recorded with the decision).
    #[serde(default)]
    pub note: Option<String>,
}

impl DecisionInput {
    pub fn validate(self) -> Result<Option<String>, Invalid> {
        match self.note {
            None => Ok(None),
            Some(note) => long_text(note, NOTE_MAX)
                .map(|n| (!n.is_empty()).then_some(n))
                .map_err(|e| Invalid::one("note", e)),
        }
    }
}
