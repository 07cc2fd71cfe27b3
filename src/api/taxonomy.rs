//! `/api/v1/taxonomy`

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::auth::Writer;
use super::envelope::{Item, List};
use super::error::{ApiError, Problem};
use super::extract::{self, JsonBody};
use super::records::{self, Record};
use crate::db::changes::Stamp;
use crate::db::taxonomy::{self as repo, TermFilter};
use crate::db::{DbConnection, RepoResult};
use crate::model::enums::TaxonomyKind;
use crate::model::read::Term;
use crate::model::taxonomy::TermInput;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/taxonomy")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/taxonomy/{id}")
            .route(web::get().to(get))
            .route(web::put().to(replace))
            .route(web::patch().to(patch))
            .route(web::delete().to(delete)),
    );
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Page number, from 1.
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Records per page (1 to 100, default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
    /// Include deleted (archived) terms.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
    /// Not supported for terms (a 400).
    #[param(value_type = Option<String>, format = DateTime)]
    modified_after: Option<String>,
    /// Only `name` (the default: by taxonomy, then name) is supported.
    #[param(value_type = Option<String>, pattern = "^name$")]
    sort: Option<String>,
    /// Only terms of this taxonomy.
    #[param(value_type = Option<TaxonomyKind>)]
    taxonomy: Option<String>,
    /// Only children of this term.
    #[param(value_type = Option<uuid::Uuid>)]
    parent_id: Option<String>,
    /// Only top-level terms.
    #[param(value_type = Option<bool>)]
    top_only: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/taxonomy", tag = "taxonomy",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of taxonomy terms", body = List<Term>),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = extract::page_request(q.page.as_deref(), q.per_page.as_deref())?;
    if q.sort
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty() && s.trim() != "name")
    {
        return Err(ApiError::bad_request(
            "sort",
            "terms are listed by taxonomy then name only (sort=name)",
        ));
    }
    if q.modified_after.is_some() {
        return Err(ApiError::bad_request(
            "modified_after",
            "is not supported for taxonomy terms",
        ));
    }
    let parent_id = extract::uuid_param("parent_id", q.parent_id.as_deref())?;
    let top_only = extract::bool_param("top_only", q.top_only.as_deref())?;
    if top_only && parent_id.is_some() {
        return Err(ApiError::bad_request(
            "top_only",
            "cannot be combined with parent_id",
        ));
    }
    let filter = TermFilter {
        taxonomy: extract::enum_param("taxonomy", q.taxonomy.as_deref(), TaxonomyKind::parse)?,
        parent: if top_only {
            Some(None)
        } else {
            parent_id.map(Some)
        },
        include_archived: extract::bool_param("include_archived", q.include_archived.as_deref())?,
    };
    let result = state.db(move |c| repo::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(result, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/taxonomy/{id}", tag = "taxonomy",
    params(("id" = uuid::Uuid, Path, description = "Taxonomy term id")),
    responses(
        (status = 200, description = "The taxonomy term (also when archived)", body = Item<Term>,
         headers(("ETag" = String, description = "Current version"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such taxonomy term", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    records::get::<Terms>(state, req, id).await
}

#[utoipa::path(
    post, path = "/api/v1/taxonomy", tag = "taxonomy",
    security(("api_key" = ["editor", "admin"])),
    request_body = TermInput,
    responses(
        (status = 201, description = "Created", body = Item<Term>,
         headers(("Location" = String, description = "URL of the new taxonomy term"), ("ETag" = String, description = "Version"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The id is already taken", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Writer,
    body: JsonBody<TermInput>,
) -> Result<HttpResponse, ApiError> {
    records::create::<Terms>(state, caller, body).await
}

#[utoipa::path(
    put, path = "/api/v1/taxonomy/{id}", tag = "taxonomy",
    security(("api_key" = ["editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Taxonomy term id"),
        ("If-Match" = String, Header, description = "ETag of the version being replaced (required: 428 without it; 412 if it is stale)"),
    ),
    request_body = TermInput,
    responses(
        (status = 200, description = "Replaced", body = Item<Term>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such taxonomy term", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Writer,
    id: web::Path<String>,
    body: JsonBody<TermInput>,
) -> Result<HttpResponse, ApiError> {
    records::replace::<Terms>(state, req, caller, id, body).await
}

#[utoipa::path(
    patch, path = "/api/v1/taxonomy/{id}", tag = "taxonomy",
    security(("api_key" = ["editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Taxonomy term id"),
        ("If-Match" = String, Header, description = "ETag of the version being changed (required: 428 without it; 412 if it is stale)"),
    ),
    request_body(content = Object, description = "RFC 7396 merge patch of an TermInput: fields present replace, `null` clears", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated", body = Item<Term>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such taxonomy term", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Writer,
    id: web::Path<String>,
    body: JsonBody<Value>,
) -> Result<HttpResponse, ApiError> {
    records::patch::<Terms>(state, req, caller, id, body).await
}

#[utoipa::path(
    delete, path = "/api/v1/taxonomy/{id}", tag = "taxonomy",
    security(("api_key" = ["editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Taxonomy term id"),
        ("If-Match" = String, Header, description = "ETag of the version being deleted (required: 428 without it; 412 if it is stale)"),
    ),
    responses(
        (status = 200, description = "Archived (soft delete: still readable by id)", body = Item<Term>),
        (status = 404, description = "No such taxonomy term", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still has live child terms", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    records::delete::<Terms>(state, req, caller, id).await
}

/// How taxonomy plug into the shared record handlers.
pub struct Terms;

impl Record for Terms {
    type Input = TermInput;
    type Draft = crate::model::taxonomy::TermDraft;
    type Read = Term;
    const PATH: &'static str = "/api/v1/taxonomy";
    const NAME: &'static str = "taxonomy term";

    fn id(read: &Term) -> uuid::Uuid {
        read.id
    }

    fn version(read: &Term) -> i64 {
        read.version
    }

    fn to_input(read: &Term) -> TermInput {
        read.to_input()
    }

    fn input_id(input: &TermInput) -> Option<uuid::Uuid> {
        input.id
    }

    fn validate(_state: &AppState, input: TermInput) -> Result<Self::Draft, crate::model::Invalid> {
        input.validate()
    }

    fn get(c: &mut DbConnection, id: uuid::Uuid) -> RepoResult<Term> {
        crate::db::taxonomy::get(c, id)
    }

    fn create(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Option<uuid::Uuid>,
        draft: Self::Draft,
    ) -> RepoResult<Term> {
        crate::db::taxonomy::create(c, stamp, id, draft)
    }

    fn update(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
        draft: Self::Draft,
    ) -> RepoResult<Term> {
        crate::db::taxonomy::update(c, stamp, id, expected, draft)
    }

    fn archive(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
    ) -> RepoResult<Term> {
        crate::db::taxonomy::archive(c, stamp, id, expected)
    }
}
