//! The ALISS v4 response shapes and the pure mappings into them from
//! Signpost's read models.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::envelope::META;
use crate::model::enums::{AreaType, TaxonomyKind};
use crate::model::read::{Location, Organisation, Service, ServiceArea, Term};

/// ALISS's `meta`: the data licence and attributions (as v1's), the API
/// version and where the data comes from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlissMeta {
    #[schema(example = "Open Government Licence v3.0")]
    pub licence: &'static str,
    pub attribution: &'static [&'static str],
    #[schema(example = "v4")]
    pub api_version: &'static str,
    #[schema(example = "signpost")]
    pub source: &'static str,
}

pub const ALISS_META: AlissMeta = AlissMeta {
    licence: META.licence,
    attribution: META.attribution,
    api_version: "v4",
    source: "signpost",
};

/// A single record or a whole (unpaged) list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlissItem<T> {
    pub meta: AlissMeta,
    pub data: T,
}

impl<T> AlissItem<T> {
    pub fn new(data: T) -> Self {
        AlissItem {
            meta: ALISS_META,
            data,
        }
    }
}

/// A page of services, ALISS style.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlissServicePage {
    pub meta: AlissMeta,
    /// Matching services over all pages.
    pub count: i64,
    /// The next page (this request with `page` replaced), or null on the last.
    #[schema(example = "/api/v4/services/?postcode=G31+2ER&page=2")]
    pub next: Option<String>,
    /// The previous page, or null on the first.
    pub previous: Option<String>,
    pub data: Vec<AlissService>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissCategoryRef {
    #[schema(example = "Food banks")]
    pub name: String,
    #[schema(example = "food-banks")]
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissServiceArea {
    #[schema(example = "S12000049")]
    pub code: String,
    #[schema(example = "Glasgow City")]
    pub name: String,
    #[serde(rename = "type")]
    pub area_type: AreaType,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissOrganisationRef {
    pub id: Uuid,
    pub name: String,
    /// The organisation's website.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissLocation {
    pub id: Uuid,
    pub name: String,
    /// Address lines, town and postcode joined with ", ", empty parts left out.
    #[schema(example = "12 Duke Street, Glasgow, G31 2ER")]
    pub formatted_address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A service as ALISS v4 clients expect it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissService {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    /// The first phone number.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub categories: Vec<AlissCategoryRef>,
    pub service_areas: Vec<AlissServiceArea>,
    pub organisation: AlissOrganisationRef,
    pub locations: Vec<AlissLocation>,
    /// When the listing last changed.
    pub last_updated: DateTime<Utc>,
    /// Metres to the nearest location when a postcode was searched and the
    /// service has a location (not in ALISS itself).
    pub distance_m: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissServiceRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissOrganisation {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The organisation's website.
    pub url: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Its live services, by name.
    pub services: Vec<AlissServiceRef>,
    pub last_updated: DateTime<Utc>,
}

/// A category with its sub-categories.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlissCategory {
    #[schema(example = "Food")]
    pub name: String,
    #[schema(example = "food")]
    pub slug: String,
    #[schema(no_recursion)]
    pub sub_categories: Vec<AlissCategory>,
}

/// A Signpost service as ALISS v4 shows it.
pub fn aliss_service(service: &Service, distance_m: Option<u32>) -> AlissService {
    AlissService {
        id: service.id,
        name: service.name.clone(),
        description: service.description.clone(),
        url: service.url.clone(),
        phone: service.phones.first().map(|p| p.number.clone()),
        email: service.email.clone(),
        categories: service
            .categories
            .iter()
            .map(|t| AlissCategoryRef {
                name: t.name.clone(),
                slug: t.slug.clone(),
            })
            .collect(),
        service_areas: service.service_areas.iter().map(aliss_area).collect(),
        organisation: AlissOrganisationRef {
            id: service.organisation.id,
            name: service.organisation.name.clone(),
            url: service.organisation.website.clone(),
        },
        locations: service
            .locations
            .iter()
            .map(|l| AlissLocation {
                id: l.id,
                name: l.name.clone(),
                formatted_address: formatted_address(l),
                latitude: l.latitude,
                longitude: l.longitude,
            })
            .collect(),
        last_updated: service.updated_at,
        distance_m,
    }
}

pub fn aliss_area(area: &ServiceArea) -> AlissServiceArea {
    AlissServiceArea {
        code: area.code.clone(),
        name: area.name.clone(),
        area_type: area.area_type,
    }
}

/// An organisation with `(id, name)` of its live services.
pub fn aliss_organisation(
    organisation: &Organisation,
    services: Vec<(Uuid, String)>,
) -> AlissOrganisation {
    AlissOrganisation {
        id: organisation.id,
        name: organisation.name.clone(),
        description: organisation.description.clone(),
        url: organisation.website.clone(),
        phone: organisation.phone.clone(),
        email: organisation.email.clone(),
        services: services
            .into_iter()
            .map(|(id, name)| AlissServiceRef { id, name })
            .collect(),
        last_updated: organisation.updated_at,
    }
}

/// Address lines, town and postcode joined with ", ", leaving out empty parts.
fn formatted_address(location: &Location) -> String {
    [
        &location.address_1,
        &location.address_2,
        &location.town,
        &location.postcode,
    ]
    .into_iter()
    .filter_map(|part| part.as_deref().map(str::trim))
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// The category terms among `terms` as a tree, each level by name then slug.
/// A term whose parent is not among them is a root, so none is lost.
pub fn category_tree(terms: &[Term]) -> Vec<AlissCategory> {
    let categories: Vec<&Term> = terms
        .iter()
        .filter(|t| t.taxonomy == TaxonomyKind::Category)
        .collect();
    let known: std::collections::HashSet<Uuid> = categories.iter().map(|t| t.id).collect();
    let mut children: HashMap<Option<Uuid>, Vec<&Term>> = HashMap::new();
    for term in &categories {
        let parent = term.parent_id.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(term);
    }
    // Each term has one parent, so every term is visited at most once; terms
    // in a parent cycle are never reached from a root.
    fn build(
        parent: Option<Uuid>,
        children: &HashMap<Option<Uuid>, Vec<&Term>>,
    ) -> Vec<AlissCategory> {
        let mut level: Vec<AlissCategory> = children
            .get(&parent)
            .map(|terms| {
                terms
                    .iter()
                    .map(|t| AlissCategory {
                        name: t.name.clone(),
                        slug: t.slug.clone(),
                        sub_categories: build(Some(t.id), children),
                    })
                    .collect()
            })
            .unwrap_or_default();
        level.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.slug.cmp(&b.slug)));
        level
    }
    build(None, &children)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enums::{LocationType, ServiceStatus};
    use crate::model::read::{Eligibility, OrganisationRef, Phone, TermRef};
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 10, 30, 0)
            .single()
            .expect("a valid instant")
    }

    fn location(n: u128, lines: [Option<&str>; 4]) -> Location {
        let text = |s: Option<&str>| s.map(str::to_string);
        Location {
            id: Uuid::from_u128(n),
            organisation_id: Uuid::from_u128(1),
            name: format!("Hall {n}"),
            description: None,
            address_1: text(lines[0]),
            address_2: text(lines[1]),
            town: text(lines[2]),
            postcode: text(lines[3]),
            latitude: Some(55.865),
            longitude: Some(-4.232),
            location_type: LocationType::Physical,
            council_area_code: Some("S12000049".into()),
            health_board_code: None,
            accessibility: vec![],
            archived_at: None,
            created_at: at(1),
            updated_at: at(1),
            version: 1,
        }
    }

    fn service() -> Service {
        Service {
            id: Uuid::from_u128(7),
            organisation: OrganisationRef {
                id: Uuid::from_u128(1),
                name: "Fixture Trust".into(),
                website: Some("https://trust.example/".into()),
            },
            name: "Lunch club".into(),
            description: "Hot meals on Tuesdays.".into(),
            url: Some("https://lunch.example/".into()),
            email: Some("hello@lunch.example".into()),
            phones: vec![
                Phone {
                    number: "0141 496 0000".into(),
                    description: Some("Office".into()),
                },
                Phone {
                    number: "0141 496 0001".into(),
                    description: None,
                },
            ],
            status: ServiceStatus::Active,
            status_reason: None,
            reopens_on: None,
            replaced_by: None,
            delivery_methods: vec![],
            self_referral: true,
            referral_required: false,
            referral_url: None,
            free: Some(true),
            fees_text: None,
            languages: vec!["en".into()],
            categories: vec![TermRef {
                id: Uuid::from_u128(20),
                slug: "community-meals".into(),
                name: "Community meals".into(),
            }],
            community_groups: vec![],
            eligibility: Eligibility {
                minimum_age: None,
                maximum_age: None,
                description: None,
            },
            service_areas: vec![ServiceArea {
                code: "S12000049".into(),
                area_type: AreaType::CouncilArea,
                name: "Glasgow City".into(),
            }],
            locations: vec![
                location(
                    30,
                    [
                        Some("12 Duke Street"),
                        Some("  "),
                        Some("Glasgow"),
                        Some("G31 2ER"),
                    ],
                ),
                location(31, [None, None, None, None]),
            ],
            schedules: vec![],
            exceptions: vec![],
            closed_on_public_holidays: true,
            open_24_hours: false,
            by_appointment: false,
            hours_notes: None,
            last_verified_at: None,
            verified_by: None,
            archived_at: None,
            created_at: at(1),
            updated_at: at(2),
            version: 3,
            opening: None,
            freshness: None,
            flags: vec![],
            last_checked_at: None,
        }
    }

    #[test]
    fn a_service_maps_onto_the_aliss_shape() {
        let mapped = aliss_service(&service(), Some(420));
        assert_eq!(mapped.id, Uuid::from_u128(7));
        assert_eq!(
            mapped.phone.as_deref(),
            Some("0141 496 0000"),
            "the first number"
        );
        assert_eq!(
            mapped.categories,
            [AlissCategoryRef {
                name: "Community meals".into(),
                slug: "community-meals".into()
            }]
        );
        assert_eq!(
            mapped.organisation.url.as_deref(),
            Some("https://trust.example/")
        );
        assert_eq!(
            mapped.locations[0].formatted_address, "12 Duke Street, Glasgow, G31 2ER",
            "blank lines are skipped"
        );
        assert_eq!(mapped.locations[1].formatted_address, "");
        assert_eq!(mapped.last_updated, at(2));
        assert_eq!(mapped.distance_m, Some(420));

        let json = serde_json::to_value(&mapped).expect("serialises");
        assert_eq!(json["service_areas"][0]["type"], "council_area");
        assert_eq!(json["last_updated"], "2026-03-02T10:30:00Z");
        assert_eq!(json["locations"][0]["latitude"], 55.865);
    }

    #[test]
    fn missing_optional_fields_are_null() {
        let mut bare = service();
        bare.phones.clear();
        bare.url = None;
        bare.organisation.website = None;
        let json = serde_json::to_value(aliss_service(&bare, None)).expect("serialises");
        assert_eq!(json["phone"], serde_json::Value::Null);
        assert_eq!(json["url"], serde_json::Value::Null);
        assert_eq!(json["organisation"]["url"], serde_json::Value::Null);
        assert_eq!(json["distance_m"], serde_json::Value::Null);
    }

    #[test]
    fn a_service_survives_its_stored_json() {
        // Search hits carry the service as stored JSON; reading it back must
        // give the same service, so search and by-id agree.
        let original = service();
        let json = serde_json::to_string(&original).expect("serialises");
        let read: Service = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(read, original);
    }

    fn term(n: u128, slug: &str, parent: Option<u128>, taxonomy: TaxonomyKind) -> Term {
        Term {
            id: Uuid::from_u128(n),
            taxonomy,
            slug: slug.into(),
            name: slug.replace('-', " "),
            description: None,
            parent_id: parent.map(Uuid::from_u128),
            archived_at: None,
            created_at: at(1),
            updated_at: at(1),
            version: 1,
        }
    }

    #[test]
    fn categories_form_a_tree_by_name() {
        let terms = [
            term(3, "food-banks", Some(1), TaxonomyKind::Category),
            term(1, "food", None, TaxonomyKind::Category),
            term(2, "community-meals", Some(1), TaxonomyKind::Category),
            term(4, "housing", None, TaxonomyKind::Category),
            term(5, "older-people", None, TaxonomyKind::CommunityGroup),
            term(6, "orphan", Some(99), TaxonomyKind::Category),
            term(7, "loop-a", Some(8), TaxonomyKind::Category),
            term(8, "loop-b", Some(7), TaxonomyKind::Category),
        ];
        let tree = category_tree(&terms);
        let slugs: Vec<&str> = tree.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(
            slugs,
            ["food", "housing", "orphan"],
            "groups are not categories"
        );
        let food: Vec<&str> = tree[0]
            .sub_categories
            .iter()
            .map(|c| c.slug.as_str())
            .collect();
        assert_eq!(food, ["community-meals", "food-banks"]);
        assert!(tree[1].sub_categories.is_empty());
    }
}
