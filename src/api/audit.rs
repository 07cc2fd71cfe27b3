//! `GET /api/v1/audit`: who changed what, field by field (editors).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Staff;
use super::envelope::List;
use super::error::{ApiError, Problem};
use super::extract;
use crate::db::changes::{self, AuditEntry, AuditFilter};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list));
}

/// One audited write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    /// `key:<key id>`, `anonymous`, or `system:<process>`.
    #[schema(example = "key:0d3c8c55-7e0e-4a7e-9d0b-8f3f5d1c2a10")]
    pub actor: String,
    pub at: DateTime<Utc>,
    #[schema(example = "service")]
    pub entity_type: String,
    pub entity_id: String,
    /// `create`, `update`, `archive`, `revoke`, `approved`…
    pub action: String,
    /// `{"field": {"before": …, "after": …}}` for each field that changed.
    #[schema(value_type = Object)]
    pub changes: Value,
}

impl From<AuditEntry> for AuditRecord {
    fn from(e: AuditEntry) -> Self {
        AuditRecord {
            id: e.id,
            actor: e.actor,
            at: e.at.and_utc(),
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            action: e.action,
            changes: serde_json::from_str(&e.changes).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// `organisation`, `service`, `location`, `taxonomy_term`, `api_key`, `claim` or `suggestion`.
    entity_type: Option<String>,
    entity_id: Option<String>,
    /// `key:<id>` (or just the key id), `anonymous`, or `system:<process>`.
    actor: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

fn text_filter(name: &str, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) if v.chars().count() > 200 => Err(ApiError::bad_request(
            name,
            "must be at most 200 characters",
        )),
        Some(v) => Ok(Some(v.to_string())),
    }
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(AuditQuery),
    responses(
        (status = 200, description = "Audit entries, newest first", body = List<AuditRecord>),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = extract::page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let actor = text_filter("actor", q.actor.as_deref())?.map(|a| {
        // A bare key id means that key.
        match uuid::Uuid::parse_str(&a) {
            Ok(id) => format!("key:{id}"),
            Err(_) => a,
        }
    });
    let filter = AuditFilter {
        entity_type: text_filter("entity_type", q.entity_type.as_deref())?,
        entity_id: text_filter("entity_id", q.entity_id.as_deref())?.map(|id| {
            uuid::Uuid::parse_str(&id)
                .map(|u| u.to_string())
                .unwrap_or(id)
        }),
        actor,
    };
    let page = state
        .db(move |c| changes::audit_list(c, &filter, page))
        .await?;
    let page = crate::db::paging::Page {
        items: page.items.into_iter().map(AuditRecord::from).collect(),
        total: page.total,
        request: page.request,
    };
    Ok(HttpResponse::Ok().json(List::new(page, req.path(), req.query_string())))
}
