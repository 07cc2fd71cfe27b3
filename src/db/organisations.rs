//! Organisation repository.

use diesel::prelude::*;
use uuid::Uuid;

use super::changes::{record, EntityType, Op, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc, OrganisationRow};
use super::schema::{organisations, services};
use super::{DbConnection, RepoError, RepoResult};
use crate::model::organisation::OrganisationDraft;
use crate::model::read::Organisation;

const ENTITY: &str = "organisation";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrganisationSort {
    /// Creation order: new records append at the end, so paging is stable under inserts.
    #[default]
    Created,
    Name,
    Updated,
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub include_archived: bool,
    pub modified_after: Option<chrono::DateTime<chrono::Utc>>,
    pub sort: OrganisationSort,
    /// Only organisations whose name contains this (lowercase) text.
    pub name_contains: Option<String>,
}

pub(crate) fn to_read(row: OrganisationRow) -> Organisation {
    Organisation {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        name: row.name,
        description: row.description,
        website: row.website,
        email: row.email,
        phone: row.phone,
        charity_number: row.charity_number,
        logo_url: row.logo_url,
        archived_at: row.archived_at.map(utc),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    }
}

fn row_from(
    id: Uuid,
    draft: OrganisationDraft,
    created_at: chrono::NaiveDateTime,
    stamp: &Stamp,
    version: i64,
) -> OrganisationRow {
    OrganisationRow {
        id: id.to_string(),
        name: draft.name.into_inner(),
        description: draft.description,
        website: draft.website.map(|w| w.into_inner()),
        email: draft.email.map(|e| e.into_inner()),
        phone: draft.phone.map(|p| p.into_inner()),
        charity_number: draft.charity_number,
        logo_url: draft.logo_url.map(|w| w.into_inner()),
        archived_at: None,
        created_at,
        updated_at: naive(stamp.at),
        version,
    }
}

/// The row `create` writes for a new organisation.
pub(crate) fn new_row(stamp: &Stamp, id: Uuid, draft: OrganisationDraft) -> OrganisationRow {
    row_from(id, draft, naive(stamp.at), stamp, 1)
}

/// The organisations among `ids` that exist (in no particular order).
pub fn load(conn: &mut DbConnection, ids: &[String]) -> RepoResult<Vec<Organisation>> {
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select(OrganisationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_read)
        .collect())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Organisation> {
    organisations::table
        .find(id.to_string())
        .select(OrganisationRow::as_select())
        .first(conn)
        .optional()?
        .map(to_read)
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Option<Uuid>,
    draft: OrganisationDraft,
) -> RepoResult<Organisation> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    super::write_transaction(conn, |c| {
        if exists(c, id)? {
            return Err(RepoError::Conflict(format!(
                "organisation {id} already exists"
            )));
        }
        let row = new_row(stamp, id, draft);
        diesel::insert_into(organisations::table)
            .values(&row)
            .execute(c)?;
        let created = to_read(row);
        record(
            c,
            stamp,
            EntityType::Organisation,
            &created.id.to_string(),
            Op::Create,
            None,
            &created,
        )?;
        Ok(created)
    })
}

/// Replaces every field. `expected_version`, when given, must match.
pub fn update(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
    draft: OrganisationDraft,
) -> RepoResult<Organisation> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        let mut row = row_from(
            id,
            draft,
            naive(before.created_at),
            stamp,
            before.version + 1,
        );
        row.archived_at = before.archived_at.map(naive);
        let candidate = to_read(row.clone());
        if same_content(&before, &candidate) {
            return Ok(before);
        }
        diesel::update(organisations::table.find(id.to_string()))
            .set(&row)
            .execute(c)?;
        record(
            c,
            stamp,
            EntityType::Organisation,
            &id.to_string(),
            Op::Update,
            Some(&before),
            &candidate,
        )?;
        Ok(candidate)
    })
}

/// Soft delete. Refused while the organisation still has live services.
pub fn archive(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
) -> RepoResult<Organisation> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if before.archived_at.is_some() {
            return Ok(before);
        }
        let live: i64 = services::table
            .filter(services::organisation_id.eq(id.to_string()))
            .filter(services::archived_at.is_null())
            .count()
            .get_result(c)?;
        if live > 0 {
            return Err(RepoError::Conflict(format!(
                "organisation {id} still has {live} service(s) that are not deleted; delete or move them first"
            )));
        }
        diesel::update(organisations::table.find(id.to_string()))
            .set((
                organisations::archived_at.eq(Some(naive(stamp.at))),
                organisations::updated_at.eq(naive(stamp.at)),
                organisations::version.eq(before.version + 1),
            ))
            .execute(c)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::Organisation,
            &id.to_string(),
            Op::Archive,
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
}

pub fn list(
    conn: &mut DbConnection,
    filter: &OrganisationFilter,
    page: PageRequest,
) -> RepoResult<Page<Organisation>> {
    let query = || {
        let mut q = organisations::table.into_boxed();
        if !filter.include_archived {
            q = q.filter(organisations::archived_at.is_null());
        }
        if let Some(after) = filter.modified_after {
            q = q.filter(organisations::updated_at.gt(naive(after)));
        }
        if let Some(text) = &filter.name_contains {
            // The text is bound as a parameter; LIKE wildcards in it are escaped.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("LOWER(organisations.name) LIKE ")
                    .bind::<diesel::sql_types::Text, _>(format!("%{escaped}%"))
                    .sql(" ESCAPE '\\'"),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ordered = match filter.sort {
        OrganisationSort::Created => {
            query().order((organisations::created_at.asc(), organisations::id.asc()))
        }
        OrganisationSort::Name => {
            query().order((organisations::name.asc(), organisations::id.asc()))
        }
        OrganisationSort::Updated => {
            query().order((organisations::updated_at.asc(), organisations::id.asc()))
        }
    };
    let items = ordered
        .limit(page.per_page)
        .offset(page.offset())
        .select(OrganisationRow::as_select())
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

pub fn exists(conn: &mut DbConnection, id: Uuid) -> RepoResult<bool> {
    let n: i64 = organisations::table
        .filter(organisations::id.eq(id.to_string()))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn same_content(a: &Organisation, b: &Organisation) -> bool {
    a.to_input_json() == b.to_input_json()
}

impl Organisation {
    fn to_input_json(&self) -> serde_json::Value {
        serde_json::to_value(self.to_input()).unwrap_or_default()
    }
}
