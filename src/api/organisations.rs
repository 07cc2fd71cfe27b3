//! `/api/v1/organisations`

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
use crate::db::organisations::{self as repo, OrganisationFilter, OrganisationSort};
use crate::db::{DbConnection, RepoResult};
use crate::model::organisation::OrganisationInput;
use crate::model::read::Organisation;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/organisations")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/organisations/{id}")
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
    /// Include deleted (archived) organisations.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
    /// Only organisations changed after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    modified_after: Option<String>,
    /// `created` (default: stable under inserts), `name` or `updated`.
    #[param(value_type = Option<String>, pattern = "^(created|name|updated)$")]
    sort: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/organisations", tag = "organisations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of organisations", body = List<Organisation>),
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
    let filter = OrganisationFilter {
        include_archived: extract::bool_param("include_archived", q.include_archived.as_deref())?,
        modified_after: extract::datetime_param("modified_after", q.modified_after.as_deref())?,
        sort: match q.sort.as_deref().map(str::trim) {
            None | Some("") | Some("created") => OrganisationSort::Created,
            Some("name") => OrganisationSort::Name,
            Some("updated") => OrganisationSort::Updated,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "sort",
                    "must be created, name or updated",
                ))
            }
        },
        name_contains: None,
    };
    let result = state.db(move |c| repo::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(result, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/organisations/{id}", tag = "organisations",
    params(("id" = uuid::Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation (also when archived)", body = Item<Organisation>,
         headers(("ETag" = String, description = "Current version"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    records::get::<Organisations>(state, req, id).await
}

#[utoipa::path(
    post, path = "/api/v1/organisations", tag = "organisations",
    security(("api_key" = ["editor", "admin"])),
    request_body = OrganisationInput,
    responses(
        (status = 201, description = "Created", body = Item<Organisation>,
         headers(("Location" = String, description = "URL of the new organisation"), ("ETag" = String, description = "Version"))),
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
    body: JsonBody<OrganisationInput>,
) -> Result<HttpResponse, ApiError> {
    records::create::<Organisations>(state, caller, body).await
}

#[utoipa::path(
    put, path = "/api/v1/organisations/{id}", tag = "organisations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organisation id"),
        ("If-Match" = String, Header, description = "ETag of the version being replaced (required: 428 without it; 412 if it is stale)"),
    ),
    request_body = OrganisationInput,
    responses(
        (status = 200, description = "Replaced", body = Item<Organisation>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
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
    body: JsonBody<OrganisationInput>,
) -> Result<HttpResponse, ApiError> {
    records::replace::<Organisations>(state, req, caller, id, body).await
}

#[utoipa::path(
    patch, path = "/api/v1/organisations/{id}", tag = "organisations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organisation id"),
        ("If-Match" = String, Header, description = "ETag of the version being changed (required: 428 without it; 412 if it is stale)"),
    ),
    request_body(content = Object, description = "RFC 7396 merge patch of an OrganisationInput: fields present replace, `null` clears", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated", body = Item<Organisation>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
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
    records::patch::<Organisations>(state, req, caller, id, body).await
}

#[utoipa::path(
    delete, path = "/api/v1/organisations/{id}", tag = "organisations",
    security(("api_key" = ["editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Organisation id"),
        ("If-Match" = String, Header, description = "ETag of the version being deleted (required: 428 without it; 412 if it is stale)"),
    ),
    responses(
        (status = 200, description = "Archived (soft delete: still readable by id)", body = Item<Organisation>),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It still has live services", body = Problem, content_type = "application/problem+json"),
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
    records::delete::<Organisations>(state, req, caller, id).await
}

/// How organisations plug into the shared record handlers.
pub struct Organisations;

impl Record for Organisations {
    type Input = OrganisationInput;
    type Draft = crate::model::organisation::OrganisationDraft;
    type Read = Organisation;
    const PATH: &'static str = "/api/v1/organisations";
    const NAME: &'static str = "organisation";

    fn owner_of(read: &Organisation) -> Option<uuid::Uuid> {
        Some(read.id)
    }

    fn id(read: &Organisation) -> uuid::Uuid {
        read.id
    }

    fn version(read: &Organisation) -> i64 {
        read.version
    }

    fn to_input(read: &Organisation) -> OrganisationInput {
        read.to_input()
    }

    fn input_id(input: &OrganisationInput) -> Option<uuid::Uuid> {
        input.id
    }

    fn validate(
        _state: &AppState,
        input: OrganisationInput,
    ) -> Result<Self::Draft, crate::model::Invalid> {
        input.validate()
    }

    fn get(c: &mut DbConnection, id: uuid::Uuid) -> RepoResult<Organisation> {
        crate::db::organisations::get(c, id)
    }

    fn create(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Option<uuid::Uuid>,
        draft: Self::Draft,
    ) -> RepoResult<Organisation> {
        crate::db::organisations::create(c, stamp, id, draft)
    }

    fn update(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
        draft: Self::Draft,
    ) -> RepoResult<Organisation> {
        crate::db::organisations::update(c, stamp, id, expected, draft)
    }

    fn archive(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
    ) -> RepoResult<Organisation> {
        crate::db::organisations::archive(c, stamp, id, expected)
    }
}
