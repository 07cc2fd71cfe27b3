//! Importing a batch of records in one write transaction. The records are
//! parsed first; everything they mention is looked up with one query per
//! table; then each record runs through the importer's own logic
//! (`Importer::record`) against those lookups, so it comes out as it would
//! alone: created, unchanged, or refused with the same reason and nothing
//! written. New records are collected and written together with multi-row
//! INSERTs (`db::bulk`); unchanged ones cost no write.
//!
//! What the lookups cannot settle (an update, a new taxonomy term, a
//! reference that does not check out) goes through the one-record path
//! (`Importer::import_record`, in a savepoint), after the new records before
//! it are written, so every record sees the ones before it.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::import::{found, reason, Importer, Outcome, Parsed, Record, Report, Store};
use super::types;
use crate::db::bulk::Creations;
use crate::db::rows::TermRow;
use crate::db::services::Assurance;
use crate::db::{
    areas, locations, organisations, services, taxonomy, write_transaction, DbConnection,
    RepoError, RepoResult,
};
use crate::model::enums::TaxonomyKind;
use crate::model::location::LocationDraft;
use crate::model::organisation::OrganisationDraft;
use crate::model::read::{Location, Organisation, Service, ServiceArea};
use crate::model::service::ServiceDraft;
use crate::model::taxonomy::TermDraft;
use crate::model::values::Slug;
use crate::model::Invalid;

/// Imports a batch of records into the report, in order.
pub(super) fn import(
    conn: &mut DbConnection,
    importer: &Importer<'_>,
    records: Vec<Parsed>,
    report: &mut Report,
) {
    let mut labels = Vec::with_capacity(records.len());
    let mut parsed = Vec::with_capacity(records.len());
    for r in records {
        labels.push((r.position, r.id));
        parsed.push(r.record);
    }
    let mut done: Vec<Done> = parsed
        .iter()
        .map(|record| Done {
            result: match record {
                Err(reason) => Err(reason.clone()),
                // Every parsed record's result is set by `Batch::run`.
                Ok(_) => Err("not imported".into()),
            },
            notes: Vec::new(),
        })
        .collect();
    let run = if importer.dry_run {
        // Nothing to write: a dry run only plans.
        Batch::new(conn, importer).run(&parsed, &mut done)
    } else {
        write_transaction(conn, |c| Batch::new(c, importer).run(&parsed, &mut done))
    };
    if let Err(e) = run {
        // The batch is rolled back: a row broke a constraint the checks did
        // not foresee, say, or the database was busy. Each record then gets
        // its own transaction, so the one at fault is refused with its
        // reason and the rest land.
        tracing::debug!(error = %e, "import: a batch failed; importing its records one by one");
        importer.take_notes();
        for (record, done) in parsed.iter().zip(done.iter_mut()) {
            if let Ok(record) = record {
                done.result = importer.import_record(conn, record);
                done.notes = importer.take_notes();
            }
        }
    }
    for ((position, id), done) in labels.into_iter().zip(done) {
        report.notes(position, &id, done.notes);
        report.count(position, id, done.result);
    }
}

/// A record's outcome and what it left out.
struct Done {
    result: Result<Outcome, String>,
    notes: Vec<String>,
}

/// Why the batch stops a record.
pub(super) enum Failure {
    /// Refused, with the reason it would have alone.
    Refused(RepoError),
    /// Not for the batch to settle: it goes through the one-record path.
    Deferred,
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        Failure::Refused(e)
    }
}

/// A cache entry a record's new record added (removed if the record fails).
#[derive(Clone, Copy)]
enum Key {
    Organisation(Uuid),
    Location(Uuid),
    Service(Uuid),
}

/// Taxonomy terms, all of them: by id, and the live ones by taxonomy and slug.
struct Terms {
    by_id: HashMap<Uuid, TermRow>,
    live: HashMap<(TaxonomyKind, String), TermRow>,
}

/// What the batch knows inside its transaction: what its records mention,
/// as looked up, plus the records it has created since.
struct Batch<'c, 'i> {
    conn: &'c mut DbConnection,
    importer: &'c Importer<'i>,
    organisations: HashMap<Uuid, Option<Organisation>>,
    locations: HashMap<Uuid, Option<Location>>,
    services: HashMap<Uuid, Option<Service>>,
    /// Loaded when first needed, and again after a one-record import (which
    /// may have created terms).
    terms: Option<Terms>,
    areas: Option<HashMap<String, ServiceArea>>,
    /// The current record's new records, and the cache entries they added.
    staged: Creations,
    touched: Vec<Key>,
    /// New records of the records done since the last write.
    pending: Creations,
}

/// Ids per lookup query (SQLite allows 32,766 bound values per statement).
const LOOKUP_CHUNK: usize = 1_000;

/// Loads the records with these ids into `cache`, `None` for those not
/// found, a query per chunk of ids.
fn look_up_into<T>(
    conn: &mut DbConnection,
    ids: impl IntoIterator<Item = Uuid>,
    cache: &mut HashMap<Uuid, Option<T>>,
    load: fn(&mut DbConnection, &[String]) -> RepoResult<Vec<T>>,
    id_of: fn(&T) -> Uuid,
) -> RepoResult<()> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        cache.extend(chunk.iter().map(|id| (*id, None)));
        let keys: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
        for found in load(conn, &keys)? {
            cache.insert(id_of(&found), Some(found));
        }
    }
    Ok(())
}

impl<'c, 'i> Batch<'c, 'i> {
    fn new(conn: &'c mut DbConnection, importer: &'c Importer<'i>) -> Self {
        Batch {
            conn,
            importer,
            organisations: HashMap::new(),
            locations: HashMap::new(),
            services: HashMap::new(),
            terms: None,
            areas: None,
            staged: Creations::default(),
            touched: Vec::new(),
            pending: Creations::default(),
        }
    }

    fn run(mut self, records: &[Result<Record, String>], done: &mut [Done]) -> RepoResult<()> {
        self.look_up(records)?;
        let importer = self.importer;
        for (i, record) in records.iter().enumerate() {
            let Ok(record) = record else {
                continue;
            };
            match importer.record(&mut self, record) {
                Ok(outcome) => {
                    self.pending.append(std::mem::take(&mut self.staged));
                    self.touched.clear();
                    done[i] = Done {
                        result: Ok(outcome),
                        notes: importer.take_notes(),
                    };
                }
                Err(Failure::Refused(e)) => {
                    self.discard();
                    done[i] = Done {
                        result: Err(reason(e)),
                        notes: importer.take_notes(),
                    };
                }
                Err(Failure::Deferred) => {
                    self.discard();
                    importer.take_notes();
                    self.write()?;
                    done[i] = self.alone(record);
                }
            }
        }
        self.write()
    }

    /// Looks up every organisation, location and service the records
    /// mention, a query per table (and chunk of ids).
    fn look_up(&mut self, records: &[Result<Record, String>]) -> RepoResult<()> {
        let mut mentioned = Mentions::default();
        for record in records.iter().flatten() {
            mentioned.record(record);
        }
        look_up_into(
            self.conn,
            mentioned.organisations,
            &mut self.organisations,
            organisations::load,
            |o| o.id,
        )?;
        look_up_into(
            self.conn,
            mentioned.locations,
            &mut self.locations,
            locations::load,
            |l| l.id,
        )?;
        look_up_into(
            self.conn,
            mentioned.services,
            &mut self.services,
            services::load,
            |s| s.id,
        )
    }

    /// Drops the current record's new records and what they added to the cache.
    fn discard(&mut self) {
        self.staged = Creations::default();
        for key in self.touched.drain(..) {
            // Only what was absent is ever created.
            match key {
                Key::Organisation(id) => {
                    self.organisations.insert(id, None);
                }
                Key::Location(id) => {
                    self.locations.insert(id, None);
                }
                Key::Service(id) => {
                    self.services.insert(id, None);
                }
            }
        }
    }

    /// Writes the new records waiting (nothing in a dry run).
    fn write(&mut self) -> RepoResult<()> {
        let creations = std::mem::take(&mut self.pending);
        if creations.is_empty() || self.importer.dry_run {
            return Ok(());
        }
        creations.write(self.conn, &self.importer.stamp)
    }

    /// Imports a record through the one-record path, then forgets what the
    /// batch knew about what it mentions (it may have changed).
    fn alone(&mut self, record: &Record) -> Done {
        let result = self.importer.import_record(self.conn, record);
        let mut mentioned = Mentions::default();
        mentioned.record(record);
        for id in mentioned.organisations {
            self.organisations.remove(&id);
        }
        for id in mentioned.locations {
            self.locations.remove(&id);
        }
        for id in mentioned.services {
            self.services.remove(&id);
        }
        self.terms = None;
        Done {
            result,
            notes: self.importer.take_notes(),
        }
    }

    fn terms(&mut self) -> RepoResult<&Terms> {
        let terms = match self.terms.take() {
            Some(terms) => terms,
            None => {
                let mut terms = Terms {
                    by_id: HashMap::new(),
                    live: HashMap::new(),
                };
                for row in taxonomy::rows(self.conn)? {
                    if let Ok(kind) = TaxonomyKind::parse(&row.taxonomy) {
                        if row.archived_at.is_none() {
                            terms.live.insert((kind, row.slug.clone()), row.clone());
                        }
                    }
                    if let Ok(id) = Uuid::parse_str(&row.id) {
                        terms.by_id.insert(id, row);
                    }
                }
                terms
            }
        };
        Ok(self.terms.insert(terms))
    }

    fn areas(&mut self) -> RepoResult<&HashMap<String, ServiceArea>> {
        let known = match self.areas.take() {
            Some(known) => known,
            None => areas::list(self.conn, None)?
                .into_iter()
                .map(|a| (a.code.clone(), a))
                .collect(),
        };
        Ok(self.areas.insert(known))
    }

    /// The live terms of these slugs, in order, or `Deferred` when one is
    /// not a live term (the one-record path words the refusal).
    fn live_terms(&mut self, kind: TaxonomyKind, slugs: &[Slug]) -> Result<Vec<TermRow>, Failure> {
        let terms = self.terms()?;
        slugs
            .iter()
            .map(|slug| {
                terms
                    .live
                    .get(&(kind, slug.as_str().to_string()))
                    .cloned()
                    .ok_or(Failure::Deferred)
            })
            .collect()
    }

    /// What `services::create` checks about a new service's references,
    /// from what the batch knows, and what the service is read with: the
    /// live terms of its categories and community groups, its areas, its
    /// organisation and its locations. `Deferred` when something does not
    /// check out (the one-record path words the refusal).
    fn references(&mut self, id: Uuid, draft: &ServiceDraft) -> Result<References, Failure> {
        let organisation = match self.organisation(draft.organisation_id)? {
            Some(o) if o.archived_at.is_none() => o,
            _ => return Err(Failure::Deferred),
        };
        let mut terms = self.live_terms(TaxonomyKind::Category, &draft.categories)?;
        terms.extend(self.live_terms(TaxonomyKind::CommunityGroup, &draft.community_groups)?);
        let known = self.areas()?;
        let areas = draft
            .service_areas
            .iter()
            .map(|code| known.get(code).cloned().ok_or(Failure::Deferred))
            .collect::<Result<Vec<ServiceArea>, Failure>>()?;
        let mut locations = Vec::with_capacity(draft.location_ids.len());
        for location in &draft.location_ids {
            match self.location(*location)? {
                Some(l)
                    if l.organisation_id == draft.organisation_id && l.archived_at.is_none() =>
                {
                    locations.push(l)
                }
                _ => return Err(Failure::Deferred),
            }
        }
        if let Some(replacement) = draft.replaced_by {
            if replacement == id || self.service(replacement)?.is_none() {
                return Err(Failure::Deferred);
            }
        }
        Ok(References {
            organisation,
            terms,
            areas,
            locations,
        })
    }
}

/// What a new service refers to, checked.
struct References {
    organisation: Organisation,
    terms: Vec<TermRow>,
    areas: Vec<ServiceArea>,
    locations: Vec<Location>,
}

impl Store for Batch<'_, '_> {
    type Error = Failure;

    fn invalid(error: Failure) -> Result<Invalid, Failure> {
        match error {
            Failure::Refused(RepoError::Invalid(invalid)) => Ok(invalid),
            e => Err(e),
        }
    }

    fn organisation(&mut self, id: Uuid) -> Result<Option<Organisation>, Failure> {
        if let Some(known) = self.organisations.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(organisations::get(self.conn, id))?;
        self.organisations.insert(id, looked_up.clone());
        Ok(looked_up)
    }

    fn organisation_exists(&mut self, id: Uuid) -> Result<bool, Failure> {
        Ok(self.organisation(id)?.is_some())
    }

    fn create_organisation(&mut self, id: Uuid, draft: OrganisationDraft) -> Result<(), Failure> {
        let created = self.staged.organisation(&self.importer.stamp, id, draft);
        self.organisations.insert(id, Some(created));
        self.touched.push(Key::Organisation(id));
        Ok(())
    }

    fn update_organisation(
        &mut self,
        _: Uuid,
        _: i64,
        _: OrganisationDraft,
    ) -> Result<(), Failure> {
        Err(Failure::Deferred)
    }

    fn location(&mut self, id: Uuid) -> Result<Option<Location>, Failure> {
        if let Some(known) = self.locations.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(locations::get(self.conn, id))?;
        self.locations.insert(id, looked_up.clone());
        Ok(looked_up)
    }

    fn create_location(&mut self, id: Uuid, draft: LocationDraft) -> Result<(), Failure> {
        // What `locations::create` checks.
        if !self.organisation_exists(draft.organisation_id)? {
            return Err(Failure::Deferred);
        }
        let features = self.live_terms(TaxonomyKind::Accessibility, &draft.accessibility)?;
        let created = self
            .staged
            .location(&self.importer.stamp, id, &draft, &features);
        self.locations.insert(id, Some(created));
        self.touched.push(Key::Location(id));
        Ok(())
    }

    fn update_location(&mut self, _: Uuid, _: i64, _: LocationDraft) -> Result<(), Failure> {
        Err(Failure::Deferred)
    }

    fn service(&mut self, id: Uuid) -> Result<Option<Service>, Failure> {
        if let Some(known) = self.services.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(services::get(self.conn, id))?;
        self.services.insert(id, looked_up.clone());
        Ok(looked_up)
    }

    fn create_service(
        &mut self,
        id: Uuid,
        draft: ServiceDraft,
        assured: Option<Assurance>,
    ) -> Result<(), Failure> {
        let refs = self.references(id, &draft)?;
        let created = self.staged.service(
            &self.importer.stamp,
            id,
            &draft,
            assured,
            &refs.organisation,
            &refs.terms,
            refs.areas,
            refs.locations,
        );
        self.services.insert(id, Some(created));
        self.touched.push(Key::Service(id));
        Ok(())
    }

    fn update_service(&mut self, _: Uuid, _: i64, _: ServiceDraft) -> Result<(), Failure> {
        Err(Failure::Deferred)
    }

    fn term_slug(&mut self, id: Uuid) -> Result<Option<String>, Failure> {
        Ok(self.terms()?.by_id.get(&id).map(|t| t.slug.clone()))
    }

    fn live_term(&mut self, kind: TaxonomyKind, slug: &Slug) -> Result<bool, Failure> {
        Ok(self
            .terms()?
            .live
            .contains_key(&(kind, slug.as_str().to_string())))
    }

    fn create_term(&mut self, _: Option<Uuid>, _: TermDraft) -> Result<(), Failure> {
        Err(Failure::Deferred)
    }
}

/// The ids a record mentions (the ones that parse).
#[derive(Default)]
struct Mentions {
    organisations: HashSet<Uuid>,
    locations: HashSet<Uuid>,
    services: HashSet<Uuid>,
}

impl Mentions {
    fn record(&mut self, record: &Record) {
        match record {
            Record::Service(s) => self.service(s),
            Record::Organization(o) => {
                self.organisations.extend(id(&o.id));
                for s in o.services.iter().flatten() {
                    self.service(s);
                }
                self.locations
                    .extend(o.locations.iter().filter_map(|l| id(&l.id)));
            }
        }
    }

    fn service(&mut self, s: &types::Service) {
        self.services.extend(id(&s.id));
        self.organisations
            .extend(s.organization.as_ref().and_then(|o| id(&o.id)));
        self.organisations
            .extend(s.organization_id.as_deref().and_then(id));
        for sal in s.service_at_locations.iter().flatten() {
            let location = match &sal.location {
                Some(l) => Some(l.id.as_str()),
                None => sal.location_id.as_deref(),
            };
            self.locations.extend(location.and_then(id));
        }
    }
}

fn id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw.trim()).ok()
}
