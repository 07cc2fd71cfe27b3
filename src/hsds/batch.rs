//! Importing records a batch at a time. A batch's records are parsed first;
//! everything they mention is looked up with one query per table; then each
//! record runs through the importer's own logic (`Importer::record`)
//! against those lookups, so it comes out as it would alone: created,
//! unchanged, or refused with the same reason and nothing written. New
//! records are collected and written together with multi-row INSERTs
//! (`db::bulk`); unchanged ones cost no write.
//!
//! Batches are pipelined: while one batch's new records are written, the
//! next batch is planned (run through `Importer::record`) on a second
//! thread, from lookups made in the same transaction as that write, with
//! what the batch being written creates laid over them. A plan is written
//! only if no other write transaction has committed since its lookups
//! (`write_serial` tells); otherwise, and whenever a record needs more than
//! the lookups can settle, the batch is imported on the connection instead.
//!
//! What the lookups cannot settle (an update, a new taxonomy term, a
//! reference that does not check out) goes through the one-record path
//! (`Importer::import_record`, in a savepoint), after the new records before
//! it are written, so every record sees the ones before it.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use uuid::Uuid;

use super::import::{found, reason, Importer, Outcome, Parsed, Record, Report, Store};
use super::types;
use crate::db::bulk::Creations;
use crate::db::rows::TermRow;
use crate::db::services::Assurance;
use crate::db::{
    areas, locations, organisations, services, taxonomy, write_serial, write_transaction,
    DbConnection, ImportTuning, RepoError, RepoResult,
};
use crate::model::enums::TaxonomyKind;
use crate::model::location::LocationDraft;
use crate::model::organisation::OrganisationDraft;
use crate::model::read::{Location, Organisation, Service, ServiceArea};
use crate::model::service::ServiceDraft;
use crate::model::taxonomy::TermDraft;
use crate::model::values::Slug;
use crate::model::Invalid;

/// Imports batches of records into the report, in order; `progress` sees
/// each record's position once its batch is settled.
pub(super) fn import_all(
    conn: &mut DbConnection,
    tuning: &ImportTuning,
    importer: &Importer<'_>,
    batches: impl IntoIterator<Item = Vec<Parsed>>,
    report: &mut Report,
    progress: &mut dyn FnMut(usize),
) {
    if importer.dry_run {
        // Nothing is written, so there is nothing to overlap; what earlier
        // batches would have created is carried to the later ones instead.
        let mut earlier = Known::default();
        for batch in batches {
            let mut records = Records::new(batch);
            dry_run_on(conn, importer, &mut records, &mut earlier);
            records.report(report, progress);
        }
        return;
    }
    std::thread::scope(|scope| {
        let (to_planner, planner_in) = sync_channel(1);
        let (planner_out, planned) = sync_channel(1);
        scope.spawn(move || planner(importer, planner_in, planner_out));
        let mut pipeline = Pipeline {
            conn,
            tuning,
            importer,
            to_planner,
            planned,
            waiting: None,
        };
        for batch in batches {
            pipeline.step(Some(Records::new(batch)), report, progress);
        }
        pipeline.step(None, report, progress);
        // Dropping the pipeline's sender ends the planner.
    });
}

/// A batch's records as read, and what became of each.
struct Records {
    labels: Vec<(usize, Option<String>)>,
    parsed: Vec<Result<Record, String>>,
    done: Vec<Done>,
}

impl Records {
    fn new(batch: Vec<Parsed>) -> Self {
        let mut labels = Vec::with_capacity(batch.len());
        let mut parsed = Vec::with_capacity(batch.len());
        let mut done = Vec::with_capacity(batch.len());
        for r in batch {
            labels.push((r.position, r.id));
            done.push(Done {
                result: match &r.record {
                    Err(reason) => Err(reason.clone()),
                    // Every parsed record's result is set by its batch.
                    Ok(_) => Err("not imported".into()),
                },
                notes: Vec::new(),
            });
            parsed.push(r.record);
        }
        Records {
            labels,
            parsed,
            done,
        }
    }

    fn report(self, report: &mut Report, progress: &mut dyn FnMut(usize)) {
        for ((position, id), done) in self.labels.into_iter().zip(self.done) {
            report.notes(position, &id, done.notes);
            report.count(position, id, done.result);
            progress(position);
        }
    }
}

/// Imports a batch on the connection, in one transaction: lookups, the
/// records in turn, the one-record path for what the lookups cannot settle.
fn import_on(conn: &mut DbConnection, importer: &Importer<'_>, records: &mut Records) {
    let Records { parsed, done, .. } = records;
    let run = write_transaction(conn, |c| {
        Batch::new(Some(c), importer).run(parsed, done, None)
    });
    if let Err(e) = run {
        tracing::debug!(error = %e, "import: a batch failed; importing its records one by one");
        one_by_one(conn, importer, records);
    }
}

/// Runs a batch through a dry run: as `import_on`, writing nothing, and
/// seeing the organisations and locations earlier batches would have
/// created (services refer to those by id; they are kept, as the real
/// import keeps them in the database).
fn dry_run_on(
    conn: &mut DbConnection,
    importer: &Importer<'_>,
    records: &mut Records,
    earlier: &mut Known,
) {
    let Records { parsed, done, .. } = records;
    let run = Batch::new(Some(conn), importer).run(parsed, done, Some(earlier));
    if let Err(e) = run {
        tracing::debug!(error = %e, "import: a batch failed; importing its records one by one");
        one_by_one(conn, importer, records);
    }
}

/// Imports each record of a batch in its own transaction, after the batch
/// was rolled back: a row broke a constraint the checks did not foresee,
/// say, or the database was busy. The record at fault is refused with its
/// reason and the rest land.
fn one_by_one(conn: &mut DbConnection, importer: &Importer<'_>, records: &mut Records) {
    importer.take_notes();
    for (record, done) in records.parsed.iter().zip(records.done.iter_mut()) {
        if let Ok(record) = record {
            done.result = importer.import_record(conn, record);
            done.notes = importer.take_notes();
        }
    }
}

/// A batch planned off the connection, waiting to be written.
struct Plan {
    records: Records,
    creations: Creations,
    /// What the plan creates, laid over the next batch's lookups.
    created: Known,
    /// `write_serial` in the transaction that made the plan's lookups (set
    /// by the importing thread once that transaction commits).
    serial: i64,
}

/// What the planner makes of a batch and its lookups.
enum Planned {
    Ready(Box<Plan>),
    /// A record needs the connection (see `Failure::Deferred`).
    NeedsConnection(Records),
}

/// A batch for the planner: its records, its lookups, and what the batch
/// before it created that the lookups did not take.
type ToPlan = (Records, Known, Known);

/// The planning thread: runs each batch's records against its lookups.
fn planner(importer: &Importer<'_>, batches: Receiver<ToPlan>, plans: SyncSender<Planned>) {
    // The records created before are dropped here, off the importing thread.
    for (mut records, known, _created_before) in batches {
        let mut batch = Batch::new(None, importer);
        batch.known = known;
        let planned = match batch.plan(&records.parsed, &mut records.done) {
            Some((creations, created)) => Planned::Ready(Box::new(Plan {
                records,
                creations,
                created,
                serial: 0,
            })),
            None => Planned::NeedsConnection(records),
        };
        if plans.send(planned).is_err() {
            return;
        }
    }
}

/// The importing thread's side of the pipeline.
struct Pipeline<'c, 'i> {
    conn: &'c mut DbConnection,
    tuning: &'c ImportTuning,
    importer: &'c Importer<'i>,
    to_planner: SyncSender<ToPlan>,
    planned: Receiver<Planned>,
    /// The batch planned last, not yet written.
    waiting: Option<Plan>,
}

/// Why a pipeline transaction was rolled back.
enum Rollback {
    /// Another write committed since the waiting plan's lookups.
    Stale,
    /// The database refused a write or a lookup.
    Failed(RepoError),
}

impl Pipeline<'_, '_> {
    /// Writes the waiting plan and looks up `next` in one transaction,
    /// handing `next` to the planner between the two; then reports the
    /// written batch and takes the planner's plan of `next`.
    fn step(
        &mut self,
        next: Option<Records>,
        report: &mut Report,
        progress: &mut dyn FnMut(usize),
    ) {
        self.tuning.between_writes(self.conn);
        let mut next = next;
        let mut sent = false;
        let mut rollback = None;
        let mut creations = self
            .waiting
            .as_mut()
            .map(|w| std::mem::take(&mut w.creations));
        let mut created = self
            .waiting
            .as_mut()
            .map(|w| std::mem::take(&mut w.created));
        let (importer, waiting, to_planner) = (self.importer, &self.waiting, &self.to_planner);
        let serial = write_transaction(self.conn, |c| {
            let serial = write_serial(c)?;
            if waiting.as_ref().is_some_and(|w| w.serial + 1 != serial) {
                rollback = Some(Rollback::Stale);
                return Err(RepoError::Conflict("written to since its lookups".into()));
            }
            if let Some(records) = next.take() {
                let mut created = created.take().unwrap_or_default();
                match Known::look_up(c, &records.parsed, &mut created) {
                    Ok(known) => {
                        // The planner only stops when this side has.
                        sent = to_planner.send((records, known, created)).is_ok();
                    }
                    Err(e) => {
                        next = Some(records);
                        rollback = Some(Rollback::Failed(e));
                        return Err(RepoError::Conflict("a lookup failed".into()));
                    }
                }
            }
            if let Some(creations) = creations.take() {
                if let Err(e) = creations.write(c, &importer.stamp) {
                    rollback = Some(Rollback::Failed(e));
                    return Err(RepoError::Conflict("a write failed".into()));
                }
            }
            Ok(serial)
        });
        // The plan of `next`, if it went to the planner: taken before
        // anything else imports records, as the two share the notes.
        let planned = if sent { self.planned.recv().ok() } else { None };
        let waiting = self.waiting.take();
        match (serial, planned) {
            (Ok(serial), planned) => {
                if let Some(written) = waiting {
                    written.records.report(report, progress);
                }
                match planned {
                    Some(Planned::Ready(mut plan)) => {
                        plan.serial = serial;
                        self.waiting = Some(*plan);
                    }
                    Some(Planned::NeedsConnection(records)) => {
                        self.on_connection(records, report, progress)
                    }
                    None => self.on_connection_if(next, report, progress),
                }
            }
            (Err(e), planned) => {
                if let Some(mut unwritten) = waiting {
                    match rollback {
                        // Planned from lookups another writer has since
                        // made stale: planned again on the connection.
                        Some(Rollback::Stale) => {
                            import_on(self.conn, self.importer, &mut unwritten.records)
                        }
                        failed => {
                            let error = match failed {
                                Some(Rollback::Failed(cause)) => cause,
                                _ => e,
                            };
                            tracing::debug!(%error, "import: a batch failed; importing its records one by one");
                            one_by_one(self.conn, self.importer, &mut unwritten.records);
                        }
                    }
                    unwritten.records.report(report, progress);
                }
                // A plan made alongside a write that did not happen is
                // redone on the connection.
                let records = match planned {
                    Some(Planned::Ready(plan)) => Some(plan.records),
                    Some(Planned::NeedsConnection(records)) => Some(records),
                    None => next,
                };
                self.on_connection_if(records, report, progress);
            }
        }
    }

    /// Imports a batch on the connection, unpipelined, and reports it.
    fn on_connection(
        &mut self,
        mut records: Records,
        report: &mut Report,
        progress: &mut dyn FnMut(usize),
    ) {
        self.tuning.between_writes(self.conn);
        import_on(self.conn, self.importer, &mut records);
        records.report(report, progress);
    }

    fn on_connection_if(
        &mut self,
        records: Option<Records>,
        report: &mut Report,
        progress: &mut dyn FnMut(usize),
    ) {
        if let Some(records) = records {
            self.on_connection(records, report, progress);
        }
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
    /// Not for the batch to settle: it goes through the one-record path
    /// (or, while planning off the connection, the batch does).
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

/// What a batch knows of the database: what its records mention, as looked
/// up, plus the records it has created since.
#[derive(Default)]
struct Known {
    organisations: HashMap<Uuid, Option<Organisation>>,
    locations: HashMap<Uuid, Option<Location>>,
    services: HashMap<Uuid, Option<Service>>,
    /// Loaded with the lookups, and again after a one-record import (which
    /// may have created terms).
    terms: Option<Terms>,
    areas: Option<HashMap<String, ServiceArea>>,
}

/// Ids per lookup query (SQLite allows 32,766 bound values per statement).
const LOOKUP_CHUNK: usize = 1_000;

impl Known {
    /// Looks up every organisation, location and service the records
    /// mention (a query per table and chunk of ids), taking those `created`
    /// holds from it instead; and the taxonomy and the service areas.
    fn look_up(
        conn: &mut DbConnection,
        records: &[Result<Record, String>],
        created: &mut Known,
    ) -> RepoResult<Known> {
        let mut mentioned = Mentions::default();
        for record in records.iter().flatten() {
            mentioned.record(record);
        }
        let mut known = Known::default();
        look_up_into(
            conn,
            mentioned.organisations,
            &mut created.organisations,
            &mut known.organisations,
            organisations::load,
            |o| o.id,
        )?;
        look_up_into(
            conn,
            mentioned.locations,
            &mut created.locations,
            &mut known.locations,
            locations::load,
            |l| l.id,
        )?;
        look_up_into(
            conn,
            mentioned.services,
            &mut created.services,
            &mut known.services,
            services::load,
            |s| s.id,
        )?;
        known.terms = Some(load_terms(conn)?);
        known.areas = Some(load_areas(conn)?);
        Ok(known)
    }

    /// Fills in, from `earlier`, the organisations and locations the
    /// lookups did not find.
    fn lay_over(&mut self, earlier: &Known) {
        for (id, organisation) in &mut self.organisations {
            if organisation.is_none() {
                *organisation = earlier.organisations.get(id).cloned().flatten();
            }
        }
        for (id, location) in &mut self.locations {
            if location.is_none() {
                *location = earlier.locations.get(id).cloned().flatten();
            }
        }
    }

    /// Keeps the organisations and locations among `created` that `batch`
    /// still knows.
    fn keep(&mut self, batch: &mut Known, created: Vec<Key>) {
        for key in created {
            match key {
                Key::Organisation(id) => {
                    if let Some(o) = batch.organisations.remove(&id).flatten() {
                        self.organisations.insert(id, Some(o));
                    }
                }
                Key::Location(id) => {
                    if let Some(l) = batch.locations.remove(&id).flatten() {
                        self.locations.insert(id, Some(l));
                    }
                }
                Key::Service(_) => {}
            }
        }
    }
}

/// Puts the records with these ids into `cache`: from `created` where it
/// has them, otherwise loaded (`None` for those not found), a query per
/// chunk of ids.
fn look_up_into<T>(
    conn: &mut DbConnection,
    ids: HashSet<Uuid>,
    created: &mut HashMap<Uuid, Option<T>>,
    cache: &mut HashMap<Uuid, Option<T>>,
    load: fn(&mut DbConnection, &[String]) -> RepoResult<Vec<T>>,
    id_of: fn(&T) -> Uuid,
) -> RepoResult<()> {
    cache.reserve(ids.len());
    let mut ids: Vec<Uuid> = ids
        .into_iter()
        .filter(|id| match created.remove(id) {
            Some(record) => {
                cache.insert(*id, record);
                false
            }
            None => true,
        })
        .collect();
    // Stable queries whatever the hash order.
    ids.sort_unstable();
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        cache.extend(chunk.iter().map(|id| (*id, None)));
        let keys: Vec<String> = chunk.iter().map(Uuid::to_string).collect();
        for found in load(conn, &keys)? {
            cache.insert(id_of(&found), Some(found));
        }
    }
    Ok(())
}

fn load_terms(conn: &mut DbConnection) -> RepoResult<Terms> {
    let mut terms = Terms {
        by_id: HashMap::new(),
        live: HashMap::new(),
    };
    for row in taxonomy::rows(conn)? {
        if let Ok(kind) = TaxonomyKind::parse(&row.taxonomy) {
            if row.archived_at.is_none() {
                terms.live.insert((kind, row.slug.clone()), row.clone());
            }
        }
        if let Ok(id) = Uuid::parse_str(&row.id) {
            terms.by_id.insert(id, row);
        }
    }
    Ok(terms)
}

fn load_areas(conn: &mut DbConnection) -> RepoResult<HashMap<String, ServiceArea>> {
    Ok(areas::list(conn, None)?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect())
}

/// A batch of records run through the importer against what it knows. On
/// the connection (`conn` is set), inside the batch's transaction, it looks
/// up what it does not know and imports what it cannot settle through the
/// one-record path; planning off the connection, it stops at the first
/// record it cannot settle.
struct Batch<'c, 'i> {
    conn: Option<&'c mut DbConnection>,
    importer: &'c Importer<'i>,
    known: Known,
    /// The current record's new records, and the cache entries they added.
    staged: Creations,
    touched: Vec<Key>,
    /// New records of the records done since the last write, and the keys
    /// of what they created (in a dry run, of the whole batch).
    pending: Creations,
    created: Vec<Key>,
}

impl<'c, 'i> Batch<'c, 'i> {
    fn new(conn: Option<&'c mut DbConnection>, importer: &'c Importer<'i>) -> Self {
        Batch {
            conn,
            importer,
            known: Known::default(),
            staged: Creations::default(),
            touched: Vec::new(),
            pending: Creations::default(),
            created: Vec::new(),
        }
    }

    /// The connection, or `Deferred` while planning off it.
    fn conn(&mut self) -> Result<&mut DbConnection, Failure> {
        self.conn.as_deref_mut().ok_or(Failure::Deferred)
    }

    /// Imports the records on the connection. A dry run's `earlier` holds
    /// what the batches before would have created, and gains this one's.
    fn run(
        mut self,
        records: &[Result<Record, String>],
        done: &mut [Done],
        earlier: Option<&mut Known>,
    ) -> RepoResult<()> {
        let Some(conn) = self.conn.as_deref_mut() else {
            return Err(RepoError::Conflict(
                "a batch run needs its connection".into(),
            ));
        };
        self.known = Known::look_up(conn, records, &mut Known::default())?;
        if let Some(earlier) = &earlier {
            self.known.lay_over(earlier);
        }
        self.each(records, done, |batch, record| {
            batch.write()?;
            batch.alone(record).map(Some)
        })?;
        self.write()?;
        if let Some(earlier) = earlier {
            earlier.keep(&mut self.known, std::mem::take(&mut self.created));
        }
        Ok(())
    }

    /// Plans the records off the connection: what they create, and the
    /// created records by id. `None` when one needs the connection.
    fn plan(
        mut self,
        records: &[Result<Record, String>],
        done: &mut [Done],
    ) -> Option<(Creations, Known)> {
        if !matches!(self.each(records, done, |_, _| Ok(None)), Ok(true)) {
            return None;
        }
        let mut created = Known::default();
        for key in self.created {
            match key {
                Key::Organisation(id) => {
                    let o = self.known.organisations.remove(&id).flatten();
                    created.organisations.insert(id, o);
                }
                Key::Location(id) => {
                    let l = self.known.locations.remove(&id).flatten();
                    created.locations.insert(id, l);
                }
                Key::Service(id) => {
                    let s = self.known.services.remove(&id).flatten();
                    created.services.insert(id, s);
                }
            }
        }
        Some((self.pending, created))
    }

    /// Runs each parsed record through the importer and sets its outcome.
    /// A record the batch cannot settle goes to `deferred`, which returns
    /// its outcome, or `None` to stop there (`Ok(false)`).
    fn each(
        &mut self,
        records: &[Result<Record, String>],
        done: &mut [Done],
        mut deferred: impl FnMut(&mut Self, &Record) -> RepoResult<Option<Done>>,
    ) -> RepoResult<bool> {
        let importer = self.importer;
        for (i, record) in records.iter().enumerate() {
            let Ok(record) = record else {
                continue;
            };
            match importer.record(self, record) {
                Ok(outcome) => done[i] = self.accept(outcome),
                Err(Failure::Refused(e)) => done[i] = self.refuse(e),
                Err(Failure::Deferred) => {
                    self.discard();
                    importer.take_notes();
                    match deferred(self, record)? {
                        Some(outcome) => done[i] = outcome,
                        None => return Ok(false),
                    }
                }
            }
        }
        Ok(true)
    }

    /// Keeps the current record's new records.
    fn accept(&mut self, outcome: Outcome) -> Done {
        self.pending.append(std::mem::take(&mut self.staged));
        self.created.append(&mut self.touched);
        Done {
            result: Ok(outcome),
            notes: self.importer.take_notes(),
        }
    }

    /// Drops the current record's new records: it is refused.
    fn refuse(&mut self, e: RepoError) -> Done {
        self.discard();
        Done {
            result: Err(reason(e)),
            notes: self.importer.take_notes(),
        }
    }

    /// Drops the current record's new records and what they added to the cache.
    fn discard(&mut self) {
        self.staged = Creations::default();
        for key in self.touched.drain(..) {
            // Only what was absent is ever created.
            match key {
                Key::Organisation(id) => {
                    self.known.organisations.insert(id, None);
                }
                Key::Location(id) => {
                    self.known.locations.insert(id, None);
                }
                Key::Service(id) => {
                    self.known.services.insert(id, None);
                }
            }
        }
    }

    /// Writes the new records waiting (nothing in a dry run).
    fn write(&mut self) -> RepoResult<()> {
        let creations = std::mem::take(&mut self.pending);
        if self.importer.dry_run {
            // Nothing is written, and `created` keeps every key of the
            // batch, for the batches after it (see `run`).
            return Ok(());
        }
        self.created.clear();
        if creations.is_empty() {
            return Ok(());
        }
        match self.conn.as_deref_mut() {
            Some(conn) => creations.write(conn, &self.importer.stamp),
            None => Err(RepoError::Conflict("writing needs the connection".into())),
        }
    }

    /// Imports a record through the one-record path, then forgets what the
    /// batch knew about what it mentions (it may have changed).
    fn alone(&mut self, record: &Record) -> RepoResult<Done> {
        let Some(conn) = self.conn.as_deref_mut() else {
            return Err(RepoError::Conflict("importing needs the connection".into()));
        };
        let result = self.importer.import_record(conn, record);
        let mut mentioned = Mentions::default();
        mentioned.record(record);
        for id in mentioned.organisations {
            self.known.organisations.remove(&id);
        }
        for id in mentioned.locations {
            self.known.locations.remove(&id);
        }
        for id in mentioned.services {
            self.known.services.remove(&id);
        }
        self.known.terms = None;
        Ok(Done {
            result,
            notes: self.importer.take_notes(),
        })
    }

    fn terms(&mut self) -> Result<&Terms, Failure> {
        let terms = match self.known.terms.take() {
            Some(terms) => terms,
            None => load_terms(self.conn()?)?,
        };
        Ok(self.known.terms.insert(terms))
    }

    fn areas(&mut self) -> Result<&HashMap<String, ServiceArea>, Failure> {
        let known = match self.known.areas.take() {
            Some(known) => known,
            None => load_areas(self.conn()?)?,
        };
        Ok(self.known.areas.insert(known))
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
        if let Some(known) = self.known.organisations.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(organisations::get(self.conn()?, id))?;
        self.known.organisations.insert(id, looked_up.clone());
        Ok(looked_up)
    }

    fn organisation_exists(&mut self, id: Uuid) -> Result<bool, Failure> {
        Ok(self.organisation(id)?.is_some())
    }

    fn create_organisation(&mut self, id: Uuid, draft: OrganisationDraft) -> Result<(), Failure> {
        let created = self.staged.organisation(&self.importer.stamp, id, draft);
        self.known.organisations.insert(id, Some(created));
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
        if let Some(known) = self.known.locations.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(locations::get(self.conn()?, id))?;
        self.known.locations.insert(id, looked_up.clone());
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
        self.known.locations.insert(id, Some(created));
        self.touched.push(Key::Location(id));
        Ok(())
    }

    fn update_location(&mut self, _: Uuid, _: i64, _: LocationDraft) -> Result<(), Failure> {
        Err(Failure::Deferred)
    }

    fn service(&mut self, id: Uuid) -> Result<Option<Service>, Failure> {
        if let Some(known) = self.known.services.get(&id) {
            return Ok(known.clone());
        }
        let looked_up = found(services::get(self.conn()?, id))?;
        self.known.services.insert(id, looked_up.clone());
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
        self.known.services.insert(id, Some(created));
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
