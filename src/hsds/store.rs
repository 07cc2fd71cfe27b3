//! Reading Signpost's records as HSDS, for the `/openreferral` API and for
//! exports.

use std::collections::HashMap;

use uuid::Uuid;

use super::export;
use super::types;
use crate::db::locations::LocationFilter;
use crate::db::organisations::OrganisationFilter;
use crate::db::paging::PageRequest;
use crate::db::{locations, organisations, services, DbConnection, RepoResult};
use crate::model::read::Organisation;

/// Live services for these ids, in order, as HSDS (nested when `full`).
pub fn services(c: &mut DbConnection, ids: &[Uuid], full: bool) -> RepoResult<Vec<types::Service>> {
    let keys: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let loaded: Vec<_> = services::load(c, &keys)?
        .into_iter()
        .filter(|s| s.archived_at.is_none())
        .collect();
    let mut orgs: HashMap<Uuid, Organisation> = HashMap::new();
    for s in &loaded {
        if let std::collections::hash_map::Entry::Vacant(slot) = orgs.entry(s.organisation.id) {
            slot.insert(organisations::get(c, s.organisation.id)?);
        }
    }
    Ok(loaded
        .iter()
        .map(|s| {
            let mut out = export::service(s, orgs.get(&s.organisation.id));
            if !full {
                basic(&mut out);
            }
            out
        })
        .collect())
}

/// The list form of a service: its own fields and organisation, no children.
pub fn basic(s: &mut types::Service) {
    s.phones = None;
    s.schedules = None;
    s.service_areas = None;
    s.service_at_locations = None;
    s.languages = None;
    s.cost_options = None;
    s.attributes = None;
}

/// An organisation; `full` adds its live services (fully nested) and its
/// live locations.
pub fn organization(
    c: &mut DbConnection,
    o: &Organisation,
    full: bool,
) -> RepoResult<types::Organization> {
    let mut out = export::organization(o);
    if full {
        let ids: Vec<Uuid> = services::ids_for_organisation(c, &o.id.to_string())?
            .iter()
            .filter_map(|i| Uuid::parse_str(i).ok())
            .collect();
        let mut nested = services(c, &ids, true)?;
        nested.sort_by(|a, b| a.id.cmp(&b.id));
        for s in nested.iter_mut() {
            s.organization = None;
        }
        out.services = Some(nested);
        let filter = LocationFilter {
            organisation_id: Some(o.id),
            postcode: None,
            include_archived: false,
            modified_after: None,
        };
        let mut page = PageRequest {
            page: 1,
            per_page: PageRequest::MAX_PER_PAGE,
        };
        loop {
            let listed = locations::list(c, &filter, page)?;
            out.locations
                .extend(listed.items.iter().map(export::location));
            if page.page >= listed.total_pages() {
                break;
            }
            page.page += 1;
        }
    }
    Ok(out)
}

/// Every live organisation, fully nested, in creation order: the export.
pub fn each_organization(
    c: &mut DbConnection,
    mut each: impl FnMut(types::Organization) -> std::io::Result<()>,
) -> anyhow::Result<usize> {
    let filter = OrganisationFilter::default();
    let mut page = PageRequest {
        page: 1,
        per_page: PageRequest::MAX_PER_PAGE,
    };
    let mut count = 0;
    loop {
        let listed = organisations::list(c, &filter, page)?;
        for o in &listed.items {
            each(organization(c, o, true)?)?;
            count += 1;
        }
        if page.page >= listed.total_pages() {
            return Ok(count);
        }
        page.page += 1;
    }
}
