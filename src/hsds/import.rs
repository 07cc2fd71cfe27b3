//! HSDS 3.0 data into Signpost: full services (with their organisation and
//! locations nested) or full organisations (with services and locations),
//! as a JSON array or NDJSON, read one record at a time so a large file
//! never has to fit in memory.
//!
//! Each top-level record is upserted by id: created when new, updated when
//! different, left alone (no write, no audit row) when the same; a record
//! that cannot be imported is reported with the reason, nothing of it is
//! written, and the rest of the file goes on. A file goes in batches of
//! records, a transaction each (see `batch`); a single record (the tabular
//! and federation imports) in a transaction of its own. Imports never count
//! as verification: a listing's `assured_date` (or Signpost's exact
//! `last_verified_at` attribute) is kept as its last verification only when
//! the listing is created.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::export::{AREA_URI, EXTENSION_TAXONOMY};
use super::types::{self, Attribute};
use crate::db::changes::Stamp;
use crate::db::services::Assurance;
use crate::db::{
    locations, organisations, services, taxonomy, write_transaction, DbConnection, RepoError,
};
use crate::geo::PostcodeIndex;
use crate::hours::{parse_hours, timetable::DaySpec};
use crate::model::enums::{DeliveryMethod, LocationType, ServiceStatus, TaxonomyKind};
use crate::model::location::{LocationDraft, LocationInput};
use crate::model::organisation::{OrganisationDraft, OrganisationInput};
use crate::model::read::{Location, Organisation, Service};
use crate::model::service::{
    EligibilityInput, ExceptionInput, PhoneInput, ScheduleInput, ServiceDraft, ServiceInput,
};
use crate::model::taxonomy::{TermDraft, TermInput};
use crate::model::values::Slug;
use crate::model::Invalid;

/// What happened to one top-level record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// A record that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rejection {
    /// 1-based position in the file (array element or NDJSON line).
    pub record: usize,
    pub id: Option<String>,
    pub reason: String,
}

/// The import report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub rejections: Vec<Rejection>,
    /// Records imported with something left out (e.g. coordinates out of range).
    pub warnings: Vec<Rejection>,
}

impl Report {
    pub(crate) fn note(&mut self, record: usize, id: &Option<String>, importer: &Importer<'_>) {
        self.notes(record, id, importer.take_notes());
    }

    /// Adds what a record left out to the warnings.
    pub(crate) fn notes(&mut self, record: usize, id: &Option<String>, notes: Vec<String>) {
        for reason in notes {
            if self.warnings.len() < 1_000 {
                self.warnings.push(Rejection {
                    record,
                    id: id.clone(),
                    reason,
                });
            }
        }
    }

    /// Adds another report's counts and reasons (keeping the lists bounded).
    pub(crate) fn absorb(&mut self, other: Report) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
        let room = 1_000usize.saturating_sub(self.rejections.len());
        self.rejections
            .extend(other.rejections.into_iter().take(room));
        let room = 1_000usize.saturating_sub(self.warnings.len());
        self.warnings.extend(other.warnings.into_iter().take(room));
    }

    pub(crate) fn count(
        &mut self,
        record: usize,
        id: Option<String>,
        result: Result<Outcome, String>,
    ) {
        match result {
            Ok(Outcome::Created) => self.created += 1,
            Ok(Outcome::Updated) => self.updated += 1,
            Ok(Outcome::Unchanged) => self.unchanged += 1,
            Err(reason) => {
                self.rejected += 1;
                // Keep the report bounded on a bad file; the count stays exact.
                if self.rejections.len() < 1_000 {
                    self.rejections.push(Rejection { record, id, reason });
                }
            }
        }
    }
}

/// Imports every record of a JSON or NDJSON file, a batch of records per
/// transaction (see `batch`). The file is read and parsed on a second
/// thread, a batch or two ahead of the database, and each batch is planned
/// on a third while the one before it is written. `progress` sees each
/// record's position as it is done.
pub fn import_file<R: BufRead + Send>(
    conn: &mut DbConnection,
    importer: &Importer<'_>,
    input: R,
    mut progress: impl FnMut(usize),
) -> Report {
    let mut report = Report {
        dry_run: importer.dry_run,
        ..Report::default()
    };
    let tuned = crate::db::ImportTuning::begin(conn);
    let (sender, batches) = std::sync::mpsc::sync_channel(2);
    let read = std::thread::scope(|scope| {
        let size = importer.batch_records;
        let reader = scope.spawn(move || read_batches(input, size, sender));
        super::batch::import_all(conn, &tuned, importer, batches, &mut report, &mut progress);
        reader.join()
    });
    tuned.end(conn);
    match read {
        Ok((_, Ok(()))) => {}
        // A broken array stops the read; what came before it stays imported.
        Ok((last, Err(reason))) => report.count(
            last + 1,
            None,
            Err(format!("{reason}; the rest of the file was not read")),
        ),
        Err(_) => report.count(0, None, Err("reading the file failed".into())),
    }
    report
}

/// A record as read from the file.
pub(crate) struct Parsed {
    /// 1-based position in the file (array element, NDJSON line or API page).
    pub position: usize,
    pub id: Option<String>,
    pub record: Result<Record, String>,
}

/// Reads and parses records, sending them on in batches; returns the last
/// position read and whether the file could be read to the end.
fn read_batches<R: BufRead>(
    input: R,
    size: usize,
    batches: std::sync::mpsc::SyncSender<Vec<Parsed>>,
) -> (usize, Result<(), String>) {
    let mut last = 0;
    // Ids already in this file: a later record with the same id is refused
    // rather than silently overwriting the earlier one.
    let mut seen: HashSet<String> = HashSet::new();
    let mut batch = Vec::with_capacity(size);
    let mut parse = |position: usize, record: Result<Value, String>| {
        let id = record
            .as_ref()
            .ok()
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
            .map(crate::model::values::clip);
        let record = match (&id, record) {
            (Some(id), Ok(_)) if !seen.insert(id.to_lowercase()) => {
                Err(format!("id {id} appears earlier in this file"))
            }
            (_, record) => record.and_then(Record::parse),
        };
        Parsed {
            position,
            id,
            record,
        }
    };
    let read = read_records(input, |position, record| {
        last = position;
        match record {
            // An HSDS API page (`{"contents": [...]}`): its records, in turn.
            Ok(Value::Object(mut page))
                if page.get("contents").is_some_and(Value::is_array)
                    && page.get("id").is_none() =>
            {
                if let Some(Value::Array(records)) = page.remove("contents") {
                    batch.extend(records.into_iter().map(|r| parse(position, Ok(r))));
                }
            }
            record => batch.push(parse(position, record)),
        }
        if batch.len() >= size {
            // The importer only stops taking batches if it panicked.
            let _ = batches.send(std::mem::replace(&mut batch, Vec::with_capacity(size)));
        }
    });
    if !batch.is_empty() {
        let _ = batches.send(batch);
    }
    (last, read)
}

/// Records per batch (one transaction each). Each commit rewrites the index
/// pages its batch touched: 2,000 records a batch write a fifth fewer pages
/// than 500 (`bench-import`), and hold the write lock for a fifth of a
/// second or so.
const BATCH_RECORDS: usize = 2000;

/// Largest single record accepted (a 50 MB description is refused, not loaded).
pub const MAX_RECORD_BYTES: usize = 2 * 1024 * 1024;

/// Reads records from JSON (an array of objects) or NDJSON (one object per
/// line), calling `each(position, record)` as each arrives.
pub fn read_records<R: BufRead>(
    mut input: R,
    each: impl FnMut(usize, Result<Value, String>),
) -> Result<(), String> {
    let first = loop {
        let buf = input
            .fill_buf()
            .map_err(|e| format!("reading the file: {e}"))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            // Leading whitespace is skipped; the first real byte stays unread.
            Some(i) => {
                let byte = buf[i];
                input.consume(i);
                break Some(byte);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    match first {
        None => Ok(()),
        Some(b'[') => read_array(input, each),
        Some(_) => read_values(input, each),
    }
}

/// NDJSON, or JSON objects written over several lines (one pretty-printed
/// record, or several): lines are gathered until they make a whole value.
/// A line that can never become JSON is reported, and reading goes on.
fn read_values<R: BufRead>(
    mut input: R,
    mut each: impl FnMut(usize, Result<Value, String>),
) -> Result<(), String> {
    let mut pending: Vec<u8> = Vec::new();
    let mut line = Vec::new();
    let mut position = 0;
    loop {
        line.clear();
        let n = read_line_limited(&mut input, &mut line)?;
        if n == 0 {
            if !pending.iter().all(u8::is_ascii_whitespace) {
                each(
                    position + 1,
                    Err("the file ends in the middle of a record".into()),
                );
            }
            return Ok(());
        }
        if pending.is_empty() && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > MAX_RECORD_BYTES || pending.len() + line.len() > MAX_RECORD_BYTES {
            position += 1;
            each(
                position,
                Err(format!("record is larger than {MAX_RECORD_BYTES} bytes")),
            );
            pending.clear();
            continue;
        }
        pending.extend_from_slice(&line);
        match serde_json::from_slice::<Value>(&pending) {
            Ok(value) => {
                position += 1;
                each(position, Ok(value));
                pending.clear();
            }
            Err(e) if e.is_eof() => {}
            Err(e) => {
                position += 1;
                let reason = if std::str::from_utf8(&pending).is_err() {
                    "not valid UTF-8".to_string()
                } else {
                    format!("not JSON: {e}")
                };
                each(position, Err(reason));
                pending.clear();
            }
        }
    }
}

/// Reads one line, keeping at most `MAX_RECORD_BYTES + 1` bytes of it (the
/// rest is skipped, so an enormous line costs no memory).
fn read_line_limited<R: BufRead>(input: &mut R, line: &mut Vec<u8>) -> Result<usize, String> {
    let mut total = 0;
    loop {
        let buf = input
            .fill_buf()
            .map_err(|e| format!("reading the file: {e}"))?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..=i], true),
            None => (buf, false),
        };
        let room = (MAX_RECORD_BYTES + 1).saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let n = chunk.len();
        total += n;
        input.consume(n);
        if done {
            return Ok(total);
        }
    }
}

/// A JSON array, element by element (serde's sequence visitor sees each
/// element as it is parsed, so only one is in memory at a time).
fn read_array<R: BufRead>(
    input: R,
    each: impl FnMut(usize, Result<Value, String>),
) -> Result<(), String> {
    use serde::de::{Deserializer, SeqAccess, Visitor};

    struct Elements<F>(F);
    impl<'de, F: FnMut(usize, Result<Value, String>)> Visitor<'de> for Elements<F> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of HSDS services or organizations")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            let mut position = 0;
            loop {
                position += 1;
                match seq.next_element::<Value>() {
                    Ok(Some(value)) => (self.0)(position, Ok(value)),
                    Ok(None) => return Ok(()),
                    // A syntax error ends the array: there is no next element to find.
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let mut de = serde_json::Deserializer::from_reader(input);
    de.deserialize_seq(Elements(each))
        .map_err(|e| format!("the JSON array is malformed: {e}"))
}

/// Everything an import needs besides the connection.
pub struct Importer<'a> {
    pub stamp: Stamp,
    pub postcodes: &'a PostcodeIndex,
    pub dry_run: bool,
    /// Records per batch of a file import (one transaction each).
    batch_records: usize,
    /// What the record being imported had left out, for the report. (A
    /// mutex because a batch is planned on a second thread while the one
    /// before it is written; only one thread imports records at a time.)
    notes: std::sync::Mutex<Vec<String>>,
}

impl<'a> Importer<'a> {
    pub fn new(mut stamp: Stamp, postcodes: &'a PostcodeIndex, dry_run: bool) -> Self {
        // Whole microseconds, as PostgreSQL stores times: a batch builds the
        // records it creates in memory, and they must equal what the
        // database gives back.
        stamp.at = stamp.at.trunc_subsecs(6);
        Importer {
            stamp,
            postcodes,
            dry_run,
            batch_records: BATCH_RECORDS,
            notes: Default::default(),
        }
    }

    /// Imports files in batches of `n` records (at least one) rather than
    /// `BATCH_RECORDS`.
    pub fn batch_records(mut self, n: usize) -> Self {
        self.batch_records = n.max(1);
        self
    }

    fn note(&self, message: String) {
        self.notes_held().push(message);
    }

    /// What the records imported since the last call left out.
    pub(crate) fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.notes_held())
    }

    fn notes_held(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic while holding the notes leaves nothing half-done in them.
        self.notes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A top-level record, parsed.
pub(crate) enum Record {
    Service(Box<types::Service>),
    Organization(Box<types::Organization>),
}

impl Record {
    /// A service (or a service_at_location with its service nested), or an
    /// organisation when it has no `status`.
    pub(crate) fn parse(record: Value) -> Result<Record, String> {
        if !record.is_object() {
            return Err("each record must be a JSON object".into());
        }
        let record = service_at_location(record)?;
        if record.get("status").is_some() {
            parse(record).map(|s| Record::Service(Box::new(s)))
        } else {
            parse(record).map(|o| Record::Organization(Box::new(o)))
        }
        .map_err(reason)
    }
}

/// Where an import finds what Signpost has and puts what changes: the
/// database itself through the repositories (`Direct`, one record per
/// transaction), or a batch (`batch::Batch`) that answers from what it
/// looked up for many records and writes their new records together.
pub(crate) trait Store {
    /// Why a record cannot be imported here.
    type Error: From<RepoError>;
    /// The validation failure in an error, if that is what it is.
    fn invalid(error: Self::Error) -> Result<Invalid, Self::Error>;

    fn organisation(&mut self, id: Uuid) -> Result<Option<Organisation>, Self::Error>;
    fn organisation_exists(&mut self, id: Uuid) -> Result<bool, Self::Error>;
    fn create_organisation(
        &mut self,
        id: Uuid,
        draft: OrganisationDraft,
    ) -> Result<(), Self::Error>;
    fn update_organisation(
        &mut self,
        id: Uuid,
        version: i64,
        draft: OrganisationDraft,
    ) -> Result<(), Self::Error>;
    fn location(&mut self, id: Uuid) -> Result<Option<Location>, Self::Error>;
    fn create_location(&mut self, id: Uuid, draft: LocationDraft) -> Result<(), Self::Error>;
    fn update_location(
        &mut self,
        id: Uuid,
        version: i64,
        draft: LocationDraft,
    ) -> Result<(), Self::Error>;
    fn service(&mut self, id: Uuid) -> Result<Option<Service>, Self::Error>;
    fn create_service(
        &mut self,
        id: Uuid,
        draft: ServiceDraft,
        assured: Option<Assurance>,
    ) -> Result<(), Self::Error>;
    fn update_service(
        &mut self,
        id: Uuid,
        version: i64,
        draft: ServiceDraft,
    ) -> Result<(), Self::Error>;
    /// The slug of the taxonomy term with this id (archived or not).
    fn term_slug(&mut self, id: Uuid) -> Result<Option<String>, Self::Error>;
    /// Whether a live term of this taxonomy has this slug.
    fn live_term(&mut self, kind: TaxonomyKind, slug: &Slug) -> Result<bool, Self::Error>;
    fn create_term(&mut self, id: Option<Uuid>, draft: TermDraft) -> Result<(), Self::Error>;
}

/// The repositories, straight: what the API does, one record at a time.
struct Direct<'c> {
    conn: &'c mut DbConnection,
    stamp: &'c Stamp,
}

/// `Some` for a record, `None` for not found.
pub(crate) fn found<T>(result: Result<T, RepoError>) -> Result<Option<T>, RepoError> {
    match result {
        Ok(t) => Ok(Some(t)),
        Err(RepoError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

impl Store for Direct<'_> {
    type Error = RepoError;

    fn invalid(error: RepoError) -> Result<Invalid, RepoError> {
        match error {
            RepoError::Invalid(invalid) => Ok(invalid),
            e => Err(e),
        }
    }

    fn organisation(&mut self, id: Uuid) -> Result<Option<Organisation>, RepoError> {
        found(organisations::get(self.conn, id))
    }

    fn organisation_exists(&mut self, id: Uuid) -> Result<bool, RepoError> {
        organisations::exists(self.conn, id)
    }

    fn create_organisation(&mut self, id: Uuid, draft: OrganisationDraft) -> Result<(), RepoError> {
        organisations::create(self.conn, self.stamp, Some(id), draft).map(drop)
    }

    fn update_organisation(
        &mut self,
        id: Uuid,
        version: i64,
        draft: OrganisationDraft,
    ) -> Result<(), RepoError> {
        organisations::update(self.conn, self.stamp, id, Some(version), draft).map(drop)
    }

    fn location(&mut self, id: Uuid) -> Result<Option<Location>, RepoError> {
        found(locations::get(self.conn, id))
    }

    fn create_location(&mut self, id: Uuid, draft: LocationDraft) -> Result<(), RepoError> {
        locations::create(self.conn, self.stamp, Some(id), draft).map(drop)
    }

    fn update_location(
        &mut self,
        id: Uuid,
        version: i64,
        draft: LocationDraft,
    ) -> Result<(), RepoError> {
        locations::update(self.conn, self.stamp, id, Some(version), draft).map(drop)
    }

    fn service(&mut self, id: Uuid) -> Result<Option<Service>, RepoError> {
        found(services::get(self.conn, id))
    }

    fn create_service(
        &mut self,
        id: Uuid,
        draft: ServiceDraft,
        assured: Option<Assurance>,
    ) -> Result<(), RepoError> {
        services::create(self.conn, self.stamp, Some(id), draft, assured).map(drop)
    }

    fn update_service(
        &mut self,
        id: Uuid,
        version: i64,
        draft: ServiceDraft,
    ) -> Result<(), RepoError> {
        services::update(self.conn, self.stamp, id, Some(version), draft).map(drop)
    }

    fn term_slug(&mut self, id: Uuid) -> Result<Option<String>, RepoError> {
        Ok(found(taxonomy::get(self.conn, id))?.map(|t| t.slug))
    }

    fn live_term(&mut self, kind: TaxonomyKind, slug: &Slug) -> Result<bool, RepoError> {
        match taxonomy::resolve_slugs(self.conn, kind, "attributes", std::slice::from_ref(slug)) {
            Ok(_) => Ok(true),
            Err(RepoError::Invalid(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn create_term(&mut self, id: Option<Uuid>, draft: TermDraft) -> Result<(), RepoError> {
        taxonomy::create(self.conn, self.stamp, id, draft).map(drop)
    }
}

/// A refusal as the report words it.
pub(crate) fn reason(error: RepoError) -> String {
    match error {
        RepoError::Invalid(invalid) => invalid.summary(),
        e => e.to_string(),
    }
}

impl Importer<'_> {
    /// Imports one top-level record (a service, or an organisation when it
    /// has no `status`).
    pub fn import(&self, conn: &mut DbConnection, record: Value) -> Result<Outcome, String> {
        self.import_record(conn, &Record::parse(record)?)
    }

    /// Imports one parsed record in its own transaction (a savepoint inside
    /// a batch's), through the repositories.
    pub(crate) fn import_record(
        &self,
        conn: &mut DbConnection,
        record: &Record,
    ) -> Result<Outcome, String> {
        // A dry run does the whole import, notes the outcome, then rolls back.
        let mut dry_outcome = None;
        let result = write_transaction(conn, |c| {
            let outcome = self.record(
                &mut Direct {
                    conn: c,
                    stamp: &self.stamp,
                },
                record,
            )?;
            if self.dry_run {
                dry_outcome = Some(outcome);
                return Err(RepoError::Conflict("dry run: rolled back".into()));
            }
            Ok(outcome)
        });
        match (result, dry_outcome) {
            (_, Some(outcome)) | (Ok(outcome), None) => Ok(outcome),
            (Err(e), None) => Err(reason(e)),
        }
    }

    /// The record's writes, through `store`.
    pub(crate) fn record<S: Store>(
        &self,
        store: &mut S,
        record: &Record,
    ) -> Result<Outcome, S::Error> {
        match record {
            Record::Service(service) => self.service(store, service, None),
            Record::Organization(organization) => self.organization(store, organization),
        }
    }

    fn organization<S: Store>(
        &self,
        store: &mut S,
        o: &types::Organization,
    ) -> Result<Outcome, S::Error> {
        let id = uuid("id", &o.id)?;
        let mut outcome = self.upsert_organisation(store, id, o)?;
        for service in o.services.iter().flatten() {
            outcome = merge(outcome, self.service(store, service, Some(id))?);
        }
        for location in &o.locations {
            if let Some((_, o)) = self.location_or_note(store, id, location)? {
                outcome = merge(outcome, o);
            }
        }
        Ok(outcome)
    }

    fn upsert_organisation<S: Store>(
        &self,
        store: &mut S,
        id: Uuid,
        o: &types::Organization,
    ) -> Result<Outcome, S::Error> {
        let charity = o
            .organization_identifiers
            .iter()
            .find(|i| i.identifier_type.to_lowercase().contains("charity"))
            .map(|i| i.identifier.clone());
        let input = OrganisationInput {
            id: Some(id),
            name: o.name.clone(),
            description: Some(o.description.clone()),
            website: o.website.clone(),
            email: o.email.clone(),
            phone: o.phones.first().map(|p| phone_number(&p.number)),
            charity_number: charity,
            logo_url: o.logo.clone(),
        };
        let draft = input.validate().map_err(|e| prefixed("organization", e))?;
        match store.organisation(id)? {
            Some(current) if current.to_input().validate().ok().as_ref() == Some(&draft) => {
                Ok(Outcome::Unchanged)
            }
            Some(current) => store
                .update_organisation(id, current.version, draft)
                .map(|_| Outcome::Updated),
            None => store
                .create_organisation(id, draft)
                .map(|_| Outcome::Created),
        }
    }

    /// A location that cannot be imported (nowhere to put it on a map, a
    /// bad field) is left out with a note; the record it came with goes on.
    fn location_or_note<S: Store>(
        &self,
        store: &mut S,
        organisation_id: Uuid,
        l: &types::Location,
    ) -> Result<Option<(Uuid, Outcome)>, S::Error> {
        match self.upsert_location(store, organisation_id, l) {
            Ok(done) => Ok(Some(done)),
            Err(e) => {
                let invalid = S::invalid(e)?;
                let id = crate::model::values::clip(&l.id);
                self.note(format!(
                    "location {id}: {}; not imported",
                    invalid.summary()
                ));
                Ok(None)
            }
        }
    }

    fn upsert_location<S: Store>(
        &self,
        store: &mut S,
        organisation_id: Uuid,
        l: &types::Location,
    ) -> Result<(Uuid, Outcome), S::Error> {
        let id = uuid("location.id", &l.id)?;
        let address = l.addresses.first();
        let text = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        let name = l
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| address.and_then(|a| text(&a.address_1)))
            .unwrap_or_else(|| "Location".to_string());
        let (mut latitude, mut longitude) = (l.latitude, l.longitude);
        let in_range = matches!((latitude, longitude), (Some(la), Some(lo)) if (-90.0..=90.0).contains(&la) && (-180.0..=180.0).contains(&lo));
        if (latitude.is_some() || longitude.is_some()) && !in_range {
            self.note(format!("location {id}: coordinates ({latitude:?}, {longitude:?}) are not a point on Earth; left out"));
            (latitude, longitude) = (None, None);
        }
        let mut postcode = address.and_then(|a| text(&a.postal_code));
        if let Some(p) = postcode.as_deref() {
            if let Err(why) = crate::geo::postcodes::Postcode::parse(p) {
                self.note(format!("location {id}: {why}; left out"));
                postcode = None;
            }
        }
        let location_type = LocationType::parse(&l.location_type)
            .map_err(|e| RepoError::invalid("location.location_type", e))?;
        let input = LocationInput {
            id: Some(id),
            organisation_id,
            name,
            description: l.description.clone(),
            address_1: address.and_then(|a| text(&a.address_1)),
            address_2: address.and_then(|a| a.address_2.clone()),
            town: address.and_then(|a| text(&a.city)),
            postcode,
            latitude,
            longitude,
            location_type: Some(location_type),
            accessibility: self.term_slugs(store, &l.attributes, TaxonomyKind::Accessibility)?,
        };
        let draft = input
            .validate(self.postcodes)
            .map_err(|e| prefixed("location", e))?;
        let outcome = match store.location(id)? {
            Some(current)
                if current
                    .to_input()
                    .validate(self.postcodes)
                    .is_ok_and(|d| d.same_as(&draft)) =>
            {
                Outcome::Unchanged
            }
            Some(current) => {
                store.update_location(id, current.version, draft)?;
                Outcome::Updated
            }
            None => {
                store.create_location(id, draft)?;
                Outcome::Created
            }
        };
        Ok((id, outcome))
    }

    fn service<S: Store>(
        &self,
        store: &mut S,
        s: &types::Service,
        parent: Option<Uuid>,
    ) -> Result<Outcome, S::Error> {
        let id = uuid("id", &s.id)?;
        let mut outcome = Outcome::Unchanged;
        let organisation_id = match (&s.organization, &s.organization_id, parent) {
            (_, _, Some(parent)) => parent,
            (Some(org), _, None) => {
                let org_id = uuid("organization.id", &org.id)?;
                outcome = merge(outcome, self.upsert_organisation(store, org_id, org)?);
                org_id
            }
            (None, Some(org_id), None) => {
                let org_id = uuid("organization_id", org_id)?;
                if !store.organisation_exists(org_id)? {
                    return Err(RepoError::invalid(
                        "organization_id",
                        format!("organization {org_id} is neither in the file before this service nor in Signpost"),
                    ).into());
                }
                org_id
            }
            (None, None, None) => {
                return Err(RepoError::invalid(
                    "organization_id",
                    "a service needs its organization",
                )
                .into())
            }
        };
        let mut location_ids = Vec::new();
        for sal in s.service_at_locations.iter().flatten() {
            match &sal.location {
                Some(location) => {
                    if let Some((lid, o)) =
                        self.location_or_note(store, organisation_id, location)?
                    {
                        outcome = merge(outcome, o);
                        location_ids.push(lid);
                    }
                }
                None => match &sal.location_id {
                    Some(lid) => location_ids.push(uuid("service_at_locations.location_id", lid)?),
                    None => {
                        return Err(RepoError::invalid(
                            "service_at_locations",
                            "each needs a location or location_id",
                        )
                        .into())
                    }
                },
            }
        }
        let current = store.service(id)?;
        let (mut input, assured) =
            self.service_input(store, s, id, organisation_id, location_ids)?;
        if let Some(current) = &current {
            keep_absent(s, &mut input, current.to_input());
        }
        // A schedule at a location that could not be imported applies to the service.
        for schedule in input.schedules.iter_mut() {
            if let Some(lid) = schedule
                .location_id
                .filter(|l| !input.location_ids.contains(l))
            {
                self.note(format!("schedule at location {lid}: that location is not imported; kept for the service"));
                schedule.location_id = None;
            }
        }
        let draft = input.validate().map_err(|e| prefixed("service", e))?;
        let service_outcome = match current {
            Some(current)
                if current
                    .to_input()
                    .validate()
                    .is_ok_and(|d| d.same_as(&draft)) =>
            {
                Outcome::Unchanged
            }
            Some(current) => {
                store.update_service(id, current.version, draft)?;
                Outcome::Updated
            }
            None => {
                store.create_service(id, draft, assured)?;
                Outcome::Created
            }
        };
        Ok(merge(service_outcome, outcome))
    }

    fn service_input<S: Store>(
        &self,
        store: &mut S,
        s: &types::Service,
        id: Uuid,
        organisation_id: Uuid,
        location_ids: Vec<Uuid>,
    ) -> Result<(ServiceInput, Option<Assurance>), S::Error> {
        let attributes = s.attributes.as_deref().unwrap_or(&[]);
        let ext = extensions(attributes);
        let get = |field: &str| ext.get(field).cloned();
        let flag = |field: &str| get(field).map(|v| v == "true");
        let status = hsds_status(&s.status)?;
        let status_reason = get("status_reason")
            .or_else(|| s.alert.clone())
            .or_else(|| {
                (status != ServiceStatus::Active).then(|| format!("Imported as {}", s.status))
            });
        let free = s.cost_options.as_deref().and_then(<[_]>::first).map(|o| {
            o.option
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case("free"))
                || o.amount == Some(0.0)
        });
        let mut hours_notes = get("hours_notes");
        let mut schedules = Vec::new();
        for sc in s.schedules.iter().flatten() {
            match schedule(sc)? {
                Some(input) => schedules.push(input),
                // Free-text hours: structured where the parser can, kept as notes where not.
                None => {
                    let text = sc
                        .description
                        .clone()
                        .or_else(|| sc.notes.clone())
                        .unwrap_or_default();
                    let parsed = parse_hours(&text);
                    schedules.extend(parsed.rules.iter().map(rule_input));
                    if let Some(rest) = parsed.unparsed {
                        hours_notes = Some(match hours_notes {
                            Some(notes) => format!("{notes}; {rest}"),
                            None => rest,
                        });
                    }
                }
            }
        }
        let exceptions: Vec<ExceptionInput> = match get("exceptions") {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| RepoError::invalid("attributes.exceptions", e.to_string()))?,
            None => Vec::new(),
        };
        let assured = match (get("last_verified_at"), &s.assured_date) {
            (Some(t), _) => Some(
                DateTime::parse_from_rfc3339(&t)
                    .map_err(|_| {
                        RepoError::invalid("attributes.last_verified_at", "is not RFC 3339")
                    })?
                    .with_timezone(&Utc),
            ),
            (None, Some(d)) => Some(
                NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d")
                    .map_err(|_| RepoError::invalid("assured_date", "is not a date (YYYY-MM-DD)"))?
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc(),
            ),
            (None, None) => None,
        }
        .map(|at| Assurance {
            at,
            by: get("verified_by"),
        });
        let input = ServiceInput {
            id: Some(id),
            organisation_id,
            name: s.name.clone(),
            description: s.description.clone(),
            url: s.url.clone(),
            email: s.email.clone(),
            phones: s
                .phones
                .iter()
                .flatten()
                .map(|p| PhoneInput {
                    number: phone_number(&p.number),
                    description: p.description.as_deref().map(|d| {
                        let short: String = d.chars().take(PHONE_NOTE_MAX).collect();
                        if short.len() < d.len() {
                            self.note(format!(
                                "phone {}: description shortened to {PHONE_NOTE_MAX} characters",
                                p.number
                            ));
                        }
                        short
                    }),
                })
                .collect(),
            status: Some(status),
            status_reason: status_reason.filter(|_| status != ServiceStatus::Active),
            reopens_on: match get("reopens_on") {
                Some(d) => {
                    Some(d.parse().map_err(|_| {
                        RepoError::invalid("attributes.reopens_on", "is not a date")
                    })?)
                }
                None => None,
            },
            replaced_by: match get("replaced_by") {
                Some(r) => Some(uuid("attributes.replaced_by", &r)?),
                None => None,
            },
            delivery_methods: get("delivery_methods")
                .map(|list| {
                    list.split(',')
                        .filter_map(|m| DeliveryMethod::parse(m).ok())
                        .collect()
                })
                .unwrap_or_default(),
            self_referral: flag("self_referral"),
            referral_required: flag("referral_required"),
            referral_url: get("referral_url"),
            free,
            fees_text: s.fees_description.clone(),
            languages: s
                .languages
                .iter()
                .flatten()
                .filter_map(|l| l.code.clone())
                .collect(),
            categories: self.term_slugs(store, attributes, TaxonomyKind::Category)?,
            community_groups: self.term_slugs(store, attributes, TaxonomyKind::CommunityGroup)?,
            eligibility: Some(EligibilityInput {
                minimum_age: s.minimum_age,
                maximum_age: s.maximum_age,
                description: s.eligibility_description.clone(),
            }),
            service_areas: s
                .service_areas
                .iter()
                .flatten()
                .filter_map(|a| {
                    a.uri
                        .as_deref()
                        .and_then(|u| u.strip_prefix(AREA_URI))
                        .map(str::to_string)
                })
                .collect(),
            location_ids,
            schedules,
            exceptions,
            closed_on_public_holidays: flag("closed_on_public_holidays"),
            open_24_hours: flag("open_24_hours"),
            by_appointment: flag("by_appointment"),
            hours_notes,
            verified: None,
        };
        Ok((input, assured))
    }

    /// Slugs of the terms of one taxonomy among the attributes, creating
    /// terms Signpost does not have yet. Terms from other taxonomies (not
    /// Signpost's) count as categories.
    fn term_slugs<S: Store>(
        &self,
        store: &mut S,
        attributes: &[Attribute],
        kind: TaxonomyKind,
    ) -> Result<Vec<String>, S::Error> {
        let mut slugs = Vec::new();
        for a in attributes {
            let Some(term) = &a.taxonomy_term else {
                continue;
            };
            let taxonomy = term
                .taxonomy
                .as_deref()
                .or(a.link_type.as_deref())
                .unwrap_or("");
            if taxonomy == EXTENSION_TAXONOMY {
                continue;
            }
            let term_kind = TaxonomyKind::parse(taxonomy).unwrap_or(TaxonomyKind::Category);
            if term_kind != kind {
                continue;
            }
            slugs.push(self.ensure_term(store, term, kind)?);
        }
        slugs.sort();
        slugs.dedup();
        Ok(slugs)
    }

    fn ensure_term<S: Store>(
        &self,
        store: &mut S,
        term: &types::TaxonomyTerm,
        kind: TaxonomyKind,
    ) -> Result<String, S::Error> {
        let id = Uuid::parse_str(&term.id).ok();
        if let Some(id) = id {
            if let Some(slug) = store.term_slug(id)? {
                return Ok(slug);
            }
        }
        let raw = term.code.clone().unwrap_or_else(|| term.name.clone());
        let slug = Slug::parse(slugify(&raw))
            .map_err(|e| RepoError::invalid("attributes.taxonomy_term.code", e))?;
        if store.live_term(kind, &slug)? {
            return Ok(slug.as_str().to_string());
        }
        let draft = TermInput {
            id,
            taxonomy: kind,
            slug: slug.as_str().to_string(),
            name: term.name.clone(),
            description: (term.description != term.name && !term.description.is_empty())
                .then(|| term.description.clone()),
            parent_id: None,
        }
        .validate()
        .map_err(|e| prefixed("taxonomy_term", e))?;
        store.create_term(id, draft)?;
        Ok(slug.as_str().to_string())
    }
}

/// A record's outcome from its parts: any creation makes it created, else
/// any update makes it updated.
fn merge(a: Outcome, b: Outcome) -> Outcome {
    use Outcome::*;
    match (a, b) {
        (Created, _) | (_, Created) => Created,
        (Updated, _) | (_, Updated) => Updated,
        _ => Unchanged,
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, RepoError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        RepoError::invalid(
            if path == "." { "record".into() } else { path },
            e.into_inner().to_string(),
        )
    })
}

fn uuid(field: &str, raw: &str) -> Result<Uuid, RepoError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        RepoError::invalid(
            field,
            format!("'{}' is not a UUID", crate::model::values::clip(raw)),
        )
    })
}

fn prefixed(entity: &str, invalid: Invalid) -> RepoError {
    RepoError::Invalid(Invalid(
        invalid
            .0
            .into_iter()
            .map(|mut e| {
                e.field = format!("{entity}.{}", e.field);
                e
            })
            .collect(),
    ))
}

/// A list-form record leaves out child collections: what Signpost has for
/// those stays (an empty list, by contrast, empties them).
fn keep_absent(s: &types::Service, input: &mut ServiceInput, old: ServiceInput) {
    if s.phones.is_none() {
        input.phones = old.phones;
    }
    if s.schedules.is_none() {
        input.schedules = old.schedules;
    }
    if s.service_areas.is_none() {
        input.service_areas = old.service_areas;
    }
    if s.service_at_locations.is_none() {
        input.location_ids = old.location_ids;
    }
    if s.languages.is_none() {
        input.languages = old.languages;
    }
    if s.cost_options.is_none() {
        input.free = old.free;
    }
    if s.attributes.is_none() {
        input.categories = old.categories;
        input.community_groups = old.community_groups;
        input.delivery_methods = old.delivery_methods;
        input.self_referral = old.self_referral;
        input.referral_required = old.referral_required;
        input.referral_url = old.referral_url;
        input.closed_on_public_holidays = old.closed_on_public_holidays;
        input.open_24_hours = old.open_24_hours;
        input.by_appointment = old.by_appointment;
        input.exceptions = old.exceptions;
        input.hours_notes = old.hours_notes;
        if input.status == old.status {
            input.status_reason = old.status_reason;
            input.reopens_on = old.reopens_on;
            input.replaced_by = old.replaced_by;
        }
    }
}

/// A service_at_location record (`{id, service, location}`) as its service
/// at that location; other records pass through.
fn service_at_location(mut record: Value) -> Result<Value, String> {
    let is_sal = record.get("name").is_none()
        && (record.get("service").is_some() || record.get("service_id").is_some());
    if !is_sal {
        return Ok(record);
    }
    let Some(Value::Object(mut service)) = record.get_mut("service").map(Value::take) else {
        return Err("a service_at_location without its service nested: import the service (or organization) instead".into());
    };
    let link = serde_json::json!({
        "id": record.get("id").cloned().unwrap_or(Value::Null),
        "location": record.get("location").cloned().unwrap_or(Value::Null),
    });
    service.insert("service_at_locations".into(), Value::Array(vec![link]));
    Ok(Value::Object(service))
}

/// Longest phone description Signpost keeps (longer ones are shortened on import).
const PHONE_NOTE_MAX: usize = 100;

/// Phone numbers as publishers write them, without stray quotes.
fn phone_number(raw: &str) -> String {
    raw.trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .to_string()
}

fn hsds_status(raw: &str) -> Result<ServiceStatus, RepoError> {
    match raw.trim().to_lowercase().replace('_', " ").as_str() {
        "active" => Ok(ServiceStatus::Active),
        "temporarily closed" => Ok(ServiceStatus::TemporarilyClosed),
        "inactive" => Ok(ServiceStatus::Inactive),
        "defunct" => Ok(ServiceStatus::Defunct),
        _ => Err(RepoError::invalid(
            "status",
            format!(
                "'{}' is not an HSDS status",
                crate::model::values::clip(raw)
            ),
        )),
    }
}

/// Signpost's extension attributes: field → value.
fn extensions(attributes: &[Attribute]) -> HashMap<String, String> {
    attributes
        .iter()
        .filter(|a| a.link_type.as_deref() == Some(EXTENSION_TAXONOMY))
        .filter_map(|a| {
            let field = a.taxonomy_term.as_ref()?.code.clone()?;
            Some((field, a.value.clone()?))
        })
        .collect()
}

/// `HH:MM`, from `HH:MM`, `HH:MM:SS` or either with a zone suffix (HSDS
/// asks for one; Signpost's times are Europe/London local).
fn clock(raw: &str) -> String {
    raw.trim().get(..5).unwrap_or(raw.trim()).to_string()
}

/// A structured HSDS schedule, or `None` when it only has free text.
fn schedule(sc: &types::Schedule) -> Result<Option<ScheduleInput>, RepoError> {
    let (Some(opens), Some(closes)) = (&sc.opens_at, &sc.closes_at) else {
        return Ok(None);
    };
    let freq = sc
        .freq
        .clone()
        .unwrap_or_else(|| "WEEKLY".into())
        .to_lowercase();
    let byday: Vec<String> = sc
        .byday
        .as_deref()
        .unwrap_or("MO,TU,WE,TH,FR,SA,SU")
        .split(',')
        .map(|d| d.trim().to_uppercase())
        .filter(|d| !d.is_empty())
        .collect();
    let date = |field: &str, raw: &Option<String>| -> Result<Option<NaiveDate>, RepoError> {
        raw.as_deref()
            .map(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d"))
            .transpose()
            .map_err(|_| {
                RepoError::invalid(format!("schedules.{field}"), "is not a date (YYYY-MM-DD)")
            })
    };
    let (opens_at, closes_at) = (clock(opens), clock(closes));
    Ok(Some(ScheduleInput {
        freq,
        byday,
        overnight: Some(closes_at < opens_at),
        opens_at,
        closes_at,
        valid_from: date("valid_from", &sc.valid_from)?,
        valid_to: date("valid_to", &sc.valid_to)?,
        description: sc.description.clone(),
        location_id: match &sc.location_id {
            Some(l) => Some(uuid("schedules.location_id", l)?),
            None => None,
        },
    }))
}

fn rule_input(rule: &crate::hours::timetable::Rule) -> ScheduleInput {
    let code = |d: chrono::Weekday| {
        ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][d.num_days_from_monday() as usize]
    };
    let (freq, byday) = match &rule.days {
        DaySpec::Weekly(days) => (
            "weekly",
            days.iter().map(|d| code(*d).to_string()).collect(),
        ),
        DaySpec::Monthly(entries) => (
            "monthly",
            entries
                .iter()
                .map(|(n, d)| format!("{n}{}", code(*d)))
                .collect(),
        ),
    };
    ScheduleInput {
        freq: freq.into(),
        byday,
        opens_at: rule.opens.format("%H:%M").to_string(),
        closes_at: rule.closes.format("%H:%M").to_string(),
        valid_from: rule.valid_from,
        valid_to: rule.valid_to,
        description: None,
        location_id: None,
        overnight: Some(rule.overnight),
    }
}

fn slugify(raw: &str) -> String {
    let mut out = String::new();
    for ch in raw.trim().to_lowercase().chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(text: &str) -> Vec<(usize, Result<Value, String>)> {
        let mut out = Vec::new();
        read_records(text.as_bytes(), |n, r| out.push((n, r))).expect("reads");
        out
    }

    #[test]
    fn reads_arrays_and_ndjson_record_by_record() {
        let array = positions(" [ {\"a\": 1}, {\"a\": 2} ] ");
        assert_eq!(array.len(), 2);
        assert_eq!(array[1].1.as_ref().unwrap()["a"], 2);
        let lines = positions("{\"a\": 1}\n\n{\"a\": 2}\nnot json\n{\"a\": 3}");
        assert_eq!(lines.len(), 4);
        assert!(lines[2].1.is_err());
        assert_eq!(lines[3].0, 4);
        assert!(positions("").is_empty());
    }

    #[test]
    fn invalid_utf8_and_huge_lines_are_reported_not_loaded() {
        let mut bytes = b"{\"a\": \"\xff\"}\n".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        bytes.extend(b"\n{\"ok\": true}\n");
        let mut out = Vec::new();
        read_records(&bytes[..], |n, r| {
            out.push((n, r.map_err(|e| e.to_string())))
        })
        .unwrap();
        assert_eq!(out.len(), 3);
        assert!(out[0].1.as_ref().unwrap_err().contains("UTF-8"));
        assert!(out[1].1.as_ref().unwrap_err().contains("larger"));
        assert!(out[2].1.is_ok());
    }

    #[test]
    fn clocks_and_slugs() {
        assert_eq!(clock("09:00:00Z"), "09:00");
        assert_eq!(clock("17:30"), "17:30");
        assert_eq!(
            slugify("Mental Health & Wellbeing!"),
            "mental-health-wellbeing"
        );
    }
}
