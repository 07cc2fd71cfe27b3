//! Suggestions: proposed changes to a listing (or new listings) from anyone,
//! held for an editor to apply or reject. Applying is done by the API layer
//! (a normal audited write); this module keeps the queue.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, EntityType, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::suggestions;
use super::{write_transaction, DbConnection, RepoError, RepoResult};
use crate::model::accounts::SuggestionDraft;
use crate::model::enums::{ListingKind, ModerationStatus};

const ENTITY: &str = "suggestion";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = suggestions)]
struct SuggestionRow {
    id: String,
    entity_type: String,
    entity_id: Option<String>,
    changes: String,
    message: Option<String>,
    email: Option<String>,
    status: String,
    submitted_by: String,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
    result_id: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub id: Uuid,
    pub entity_type: ListingKind,
    /// The listing to change; absent for a proposed new listing.
    pub entity_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub changes: Value,
    pub message: Option<String>,
    pub email: Option<String>,
    pub status: ModerationStatus,
    pub submitted_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The listing written when the suggestion was applied.
    pub result_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

fn to_read(row: SuggestionRow) -> Suggestion {
    let id = |raw: &str| Uuid::parse_str(raw).unwrap_or_default();
    Suggestion {
        id: id(&row.id),
        entity_type: ListingKind::parse(&row.entity_type).unwrap_or(ListingKind::Service),
        entity_id: row.entity_id.as_deref().map(id),
        changes: serde_json::from_str(&row.changes).unwrap_or(Value::Null),
        message: row.message,
        email: row.email,
        status: ModerationStatus::parse(&row.status).unwrap_or(ModerationStatus::Pending),
        submitted_by: row.submitted_by,
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(utc),
        decision_note: row.decision_note,
        result_id: row.result_id.as_deref().map(id),
        created_at: utc(row.created_at),
    }
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    draft: SuggestionDraft,
) -> RepoResult<Suggestion> {
    write_transaction(conn, |c| {
        let row = SuggestionRow {
            id: Uuid::new_v4().to_string(),
            entity_type: draft.entity_type.as_str().into(),
            entity_id: draft.entity_id.map(|i| i.to_string()),
            changes: draft.changes.to_string(),
            message: draft.message,
            email: draft.email.map(|e| e.into_inner()),
            status: ModerationStatus::Pending.as_str().into(),
            submitted_by: stamp.actor.as_str().into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            result_id: None,
            created_at: naive(stamp.at),
        };
        diesel::insert_into(suggestions::table)
            .values(&row)
            .execute(c)?;
        let suggestion = to_read(row);
        let id = suggestion.id.to_string();
        audit(
            c,
            stamp,
            EntityType::Suggestion,
            &id,
            "create",
            None,
            &suggestion,
        )?;
        Ok(suggestion)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Suggestion> {
    suggestions::table
        .find(id.to_string())
        .select(SuggestionRow::as_select())
        .first(conn)
        .optional()?
        .map(to_read)
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

/// The moderation queue, oldest first, optionally by status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<ModerationStatus>,
    page: PageRequest,
) -> RepoResult<Page<Suggestion>> {
    let query = || {
        let mut q = suggestions::table.into_boxed();
        if let Some(status) = status {
            q = q.filter(suggestions::status.eq(status.as_str()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order((suggestions::created_at.asc(), suggestions::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(SuggestionRow::as_select())
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

/// The pending suggestion `id` (a decided one is a conflict).
pub fn pending(conn: &mut DbConnection, id: Uuid) -> RepoResult<Suggestion> {
    let suggestion = get(conn, id)?;
    if suggestion.status != ModerationStatus::Pending {
        return Err(RepoError::Conflict(format!(
            "suggestion {id} was already {}",
            suggestion.status.as_str()
        )));
    }
    Ok(suggestion)
}

/// Records an editor's decision. Call inside the write transaction that
/// applied the change (if any), so the two land together.
pub fn decide_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    status: ModerationStatus,
    note: Option<String>,
    result_id: Option<Uuid>,
) -> RepoResult<Suggestion> {
    let before = pending(c, id)?;
    diesel::update(suggestions::table.find(id.to_string()))
        .set((
            suggestions::status.eq(status.as_str()),
            suggestions::decided_by.eq(stamp.actor.as_str()),
            suggestions::decided_at.eq(naive(stamp.at)),
            suggestions::decision_note.eq(note),
            suggestions::result_id.eq(result_id.map(|r| r.to_string())),
        ))
        .execute(c)?;
    let after = get(c, id)?;
    audit(
        c,
        stamp,
        EntityType::Suggestion,
        &id.to_string(),
        status.as_str(),
        Some(&before),
        &after,
    )?;
    Ok(after)
}

pub fn reject(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    note: Option<String>,
) -> RepoResult<Suggestion> {
    write_transaction(conn, |c| {
        decide_in(c, stamp, id, ModerationStatus::Rejected, note, None)
    })
}
