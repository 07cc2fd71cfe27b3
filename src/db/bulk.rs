//! Many new records written together, for the HSDS import: the same rows,
//! audit rows and change-log rows as creating them one by one, but with
//! multi-row INSERTs and with each record built in memory rather than read
//! back. The caller has checked what the records refer to, as `create`
//! would, inside the same write transaction.

use uuid::Uuid;

use super::changes::{change_row, creation_row, AuditRow, ChangeRow, EntityType, Op, Stamp};
use super::rows::{FeatureRow, LocationRow, OrganisationRow, ServiceRow, TermRow};
use super::schema::{location_accessibility, locations as location_table, organisations, services};
use super::services::{Assurance, ChildRows};
use super::{locations, DbConnection, RepoError, RepoResult};
use crate::model::location::LocationDraft;
use crate::model::organisation::OrganisationDraft;
use crate::model::read::{Location, Organisation, Service, ServiceArea};
use crate::model::service::ServiceDraft;

/// A record created, as `get` reads it: its audit row's "after".
#[derive(Debug)]
enum Created {
    Organisation(Organisation),
    Location(Location),
    Service(Box<Service>),
}

/// New records waiting to be written.
#[derive(Debug, Default)]
pub struct Creations {
    organisations: Vec<OrganisationRow>,
    locations: Vec<LocationRow>,
    features: Vec<FeatureRow>,
    services: Vec<ServiceRow>,
    children: ChildRows,
    /// Every record in creation order, the order of its audit and
    /// change-log rows.
    created: Vec<Created>,
}

impl Creations {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty()
    }

    /// Adds an organisation; returns it as `organisations::create` does.
    pub fn organisation(
        &mut self,
        stamp: &Stamp,
        id: Uuid,
        draft: OrganisationDraft,
    ) -> Organisation {
        let row = super::organisations::new_row(stamp, id, draft);
        self.organisations.push(row.clone());
        let created = super::organisations::to_read(row);
        self.created.push(Created::Organisation(created.clone()));
        created
    }

    /// Adds a location with its accessibility features (the live terms of
    /// the draft's slugs); returns it as `locations::create` does.
    pub fn location(
        &mut self,
        stamp: &Stamp,
        id: Uuid,
        draft: &LocationDraft,
        features: &[TermRow],
    ) -> Location {
        let row = locations::new_row(stamp, id, draft);
        self.locations.push(row.clone());
        self.features.extend(locations::feature_rows(id, features));
        // In the order `locations::load` reads them.
        let mut accessibility: Vec<&TermRow> = features.iter().collect();
        accessibility.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        let created = locations::to_read(
            row,
            accessibility
                .into_iter()
                .map(super::taxonomy::to_ref)
                .collect(),
        );
        self.created.push(Created::Location(created.clone()));
        created
    }

    /// Adds a service (see `services::new_service`); returns it as
    /// `services::create` does.
    #[allow(clippy::too_many_arguments)]
    pub fn service(
        &mut self,
        stamp: &Stamp,
        id: Uuid,
        draft: &ServiceDraft,
        assured: Option<Assurance>,
        organisation: &Organisation,
        terms: &[TermRow],
        areas: Vec<ServiceArea>,
        locations: Vec<Location>,
    ) -> Service {
        let (row, children, created) = super::services::new_service(
            stamp,
            id,
            draft,
            assured,
            organisation,
            terms,
            areas,
            locations,
        );
        self.services.push(row);
        self.children.append(children);
        self.created
            .push(Created::Service(Box::new(created.clone())));
        created
    }

    /// Adds what another set of creations holds, after what this one has.
    pub fn append(&mut self, mut other: Creations) {
        self.organisations.append(&mut other.organisations);
        self.locations.append(&mut other.locations);
        self.features.append(&mut other.features);
        self.services.append(&mut other.services);
        self.children.append(other.children);
        self.created.append(&mut other.created);
    }

    /// Writes the rows, then an audit row and a change-log row for every
    /// record, in creation order. The audit rows' JSON (most of the work
    /// besides SQLite's) is built on a second thread meanwhile.
    pub fn write(self, conn: &mut DbConnection, stamp: &Stamp) -> RepoResult<()> {
        let Creations {
            organisations: organisation_rows,
            locations: location_rows,
            features,
            services: service_rows,
            children,
            created,
        } = self;
        std::thread::scope(|scope| {
            let logs = scope.spawn(|| logs(stamp, created));
            super::insert_rows!(conn, organisations::table, &organisation_rows);
            super::insert_rows!(conn, location_table::table, &location_rows);
            super::insert_rows!(conn, location_accessibility::table, &features);
            super::insert_rows!(conn, services::table, &service_rows);
            children.write(conn)?;
            let (audits, changes) = logs
                .join()
                .map_err(|_| RepoError::Conflict("building the audit rows failed".into()))?;
            super::changes::write_all(conn, &audits, &changes)
        })
    }
}

/// The audit and change-log rows of these creations, in order.
fn logs(stamp: &Stamp, created: Vec<Created>) -> (Vec<AuditRow>, Vec<ChangeRow>) {
    let mut audits = Vec::with_capacity(created.len());
    let mut changes = Vec::with_capacity(created.len());
    for created in created {
        let (entity, id, audit) = match created {
            Created::Organisation(o) => {
                let (entity, id) = (EntityType::Organisation, o.id.to_string());
                let audit = creation_row(stamp, entity, &id, &o);
                (entity, id, audit)
            }
            Created::Location(l) => {
                let (entity, id) = (EntityType::Location, l.id.to_string());
                let audit = creation_row(stamp, entity, &id, &l);
                (entity, id, audit)
            }
            Created::Service(s) => {
                let (entity, id) = (EntityType::Service, s.id.to_string());
                let audit = creation_row(stamp, entity, &id, &s);
                (entity, id, audit)
            }
        };
        // As `changes::record`: no change-log row without an audit row.
        if let Some(audit) = audit {
            audits.push(audit);
            changes.push(change_row(stamp, entity, &id, Op::Create));
        }
    }
    (audits, changes)
}
