//! API keys and organisation memberships. Only the SHA-256 of a key's token
//! is stored (see `auth::token`); the token itself never reaches this module.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::changes::{audit, EntityType, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc};
use super::schema::{api_keys, organisation_members};
use super::{organisations, write_transaction, DbConnection, RepoError, RepoResult};
use crate::auth::token::{IssuedToken, PresentedToken};
use crate::auth::KeyHolder;
use crate::model::enums::Role;

const ENTITY: &str = "api_key";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
struct KeyRow {
    id: String,
    prefix: String,
    secret_hash: String,
    name: String,
    role: String,
    expires_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
}

/// A key as listed: never the token or its hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    /// Identifies the key: its token starts `sp_<prefix>_`.
    pub prefix: String,
    pub name: String,
    pub role: Role,
    /// Organisations the key is a member of (`organisation` role).
    pub organisation_ids: Vec<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Actor that created the key (`key:<id>`, or `system:cli`).
    pub created_by: String,
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub role: Role,
    pub organisation_ids: Vec<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The outcome of presenting a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Valid(KeyHolder),
    Unknown,
    Revoked,
    Expired,
}

/// How stale `last_used_at` may get before a request refreshes it; saves a
/// write on every authenticated request.
const TOUCH_AFTER_SECONDS: i64 = 60;

fn parse_id(raw: &str) -> Uuid {
    Uuid::parse_str(raw).unwrap_or_default()
}

fn role_of(row: &KeyRow) -> Role {
    // Roles are written from the enum; anything else reads as the least privileged.
    Role::parse(&row.role).unwrap_or(Role::Client)
}

fn to_read(row: KeyRow, organisation_ids: Vec<Uuid>) -> ApiKey {
    ApiKey {
        id: parse_id(&row.id),
        role: role_of(&row),
        prefix: row.prefix,
        name: row.name,
        organisation_ids,
        expires_at: row.expires_at.map(utc),
        last_used_at: row.last_used_at.map(utc),
        revoked_at: row.revoked_at.map(utc),
        created_at: utc(row.created_at),
        created_by: row.created_by,
    }
}

fn memberships(conn: &mut DbConnection, key_id: &str) -> RepoResult<Vec<Uuid>> {
    Ok(organisation_members::table
        .filter(organisation_members::key_id.eq(key_id))
        .order(organisation_members::organisation_id.asc())
        .select(organisation_members::organisation_id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect())
}

/// Stores a new key (its hash) and its memberships.
pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    new: NewKey,
    token: &IssuedToken,
) -> RepoResult<ApiKey> {
    write_transaction(conn, |c| create_in(c, stamp, new, token))
}

/// `create`, inside the caller's write transaction.
pub fn create_in(
    c: &mut DbConnection,
    stamp: &Stamp,
    new: NewKey,
    token: &IssuedToken,
) -> RepoResult<ApiKey> {
    let id = Uuid::new_v4();
    let row = KeyRow {
        id: id.to_string(),
        prefix: token.prefix.clone(),
        secret_hash: token.secret_hash.clone(),
        name: new.name,
        role: new.role.as_str().to_string(),
        expires_at: new.expires_at.map(naive),
        last_used_at: None,
        revoked_at: None,
        created_at: naive(stamp.at),
        created_by: stamp.actor.as_str().to_string(),
    };
    diesel::insert_into(api_keys::table)
        .values(&row)
        .execute(c)?;
    for org in &new.organisation_ids {
        add_member_in(c, stamp, *org, id)?;
    }
    let key = get(c, id)?;
    audit(c, stamp, EntityType::ApiKey, &row.id, "create", None, &key)?;
    Ok(key)
}

/// Makes `key_id` a member of `organisation_id` (inside a write transaction).
pub fn add_member_in(
    conn: &mut DbConnection,
    stamp: &Stamp,
    organisation_id: Uuid,
    key_id: Uuid,
) -> RepoResult<()> {
    if !organisations::exists(conn, organisation_id)? {
        return Err(RepoError::invalid(
            "organisation_ids",
            format!("organisation {organisation_id} does not exist"),
        ));
    }
    let already: i64 = organisation_members::table
        .filter(organisation_members::organisation_id.eq(organisation_id.to_string()))
        .filter(organisation_members::key_id.eq(key_id.to_string()))
        .count()
        .get_result(conn)?;
    if already > 0 {
        return Ok(());
    }
    diesel::insert_into(organisation_members::table)
        .values((
            organisation_members::organisation_id.eq(organisation_id.to_string()),
            organisation_members::key_id.eq(key_id.to_string()),
            organisation_members::created_at.eq(naive(stamp.at)),
        ))
        .execute(conn)?;
    audit(
        conn,
        stamp,
        EntityType::ApiKey,
        &key_id.to_string(),
        "add_membership",
        None,
        &serde_json::json!({ "organisation_id": organisation_id }),
    )?;
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<ApiKey> {
    let row = api_keys::table
        .find(id.to_string())
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| RepoError::not_found(ENTITY, id))?;
    let orgs = memberships(conn, &row.id)?;
    Ok(to_read(row, orgs))
}

/// Keys newest first.
pub fn list(conn: &mut DbConnection, page: PageRequest) -> RepoResult<Page<ApiKey>> {
    let total: i64 = api_keys::table.count().get_result(conn)?;
    let rows: Vec<KeyRow> = api_keys::table
        .order((api_keys::created_at.desc(), api_keys::id.asc()))
        .limit(page.per_page)
        .offset(page.offset())
        .select(KeyRow::as_select())
        .load(conn)?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let orgs = memberships(conn, &row.id)?;
        items.push(to_read(row, orgs));
    }
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// Finds a key by id or by its prefix (for the CLI).
pub fn find(conn: &mut DbConnection, id_or_prefix: &str) -> RepoResult<ApiKey> {
    let wanted = id_or_prefix.trim().to_lowercase();
    let id: Option<String> = api_keys::table
        .filter(api_keys::id.eq(&wanted).or(api_keys::prefix.eq(&wanted)))
        .select(api_keys::id)
        .first(conn)
        .optional()?;
    match id {
        Some(id) => get(conn, parse_id(&id)),
        None => Err(RepoError::not_found(ENTITY, wanted)),
    }
}

/// Revokes a key; revoking a revoked key changes nothing.
pub fn revoke(conn: &mut DbConnection, stamp: &Stamp, id: Uuid) -> RepoResult<ApiKey> {
    write_transaction(conn, |c| {
        let before = get(c, id)?;
        if before.revoked_at.is_some() {
            return Ok(before);
        }
        diesel::update(api_keys::table.find(id.to_string()))
            .set(api_keys::revoked_at.eq(naive(stamp.at)))
            .execute(c)?;
        let after = get(c, id)?;
        audit(
            c,
            stamp,
            EntityType::ApiKey,
            &id.to_string(),
            "revoke",
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

/// Checks a presented token at `now`, and notes the key was used.
pub fn authenticate(
    conn: &mut DbConnection,
    presented: &PresentedToken,
    now: DateTime<Utc>,
) -> RepoResult<KeyCheck> {
    let row: Option<KeyRow> = api_keys::table
        .filter(api_keys::prefix.eq(&presented.prefix))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    // Both sides are hashes of high-entropy tokens, so comparing them
    // directly leaks nothing useful about the secret.
    let Some(row) = row.filter(|r| r.secret_hash == presented.secret_hash) else {
        return Ok(KeyCheck::Unknown);
    };
    if row.revoked_at.is_some() {
        return Ok(KeyCheck::Revoked);
    }
    if row.expires_at.is_some_and(|e| utc(e) <= now) {
        return Ok(KeyCheck::Expired);
    }
    let stale = row
        .last_used_at
        .is_none_or(|t| (now - utc(t)).num_seconds() >= TOUCH_AFTER_SECONDS);
    if stale {
        diesel::update(api_keys::table.find(&row.id))
            .set(api_keys::last_used_at.eq(naive(now)))
            .execute(conn)?;
    }
    let organisations = memberships(conn, &row.id)?;
    Ok(KeyCheck::Valid(KeyHolder {
        id: parse_id(&row.id),
        role: role_of(&row),
        prefix: row.prefix,
        organisations,
    }))
}
