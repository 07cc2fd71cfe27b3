//! `/api/v1/services`

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
use crate::db::services::{self as repo, ServiceFilter, ServiceSort};
use crate::db::{DbConnection, RepoResult};
use crate::model::enums::ServiceStatus;
use crate::model::freshness::assess;
use crate::model::opening::Hours;
use crate::model::read::Service;
use crate::model::service::ServiceInput;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/services")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/services/{id}")
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
    /// Include deleted (archived) services.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
    /// Only services changed after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    modified_after: Option<String>,
    /// `created` (default: stable under inserts), `name` or `updated`.
    #[param(value_type = Option<String>, pattern = "^(created|name|updated)$")]
    sort: Option<String>,
    /// Only services of this organisation.
    #[param(value_type = Option<uuid::Uuid>)]
    organisation_id: Option<String>,
    /// Only services with this status.
    #[param(value_type = Option<ServiceStatus>)]
    status: Option<String>,
    /// Compute each service's `opening` for this instant (RFC 3339; default now).
    #[param(value_type = Option<String>, format = DateTime)]
    at: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/services", tag = "services",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of services", body = List<Service>),
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
    let filter = ServiceFilter {
        organisation_id: extract::uuid_param("organisation_id", q.organisation_id.as_deref())?,
        status: extract::enum_param("status", q.status.as_deref(), ServiceStatus::parse)?,
        include_archived: extract::bool_param("include_archived", q.include_archived.as_deref())?,
        modified_after: extract::datetime_param("modified_after", q.modified_after.as_deref())?,
        sort: match q.sort.as_deref().map(str::trim) {
            None | Some("") | Some("created") => ServiceSort::Created,
            Some("name") => ServiceSort::Name,
            Some("updated") => ServiceSort::Updated,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "sort",
                    "must be created, name or updated",
                ))
            }
        },
    };
    let at = extract::datetime_param("at", q.at.as_deref())?.unwrap_or_else(|| state.clock.now());
    let mut result = state.db(move |c| repo::list(c, &filter, page)).await?;
    for service in result.items.iter_mut() {
        <Services as Record>::decorate(&state, service, at);
    }
    Ok(HttpResponse::Ok().json(List::new(result, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/services/{id}", tag = "services",
    params(
        ("id" = uuid::Uuid, Path, description = "Service id"),
        ("at" = Option<String>, Query, description = "Compute `opening` for this instant (RFC 3339; default now)"),
    ),
    responses(
        (status = 200, description = "The service (also when archived)", body = Item<Service>,
         headers(("ETag" = String, description = "Current version"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    records::get::<Services>(state, req, id).await
}

#[utoipa::path(
    post, path = "/api/v1/services", tag = "services",
    security(("api_key" = ["organisation", "editor", "admin"])),
    request_body = ServiceInput,
    responses(
        (status = 201, description = "Created", body = Item<Service>,
         headers(("Location" = String, description = "URL of the new service"), ("ETag" = String, description = "Version"))),
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
    body: JsonBody<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    records::create::<Services>(state, caller, body).await
}

#[utoipa::path(
    put, path = "/api/v1/services/{id}", tag = "services",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Service id"),
        ("If-Match" = String, Header, description = "ETag of the version being replaced (required: 428 without it; 412 if it is stale)"),
    ),
    request_body = ServiceInput,
    responses(
        (status = 200, description = "Replaced", body = Item<Service>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
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
    body: JsonBody<ServiceInput>,
) -> Result<HttpResponse, ApiError> {
    records::replace::<Services>(state, req, caller, id, body).await
}

#[utoipa::path(
    patch, path = "/api/v1/services/{id}", tag = "services",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Service id"),
        ("If-Match" = String, Header, description = "ETag of the version being changed (required: 428 without it; 412 if it is stale)"),
    ),
    request_body(content = Object, description = "RFC 7396 merge patch of an ServiceInput: fields present replace, `null` clears", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated", body = Item<Service>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
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
    records::patch::<Services>(state, req, caller, id, body).await
}

#[utoipa::path(
    delete, path = "/api/v1/services/{id}", tag = "services",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Service id"),
        ("If-Match" = String, Header, description = "ETag of the version being deleted (required: 428 without it; 412 if it is stale)"),
    ),
    responses(
        (status = 200, description = "Archived (soft delete: still readable by id)", body = Item<Service>),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
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
    records::delete::<Services>(state, req, caller, id).await
}

/// How services plug into the shared record handlers.
pub struct Services;

impl Record for Services {
    type Input = ServiceInput;
    type Draft = crate::model::service::ServiceDraft;
    type Read = Service;
    const PATH: &'static str = "/api/v1/services";
    const NAME: &'static str = "service";
    const MEMBERS_CREATE_AND_ARCHIVE: bool = true;

    fn owner_of(read: &Service) -> Option<uuid::Uuid> {
        Some(read.organisation.id)
    }

    fn owner_of_input(input: &ServiceInput) -> Option<uuid::Uuid> {
        Some(input.organisation_id)
    }

    fn id(read: &Service) -> uuid::Uuid {
        read.id
    }

    fn version(read: &Service) -> i64 {
        read.version
    }

    fn to_input(read: &Service) -> ServiceInput {
        read.to_input()
    }

    fn input_id(input: &ServiceInput) -> Option<uuid::Uuid> {
        input.id
    }

    fn validate(
        _state: &AppState,
        input: ServiceInput,
    ) -> Result<Self::Draft, crate::model::Invalid> {
        input.validate()
    }

    fn get(c: &mut DbConnection, id: uuid::Uuid) -> RepoResult<Service> {
        crate::db::services::get(c, id)
    }

    fn create(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Option<uuid::Uuid>,
        draft: Self::Draft,
    ) -> RepoResult<Service> {
        crate::db::services::create(c, stamp, id, draft, None)
    }

    fn update(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
        draft: Self::Draft,
    ) -> RepoResult<Service> {
        crate::db::services::update(c, stamp, id, expected, draft)
    }

    fn archive(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
    ) -> RepoResult<Service> {
        crate::db::services::archive(c, stamp, id, expected)
    }

    fn decorate(state: &AppState, read: &mut Service, at: chrono::DateTime<chrono::Utc>) {
        read.opening = Some(Hours::of(read).opening(at, &state.holidays));
        read.freshness = Some(assess(&read.freshness_facts(), at, state.review));
    }
}
