//! Location repository.

use std::collections::HashMap;

use diesel::prelude::*;
use uuid::Uuid;

use super::changes::{record, EntityType, Op, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc, FeatureRow, LocationRow};
use super::schema::{location_accessibility, locations, service_at_locations, services};
use super::{DbConnection, RepoError, RepoResult};
use crate::model::enums::{LocationType, TaxonomyKind};
use crate::model::location::LocationDraft;
use crate::model::read::Location;

const ENTITY: &str = "location";

#[derive(Debug, Clone, Default)]
pub struct LocationFilter {
    pub organisation_id: Option<Uuid>,
    pub postcode: Option<String>,
    pub include_archived: bool,
    pub modified_after: Option<chrono::DateTime<chrono::Utc>>,
}

/// Loads locations with their accessibility features, in the order of `ids`.
pub fn load(conn: &mut DbConnection, ids: &[String]) -> RepoResult<Vec<Location>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<LocationRow> = locations::table
        .filter(locations::id.eq_any(ids))
        .select(LocationRow::as_select())
        .load(conn)?;
    let mut features: HashMap<String, Vec<_>> = HashMap::new();
    for (location_id, term) in super::taxonomy::for_locations(conn, ids)? {
        features
            .entry(location_id)
            .or_default()
            .push(super::taxonomy::to_ref(&term));
    }
    let mut by_id: HashMap<String, LocationRow> =
        rows.into_iter().map(|r| (r.id.clone(), r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|row| {
            let accessibility = features.remove(&row.id).unwrap_or_default();
            to_read(row, accessibility)
        })
        .collect())
}

pub(crate) fn to_read(
    row: LocationRow,
    accessibility: Vec<crate::model::read::TermRef>,
) -> Location {
    Location {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        organisation_id: Uuid::parse_str(&row.organisation_id).unwrap_or_default(),
        name: row.name,
        description: row.description,
        address_1: row.address_1,
        address_2: row.address_2,
        town: row.town,
        postcode: row.postcode,
        latitude: row.latitude,
        longitude: row.longitude,
        location_type: LocationType::parse(&row.location_type).unwrap_or(LocationType::Physical),
        council_area_code: row.council_area_code,
        health_board_code: row.health_board_code,
        accessibility,
        archived_at: row.archived_at.map(utc),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    }
}

/// The row `create` writes for a new location.
pub(crate) fn new_row(stamp: &Stamp, id: Uuid, draft: &LocationDraft) -> LocationRow {
    row_from(id, draft, naive(stamp.at), stamp, 1)
}

/// The rows linking a location to its accessibility features.
pub(crate) fn feature_rows(id: Uuid, features: &[super::rows::TermRow]) -> Vec<FeatureRow> {
    features
        .iter()
        .map(|f| FeatureRow {
            location_id: id.to_string(),
            term_id: f.id.clone(),
        })
        .collect()
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Location> {
    load(conn, &[id.to_string()])?
        .pop()
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Option<Uuid>,
    draft: LocationDraft,
) -> RepoResult<Location> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    super::write_transaction(conn, |c| {
        if locations::table
            .find(id.to_string())
            .count()
            .get_result::<i64>(c)?
            > 0
        {
            return Err(RepoError::Conflict(format!("location {id} already exists")));
        }
        check_organisation(c, draft.organisation_id)?;
        let features = super::taxonomy::resolve_slugs(
            c,
            TaxonomyKind::Accessibility,
            "accessibility",
            &draft.accessibility,
        )?;
        let row = new_row(stamp, id, &draft);
        diesel::insert_into(locations::table)
            .values(&row)
            .execute(c)?;
        write_features(c, id, &features)?;
        let created = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Location,
            &id.to_string(),
            Op::Create,
            None,
            &created,
        )?;
        Ok(created)
    })
}

pub fn update(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
    draft: LocationDraft,
) -> RepoResult<Location> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if draft.organisation_id != before.organisation_id {
            let linked = linked_services(c, id)?;
            if linked > 0 {
                return Err(RepoError::invalid(
                    "organisation_id",
                    format!("cannot move a location used by {linked} service(s) to another organisation"),
                ));
            }
            check_organisation(c, draft.organisation_id)?;
        }
        let features = super::taxonomy::resolve_slugs(
            c,
            TaxonomyKind::Accessibility,
            "accessibility",
            &draft.accessibility,
        )?;
        let mut row = row_from(
            id,
            &draft,
            naive(before.created_at),
            stamp,
            before.version + 1,
        );
        row.archived_at = before.archived_at.map(naive);
        let unchanged_features = features.iter().map(|f| f.slug.as_str()).collect::<Vec<_>>()
            == before
                .accessibility
                .iter()
                .map(|f| f.slug.as_str())
                .collect::<Vec<_>>();
        if unchanged_features && same_row(&before, &row) {
            return Ok(before);
        }
        diesel::update(locations::table.find(id.to_string()))
            .set(&row)
            .execute(c)?;
        diesel::delete(
            location_accessibility::table
                .filter(location_accessibility::location_id.eq(id.to_string())),
        )
        .execute(c)?;
        write_features(c, id, &features)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Location,
            &id.to_string(),
            Op::Update,
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

/// Soft delete. Refused while a live service runs there.
pub fn archive(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
) -> RepoResult<Location> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if before.archived_at.is_some() {
            return Ok(before);
        }
        let linked = linked_services(c, id)?;
        if linked > 0 {
            return Err(RepoError::Conflict(format!(
                "location {id} is used by {linked} service(s) that are not deleted; remove it from them first"
            )));
        }
        diesel::update(locations::table.find(id.to_string()))
            .set((
                locations::archived_at.eq(Some(naive(stamp.at))),
                locations::updated_at.eq(naive(stamp.at)),
                locations::version.eq(before.version + 1),
            ))
            .execute(c)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Location,
            &id.to_string(),
            Op::Archive,
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

pub fn list(
    conn: &mut DbConnection,
    filter: &LocationFilter,
    page: PageRequest,
) -> RepoResult<Page<Location>> {
    let query = || {
        let mut q = locations::table.into_boxed();
        if let Some(org) = filter.organisation_id {
            q = q.filter(locations::organisation_id.eq(org.to_string()));
        }
        if let Some(pc) = &filter.postcode {
            q = q.filter(locations::postcode.eq(pc.clone()));
        }
        if !filter.include_archived {
            q = q.filter(locations::archived_at.is_null());
        }
        if let Some(after) = filter.modified_after {
            q = q.filter(locations::updated_at.gt(naive(after)));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ids: Vec<String> = query()
        .order((locations::created_at.asc(), locations::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(locations::id)
        .load(conn)?;
    let items = load(conn, &ids)?;
    Ok(Page {
        items,
        total,
        request: page,
    })
}

fn linked_services(c: &mut DbConnection, id: Uuid) -> RepoResult<i64> {
    Ok(service_at_locations::table
        .inner_join(services::table)
        .filter(service_at_locations::location_id.eq(id.to_string()))
        .filter(services::archived_at.is_null())
        .count()
        .get_result(c)?)
}

fn check_organisation(c: &mut DbConnection, org: Uuid) -> RepoResult<()> {
    if super::organisations::exists(c, org)? {
        Ok(())
    } else {
        Err(RepoError::invalid(
            "organisation_id",
            format!("organisation {org} does not exist"),
        ))
    }
}

fn write_features(
    c: &mut DbConnection,
    id: Uuid,
    features: &[super::rows::TermRow],
) -> RepoResult<()> {
    super::insert_rows!(
        c,
        location_accessibility::table,
        &feature_rows(id, features)
    );
    Ok(())
}

fn row_from(
    id: Uuid,
    d: &LocationDraft,
    created_at: chrono::NaiveDateTime,
    stamp: &Stamp,
    version: i64,
) -> LocationRow {
    LocationRow {
        id: id.to_string(),
        organisation_id: d.organisation_id.to_string(),
        name: d.name.as_str().to_string(),
        description: d.description.clone(),
        address_1: d.address_1.clone(),
        address_2: d.address_2.clone(),
        town: d.town.clone(),
        postcode: d.postcode.as_ref().map(|p| p.as_str().to_string()),
        latitude: d.coordinates.map(|c| c.latitude),
        longitude: d.coordinates.map(|c| c.longitude),
        location_type: d.location_type.as_str().to_string(),
        council_area_code: d.council_area_code.clone(),
        health_board_code: d.health_board_code.clone(),
        archived_at: None,
        created_at,
        updated_at: naive(stamp.at),
        version,
    }
}

fn same_row(before: &Location, row: &LocationRow) -> bool {
    let candidate = to_read(row.clone(), before.accessibility.clone());
    serde_json::to_value(candidate.to_input()).ok() == serde_json::to_value(before.to_input()).ok()
        && candidate.council_area_code == before.council_area_code
        && candidate.health_board_code == before.health_board_code
}

/// Service–location links of live services at live locations, in a stable
/// order (for the Open Referral `service_at_locations` list).
pub fn service_links(
    conn: &mut DbConnection,
    organisation_id: Option<Uuid>,
    modified_after: Option<chrono::DateTime<chrono::Utc>>,
    page: PageRequest,
) -> RepoResult<Page<(Uuid, Uuid)>> {
    let query = || {
        let mut q = service_at_locations::table
            .inner_join(services::table)
            .inner_join(locations::table)
            .filter(services::archived_at.is_null())
            .filter(locations::archived_at.is_null())
            .into_boxed();
        if let Some(org) = organisation_id {
            q = q.filter(services::organisation_id.eq(org.to_string()));
        }
        if let Some(after) = modified_after {
            q = q.filter(services::updated_at.gt(super::rows::naive(after)));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<(String, String)> = query()
        .order((
            services::created_at.asc(),
            services::id.asc(),
            locations::id.asc(),
        ))
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            service_at_locations::service_id,
            service_at_locations::location_id,
        ))
        .load(conn)?;
    let parse = |s: &str| Uuid::parse_str(s).unwrap_or_default();
    Ok(Page {
        items: rows.iter().map(|(s, l)| (parse(s), parse(l))).collect(),
        total,
        request: page,
    })
}

/// The live (service, location) link with this id.
pub fn service_link(conn: &mut DbConnection, id: Uuid) -> RepoResult<Option<(Uuid, Uuid)>> {
    let row: Option<(String, String)> = service_at_locations::table
        .inner_join(services::table)
        .inner_join(locations::table)
        .filter(service_at_locations::id.eq(id.to_string()))
        .filter(services::archived_at.is_null())
        .filter(locations::archived_at.is_null())
        .select((
            service_at_locations::service_id,
            service_at_locations::location_id,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(s, l)| Some((Uuid::parse_str(&s).ok()?, Uuid::parse_str(&l).ok()?))))
}

/// A service's link to one of its live locations, with the location's point.
pub struct LinkPoint {
    pub service_id: Uuid,
    pub location_id: Uuid,
    pub point: Option<(f64, f64)>,
}

/// The live locations of these services (each service's in name order):
/// what expanding services into service-at-location rows needs, without
/// loading the services.
pub fn link_points(conn: &mut DbConnection, service_ids: &[String]) -> RepoResult<Vec<LinkPoint>> {
    let rows: Vec<(String, String, Option<f64>, Option<f64>)> = service_at_locations::table
        .inner_join(locations::table)
        .filter(service_at_locations::service_id.eq_any(service_ids))
        .filter(locations::archived_at.is_null())
        .order((locations::name.asc(), locations::id.asc()))
        .select((
            service_at_locations::service_id,
            service_at_locations::location_id,
            locations::latitude,
            locations::longitude,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, l, lat, lon)| {
            Some(LinkPoint {
                service_id: Uuid::parse_str(&s).ok()?,
                location_id: Uuid::parse_str(&l).ok()?,
                point: lat.zip(lon),
            })
        })
        .collect())
}
