//! `/api/v1/locations`

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
use crate::db::locations::{self as repo, LocationFilter};
use crate::db::{DbConnection, RepoResult};
use crate::geo::Postcode;
use crate::model::location::LocationInput;
use crate::model::read::Location;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/locations")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(
        web::resource("/locations/{id}")
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
    /// Include deleted (archived) locations.
    #[param(value_type = Option<bool>)]
    include_archived: Option<String>,
    /// Only locations changed after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    modified_after: Option<String>,
    /// Only `created` (the default) is supported.
    #[param(value_type = Option<String>, pattern = "^created$")]
    sort: Option<String>,
    /// Only locations of this organisation.
    #[param(value_type = Option<uuid::Uuid>)]
    organisation_id: Option<String>,
    /// Only locations with this postcode (any case and spacing).
    #[param(value_type = Option<String>, example = "G31 2ER")]
    postcode: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/locations", tag = "locations",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of locations", body = List<Location>),
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
        .is_some_and(|s| !s.trim().is_empty() && s.trim() != "created")
    {
        return Err(ApiError::bad_request(
            "sort",
            "locations are listed in creation order only (sort=created)",
        ));
    }
    let filter = LocationFilter {
        organisation_id: extract::uuid_param("organisation_id", q.organisation_id.as_deref())?,
        postcode: match q
            .postcode
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => None,
            Some(raw) => Some(
                Postcode::parse(raw)
                    .map_err(|e| ApiError::bad_request("postcode", e))?
                    .as_str()
                    .to_string(),
            ),
        },
        include_archived: extract::bool_param("include_archived", q.include_archived.as_deref())?,
        modified_after: extract::datetime_param("modified_after", q.modified_after.as_deref())?,
    };
    let result = state.db(move |c| repo::list(c, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(result, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/locations/{id}", tag = "locations",
    params(("id" = uuid::Uuid, Path, description = "Location id")),
    responses(
        (status = 200, description = "The location (also when archived)", body = Item<Location>,
         headers(("ETag" = String, description = "Current version"))),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    records::get::<Locations>(state, req, id).await
}

#[utoipa::path(
    post, path = "/api/v1/locations", tag = "locations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    request_body = LocationInput,
    responses(
        (status = 201, description = "Created", body = Item<Location>,
         headers(("Location" = String, description = "URL of the new location"), ("ETag" = String, description = "Version"))),
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
    body: JsonBody<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    records::create::<Locations>(state, caller, body).await
}

#[utoipa::path(
    put, path = "/api/v1/locations/{id}", tag = "locations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Location id"),
        ("If-Match" = String, Header, description = "ETag of the version being replaced (required: 428 without it; 412 if it is stale)"),
    ),
    request_body = LocationInput,
    responses(
        (status = 200, description = "Replaced", body = Item<Location>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
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
    body: JsonBody<LocationInput>,
) -> Result<HttpResponse, ApiError> {
    records::replace::<Locations>(state, req, caller, id, body).await
}

#[utoipa::path(
    patch, path = "/api/v1/locations/{id}", tag = "locations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Location id"),
        ("If-Match" = String, Header, description = "ETag of the version being changed (required: 428 without it; 412 if it is stale)"),
    ),
    request_body(content = Object, description = "RFC 7396 merge patch of an LocationInput: fields present replace, `null` clears", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Updated", body = Item<Location>, headers(("ETag" = String, description = "New version"))),
        (status = 400, description = "Malformed JSON or id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key's role may not do this", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
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
    records::patch::<Locations>(state, req, caller, id, body).await
}

#[utoipa::path(
    delete, path = "/api/v1/locations/{id}", tag = "locations",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = uuid::Uuid, Path, description = "Location id"),
        ("If-Match" = String, Header, description = "ETag of the version being deleted (required: 428 without it; 412 if it is stale)"),
    ),
    responses(
        (status = 200, description = "Archived (soft delete: still readable by id)", body = Item<Location>),
        (status = 404, description = "No such location", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A live service still runs there", body = Problem, content_type = "application/problem+json"),
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
    records::delete::<Locations>(state, req, caller, id).await
}

/// How locations plug into the shared record handlers.
pub struct Locations;

impl Record for Locations {
    type Input = LocationInput;
    type Draft = crate::model::location::LocationDraft;
    type Read = Location;
    const PATH: &'static str = "/api/v1/locations";
    const NAME: &'static str = "location";
    const MEMBERS_CREATE_AND_ARCHIVE: bool = true;

    fn owner_of(read: &Location) -> Option<uuid::Uuid> {
        Some(read.organisation_id)
    }

    fn owner_of_input(input: &LocationInput) -> Option<uuid::Uuid> {
        Some(input.organisation_id)
    }

    fn id(read: &Location) -> uuid::Uuid {
        read.id
    }

    fn version(read: &Location) -> i64 {
        read.version
    }

    fn to_input(read: &Location) -> LocationInput {
        read.to_input()
    }

    fn input_id(input: &LocationInput) -> Option<uuid::Uuid> {
        input.id
    }

    fn validate(
        state: &AppState,
        input: LocationInput,
    ) -> Result<Self::Draft, crate::model::Invalid> {
        input.validate(&state.postcodes)
    }

    fn get(c: &mut DbConnection, id: uuid::Uuid) -> RepoResult<Location> {
        crate::db::locations::get(c, id)
    }

    fn create(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: Option<uuid::Uuid>,
        draft: Self::Draft,
    ) -> RepoResult<Location> {
        crate::db::locations::create(c, stamp, id, draft)
    }

    fn update(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
        draft: Self::Draft,
    ) -> RepoResult<Location> {
        crate::db::locations::update(c, stamp, id, expected, draft)
    }

    fn archive(
        c: &mut DbConnection,
        stamp: &Stamp,
        id: uuid::Uuid,
        expected: Option<i64>,
    ) -> RepoResult<Location> {
        crate::db::locations::archive(c, stamp, id, expected)
    }
}
