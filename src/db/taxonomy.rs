//! Taxonomy repository: the category tree, community groups and
//! accessibility features.

use diesel::prelude::*;
use serde::Deserialize;
use uuid::Uuid;

use super::changes::{record, EntityType, Op, Stamp};
use super::paging::{Page, PageRequest};
use super::rows::{naive, utc, TermRow};
use super::schema::{location_accessibility, service_terms, taxonomy_terms};
use super::{DbConnection, RepoError, RepoResult};
use crate::model::enums::TaxonomyKind;
use crate::model::read::{Term, TermRef};
use crate::model::taxonomy::TermDraft;
use crate::model::values::Slug;

const ENTITY: &str = "taxonomy term";

#[derive(Debug, Clone, Default)]
pub struct TermFilter {
    pub taxonomy: Option<TaxonomyKind>,
    /// `Some(None)`: top-level terms only; `Some(Some(id))`: children of `id`.
    pub parent: Option<Option<Uuid>>,
    pub include_archived: bool,
}

pub fn to_read(row: TermRow) -> Term {
    Term {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        taxonomy: TaxonomyKind::parse(&row.taxonomy).unwrap_or(TaxonomyKind::Category),
        slug: row.slug,
        name: row.name,
        description: row.description,
        parent_id: row.parent_id.and_then(|p| Uuid::parse_str(&p).ok()),
        archived_at: row.archived_at.map(utc),
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
        version: row.version,
    }
}

pub fn to_ref(row: &TermRow) -> TermRef {
    TermRef {
        id: Uuid::parse_str(&row.id).unwrap_or_default(),
        slug: row.slug.clone(),
        name: row.name.clone(),
    }
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> RepoResult<Term> {
    taxonomy_terms::table
        .find(id.to_string())
        .select(TermRow::as_select())
        .first(conn)
        .optional()?
        .map(to_read)
        .ok_or_else(|| RepoError::not_found(ENTITY, id))
}

pub fn create(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Option<Uuid>,
    draft: TermDraft,
) -> RepoResult<Term> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    super::write_transaction(conn, |c| {
        if taxonomy_terms::table
            .find(id.to_string())
            .count()
            .get_result::<i64>(c)?
            > 0
        {
            return Err(RepoError::Conflict(format!(
                "taxonomy term {id} already exists"
            )));
        }
        check_slug_free(c, draft.taxonomy, &draft.slug, None)?;
        check_parent(c, id, &draft)?;
        let row = row_from(id, draft, naive(stamp.at), stamp, 1);
        diesel::insert_into(taxonomy_terms::table)
            .values(&row)
            .execute(c)?;
        let created = to_read(row);
        record(
            c,
            stamp,
            EntityType::TaxonomyTerm,
            &id.to_string(),
            Op::Create,
            None,
            &created,
        )?;
        Ok(created)
    })
}

pub fn update(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
    draft: TermDraft,
) -> RepoResult<Term> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if draft.taxonomy != before.taxonomy {
            return Err(RepoError::invalid(
                "taxonomy",
                "cannot be changed; create a new term instead",
            ));
        }
        check_slug_free(c, draft.taxonomy, &draft.slug, Some(id))?;
        check_parent(c, id, &draft)?;
        let mut row = row_from(
            id,
            draft,
            naive(before.created_at),
            stamp,
            before.version + 1,
        );
        row.archived_at = before.archived_at.map(naive);
        let candidate = to_read(row.clone());
        if serde_json::to_value(candidate.to_input()).ok()
            == serde_json::to_value(before.to_input()).ok()
        {
            return Ok(before);
        }
        diesel::update(taxonomy_terms::table.find(id.to_string()))
            .set(&row)
            .execute(c)?;
        record(
            c,
            stamp,
            EntityType::TaxonomyTerm,
            &id.to_string(),
            Op::Update,
            Some(&before),
            &candidate,
        )?;
        Ok(candidate)
    })
}

/// Soft delete. Refused while live child terms exist.
pub fn archive(
    conn: &mut DbConnection,
    stamp: &Stamp,
    id: Uuid,
    expected_version: Option<i64>,
) -> RepoResult<Term> {
    super::write_transaction(conn, |c| {
        let before = get(c, id)?;
        super::check_version(ENTITY, before.version, expected_version)?;
        if before.archived_at.is_some() {
            return Ok(before);
        }
        let children: i64 = taxonomy_terms::table
            .filter(taxonomy_terms::parent_id.eq(id.to_string()))
            .filter(taxonomy_terms::archived_at.is_null())
            .count()
            .get_result(c)?;
        if children > 0 {
            return Err(RepoError::Conflict(format!(
                "taxonomy term {id} has {children} child term(s) that are not deleted; delete or move them first"
            )));
        }
        diesel::update(taxonomy_terms::table.find(id.to_string()))
            .set((
                taxonomy_terms::archived_at.eq(Some(naive(stamp.at))),
                taxonomy_terms::updated_at.eq(naive(stamp.at)),
                taxonomy_terms::version.eq(before.version + 1),
            ))
            .execute(c)?;
        let after = get(c, id)?;
        record(
            c,
            stamp,
            EntityType::TaxonomyTerm,
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
    filter: &TermFilter,
    page: PageRequest,
) -> RepoResult<Page<Term>> {
    let query = || {
        let mut q = taxonomy_terms::table.into_boxed();
        if let Some(t) = filter.taxonomy {
            q = q.filter(taxonomy_terms::taxonomy.eq(t.as_str()));
        }
        match filter.parent {
            Some(None) => q = q.filter(taxonomy_terms::parent_id.is_null()),
            Some(Some(p)) => q = q.filter(taxonomy_terms::parent_id.eq(p.to_string())),
            None => {}
        }
        if !filter.include_archived {
            q = q.filter(taxonomy_terms::archived_at.is_null());
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order((
            taxonomy_terms::taxonomy.asc(),
            taxonomy_terms::name.asc(),
            taxonomy_terms::id.asc(),
        ))
        .limit(page.per_page)
        .offset(page.offset())
        .select(TermRow::as_select())
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

/// Resolves slugs of one taxonomy to live term rows, reporting unknown ones
/// against `field[i]`.
pub fn resolve_slugs(
    conn: &mut DbConnection,
    taxonomy: TaxonomyKind,
    field: &str,
    slugs: &[Slug],
) -> RepoResult<Vec<TermRow>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = slugs.iter().map(Slug::as_str).collect();
    let rows: Vec<TermRow> = taxonomy_terms::table
        .filter(taxonomy_terms::taxonomy.eq(taxonomy.as_str()))
        .filter(taxonomy_terms::slug.eq_any(&names))
        .filter(taxonomy_terms::archived_at.is_null())
        .select(TermRow::as_select())
        .load(conn)?;
    let mut errors = Vec::new();
    let mut ordered = Vec::with_capacity(slugs.len());
    for (i, slug) in names.iter().enumerate() {
        match rows.iter().find(|r| r.slug == *slug) {
            Some(r) => ordered.push(r.clone()),
            None => errors.push(crate::model::FieldError {
                field: format!("{field}[{i}]"),
                message: format!(
                    "'{slug}' is not a known {} slug",
                    taxonomy.as_str().replace('_', " ")
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(ordered)
    } else {
        Err(RepoError::Invalid(crate::model::Invalid(errors)))
    }
}

/// Term rows linked to services, keyed by service id.
pub fn for_services(
    conn: &mut DbConnection,
    service_ids: &[String],
) -> RepoResult<Vec<(String, TermRow)>> {
    Ok(service_terms::table
        .inner_join(taxonomy_terms::table)
        .filter(service_terms::service_id.eq_any(service_ids))
        .order((taxonomy_terms::name.asc(), taxonomy_terms::id.asc()))
        .select((service_terms::service_id, TermRow::as_select()))
        .load(conn)?)
}

/// Accessibility term rows linked to locations, keyed by location id.
pub fn for_locations(
    conn: &mut DbConnection,
    location_ids: &[String],
) -> RepoResult<Vec<(String, TermRow)>> {
    Ok(location_accessibility::table
        .inner_join(taxonomy_terms::table)
        .filter(location_accessibility::location_id.eq_any(location_ids))
        .order((taxonomy_terms::name.asc(), taxonomy_terms::id.asc()))
        .select((location_accessibility::location_id, TermRow::as_select()))
        .load(conn)?)
}

fn row_from(
    id: Uuid,
    draft: TermDraft,
    created_at: chrono::NaiveDateTime,
    stamp: &Stamp,
    version: i64,
) -> TermRow {
    TermRow {
        id: id.to_string(),
        taxonomy: draft.taxonomy.as_str().to_string(),
        slug: draft.slug.as_str().to_string(),
        name: draft.name.into_inner(),
        description: draft.description,
        parent_id: draft.parent_id.map(|p| p.to_string()),
        archived_at: None,
        created_at,
        updated_at: naive(stamp.at),
        version,
    }
}

fn check_slug_free(
    c: &mut DbConnection,
    taxonomy: TaxonomyKind,
    slug: &Slug,
    except: Option<Uuid>,
) -> RepoResult<()> {
    let holder: Option<String> = taxonomy_terms::table
        .filter(taxonomy_terms::taxonomy.eq(taxonomy.as_str()))
        .filter(taxonomy_terms::slug.eq(slug.as_str()))
        .select(taxonomy_terms::id)
        .first(c)
        .optional()?;
    match holder {
        Some(h) if Some(h.as_str()) != except.map(|e| e.to_string()).as_deref() => {
            Err(RepoError::Conflict(format!(
                "the {} slug '{}' is already used by term {h}",
                taxonomy.as_str(),
                slug.as_str()
            )))
        }
        _ => Ok(()),
    }
}

/// The parent must exist, be live, be in the same taxonomy, and not be the
/// term itself or one of its descendants.
fn check_parent(c: &mut DbConnection, id: Uuid, draft: &TermDraft) -> RepoResult<()> {
    let Some(parent_id) = draft.parent_id else {
        return Ok(());
    };
    let mut cursor = Some(parent_id);
    let mut depth = 0;
    while let Some(current) = cursor {
        if current == id {
            return Err(RepoError::invalid(
                "parent_id",
                "would make the term its own ancestor",
            ));
        }
        let parent = match get(c, current) {
            Ok(p) => p,
            Err(RepoError::NotFound { .. }) => {
                return Err(RepoError::invalid(
                    "parent_id",
                    format!("taxonomy term {current} does not exist"),
                ))
            }
            Err(e) => return Err(e),
        };
        if depth == 0 && (parent.taxonomy != draft.taxonomy || parent.archived_at.is_some()) {
            return Err(RepoError::invalid(
                "parent_id",
                format!(
                    "must be a live term of the {} taxonomy",
                    draft.taxonomy.as_str()
                ),
            ));
        }
        cursor = parent.parent_id;
        depth += 1;
        if depth > 32 {
            return Err(RepoError::invalid(
                "parent_id",
                "taxonomy is nested too deeply",
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct TermCsv {
    slug: String,
    name: String,
    #[serde(default)]
    parent_slug: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// The shipped vocabularies, embedded so a fresh install has them.
pub const SHIPPED: [(TaxonomyKind, &str); 3] = [
    (
        TaxonomyKind::Category,
        include_str!("../../fixtures/taxonomy/categories.csv"),
    ),
    (
        TaxonomyKind::CommunityGroup,
        include_str!("../../fixtures/taxonomy/community_groups.csv"),
    ),
    (
        TaxonomyKind::Accessibility,
        include_str!("../../fixtures/taxonomy/accessibility_features.csv"),
    ),
];

/// Loads the shipped vocabularies into an empty taxonomy (first start-up).
/// Ids are derived from the slug so every install agrees on them.
pub fn ensure_shipped(conn: &mut DbConnection, stamp: &Stamp) -> anyhow::Result<usize> {
    let existing: i64 = taxonomy_terms::table.count().get_result(conn)?;
    if existing > 0 {
        return Ok(0);
    }
    let mut added = 0;
    for (taxonomy, text) in SHIPPED {
        for row in csv::Reader::from_reader(text.as_bytes()).deserialize::<TermCsv>() {
            let row = row?;
            let parent_id = row
                .parent_slug
                .filter(|p| !p.is_empty())
                .map(|p| shipped_term_id(taxonomy, &p));
            let input = crate::model::taxonomy::TermInput {
                id: Some(shipped_term_id(taxonomy, &row.slug)),
                taxonomy,
                slug: row.slug,
                name: row.name,
                description: row.description,
                parent_id,
            };
            let id = input.id;
            let draft = input
                .validate()
                .map_err(|e| anyhow::anyhow!("shipped taxonomy term is invalid: {e:?}"))?;
            create(conn, stamp, id, draft)
                .map_err(|e| anyhow::anyhow!("loading shipped taxonomy: {e}"))?;
            added += 1;
        }
    }
    Ok(added)
}

/// Stable id of a shipped term: UUIDv5 of `taxonomy:slug`.
pub fn shipped_term_id(taxonomy: TaxonomyKind, slug: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x5d1f_6a3e_2c4b_4f7e_9a10_5369_676e_706f);
    Uuid::new_v5(
        &NAMESPACE,
        format!("{}:{slug}", taxonomy.as_str()).as_bytes(),
    )
}

/// Every term row, archived ones too.
pub fn rows(conn: &mut DbConnection) -> RepoResult<Vec<TermRow>> {
    Ok(taxonomy_terms::table
        .select(TermRow::as_select())
        .load(conn)?)
}

/// Every live category and community group term (for the search index's cache).
pub fn all_live(conn: &mut DbConnection) -> RepoResult<Vec<Term>> {
    Ok(taxonomy_terms::table
        .filter(taxonomy_terms::archived_at.is_null())
        .order(taxonomy_terms::id.asc())
        .select(TermRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_read)
        .collect())
}
