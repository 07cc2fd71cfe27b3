//! Signpost records as HSDS 3.0. Standard fields carry what HSDS has a
//! place for; what it has not (delivery methods, referral routes, opening
//! exceptions, closure details, the exact verification) travels as
//! attributes in the `signpost` taxonomy, so an export imports back exactly.

use uuid::Uuid;

use super::types::{
    Accessibility, Address, Attribute, CostOption, Language, Location, Organization,
    OrganizationIdentifier, Phone, Schedule, Service, ServiceArea, ServiceAtLocation, Taxonomy,
    TaxonomyTerm,
};
use crate::model::enums::{ServiceStatus, TaxonomyKind};
use crate::model::read::{self, Term, TermRef};

/// Namespace for ids Signpost derives for HSDS rows it has no id of its own
/// for (phones, addresses, attributes…), so exports are stable.
const NAMESPACE: Uuid = Uuid::from_u128(0x5f0e_2b7c_8a41_4c3e_9d2a_6b1f_0c7e_4a19);

/// The taxonomy of Signpost's own extension attributes.
pub const EXTENSION_TAXONOMY: &str = "signpost";

/// Where a GSS area code is described (HSDS `service_area.uri`).
pub const AREA_URI: &str = "https://statistics.gov.scot/id/statistical-geography/";

pub fn derived_id(parts: &[&str]) -> String {
    Uuid::new_v5(&NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

/// HSDS spells "temporarily closed" with a space.
pub fn status(status: ServiceStatus) -> &'static str {
    match status {
        ServiceStatus::Active => "active",
        ServiceStatus::TemporarilyClosed => "temporarily closed",
        ServiceStatus::Inactive => "inactive",
        ServiceStatus::Defunct => "defunct",
    }
}

pub fn taxonomy_id(kind: &str) -> String {
    derived_id(&["taxonomy", kind])
}

/// The taxonomies terms belong to: Signpost's three vocabularies and its extension fields.
pub fn taxonomies() -> Vec<Taxonomy> {
    let mut all: Vec<Taxonomy> = TaxonomyKind::ALL
        .iter()
        .map(|kind| Taxonomy {
            id: taxonomy_id(kind.as_str()),
            name: kind.as_str().to_string(),
            description: match kind {
                TaxonomyKind::Category => "What a service offers (Signpost categories)",
                TaxonomyKind::CommunityGroup => "Who a service is for",
                TaxonomyKind::Accessibility => "Accessibility features of a location",
            }
            .to_string(),
            uri: None,
            version: None,
        })
        .collect();
    all.push(Taxonomy {
        id: taxonomy_id(EXTENSION_TAXONOMY),
        name: EXTENSION_TAXONOMY.to_string(),
        description:
            "Signpost fields HSDS has no place for; the attribute value holds the field's value"
                .into(),
        uri: None,
        version: None,
    });
    all
}

pub fn term(t: &Term) -> TaxonomyTerm {
    TaxonomyTerm {
        id: t.id.to_string(),
        code: Some(t.slug.clone()),
        name: t.name.clone(),
        description: t.description.clone().unwrap_or_else(|| t.name.clone()),
        parent_id: t.parent_id.map(|p| p.to_string()),
        taxonomy: Some(t.taxonomy.as_str().to_string()),
        taxonomy_id: Some(taxonomy_id(t.taxonomy.as_str())),
    }
}

fn term_attribute(owner: &str, entity: &str, kind: TaxonomyKind, t: &TermRef) -> Attribute {
    Attribute {
        id: derived_id(&["attribute", owner, &t.id.to_string()]),
        link_id: Some(owner.to_string()),
        taxonomy_term_id: Some(t.id.to_string()),
        link_type: Some(kind.as_str().to_string()),
        link_entity: Some(entity.to_string()),
        value: None,
        taxonomy_term: Some(TaxonomyTerm {
            id: t.id.to_string(),
            code: Some(t.slug.clone()),
            name: t.name.clone(),
            description: t.name.clone(),
            parent_id: None,
            taxonomy: Some(kind.as_str().to_string()),
            taxonomy_id: Some(taxonomy_id(kind.as_str())),
        }),
    }
}

fn extension(owner: &str, field: &str, value: String) -> Attribute {
    let term_id = derived_id(&["term", EXTENSION_TAXONOMY, field]);
    Attribute {
        id: derived_id(&["attribute", owner, field]),
        link_id: Some(owner.to_string()),
        taxonomy_term_id: Some(term_id.clone()),
        link_type: Some(EXTENSION_TAXONOMY.to_string()),
        link_entity: Some("service".to_string()),
        value: Some(value),
        taxonomy_term: Some(TaxonomyTerm {
            id: term_id,
            code: Some(field.to_string()),
            name: field.replace('_', " "),
            description: format!("Signpost field `{field}`"),
            parent_id: None,
            taxonomy: Some(EXTENSION_TAXONOMY.to_string()),
            taxonomy_id: Some(taxonomy_id(EXTENSION_TAXONOMY)),
        }),
    }
}

pub fn organization(o: &read::Organisation) -> Organization {
    let id = o.id.to_string();
    Organization {
        id: id.clone(),
        name: o.name.clone(),
        description: o.description.clone(),
        email: o.email.clone(),
        website: o.website.clone(),
        logo: o.logo_url.clone(),
        phones: o
            .phone
            .iter()
            .map(|number| Phone {
                id: derived_id(&["phone", &id]),
                number: number.clone(),
                description: None,
            })
            .collect(),
        organization_identifiers: o
            .charity_number
            .iter()
            .map(|number| OrganizationIdentifier {
                id: derived_id(&["identifier", &id]),
                organization_id: Some(id.clone()),
                identifier_scheme: Some(charity_scheme(number).to_string()),
                identifier_type: "Charity number".into(),
                identifier: number.clone(),
            })
            .collect(),
        services: None,
        locations: Vec::new(),
    }
}

/// org-id.guide scheme of a charity number: Scottish (SC…) or England and Wales.
fn charity_scheme(number: &str) -> &'static str {
    if number.starts_with("SC") {
        "GB-SC"
    } else {
        "GB-CHC"
    }
}

pub fn location(l: &read::Location) -> Location {
    let id = l.id.to_string();
    let has_address = l.address_1.is_some() || l.town.is_some() || l.postcode.is_some();
    Location {
        id: id.clone(),
        location_type: l.location_type.as_str().to_string(),
        organization_id: Some(l.organisation_id.to_string()),
        name: Some(l.name.clone()),
        description: l.description.clone(),
        latitude: l.latitude,
        longitude: l.longitude,
        addresses: has_address
            .then(|| Address {
                id: derived_id(&["address", &id]),
                location_id: Some(id.clone()),
                address_1: l.address_1.clone().unwrap_or_default(),
                address_2: l.address_2.clone(),
                city: l.town.clone().unwrap_or_default(),
                state_province: "Scotland".into(),
                postal_code: l.postcode.clone().unwrap_or_default(),
                country: "GB".into(),
                address_type: "physical".into(),
            })
            .into_iter()
            .collect(),
        accessibility: l
            .accessibility
            .iter()
            .map(|t| Accessibility {
                id: derived_id(&["accessibility", &id, &t.slug]),
                location_id: Some(id.clone()),
                description: Some(t.name.clone()),
            })
            .collect(),
        attributes: l
            .accessibility
            .iter()
            .map(|t| term_attribute(&id, "location", TaxonomyKind::Accessibility, t))
            .collect(),
    }
}

fn flag(value: bool) -> String {
    value.to_string()
}

/// A service, fully nested (its organisation when given).
pub fn service(s: &read::Service, organisation: Option<&read::Organisation>) -> Service {
    let id = s.id.to_string();
    let mut attributes: Vec<Attribute> = Vec::new();
    for t in &s.categories {
        attributes.push(term_attribute(&id, "service", TaxonomyKind::Category, t));
    }
    for t in &s.community_groups {
        attributes.push(term_attribute(
            &id,
            "service",
            TaxonomyKind::CommunityGroup,
            t,
        ));
    }
    let mut ext = |field: &str, value: Option<String>| {
        if let Some(v) = value {
            attributes.push(extension(&id, field, v));
        }
    };
    let joined = s
        .delivery_methods
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(",");
    ext("delivery_methods", (!joined.is_empty()).then_some(joined));
    ext("self_referral", Some(flag(s.self_referral)));
    ext("referral_required", Some(flag(s.referral_required)));
    ext("referral_url", s.referral_url.clone());
    ext(
        "closed_on_public_holidays",
        s.closed_on_public_holidays.then(|| flag(true)),
    );
    ext("open_24_hours", s.open_24_hours.then(|| flag(true)));
    ext("by_appointment", s.by_appointment.then(|| flag(true)));
    ext("hours_notes", s.hours_notes.clone());
    ext(
        "exceptions",
        (!s.exceptions.is_empty())
            .then(|| serde_json::to_string(&s.exceptions).unwrap_or_default()),
    );
    ext("status_reason", s.status_reason.clone());
    ext("reopens_on", s.reopens_on.map(|d| d.to_string()));
    ext("replaced_by", s.replaced_by.map(|r| r.to_string()));
    ext(
        "last_verified_at",
        s.last_verified_at.map(|t| t.to_rfc3339()),
    );
    ext("verified_by", s.verified_by.clone());

    Service {
        id: id.clone(),
        organization_id: Some(s.organisation.id.to_string()),
        name: s.name.clone(),
        description: Some(s.description.clone()),
        url: s.url.clone(),
        email: s.email.clone(),
        status: status(s.status).to_string(),
        alert: (s.status != ServiceStatus::Active)
            .then(|| s.status_reason.clone())
            .flatten(),
        application_process: Some(
            match (s.self_referral, s.referral_required) {
                (true, false) => "Self-referral: contact the service directly",
                (_, true) => "A referral is needed",
                (false, false) => "Contact the service to ask how to access it",
            }
            .to_string(),
        ),
        fees_description: s.fees_text.clone(),
        eligibility_description: s.eligibility.description.clone(),
        minimum_age: s.eligibility.minimum_age.map(i64::from),
        maximum_age: s.eligibility.maximum_age.map(i64::from),
        assured_date: s.last_verified_at.map(|t| t.date_naive().to_string()),
        last_modified: Some(s.updated_at.to_rfc3339()),
        phones: Some(
            s.phones
                .iter()
                .enumerate()
                .map(|(i, p)| Phone {
                    id: derived_id(&["phone", &id, &i.to_string()]),
                    number: p.number.clone(),
                    description: p.description.clone(),
                })
                .collect(),
        ),
        schedules: Some(
            s.schedules
                .iter()
                .map(|sc| Schedule {
                    id: sc.id.to_string(),
                    service_id: Some(id.clone()),
                    location_id: sc.location_id.map(|l| l.to_string()),
                    freq: Some(sc.freq.to_ascii_uppercase()),
                    byday: Some(sc.byday.join(",")),
                    opens_at: Some(sc.opens_at.clone()),
                    closes_at: Some(sc.closes_at.clone()),
                    valid_from: sc.valid_from.map(|d| d.to_string()),
                    valid_to: sc.valid_to.map(|d| d.to_string()),
                    description: sc.description.clone(),
                    notes: Some("Times are local to Europe/London".into()),
                })
                .collect(),
        ),
        service_areas: Some(
            s.service_areas
                .iter()
                .map(|a| ServiceArea {
                    id: derived_id(&["service_area", &id, &a.code]),
                    service_id: Some(id.clone()),
                    name: Some(a.name.clone()),
                    extent_type: Some(a.area_type.as_str().to_string()),
                    uri: Some(format!("{AREA_URI}{}", a.code)),
                })
                .collect(),
        ),
        service_at_locations: Some(
            s.locations
                .iter()
                .map(|l| ServiceAtLocation {
                    id: crate::db::services::service_at_location_id(s.id, l.id).to_string(),
                    service_id: Some(id.clone()),
                    location_id: Some(l.id.to_string()),
                    location: Some(location(l)),
                    service: None,
                })
                .collect(),
        ),
        languages: Some(
            s.languages
                .iter()
                .map(|code| Language {
                    id: derived_id(&["language", &id, code]),
                    service_id: Some(id.clone()),
                    name: None,
                    code: Some(code.clone()),
                })
                .collect(),
        ),
        organization: organisation.map(organization),
        cost_options: Some(
            s.free
                .map(|free| CostOption {
                    id: derived_id(&["cost_option", &id]),
                    service_id: Some(id.clone()),
                    option: Some(if free { "free" } else { "charge" }.to_string()),
                    currency: Some("GBP".into()),
                    amount: free.then_some(0.0),
                    amount_description: if free { None } else { s.fees_text.clone() },
                })
                .into_iter()
                .collect(),
        ),
        attributes: Some(attributes),
    }
}
