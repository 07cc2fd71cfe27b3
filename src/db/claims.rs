//! Claims: someone asking to manage an organisation's listings. Approval
//! issues an `organisation` key and records the membership, in one transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, EntityType, Stamp};
use super::keys::{self, ApiKey, NewKey};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::claims;
use super::{organisations, write_transaction, DbConnection, RepoError, RepoResult};
use crate::auth::token::IssuedToken;
use crate::model::accounts::ClaimDraft;
use crate::model::enums::{ModerationStatus, Role};

const ENTITY: &str = "claim";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = claims)]
struct ClaimRow {
    id: String,
    organisation_id: String,
    name: String,
    role_in_organisation: String,
    email: String,
    phone: Option<String>,
    message: Option<String>,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
    key_id: Option<String>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Claim {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub role_in_organisation: String,
    pub email: String,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub status: ModerationStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The key issued on approval (its id; the token is shown once, in the approval response).
    pub key_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

fn to_read(row: ClaimRow) -> Claim {
    let id = |raw: &str| Uuid::parse_str(raw).unwrap_or_default();
    Claim {
        id: id(&row.id),
        organisation_id: id(&row.organisation_id),
        name: row.name,
        role_in_organisation: row.role_in_organisation,
        email: row.email,
        phone: row.phone,
        message: row.message,
        status: ModerationStatus::parse(&row.status).unwrap_or(ModerationStatus::Pending),
        decided_by: row.decided_by,
        decided_at: row.decided_at.map(utc),
        decision_note: row.decision_note,
        key_id: row.key_id.as_deref().map(id),
        created_at: utc(row.created_at),
    }
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    organisation_id: Uuid,
    draft: ClaimDraft,
) -> RepoResult<Claim> {
    write_transaction(conn, |c| {
        if !organisations::exists(c, organisation_id)? {
            return Err(RepoError::not_found("organisation", organisation_id));
        }
        let row = ClaimRow {
            id: Uuid::new_v4().to_string(),
            organisation_id: organisation_id.to_string(),
            name: draft.name.into_inner(),
            role_in_organisation: draft.role,
            email: draft.email.into_inner(),
            phone: draft.phone.map(|p| p.into_inner()),
            message: draft.message,
            status: ModerationStatus::Pending.as_str().into(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
            key_id: None,
            created_at: naive(stamp.at),
        };
        diesel::insert_into(claims::table).values(&row).execute(c)?;
        let claim = to_read(row);
        audit(
            c,
            stamp,
            EntityType::Claim,
            &claim.id.to_string(),
            "create",
            None,
            &claim,
        )?;
        Ok(claim)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Claim> {
    claims::table
        .find(id.to_string())
        .select(ClaimRow::as_select())
        .first(conn)
        .optional()?
        .map(to_read)
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

/// Claims oldest first (the order to work through them), optionally by status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<ModerationStatus>,
    page: PageRequest,
) -> RepoResult<Page<Claim>> {
    let query = || {
        let mut q = claims::table.into_boxed();
        if let Some(status) = status {
            q = q.filter(claims::status.eq(status.as_str()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order((claims::created_at.asc(), claims::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(ClaimRow::as_select())
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

fn pending(c: &mut DbConnection, id: Uuid) -> RepoResult<Claim> {
    let claim = get(c, id)?;
    if claim.status != ModerationStatus::Pending {
        return Err(RepoError::Conflict(format!(
            "claim {id} was already {}",
            claim.status.as_str()
        )));
    }
    Ok(claim)
}

fn decide(
    c: &mut DbConnection,
    stamp: &Stamp,
    before: &Claim,
    status: ModerationStatus,
    note: Option<String>,
    key_id: Option<Uuid>,
) -> RepoResult<Claim> {
    let id = before.id.to_string();
    diesel::update(claims::table.find(&id))
        .set((
            claims::status.eq(status.as_str()),
            claims::decided_by.eq(stamp.actor.as_str()),
            claims::decided_at.eq(naive(stamp.at)),
            claims::decision_note.eq(note),
            claims::key_id.eq(key_id.map(|k| k.to_string())),
        ))
        .execute(c)?;
    let after = get(c, before.id)?;
    audit(
        c,
        stamp,
        EntityType::Claim,
        &id,
        status.as_str(),
        Some(before),
        &after,
    )?;
    Ok(after)
}

/// Approves a pending claim: issues an `organisation` key for the claimant
/// (stored as `token`'s hash) and makes it a member of the organisation.
pub fn approve(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    note: Option<String>,
    token: &IssuedToken,
) -> RepoResult<(Claim, ApiKey)> {
    write_transaction(conn, |c| {
        let before = pending(c, id)?;
        let organisation = organisations::get(c, before.organisation_id)?;
        let key = keys::create_in(
            c,
            stamp,
            NewKey {
                name: format!("{} ({})", before.name, organisation.name),
                role: Role::Organisation,
                organisation_ids: vec![before.organisation_id],
                expires_at: None,
            },
            token,
        )?;
        let claim = decide(
            c,
            stamp,
            &before,
            ModerationStatus::Approved,
            note,
            Some(key.id),
        )?;
        Ok((claim, key))
    })
}

pub fn reject(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    note: Option<String>,
) -> RepoResult<Claim> {
    write_transaction(conn, |c| {
        let before = pending(c, id)?;
        decide(c, stamp, &before, ModerationStatus::Rejected, note, None)
    })
}
