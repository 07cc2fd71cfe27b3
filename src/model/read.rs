//! Read models: what the API returns and what search indexes. Built by the
//! repositories from rows.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::enums::{AreaType, DeliveryMethod, LocationType, ServiceStatus, TaxonomyKind};
use super::location::LocationInput;
use super::organisation::OrganisationInput;
use super::service::{EligibilityInput, ExceptionInput, PhoneInput, ScheduleInput, ServiceInput};
use super::taxonomy::TermInput;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub charity_number: Option<String>,
    pub logo_url: Option<String>,
    /// Set when the organisation has been deleted (records are never removed).
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Increments on every change; sent as the `ETag`.
    pub version: i64,
}

impl Organisation {
    pub fn to_input(&self) -> OrganisationInput {
        OrganisationInput {
            id: Some(self.id),
            name: self.name.clone(),
            description: Some(self.description.clone()),
            website: self.website.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            charity_number: self.charity_number.clone(),
            logo_url: self.logo_url.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Term {
    pub id: Uuid,
    pub taxonomy: TaxonomyKind,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<Uuid>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Term {
    pub fn to_input(&self) -> TermInput {
        TermInput {
            id: Some(self.id),
            taxonomy: self.taxonomy,
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            parent_id: self.parent_id,
        }
    }
}

/// A taxonomy term as referenced from a service or location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TermRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceArea {
    #[schema(example = "S12000049")]
    pub code: String,
    pub area_type: AreaType,
    #[schema(example = "Glasgow City")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Location {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location_type: LocationType,
    /// Derived from the postcode.
    pub council_area_code: Option<String>,
    /// Derived from the postcode.
    pub health_board_code: Option<String>,
    pub accessibility: Vec<TermRef>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Location {
    pub fn to_input(&self) -> LocationInput {
        LocationInput {
            id: Some(self.id),
            organisation_id: self.organisation_id,
            name: self.name.clone(),
            description: self.description.clone(),
            address_1: self.address_1.clone(),
            address_2: self.address_2.clone(),
            town: self.town.clone(),
            postcode: self.postcode.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            location_type: Some(self.location_type),
            accessibility: self.accessibility.iter().map(|t| t.slug.clone()).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrganisationRef {
    pub id: Uuid,
    pub name: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Phone {
    pub number: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Eligibility {
    pub minimum_age: Option<i32>,
    pub maximum_age: Option<i32>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    pub id: Uuid,
    pub freq: String,
    pub byday: Vec<String>,
    pub opens_at: String,
    pub closes_at: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
    pub location_id: Option<Uuid>,
    /// The interval ends the next day.
    pub overnight: bool,
}

/// A date or range when the schedules do not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleException {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Both absent: closed on these dates.
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: Option<String>,
}

/// A service with everything a link worker needs to judge it.
// Deserialises from its own JSON: search results hold it as stored JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: Uuid,
    pub organisation: OrganisationRef,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<Phone>,
    pub status: ServiceStatus,
    pub status_reason: Option<String>,
    pub reopens_on: Option<NaiveDate>,
    pub replaced_by: Option<Uuid>,
    pub delivery_methods: Vec<DeliveryMethod>,
    pub self_referral: bool,
    pub referral_required: bool,
    pub referral_url: Option<String>,
    pub free: Option<bool>,
    pub fees_text: Option<String>,
    pub languages: Vec<String>,
    pub categories: Vec<TermRef>,
    pub community_groups: Vec<TermRef>,
    pub eligibility: Eligibility,
    pub service_areas: Vec<ServiceArea>,
    pub locations: Vec<Location>,
    pub schedules: Vec<Schedule>,
    pub exceptions: Vec<ScheduleException>,
    pub closed_on_public_holidays: bool,
    pub open_24_hours: bool,
    pub by_appointment: bool,
    pub hours_notes: Option<String>,
    /// When someone last confirmed the whole listing is correct (HSDS `assured_date`).
    pub last_verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// HSDS `last_modified`.
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// Open now, closing and next opening times, and a summary, as of the
    /// request (`at=` to ask about another instant). Computed, not stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening: Option<super::opening::Opening>,
    /// Whether the listing can be trusted: its state, open flags with their
    /// evidence, last verified and last checked. Computed per response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freshness: Option<super::freshness::Freshness>,
    /// Open flags (shown inside `freshness`).
    #[serde(skip)]
    pub flags: Vec<super::freshness::Flag>,
    /// When the listing's website was last checked (shown inside `freshness`).
    #[serde(skip)]
    pub last_checked_at: Option<DateTime<Utc>>,
}

impl Service {
    /// What `freshness` is worked out from.
    pub fn freshness_facts(&self) -> super::freshness::FreshnessFacts {
        super::freshness::FreshnessFacts {
            status: self.status,
            last_verified_at: self.last_verified_at,
            created_at: self.created_at,
            flags: self.flags.clone(),
            last_checked_at: self.last_checked_at,
        }
    }

    /// The website the link checker visits for this listing: its own, or
    /// its organisation's when it has none.
    pub fn website(&self) -> Option<&str> {
        self.url.as_deref().or(self.organisation.website.as_deref())
    }

    pub fn to_input(&self) -> ServiceInput {
        ServiceInput {
            id: Some(self.id),
            organisation_id: self.organisation.id,
            name: self.name.clone(),
            description: Some(self.description.clone()),
            url: self.url.clone(),
            email: self.email.clone(),
            phones: self
                .phones
                .iter()
                .map(|p| PhoneInput {
                    number: p.number.clone(),
                    description: p.description.clone(),
                })
                .collect(),
            status: Some(self.status),
            status_reason: self.status_reason.clone(),
            reopens_on: self.reopens_on,
            replaced_by: self.replaced_by,
            delivery_methods: self.delivery_methods.clone(),
            self_referral: Some(self.self_referral),
            referral_required: Some(self.referral_required),
            referral_url: self.referral_url.clone(),
            free: self.free,
            fees_text: self.fees_text.clone(),
            languages: self.languages.clone(),
            categories: self.categories.iter().map(|t| t.slug.clone()).collect(),
            community_groups: self
                .community_groups
                .iter()
                .map(|t| t.slug.clone())
                .collect(),
            eligibility: Some(EligibilityInput {
                minimum_age: self.eligibility.minimum_age.map(i64::from),
                maximum_age: self.eligibility.maximum_age.map(i64::from),
                description: self.eligibility.description.clone(),
            }),
            service_areas: self.service_areas.iter().map(|a| a.code.clone()).collect(),
            location_ids: self.locations.iter().map(|l| l.id).collect(),
            schedules: self
                .schedules
                .iter()
                .map(|s| ScheduleInput {
                    freq: s.freq.clone(),
                    byday: s.byday.clone(),
                    opens_at: s.opens_at.clone(),
                    closes_at: s.closes_at.clone(),
                    valid_from: s.valid_from,
                    valid_to: s.valid_to,
                    description: s.description.clone(),
                    location_id: s.location_id,
                    overnight: Some(s.overnight),
                })
                .collect(),
            exceptions: self
                .exceptions
                .iter()
                .map(|e| ExceptionInput {
                    starts_on: e.starts_on,
                    ends_on: Some(e.ends_on),
                    opens_at: e.opens_at.clone(),
                    closes_at: e.closes_at.clone(),
                    description: e.description.clone(),
                })
                .collect(),
            closed_on_public_holidays: Some(self.closed_on_public_holidays),
            open_24_hours: Some(self.open_24_hours),
            by_appointment: Some(self.by_appointment),
            hours_notes: self.hours_notes.clone(),
            verified: None,
        }
    }
}
