//! Locations: the places where services run, geocoded from their postcode.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::LocationType;
use super::organisation::blank_to_none;
use super::values::{
    optional_line, optional_text, Checker, Coordinates, Invalid, Name, Slug, LINE_MAX, NOTE_MAX,
};
use crate::geo::{Postcode, PostcodeIndex};

/// Body of `POST`/`PUT /locations`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    #[serde(default)]
    pub id: Option<Uuid>,
    pub organisation_id: Uuid,
    #[schema(example = "Dennistoun Community Hall")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub address_1: Option<String>,
    #[serde(default)]
    pub address_2: Option<String>,
    #[serde(default)]
    pub town: Option<String>,
    /// UK postcode in any case and spacing; stored as `G31 2ER`. Without
    /// coordinates, the location is placed at the postcode.
    #[serde(default)]
    #[schema(example = "G31 2ER")]
    pub postcode: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    /// Defaults to `physical`.
    #[serde(default)]
    pub location_type: Option<LocationType>,
    /// Accessibility feature slugs (taxonomy `accessibility`).
    #[serde(default)]
    pub accessibility: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocationDraft {
    pub organisation_id: Uuid,
    pub name: Name,
    pub description: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<Postcode>,
    pub coordinates: Option<Coordinates>,
    pub location_type: LocationType,
    pub council_area_code: Option<String>,
    pub health_board_code: Option<String>,
    pub accessibility: Vec<Slug>,
}

impl LocationDraft {
    /// Whether storing `other` would change nothing (accessibility features in any order).
    pub fn same_as(&self, other: &LocationDraft) -> bool {
        let ordered = |d: &LocationDraft| {
            let mut d = d.clone();
            d.accessibility.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            d
        };
        ordered(self) == ordered(other)
    }
}

impl LocationInput {
    /// Validates every field and geocodes from the postcode table.
    pub fn validate(self, postcodes: &PostcodeIndex) -> Result<LocationDraft, Invalid> {
        let mut check = Checker::new();
        let name = check.check("name", Name::parse(self.name));
        let description = check
            .check("description", optional_text(self.description, NOTE_MAX))
            .flatten();
        let address_1 = check
            .check("address_1", optional_line(self.address_1, LINE_MAX))
            .flatten();
        let address_2 = check
            .check("address_2", optional_line(self.address_2, LINE_MAX))
            .flatten();
        let town = check.check("town", optional_line(self.town, 100)).flatten();
        let postcode = check.check_opt("postcode", blank_to_none(self.postcode), |raw| {
            Postcode::parse(&raw)
        });
        let location_type = self.location_type.unwrap_or(LocationType::Physical);

        let given = match (self.latitude, self.longitude) {
            (None, None) => None,
            (Some(lat), Some(lon)) => match Coordinates::new(lat, lon) {
                Ok(c) => Some(c),
                Err(Invalid(errors)) => {
                    for e in errors {
                        check.fail(e.field, e.message);
                    }
                    None
                }
            },
            (Some(_), None) => {
                check.fail("longitude", "is required when latitude is given");
                None
            }
            (None, Some(_)) => {
                check.fail("latitude", "is required when longitude is given");
                None
            }
        };

        let place = postcode.as_ref().and_then(|p| postcodes.lookup(p));
        if let (Some(p), None, None) = (&postcode, &place, &given) {
            check.fail(
                "postcode",
                format!(
                    "postcode {} was not found in the postcode data (Code-Point Open, August 2020); \
                     check it, or give latitude and longitude",
                    p.as_str()
                ),
            );
        }
        if location_type == LocationType::Physical
            && postcode.is_none()
            && self.latitude.is_none()
            && self.longitude.is_none()
        {
            check.fail(
                "postcode",
                "a physical location needs a postcode or latitude and longitude",
            );
        }

        let mut accessibility = Vec::new();
        for (i, raw) in self.accessibility.into_iter().enumerate() {
            if let Some(slug) = check.check(&format!("accessibility[{i}]"), Slug::parse(raw)) {
                if !accessibility.contains(&slug) {
                    accessibility.push(slug);
                }
            }
        }
        check.finish()?;

        let coordinates = given.or_else(|| {
            place.as_ref().map(|p| Coordinates {
                latitude: p.latitude,
                longitude: p.longitude,
            })
        });
        let (council_area_code, health_board_code) = place
            .map(|p| (p.council_area_code, p.health_board_code))
            .unwrap_or_default();
        Ok(LocationDraft {
            organisation_id: self.organisation_id,
            name: name.ok_or_else(|| Invalid::one("name", "is required"))?,
            description,
            address_1,
            address_2,
            town,
            postcode,
            coordinates,
            location_type,
            council_area_code,
            health_board_code,
            accessibility,
        })
    }
}
