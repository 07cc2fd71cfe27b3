//! Organisations: the charities, groups and public bodies that run services.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::values::{
    long_text, optional_line, Checker, Email, Invalid, Name, PhoneNumber, WebUrl, DESCRIPTION_MAX,
};

/// Body of `POST`/`PUT /organisations` (and the shape a `PATCH` merges into).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    /// Optional on create (a client-chosen id makes imports idempotent); on
    /// update it must match the path.
    #[serde(default)]
    pub id: Option<Uuid>,
    #[schema(example = "East End Community Larder", max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(example = "https://www.eastendlarder.example")]
    pub website: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    #[schema(example = "0141 496 0123")]
    pub phone: Option<String>,
    /// Scottish (SC…) or other charity registration number, used to spot duplicates.
    #[serde(default)]
    pub charity_number: Option<String>,
    #[serde(default)]
    pub logo_url: Option<String>,
}

/// A validated organisation, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganisationDraft {
    pub name: Name,
    pub description: String,
    pub website: Option<WebUrl>,
    pub email: Option<Email>,
    pub phone: Option<PhoneNumber>,
    pub charity_number: Option<String>,
    pub logo_url: Option<WebUrl>,
}

impl OrganisationInput {
    pub fn validate(self) -> Result<OrganisationDraft, Invalid> {
        let mut check = Checker::new();
        let name = check.check("name", Name::parse(self.name));
        let description = check
            .check(
                "description",
                long_text(self.description.unwrap_or_default(), DESCRIPTION_MAX),
            )
            .unwrap_or_default();
        let website = check.check_opt("website", blank_to_none(self.website), WebUrl::parse);
        let email = check.check_opt("email", blank_to_none(self.email), Email::parse);
        let phone = check.check_opt("phone", blank_to_none(self.phone), PhoneNumber::parse);
        let charity_number = check
            .check("charity_number", optional_line(self.charity_number, 20))
            .flatten()
            .map(|n| n.to_ascii_uppercase());
        let logo_url = check.check_opt("logo_url", blank_to_none(self.logo_url), WebUrl::parse);
        check.finish()?;
        Ok(OrganisationDraft {
            name: name.ok_or_else(|| Invalid::one("name", "is required"))?,
            description,
            website,
            email,
            phone,
            charity_number,
            logo_url,
        })
    }
}

/// Treats an empty or blank optional string as absent.
pub fn blank_to_none(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrganisationInput {
        OrganisationInput {
            id: None,
            name: "Parkhead Pantry".into(),
            description: Some("A pantry.".into()),
            website: Some("https://www.pantry.example".into()),
            email: Some("hello@pantry.example".into()),
            phone: Some("0141 496 0001".into()),
            charity_number: Some("sc012345".into()),
            logo_url: None,
        }
    }

    #[test]
    fn valid_input_passes() {
        let draft = input().validate().unwrap();
        assert_eq!(draft.name.as_str(), "Parkhead Pantry");
        assert_eq!(draft.charity_number.as_deref(), Some("SC012345"));
    }

    #[test]
    fn reports_every_bad_field() {
        let mut bad = input();
        bad.name = " ".into();
        bad.website = Some("nope".into());
        bad.email = Some("nope".into());
        let err = bad.validate().unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "website", "email"]);
    }
}
