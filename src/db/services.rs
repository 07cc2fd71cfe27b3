//! Service repository: the service aggregate with its phones, terms, areas,
//! locations and schedules. Children are replaced as a whole on update.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::changes::{record, EntityType, Op, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{
    naive, utc, ExceptionRow, OrganisationRow, PhoneRow, ScheduleRow, ServiceAreaRow,
    ServiceLocationRow, ServiceRow, ServiceTermRow, TermRow,
};
use super::schema::{
    locations, organisations, schedule_exceptions, schedules, service_at_locations, service_phones,
    service_service_areas, service_terms, services,
};
use super::{DbConnection, RepoError, RepoResult};
use crate::model::enums::{self, DeliveryMethod, ServiceStatus, TaxonomyKind};
use crate::model::freshness::Flag;
use crate::model::read::{
    Eligibility, Location, Organisation, OrganisationRef, Phone, Schedule, ScheduleException,
    Service, ServiceArea, TermRef,
};
use crate::model::service::ServiceDraft;

const ENTITY: &str = "service";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceSort {
    /// Creation order: new records append at the end, so paging is stable under inserts.
    #[default]
    Created,
    Name,
    Updated,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub organisation_id: Option<Uuid>,
    pub status: Option<ServiceStatus>,
    pub include_archived: bool,
    pub modified_after: Option<DateTime<Utc>>,
    pub sort: ServiceSort,
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Service> {
    load(conn, &[id.to_string()])?
        .pop()
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

/// Loads whole services in the order of `ids` (unknown ids are skipped),
/// with one query per child table rather than one per service.
pub fn load(conn: &mut DbConnection, ids: &[String]) -> RepoResult<Vec<Service>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<ServiceRow> = services::table
        .filter(services::id.eq_any(ids))
        .select(ServiceRow::as_select())
        .load(conn)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let org_ids: Vec<String> = rows.iter().map(|r| r.organisation_id.clone()).collect();
    let orgs: HashMap<String, OrganisationRow> = organisations::table
        .filter(organisations::id.eq_any(&org_ids))
        .select(OrganisationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|o| (o.id.clone(), o))
        .collect();

    let mut phones: HashMap<String, Vec<Phone>> = HashMap::new();
    let phone_rows: Vec<PhoneRow> = service_phones::table
        .filter(service_phones::service_id.eq_any(ids))
        .order((
            service_phones::service_id.asc(),
            service_phones::position.asc(),
        ))
        .select(PhoneRow::as_select())
        .load(conn)?;
    for p in phone_rows {
        phones
            .entry(p.service_id.clone())
            .or_default()
            .push(phone(p));
    }

    let mut categories: HashMap<String, Vec<_>> = HashMap::new();
    let mut groups: HashMap<String, Vec<_>> = HashMap::new();
    for (service_id, term) in super::taxonomy::for_services(conn, ids)? {
        let target = if term.taxonomy == TaxonomyKind::CommunityGroup.as_str() {
            &mut groups
        } else {
            &mut categories
        };
        target
            .entry(service_id)
            .or_default()
            .push(super::taxonomy::to_ref(&term));
    }

    let mut areas: HashMap<String, Vec<_>> = HashMap::new();
    let area_rows: Vec<(String, super::rows::AreaRow)> = service_service_areas::table
        .inner_join(super::schema::service_areas::table)
        .filter(service_service_areas::service_id.eq_any(ids))
        .order(service_service_areas::area_code.asc())
        .select((
            service_service_areas::service_id,
            super::rows::AreaRow::as_select(),
        ))
        .load(conn)?;
    for (service_id, area) in area_rows {
        areas
            .entry(service_id)
            .or_default()
            .push(super::areas::to_read(area));
    }

    let links: Vec<(String, String)> = service_at_locations::table
        .inner_join(locations::table)
        .filter(service_at_locations::service_id.eq_any(ids))
        .order((locations::name.asc(), locations::id.asc()))
        .select((
            service_at_locations::service_id,
            service_at_locations::location_id,
        ))
        .load(conn)?;
    let mut location_ids: Vec<String> = links.iter().map(|(_, l)| l.clone()).collect();
    location_ids.sort();
    location_ids.dedup();
    let loaded: HashMap<Uuid, _> = super::locations::load(conn, &location_ids)?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let mut service_locations: HashMap<String, Vec<_>> = HashMap::new();
    for (service_id, location_id) in links {
        if let Some(l) = Uuid::parse_str(&location_id)
            .ok()
            .and_then(|id| loaded.get(&id))
        {
            service_locations
                .entry(service_id)
                .or_default()
                .push(l.clone());
        }
    }

    let mut schedule_map: HashMap<String, Vec<Schedule>> = HashMap::new();
    let schedule_rows: Vec<ScheduleRow> = schedules::table
        .filter(schedules::service_id.eq_any(ids))
        .order((schedules::service_id.asc(), schedules::position.asc()))
        .select(ScheduleRow::as_select())
        .load(conn)?;
    for s in schedule_rows {
        schedule_map
            .entry(s.service_id.clone())
            .or_default()
            .push(schedule(s));
    }

    let mut exception_map: HashMap<String, Vec<ScheduleException>> = HashMap::new();
    let exception_rows: Vec<ExceptionRow> = schedule_exceptions::table
        .filter(schedule_exceptions::service_id.eq_any(ids))
        .order((
            schedule_exceptions::service_id.asc(),
            schedule_exceptions::position.asc(),
        ))
        .select(ExceptionRow::as_select())
        .load(conn)?;
    for e in exception_rows {
        exception_map
            .entry(e.service_id.clone())
            .or_default()
            .push(exception(e));
    }

    let mut flags = super::flags::open_for(conn, ids)?;
    let websites: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.url
                .clone()
                .or_else(|| orgs.get(&r.organisation_id).and_then(|o| o.website.clone()))
        })
        .collect();
    let checked = super::links::last_checked(conn, &websites)?;

    let mut by_id: HashMap<String, ServiceRow> =
        rows.into_iter().map(|r| (r.id.clone(), r)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|row| {
            let org = orgs.get(&row.organisation_id);
            let id = row.id.clone();
            let website = row
                .url
                .clone()
                .or_else(|| org.and_then(|o| o.website.clone()));
            let parts = Parts {
                organisation: OrganisationRef {
                    id: Uuid::parse_str(&row.organisation_id).unwrap_or_default(),
                    name: org.map(|o| o.name.clone()).unwrap_or_default(),
                    website: org.and_then(|o| o.website.clone()),
                },
                phones: phones.remove(&id).unwrap_or_default(),
                categories: categories.remove(&id).unwrap_or_default(),
                community_groups: groups.remove(&id).unwrap_or_default(),
                service_areas: areas.remove(&id).unwrap_or_default(),
                locations: service_locations.remove(&id).unwrap_or_default(),
                schedules: schedule_map.remove(&id).unwrap_or_default(),
                exceptions: exception_map.remove(&id).unwrap_or_default(),
                flags: flags.remove(&id).unwrap_or_default(),
                last_checked_at: website.and_then(|w| checked.get(&w).copied()),
            };
            to_read(row, parts)
        })
        .collect())
}

/// What a service is read with besides its row.
struct Parts {
    organisation: OrganisationRef,
    phones: Vec<Phone>,
    categories: Vec<TermRef>,
    community_groups: Vec<TermRef>,
    service_areas: Vec<ServiceArea>,
    locations: Vec<Location>,
    schedules: Vec<Schedule>,
    exceptions: Vec<ScheduleException>,
    flags: Vec<Flag>,
    last_checked_at: Option<DateTime<Utc>>,
}

fn to_read(row: ServiceRow, parts: Parts) -> Service {
    Service {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        organisation: parts.organisation,
        name: row.name,
        description: row.description,
        url: row.url,
        email: row.email,
        phones: parts.phones,
        status: ServiceStatus::parse(&row.status).unwrap_or(ServiceStatus::Active),
        status_reason: row.status_reason,
        reopens_on: row.reopens_on,
        replaced_by: row.replaced_by.and_then(|r| Uuid::parse_str(&r).ok()),
        delivery_methods: enums::split(&row.delivery_methods, DeliveryMethod::parse),
        self_referral: row.self_referral,
        referral_required: row.referral_required,
        referral_url: row.referral_url,
        free: row.free,
        fees_text: row.fees_text,
        languages: row
            .languages
            .split(',')
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        categories: parts.categories,
        community_groups: parts.community_groups,
        eligibility: Eligibility {
            minimum_age: row.minimum_age,
            maximum_age: row.maximum_age,
            description: row.eligibility_description,
        },
        service_areas: parts.service_areas,
        locations: parts.locations,
        schedules: parts.schedules,
        exceptions: parts.exceptions,
        closed_on_public_holidays: row.closed_on_public_holidays,
        open_24_hours: row.open_24_hours,
        by_appointment: row.by_appointment,
        hours_notes: row.hours_notes,
        last_verified_at: row.last_verified_at.map(utc),
        verified_by: row.verified_by,
        archived_at: row.archived_at.map(utc),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
        opening: None,
        freshness: None,
        flags: parts.flags,
        last_checked_at: parts.last_checked_at,
    }
}

fn phone(row: PhoneRow) -> Phone {
    Phone {
        number: row.number,
        description: row.description,
    }
}

fn schedule(row: ScheduleRow) -> Schedule {
    Schedule {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        freq: row.freq,
        byday: row
            .byday
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        opens_at: row.opens_at,
        closes_at: row.closes_at,
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        description: row.description,
        location_id: row.location_id.and_then(|l| Uuid::parse_str(&l).ok()),
        overnight: row.overnight,
    }
}

fn exception(row: ExceptionRow) -> ScheduleException {
    ScheduleException {
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        opens_at: row.opens_at,
        closes_at: row.closes_at,
        description: row.description,
    }
}

/// A verification carried in from elsewhere (an import or fixture): when,
/// and by whom if known (else the writer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
}

/// Creates a service. `assured` carries a verification from an import or
/// fixture; a draft marked `verified` is verified now by the writer.
pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Option<Uuid>,
    draft: ServiceDraft,
    assured: Option<Assurance>,
) -> RepoResult<Service> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    super::write_transaction(conn, |c| {
        if services::table
            .find(id.to_string())
            .count()
            .get_result::<i64>(c)?
            > 0
        {
            return Err(RepoError::Conflict(format!("service {id} already exists")));
        }
        let children = check_references(c, id, &draft)?;
        let (row, child_rows) = new_rows(stamp, id, &draft, assured, &children.term_ids);
        diesel::insert_into(services::table)
            .values(&row)
            .execute(c)?;
        child_rows.write(c)?;
        let created = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Service,
            &id.to_string(),
            Op::Create,
            None,
            &created,
        )?;
        Ok(created)
    })
}

/// The rows `create` writes for a new service whose references are checked
/// (`term_ids`: its categories' and community groups' term ids).
pub(crate) fn new_rows(
    stamp: &Stamp,
    id: Uuid,
    draft: &ServiceDraft,
    assured: Option<Assurance>,
    term_ids: &[String],
) -> (ServiceRow, ChildRows) {
    let (verified_at, verified_by) = if draft.verified {
        (Some(stamp.at), Some(stamp.actor.as_str().to_string()))
    } else {
        match assured {
            Some(a) => (
                Some(a.at),
                Some(a.by.unwrap_or_else(|| stamp.actor.as_str().to_string())),
            ),
            None => (None, None),
        }
    };
    let row = row_from(
        id,
        draft,
        naive(stamp.at),
        stamp,
        1,
        verified_at,
        verified_by,
    );
    (row, ChildRows::new(id, draft, term_ids))
}

/// A new service as `create` writes it and reads it back, built in memory
/// for writing many at once: its rows and what `get` would return.
/// `terms` are the live terms of its categories and community groups,
/// `areas` and `locations` its service areas and locations as they are.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_service(
    stamp: &Stamp,
    id: Uuid,
    draft: &ServiceDraft,
    assured: Option<Assurance>,
    organisation: &Organisation,
    terms: &[TermRow],
    mut areas: Vec<ServiceArea>,
    mut locations: Vec<Location>,
) -> (ServiceRow, ChildRows, Service) {
    let term_ids: Vec<String> = terms.iter().map(|t| t.id.clone()).collect();
    let (row, children) = new_rows(stamp, id, draft, assured, &term_ids);
    // In the order `load` reads them.
    let mut terms: Vec<&TermRow> = terms.iter().collect();
    terms.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let (groups, categories): (Vec<&TermRow>, Vec<&TermRow>) = terms
        .into_iter()
        .partition(|t| t.taxonomy == TaxonomyKind::CommunityGroup.as_str());
    areas.sort_by(|a, b| a.code.cmp(&b.code));
    locations.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let parts = Parts {
        organisation: OrganisationRef {
            id: organisation.id,
            name: organisation.name.clone(),
            website: organisation.website.clone(),
        },
        phones: children.phones.iter().cloned().map(phone).collect(),
        categories: categories
            .into_iter()
            .map(super::taxonomy::to_ref)
            .collect(),
        community_groups: groups.into_iter().map(super::taxonomy::to_ref).collect(),
        service_areas: areas,
        locations,
        schedules: children.schedules.iter().cloned().map(schedule).collect(),
        exceptions: children.exceptions.iter().cloned().map(exception).collect(),
        // A new service has no flags yet; when its website was last checked
        // is not stored with it (API responses look it up).
        flags: Vec::new(),
        last_checked_at: None,
    };
    let read = to_read(row.clone(), parts);
    (row, children, read)
}

/// Replaces the whole service. `last_verified_at` only moves when the draft
/// says the writer verified the listing.
pub fn update(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
    draft: ServiceDraft,
) -> RepoResult<Service> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if before
            .to_input()
            .validate()
            .is_ok_and(|d| d.same_as(&draft))
        {
            return Ok(before);
        }
        let (verified_at, verified_by) = if draft.verified {
            (Some(stamp.at), Some(stamp.actor.as_str().to_string()))
        } else {
            (before.last_verified_at, before.verified_by.clone())
        };
        let mut row = row_from(
            id,
            &draft,
            naive(before.created_at),
            stamp,
            before.version + 1,
            verified_at,
            verified_by,
        );
        row.archived_at = before.archived_at.map(naive);
        let children = check_references(c, id, &draft)?;
        diesel::update(services::table.find(id.to_string()))
            .set(&row)
            .execute(c)?;
        delete_children(c, id)?;
        ChildRows::new(id, &draft, &children.term_ids).write(c)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Service,
            &id.to_string(),
            Op::Update,
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

/// Soft delete: the service leaves lists but stays readable by id.
pub fn archive(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
) -> RepoResult<Service> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if before.archived_at.is_some() {
            return Ok(before);
        }
        diesel::update(services::table.find(id.to_string()))
            .set((
                services::archived_at.eq(Some(naive(stamp.at))),
                services::updated_at.eq(naive(stamp.at)),
                services::version.eq(before.version + 1),
            ))
            .execute(c)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Service,
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
    filter: &ServiceFilter,
    page: PageRequest,
) -> RepoResult<Page<Service>> {
    let query = || {
        let mut q = services::table.into_boxed();
        if let Some(org) = filter.organisation_id {
            q = q.filter(services::organisation_id.eq(org.to_string()));
        }
        if let Some(status) = filter.status {
            q = q.filter(services::status.eq(status.as_str()));
        }
        if !filter.include_archived {
            q = q.filter(services::archived_at.is_null());
        }
        if let Some(after) = filter.modified_after {
            q = q.filter(services::updated_at.gt(naive(after)));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ordered = match filter.sort {
        ServiceSort::Created => query().order((services::created_at.asc(), services::id.asc())),
        ServiceSort::Name => query().order((services::name.asc(), services::id.asc())),
        ServiceSort::Updated => query().order((services::updated_at.asc(), services::id.asc())),
    };
    let ids: Vec<String> = ordered
        .limit(page.per_page)
        .offset(page.offset())
        .select(services::id)
        .load(conn)?;
    let items = load(conn, &ids)?;
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// Resolved references, ready to link.
struct Children {
    term_ids: Vec<String>,
}

/// Checks everything the draft points at, reporting each problem by field.
fn check_references(c: &mut DbConnection, id: Uuid, draft: &ServiceDraft) -> RepoResult<Children> {
    let mut errors = Vec::new();
    let mut push =
        |field: String, message: String| errors.push(crate::model::FieldError { field, message });

    let org: Option<OrganisationRow> = organisations::table
        .find(draft.organisation_id.to_string())
        .select(OrganisationRow::as_select())
        .first(c)
        .optional()?;
    match org {
        None => push(
            "organisation_id".into(),
            format!("organisation {} does not exist", draft.organisation_id),
        ),
        Some(o) if o.archived_at.is_some() => push(
            "organisation_id".into(),
            format!("organisation {} is deleted", draft.organisation_id),
        ),
        Some(_) => {}
    }

    let mut term_ids = Vec::new();
    for (kind, field, slugs) in [
        (TaxonomyKind::Category, "categories", &draft.categories),
        (
            TaxonomyKind::CommunityGroup,
            "community_groups",
            &draft.community_groups,
        ),
    ] {
        match super::taxonomy::resolve_slugs(c, kind, field, slugs) {
            Ok(rows) => term_ids.extend(rows.into_iter().map(|r| r.id)),
            Err(RepoError::Invalid(invalid)) => {
                for e in invalid.0 {
                    push(e.field, e.message);
                }
            }
            Err(e) => return Err(e),
        }
    }

    let known = super::areas::find(c, &draft.service_areas)?;
    for (i, code) in draft.service_areas.iter().enumerate() {
        if !known.iter().any(|a| &a.code == code) {
            push(
                format!("service_areas[{i}]"),
                format!("'{code}' is not a known service area code (see /api/v1/service-areas)"),
            );
        }
    }

    let ids: Vec<String> = draft.location_ids.iter().map(Uuid::to_string).collect();
    let found: Vec<(String, String, Option<chrono::NaiveDateTime>)> = locations::table
        .filter(locations::id.eq_any(&ids))
        .select((
            locations::id,
            locations::organisation_id,
            locations::archived_at,
        ))
        .load(c)?;
    for (i, loc) in ids.iter().enumerate() {
        match found.iter().find(|(id, _, _)| id == loc) {
            None => push(
                format!("location_ids[{i}]"),
                format!("location {loc} does not exist"),
            ),
            Some((_, org, _)) if *org != draft.organisation_id.to_string() => push(
                format!("location_ids[{i}]"),
                format!("location {loc} belongs to another organisation"),
            ),
            Some((_, _, Some(_))) => push(
                format!("location_ids[{i}]"),
                format!("location {loc} is deleted"),
            ),
            Some(_) => {}
        }
    }

    if let Some(replacement) = draft.replaced_by {
        let n: i64 = services::table
            .find(replacement.to_string())
            .count()
            .get_result(c)?;
        if n == 0 || replacement == id {
            push(
                "replaced_by".into(),
                format!("service {replacement} does not exist"),
            );
        }
    }

    if errors.is_empty() {
        Ok(Children { term_ids })
    } else {
        Err(RepoError::Invalid(crate::model::Invalid(errors)))
    }
}

fn delete_children(c: &mut DbConnection, id: Uuid) -> RepoResult<()> {
    let sid = id.to_string();
    diesel::delete(service_phones::table.filter(service_phones::service_id.eq(&sid))).execute(c)?;
    diesel::delete(service_terms::table.filter(service_terms::service_id.eq(&sid))).execute(c)?;
    diesel::delete(service_service_areas::table.filter(service_service_areas::service_id.eq(&sid)))
        .execute(c)?;
    diesel::delete(schedules::table.filter(schedules::service_id.eq(&sid))).execute(c)?;
    diesel::delete(schedule_exceptions::table.filter(schedule_exceptions::service_id.eq(&sid)))
        .execute(c)?;
    diesel::delete(service_at_locations::table.filter(service_at_locations::service_id.eq(&sid)))
        .execute(c)?;
    Ok(())
}

/// The rows of a service's phones, terms, areas, locations, schedules and
/// exceptions.
#[derive(Debug, Default)]
pub(crate) struct ChildRows {
    phones: Vec<PhoneRow>,
    terms: Vec<ServiceTermRow>,
    areas: Vec<ServiceAreaRow>,
    locations: Vec<ServiceLocationRow>,
    schedules: Vec<ScheduleRow>,
    exceptions: Vec<ExceptionRow>,
}

impl ChildRows {
    fn new(id: Uuid, draft: &ServiceDraft, term_ids: &[String]) -> Self {
        let sid = id.to_string();
        ChildRows {
            phones: draft
                .phones
                .iter()
                .enumerate()
                .map(|(i, p)| PhoneRow {
                    id: Uuid::now_v7().to_string(),
                    service_id: sid.clone(),
                    number: p.number.clone().into_inner(),
                    description: p.description.clone(),
                    position: i as i32,
                })
                .collect(),
            terms: term_ids
                .iter()
                .map(|term_id| ServiceTermRow {
                    service_id: sid.clone(),
                    term_id: term_id.clone(),
                })
                .collect(),
            areas: draft
                .service_areas
                .iter()
                .map(|code| ServiceAreaRow {
                    service_id: sid.clone(),
                    area_code: code.clone(),
                })
                .collect(),
            locations: draft
                .location_ids
                .iter()
                .map(|location| ServiceLocationRow {
                    id: service_at_location_id(id, *location).to_string(),
                    service_id: sid.clone(),
                    location_id: location.to_string(),
                })
                .collect(),
            schedules: draft
                .schedules
                .iter()
                .enumerate()
                .map(|(i, s)| ScheduleRow {
                    // Derived from the position, so re-saving unchanged rules keeps their ids.
                    id: Uuid::new_v5(&id, format!("schedule:{i}").as_bytes()).to_string(),
                    service_id: sid.clone(),
                    location_id: s.location_id.map(|l| l.to_string()),
                    freq: s.freq.clone(),
                    byday: s.byday.join(","),
                    opens_at: s.opens_at.clone(),
                    closes_at: s.closes_at.clone(),
                    valid_from: s.valid_from,
                    valid_to: s.valid_to,
                    description: s.description.clone(),
                    position: i as i32,
                    overnight: s.overnight,
                })
                .collect(),
            exceptions: draft
                .exceptions
                .iter()
                .enumerate()
                .map(|(i, e)| ExceptionRow {
                    id: Uuid::new_v5(&id, format!("exception:{i}").as_bytes()).to_string(),
                    service_id: sid.clone(),
                    starts_on: e.starts_on,
                    ends_on: e.ends_on,
                    opens_at: e.hours.as_ref().map(|h| h.0.clone()),
                    closes_at: e.hours.as_ref().map(|h| h.1.clone()),
                    description: e.description.clone(),
                    position: i as i32,
                })
                .collect(),
        }
    }

    /// Adds another service's rows (to write several services' together).
    pub(crate) fn append(&mut self, mut other: ChildRows) {
        self.phones.append(&mut other.phones);
        self.terms.append(&mut other.terms);
        self.areas.append(&mut other.areas);
        self.locations.append(&mut other.locations);
        self.schedules.append(&mut other.schedules);
        self.exceptions.append(&mut other.exceptions);
    }

    pub(crate) fn write(&self, c: &mut DbConnection) -> RepoResult<()> {
        super::insert_rows!(c, service_phones::table, &self.phones);
        super::insert_rows!(c, service_terms::table, &self.terms);
        super::insert_rows!(c, service_service_areas::table, &self.areas);
        super::insert_rows!(c, service_at_locations::table, &self.locations);
        super::insert_rows!(c, schedules::table, &self.schedules);
        super::insert_rows!(c, schedule_exceptions::table, &self.exceptions);
        Ok(())
    }
}

/// Stable id of a service-at-location link, so re-saving a service keeps it.
pub fn service_at_location_id(service: Uuid, location: Uuid) -> Uuid {
    Uuid::new_v5(&service, location.as_bytes())
}

#[allow(clippy::too_many_arguments)]
fn row_from(
    id: Uuid,
    d: &ServiceDraft,
    created_at: chrono::NaiveDateTime,
    stamp: &Stamp,
    version: i64,
    verified_at: Option<DateTime<Utc>>,
    verified_by: Option<String>,
) -> ServiceRow {
    ServiceRow {
        id: id.to_string(),
        organisation_id: d.organisation_id.to_string(),
        name: d.name.as_str().to_string(),
        description: d.description.clone(),
        url: d.url.clone().map(|u| u.into_inner()),
        email: d.email.clone().map(|e| e.into_inner()),
        status: d.status.as_str().to_string(),
        status_reason: d.status_reason.clone(),
        reopens_on: d.reopens_on,
        replaced_by: d.replaced_by.map(|r| r.to_string()),
        delivery_methods: enums::join(&d.delivery_methods, DeliveryMethod::as_str),
        self_referral: d.self_referral,
        referral_required: d.referral_required,
        referral_url: d.referral_url.clone().map(|u| u.into_inner()),
        free: d.free,
        fees_text: d.fees_text.clone(),
        languages: d.languages.join(","),
        minimum_age: d.minimum_age,
        maximum_age: d.maximum_age,
        eligibility_description: d.eligibility_description.clone(),
        closed_on_public_holidays: d.closed_on_public_holidays,
        hours_notes: d.hours_notes.clone(),
        last_verified_at: verified_at.map(naive),
        verified_by,
        archived_at: None,
        created_at,
        updated_at: naive(stamp.at),
        version,
        open_24_hours: d.open_24_hours,
        by_appointment: d.by_appointment,
    }
}

/// Ids of services affected by a change to another entity, for reindexing.
pub fn ids_for_organisation(
    conn: &mut DbConnection,
    organisation_id: &str,
) -> RepoResult<Vec<String>> {
    Ok(services::table
        .filter(services::organisation_id.eq(organisation_id))
        .select(services::id)
        .load(conn)?)
}

/// `(id, name)` of an organisation's live (not archived) services, by name
/// then id (sorted here, so both backends agree whatever their collation).
pub fn live_names_for_organisation(
    conn: &mut DbConnection,
    organisation_id: Uuid,
) -> RepoResult<Vec<(Uuid, String)>> {
    let rows: Vec<(String, String)> = services::table
        .filter(services::organisation_id.eq(organisation_id.to_string()))
        .filter(services::archived_at.is_null())
        .select((services::id, services::name))
        .load(conn)?;
    let mut found: Vec<(Uuid, String)> = rows
        .into_iter()
        .map(|(id, name)| (Uuid::parse_str(&id).unwrap_or_default(), name))
        .collect();
    found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    Ok(found)
}

pub fn ids_at_location(conn: &mut DbConnection, location_id: &str) -> RepoResult<Vec<String>> {
    Ok(service_at_locations::table
        .filter(service_at_locations::location_id.eq(location_id))
        .select(service_at_locations::service_id)
        .load(conn)?)
}

pub fn ids_with_terms(conn: &mut DbConnection, term_ids: &[String]) -> RepoResult<Vec<String>> {
    Ok(service_terms::table
        .filter(service_terms::term_id.eq_any(term_ids))
        .select(service_terms::service_id)
        .distinct()
        .load(conn)?)
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    id: String,
}

/// Every live service id, ordered by the first postcode among its
/// locations (services with none last), then id. Indexing in this order
/// keeps neighbours next to each other in the index, so a place search
/// reads a few dense stretches of it instead of the whole.
pub fn live_ids_by_place(conn: &mut DbConnection) -> RepoResult<Vec<String>> {
    let rows: Vec<IdRow> = diesel::sql_query(
        "SELECT s.id AS id FROM services s \
         LEFT JOIN (SELECT sal.service_id AS service_id, MIN(l.postcode) AS postcode \
                    FROM service_at_locations sal JOIN locations l ON l.id = sal.location_id \
                    WHERE l.archived_at IS NULL GROUP BY sal.service_id) p ON p.service_id = s.id \
         WHERE s.archived_at IS NULL \
         ORDER BY CASE WHEN p.postcode IS NULL THEN 1 ELSE 0 END, p.postcode, s.id",
    )
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
