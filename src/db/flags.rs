//! Flags on services: raised by jobs (link checker, reports, schedules,
//! reopening) or people, resolved by people (who and why are recorded) or by
//! later evidence. Raising or resolving one re-indexes the service (a
//! change-log row), is audited, and queues a webhook for the owners.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, log_change, EntityType, Op, Stamp};
use super::rows::{naive, utc};
use super::schema::{service_flags, services};
use super::{webhooks, write_transaction, DbConnection, RepoError, RepoResult};
use crate::model::enums::FlagKind;
use crate::model::freshness::Flag;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_flags)]
struct FlagRow {
    id: String,
    service_id: String,
    kind: String,
    reason: String,
    evidence: String,
    raised_at: NaiveDateTime,
    raised_by: String,
    resolved_at: Option<NaiveDateTime>,
    resolved_by: Option<String>,
    resolution: Option<String>,
}

/// A flag with its resolution (for history and the audit).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FlagRecord {
    #[serde(flatten)]
    pub flag: Flag,
    pub service_id: Uuid,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

fn to_flag(row: &FlagRow) -> Flag {
    Flag {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        kind: FlagKind::parse(&row.kind).unwrap_or(FlagKind::PossiblyClosed),
        reason: row.reason.clone(),
        evidence: row.evidence.clone(),
        raised_at: utc(row.raised_at),
        raised_by: row.raised_by.clone(),
    }
}

fn to_record(row: FlagRow) -> FlagRecord {
    FlagRecord {
        flag: to_flag(&row),
        service_id: Uuid::parse_str(&row.service_id).unwrap_or_default(),
        resolved_at: row.resolved_at.map(utc),
        resolved_by: row.resolved_by,
        resolution: row.resolution,
    }
}

/// Open flags of these services, oldest first.
pub fn open_for(
    conn: &mut DbConnection,
    service_ids: &[String],
) -> RepoResult<HashMap<String, Vec<Flag>>> {
    let rows: Vec<FlagRow> = service_flags::table
        .filter(service_flags::service_id.eq_any(service_ids))
        .filter(service_flags::resolved_at.is_null())
        .order((service_flags::raised_at.asc(), service_flags::id.asc()))
        .select(FlagRow::as_select())
        .load(conn)?;
    let mut out: HashMap<String, Vec<Flag>> = HashMap::new();
    for row in rows {
        out.entry(row.service_id.clone())
            .or_default()
            .push(to_flag(&row));
    }
    Ok(out)
}

/// Every flag a service has had, newest first.
pub fn history(conn: &mut DbConnection, service_id: Uuid) -> RepoResult<Vec<FlagRecord>> {
    Ok(service_flags::table
        .filter(service_flags::service_id.eq(service_id.to_string()))
        .order((service_flags::raised_at.desc(), service_flags::id.asc()))
        .select(FlagRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_record)
        .collect())
}

fn open_of_kind(
    c: &mut DbConnection,
    service_id: &str,
    kind: FlagKind,
) -> RepoResult<Option<FlagRow>> {
    Ok(service_flags::table
        .filter(service_flags::service_id.eq(service_id))
        .filter(service_flags::kind.eq(kind.as_str()))
        .filter(service_flags::resolved_at.is_null())
        .select(FlagRow::as_select())
        .first(c)
        .optional()?)
}

fn organisation_of(c: &mut DbConnection, service_id: &str) -> RepoResult<String> {
    services::table
        .find(service_id)
        .select(services::organisation_id)
        .first(c)
        .optional()?
        .ok_or_else(|| RepoError::not_found("service", service_id))
}

/// Raises a flag, unless one of that kind is already open (then its
/// evidence is brought up to date). Returns the flag when newly raised.
/// Call inside a write transaction.
pub fn raise_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    kind: FlagKind,
    reason: &str,
    evidence: &str,
) -> RepoResult<Option<Flag>> {
    let sid = service_id.to_string();
    let organisation_id = organisation_of(c, &sid)?;
    if let Some(open) = open_of_kind(c, &sid, kind)? {
        if open.evidence != evidence {
            diesel::update(service_flags::table.find(&open.id))
                .set(service_flags::evidence.eq(evidence))
                .execute(c)?;
        }
        return Ok(None);
    }
    let row = FlagRow {
        id: Uuid::new_v4().to_string(),
        service_id: sid.clone(),
        kind: kind.as_str().into(),
        reason: reason.into(),
        evidence: evidence.into(),
        raised_at: naive(stamp.at),
        raised_by: stamp.actor.as_str().into(),
        resolved_at: None,
        resolved_by: None,
        resolution: None,
    };
    diesel::insert_into(service_flags::table)
        .values(&row)
        .execute(c)?;
    let flag = to_flag(&row);
    let action = format!("flag_raised:{}", kind.as_str());
    audit(c, stamp, EntityType::Service, &sid, &action, None, &flag)?;
    log_change(c, stamp, EntityType::Service, &sid, Op::Update)?;
    webhooks::enqueue_in(
        c,
        stamp.at,
        &organisation_id,
        crate::webhooks::SERVICE_FLAGGED,
        serde_json::json!({ "service_id": service_id, "flag": flag }),
    )?;
    Ok(Some(flag))
}

pub fn raise(
    conn: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    kind: FlagKind,
    reason: &str,
    evidence: &str,
) -> RepoResult<Option<Flag>> {
    write_transaction(conn, |c| {
        raise_in(c, stamp, service_id, kind, reason, evidence)
    })
}

fn close(
    c: &mut DbConnection,
    stamp: &Stamp,
    row: FlagRow,
    resolution: &str,
) -> RepoResult<FlagRecord> {
    let before = to_record(row.clone());
    diesel::update(service_flags::table.find(&row.id))
        .set((
            service_flags::resolved_at.eq(naive(stamp.at)),
            service_flags::resolved_by.eq(stamp.actor.as_str()),
            service_flags::resolution.eq(resolution),
        ))
        .execute(c)?;
    let after = FlagRecord {
        resolved_at: Some(stamp.at),
        resolved_by: Some(stamp.actor.as_str().to_string()),
        resolution: Some(resolution.to_string()),
        ..before.clone()
    };
    let action = format!("flag_resolved:{}", before.flag.kind.as_str());
    audit(
        c,
        stamp,
        EntityType::Service,
        &row.service_id,
        &action,
        Some(&before),
        &after,
    )?;
    log_change(c, stamp, EntityType::Service, &row.service_id, Op::Update)?;
    Ok(after)
}

/// Resolves the open flag `flag_id` of a service, recording who and why.
pub fn resolve(
    conn: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    flag_id: Uuid,
    resolution: &str,
) -> RepoResult<FlagRecord> {
    write_transaction(conn, |c| {
        let row: FlagRow = service_flags::table
            .find(flag_id.to_string())
            .filter(service_flags::service_id.eq(service_id.to_string()))
            .select(FlagRow::as_select())
            .first(c)
            .optional()?
            .ok_or_else(|| RepoError::not_found("flag", flag_id))?;
        if row.resolved_at.is_some() {
            return Err(RepoError::Conflict(format!(
                "flag {flag_id} is already resolved"
            )));
        }
        close(c, stamp, row, resolution)
    })
}

/// Resolves the open flag of `kind`, if any (evidence that it no longer
/// holds). Call inside a write transaction. Returns whether one was open.
pub fn resolve_kind_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    kind: FlagKind,
    resolution: &str,
) -> RepoResult<bool> {
    match open_of_kind(c, &service_id.to_string(), kind)? {
        Some(row) => close(c, stamp, row, resolution).map(|_| true),
        None => Ok(false),
    }
}

pub fn resolve_kind(
    conn: &mut DbConnection,
    stamp: &Stamp,
    service_id: Uuid,
    kind: FlagKind,
    resolution: &str,
) -> RepoResult<bool> {
    write_transaction(conn, |c| {
        resolve_kind_in(c, stamp, service_id, kind, resolution)
    })
}
