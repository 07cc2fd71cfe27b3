//! The change log (drives indexing and incremental sync) and the audit log
//! (who changed which field from what to what). Both are written inside the
//! caller's transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::paging::{Page, PageRequest};
use super::rows::naive;
use super::schema::{audit_log, change_log};
use super::{DbConnection, RepoResult};
use crate::model::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityType {
    Organisation,
    Service,
    Location,
    TaxonomyTerm,
    // Audited only: not in the change log, which drives search and sync.
    ApiKey,
    Claim,
    Suggestion,
    Report,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Organisation => "organisation",
            EntityType::Service => "service",
            EntityType::Location => "location",
            EntityType::TaxonomyTerm => "taxonomy_term",
            EntityType::ApiKey => "api_key",
            EntityType::Claim => "claim",
            EntityType::Suggestion => "suggestion",
            EntityType::Report => "report",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Update,
    Archive,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Archive => "archive",
        }
    }
}

/// Who is writing, and when: passed to every repository write.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

/// Bookkeeping fields left out of audit diffs: they change on every write.
const UNAUDITED: [&str; 3] = ["updated_at", "version", "created_at"];

/// Appends one change-log row and one audit row for a write. `before` is
/// `None` for a create. Nothing is written when nothing changed.
pub fn record<T: Serialize>(
    conn: &mut DbConnection,
    stamp: &Stamp,
    entity: EntityType,
    id: &str,
    op: Op,
    before: Option<&T>,
    after: &T,
) -> RepoResult<()> {
    if audit(conn, stamp, entity, id, op.as_str(), before, after)? {
        log_change(conn, stamp, entity, id, op)?;
    }
    Ok(())
}

/// Appends a change-log row (only), for changes that affect how a record
/// is indexed but are audited on their own (flags).
pub fn log_change(
    conn: &mut DbConnection,
    stamp: &Stamp,
    entity: EntityType,
    id: &str,
    op: Op,
) -> RepoResult<()> {
    diesel::insert_into(change_log::table)
        .values(change_row(stamp, entity, id, op))
        .execute(conn)?;
    Ok(())
}

/// A change-log row to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = change_log, treat_none_as_default_value = false)]
pub struct ChangeRow {
    pub entity_type: String,
    pub entity_id: String,
    pub op: String,
    pub changed_at: chrono::NaiveDateTime,
}

pub fn change_row(stamp: &Stamp, entity: EntityType, id: &str, op: Op) -> ChangeRow {
    ChangeRow {
        entity_type: entity.as_str().to_string(),
        entity_id: id.to_string(),
        op: op.as_str().to_string(),
        changed_at: naive(stamp.at),
    }
}

/// An audit row to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub actor: String,
    pub at: chrono::NaiveDateTime,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    /// JSON object: `{"field": {"before": …, "after": …}}`.
    pub changes: String,
}

/// The audit row for a change to `id`, or `None` when nothing changed.
pub fn audit_row<T: Serialize>(
    stamp: &Stamp,
    entity: EntityType,
    id: &str,
    action: &str,
    before: Option<&T>,
    after: &T,
) -> Option<AuditRow> {
    let before = before.map(to_value);
    let after = to_value(after);
    let changes = diff(before.as_ref(), &after);
    (!changes.is_empty()).then(|| AuditRow {
        actor: stamp.actor.as_str().to_string(),
        at: naive(stamp.at),
        entity_type: entity.as_str().to_string(),
        entity_id: id.to_string(),
        action: action.to_string(),
        changes: Value::Object(changes).to_string(),
    })
}

/// The audit row of a creation: what `audit_row` gives with nothing
/// before, written straight out rather than through a diff of copies.
pub fn creation_row<T: Serialize>(
    stamp: &Stamp,
    entity: EntityType,
    id: &str,
    after: &T,
) -> Option<AuditRow> {
    let changes = match to_value(after) {
        Value::Object(fields) => creation_changes(&fields),
        _ => None,
    };
    let Some(changes) = changes else {
        return audit_row(stamp, entity, id, "create", None, after);
    };
    (changes != "{}").then(|| AuditRow {
        actor: stamp.actor.as_str().to_string(),
        at: naive(stamp.at),
        entity_type: entity.as_str().to_string(),
        entity_id: id.to_string(),
        action: Op::Create.as_str().to_string(),
        changes,
    })
}

/// `{"field": {"after": …, "before": null}, …}` for a new record's fields,
/// in key order (a `Map` is sorted) and text for text as `diff` gives it.
fn creation_changes(fields: &Map<String, Value>) -> Option<String> {
    let mut changes = Vec::with_capacity(1024);
    changes.push(b'{');
    for (key, value) in fields {
        if UNAUDITED.contains(&key.as_str()) || value.is_null() {
            continue;
        }
        if changes.len() > 1 {
            changes.push(b',');
        }
        serde_json::to_writer(&mut changes, key).ok()?;
        changes.extend_from_slice(br#":{"after":"#);
        serde_json::to_writer(&mut changes, value).ok()?;
        changes.extend_from_slice(br#","before":null}"#);
    }
    changes.push(b'}');
    String::from_utf8(changes).ok()
}

/// Writes many audit and change-log rows, each kind in the order given.
pub fn write_all(
    conn: &mut DbConnection,
    audits: &[AuditRow],
    changes: &[ChangeRow],
) -> RepoResult<()> {
    super::insert_rows!(conn, audit_log::table, audits);
    super::insert_rows!(conn, change_log::table, changes);
    Ok(())
}

/// Appends an audit row (only) for a change to `id`; `action` names what
/// happened (`create`, `revoke`, `approve`…). Returns whether anything
/// changed (nothing is written otherwise).
pub fn audit<T: Serialize>(
    conn: &mut DbConnection,
    stamp: &Stamp,
    entity: EntityType,
    id: &str,
    action: &str,
    before: Option<&T>,
    after: &T,
) -> RepoResult<bool> {
    let Some(row) = audit_row(stamp, entity, id, action, before, after) else {
        return Ok(false);
    };
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Field-level differences: `{"field": {"before": …, "after": …}}`.
pub fn diff(before: Option<&Value>, after: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after_map = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after_map.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Map::new();
    for key in keys {
        if UNAUDITED.contains(&key.as_str()) {
            continue;
        }
        let old = before.get(key).unwrap_or(&Value::Null);
        let new = after_map.get(key).unwrap_or(&Value::Null);
        if old != new {
            let mut change = Map::new();
            change.insert("before".into(), old.clone());
            change.insert("after".into(), new.clone());
            out.insert(key.clone(), Value::Object(change));
        }
    }
    out
}

/// One audit row as read back.
#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: chrono::NaiveDateTime,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    /// JSON object: `{"field": {"before": …, "after": …}}`.
    pub changes: String,
}

/// Audit rows for one entity, oldest first.
pub fn audit_for(
    conn: &mut DbConnection,
    entity: EntityType,
    id: &str,
) -> RepoResult<Vec<AuditEntry>> {
    Ok(audit_log::table
        .filter(audit_log::entity_type.eq(entity.as_str()))
        .filter(audit_log::entity_id.eq(id))
        .order(audit_log::id.asc())
        .select((
            audit_log::id,
            audit_log::actor,
            audit_log::at,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::action,
            audit_log::changes,
        ))
        .load(conn)?)
}

/// What to list from the audit log (all given filters apply).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
}

/// Audit rows, newest first.
pub fn audit_list(
    conn: &mut DbConnection,
    filter: &AuditFilter,
    page: PageRequest,
) -> RepoResult<Page<AuditEntry>> {
    let query = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(t) = &filter.entity_type {
            q = q.filter(audit_log::entity_type.eq(t.clone()));
        }
        if let Some(id) = &filter.entity_id {
            q = q.filter(audit_log::entity_id.eq(id.clone()));
        }
        if let Some(actor) = &filter.actor {
            q = q.filter(audit_log::actor.eq(actor.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let items = query()
        .order(audit_log::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select((
            audit_log::id,
            audit_log::actor,
            audit_log::at,
            audit_log::entity_type,
            audit_log::entity_id,
            audit_log::action,
            audit_log::changes,
        ))
        .load(conn)?;
    Ok(Page {
        items,
        total,
        request: page,
    })
}

/// One change-log row.
#[derive(Debug, Clone, Queryable)]
pub struct Change {
    pub seq: i64,
    pub entity_type: String,
    pub entity_id: String,
    pub op: String,
    pub changed_at: chrono::NaiveDateTime,
}

/// Change-log rows after `after_seq`, in order.
pub fn changes_after(
    conn: &mut DbConnection,
    after_seq: i64,
    limit: i64,
) -> RepoResult<Vec<Change>> {
    Ok(change_log::table
        .filter(change_log::seq.gt(after_seq))
        .order(change_log::seq.asc())
        .limit(limit)
        .select((
            change_log::seq,
            change_log::entity_type,
            change_log::entity_id,
            change_log::op,
            change_log::changed_at,
        ))
        .load(conn)?)
}

/// The newest change-log sequence (0 when empty).
pub fn latest_seq(conn: &mut DbConnection) -> RepoResult<i64> {
    Ok(change_log::table
        .select(diesel::dsl::max(change_log::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_lists_changed_fields_only() {
        let before = json!({"name": "A", "email": null, "version": 1, "phones": []});
        let after = json!({"name": "B", "email": null, "version": 2, "phones": ["1"]});
        let d = diff(Some(&before), &after);
        assert_eq!(
            Value::Object(d),
            json!({"name": {"before": "A", "after": "B"}, "phones": {"before": [], "after": ["1"]}})
        );
    }

    #[test]
    fn a_creation_row_is_the_diff_from_nothing() {
        let stamp = Stamp {
            actor: Actor::system("test"),
            at: chrono::Utc::now(),
        };
        for after in [
            json!({"name": "A", "email": null, "version": 1, "phones": ["1"], "z": {"b": 2, "a": 1}}),
            json!({"na\"me": "tab\there \u{e9}", "at": 1.5, "b": [{"y": true, "x": null}]}),
            // Nothing audited: no row either way.
            json!({"version": 1, "email": null}),
        ] {
            let created = creation_row(&stamp, EntityType::Service, "x", &after);
            let diffed = audit_row(&stamp, EntityType::Service, "x", "create", None, &after);
            assert_eq!(
                created.map(|r| (r.action, r.changes)),
                diffed.map(|r| (r.action, r.changes))
            );
        }
    }

    #[test]
    fn create_diff_has_every_field() {
        let d = diff(None, &json!({"name": "A", "version": 1}));
        assert_eq!(
            Value::Object(d),
            json!({"name": {"before": null, "after": "A"}})
        );
    }
}
