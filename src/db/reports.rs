//! Problem reports from the public. Enough independent reports that a
//! listing no longer exists flag it *possibly closed*.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, EntityType, Stamp};
use super::flags;
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::{reports, services};
use super::{write_transaction, DbConnection, RepoError, RepoResult};
use crate::model::enums::{FlagKind, ReportKind, ReportStatus};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: String,
    service_id: String,
    kind: String,
    message: Option<String>,
    email: Option<String>,
    reporter: String,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub id: Uuid,
    pub service_id: Uuid,
    pub kind: ReportKind,
    pub message: Option<String>,
    /// How to reach the reporter (optional; shown to editors only).
    pub email: Option<String>,
    pub status: ReportStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A new report, validated.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub service_id: Uuid,
    pub kind: ReportKind,
    pub message: Option<String>,
    pub email: Option<String>,
    /// Identifies the reporter for counting: `key:<id>` or `ip:<salted hash>`.
    pub reporter: String,
}

fn to_read(row: ReportRow) -> Report {
    let id = |raw: &str| Uuid::parse_str(raw).unwrap_or_default();
    Report {
        id: id(&row.id),
        service_id: id(&row.service_id),
        kind: ReportKind::parse(&row.kind).unwrap_or(ReportKind::Other),
        message: row.message,
        email: row.email,
        status: ReportStatus::parse(&row.status).unwrap_or(ReportStatus::Open),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(utc),
        decision_note: row.decision_note,
        created_at: utc(row.created_at),
    }
}

/// Open "no longer exists" reports of a service: (reporter, when).
fn closure_reports(
    c: &mut DbConnection,
    service_id: &str,
) -> RepoResult<Vec<(String, NaiveDateTime)>> {
    Ok(reports::table
        .filter(reports::service_id.eq(service_id))
        .filter(reports::kind.eq(ReportKind::NoLongerExists.as_str()))
        .filter(reports::status.eq(ReportStatus::Open.as_str()))
        .order(reports::created_at.asc())
        .select((reports::reporter, reports::created_at))
        .load(c)?)
}

/// Raises or clears *possibly closed* by the count of independent reporters.
fn reassess(
    c: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    threshold: usize,
) -> RepoResult<()> {
    let open = closure_reports(c, &service_id.to_string())?;
    let reporters: BTreeSet<&str> = open.iter().map(|(r, _)| r.as_str()).collect();
    if reporters.len() >= threshold {
        let since = open
            .first()
            .map(|(_, at)| utc(*at).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let evidence = format!(
            "{} people reported that it no longer exists, since {since}",
            reporters.len()
        );
        flags::raise_in(
            c,
            stamp,
            service_id,
            FlagKind::PossiblyClosed,
            "People report it no longer exists",
            &evidence,
        )?;
    } else {
        flags::resolve_kind_in(
            c,
            stamp,
            service_id,
            FlagKind::PossiblyClosed,
            "the reports that it no longer exists were not upheld",
        )?;
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    new: NewReport,
    threshold: usize,
) -> RepoResult<Report> {
    write_transaction(conn, |c| {
        let sid = new.service_id.to_string();
        let live: i64 = services::table
            .filter(services::id.eq(&sid))
            .filter(services::archived_at.is_null())
            .count()
            .get_result(c)?;
        if live == 0 {
            return Err(RepoError::not_found("service", &sid));
        }
        let row = ReportRow {
            id: Uuid::new_v4().to_string(),
            service_id: sid,
            kind: new.kind.as_str().into(),
            message: new.message,
            email: new.email,
            reporter: new.reporter,
            status: ReportStatus::Open.as_str().into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            created_at: naive(stamp.at),
        };
        diesel::insert_into(reports::table)
            .values(&row)
            .execute(c)?;
        let report = to_read(row);
        audit(
            c,
            stamp,
            EntityType::Report,
            &report.id.to_string(),
            "create",
            None,
            &report,
        )?;
        if report.kind == ReportKind::NoLongerExists {
            reassess(c, stamp, report.service_id, threshold)?;
        }
        Ok(report)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Report> {
    reports::table
        .find(id.to_string())
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .map(to_read)
        .ok_or_else(|| RepoError::not_found("report", id))
}

/// Reports oldest first, by status and service.
pub fn list(
    conn: &mut DbConnection,
    status: Option<ReportStatus>,
    service_id: Option<Uuid>,
    page: PageRequest,
) -> RepoResult<Page<Report>> {
    let query = || {
        let mut q = reports::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(reports::status.eq(s.as_str()));
        }
        if let Some(id) = service_id {
            q = q.filter(reports::service_id.eq(id.to_string()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order((reports::created_at.asc(), reports::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(ReportRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_read)
        .collect();
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// An editor resolves (acted on) or rejects (not upheld) an open report.
pub fn decide(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    status: ReportStatus,
    note: Option<String>,
    threshold: usize,
) -> RepoResult<Report> {
    write_transaction(conn, |c| {
        let before = get(c, id)?;
        if before.status != ReportStatus::Open {
            return Err(RepoError::Conflict(format!(
                "report {id} was already {}",
                before.status.as_str()
            )));
        }
        decide_in(c, stamp, &before, status, note)?;
        if before.kind == ReportKind::NoLongerExists && status == ReportStatus::Rejected {
            reassess(c, stamp, before.service_id, threshold)?;
        }
        get(c, id)
    })
}

fn decide_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    before: &Report,
    status: ReportStatus,
    note: Option<String>,
) -> RepoResult<()> {
    let id = before.id.to_string();
    diesel::update(reports::table.find(&id))
        .set((
            reports::status.eq(status.as_str()),
            reports::decided_by.eq(stamp.actor.as_str()),
            reports::decided_at.eq(naive(stamp.at)),
            reports::decision_note.eq(note),
        ))
        .execute(c)?;
    let after = get(c, before.id)?;
    audit(
        c,
        stamp,
        EntityType::Report,
        &id,
        status.as_str(),
        Some(before),
        &after,
    )?;
    Ok(())
}

/// Closes a service's open "no longer exists" reports once its owners or an
/// editor confirm it is running (inside the verifying transaction).
pub fn resolve_closure_reports_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    note: &str,
) -> RepoResult<()> {
    let ids: Vec<String> = reports::table
        .filter(reports::service_id.eq(service_id.to_string()))
        .filter(reports::kind.eq(ReportKind::NoLongerExists.as_str()))
        .filter(reports::status.eq(ReportStatus::Open.as_str()))
        .select(reports::id)
        .load(c)?;
    for id in ids {
        let before = get(c, Uuid::parse_str(&id).unwrap_or_default())?;
        decide_in(
            c,
            stamp,
            &before,
            ReportStatus::Resolved,
            Some(note.to_string()),
        )?;
    }
    Ok(())
}
