//! Row structs, one per table, and the time conversions at the boundary.
//!
//! Insertable rows write `None` as NULL rather than as the column default
//! (no nullable column has another default): that lets diesel put many of
//! them in one INSERT on SQLite as well (see `db::insert_rows!`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::*;

pub fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub charity_number: Option<String>,
    pub logo_url: Option<String>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = taxonomy_terms, treat_none_as_null = true)]
pub struct TermRow {
    pub id: String,
    pub taxonomy: String,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<String>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_areas)]
pub struct AreaRow {
    pub code: String,
    pub area_type: String,
    pub name: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = locations, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct LocationRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub description: Option<String>,
    pub address_1: Option<String>,
    pub address_2: Option<String>,
    pub town: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub location_type: String,
    pub council_area_code: Option<String>,
    pub health_board_code: Option<String>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = services, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct ServiceRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub reopens_on: Option<NaiveDate>,
    pub replaced_by: Option<String>,
    pub delivery_methods: String,
    pub self_referral: bool,
    pub referral_required: bool,
    pub referral_url: Option<String>,
    pub free: Option<bool>,
    pub fees_text: Option<String>,
    pub languages: String,
    pub minimum_age: Option<i32>,
    pub maximum_age: Option<i32>,
    pub eligibility_description: Option<String>,
    pub closed_on_public_holidays: bool,
    pub hours_notes: Option<String>,
    pub last_verified_at: Option<NaiveDateTime>,
    pub verified_by: Option<String>,
    pub archived_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
    pub open_24_hours: bool,
    pub by_appointment: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_phones, treat_none_as_default_value = false)]
pub struct PhoneRow {
    pub id: String,
    pub service_id: String,
    pub number: String,
    pub description: Option<String>,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schedules, treat_none_as_default_value = false)]
pub struct ScheduleRow {
    pub id: String,
    pub service_id: String,
    pub location_id: Option<String>,
    pub freq: String,
    pub byday: String,
    pub opens_at: String,
    pub closes_at: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub description: Option<String>,
    pub position: i32,
    pub overnight: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = schedule_exceptions, treat_none_as_default_value = false)]
pub struct ExceptionRow {
    pub id: String,
    pub service_id: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub description: Option<String>,
    pub position: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = location_accessibility, treat_none_as_default_value = false)]
pub struct FeatureRow {
    pub location_id: String,
    pub term_id: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = service_terms, treat_none_as_default_value = false)]
pub struct ServiceTermRow {
    pub service_id: String,
    pub term_id: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = service_service_areas, treat_none_as_default_value = false)]
pub struct ServiceAreaRow {
    pub service_id: String,
    pub area_code: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = service_at_locations, treat_none_as_default_value = false)]
pub struct ServiceLocationRow {
    pub id: String,
    pub service_id: String,
    pub location_id: String,
}
