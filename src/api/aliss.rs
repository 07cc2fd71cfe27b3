//! `/api/v4`: ALISS API v4 compatibility, so existing ALISS clients can
//! point at Signpost. Read only. Service search runs through the same
//! parser and index as `GET /api/v1/services/search` (its ALISS
//! [`Dialect`](super::search::Dialect)); the responses are v1's read models
//! mapped onto ALISS's shapes (`shape`).

pub mod shape;

use actix_web::{web, HttpRequest, HttpResponse};
use utoipa::IntoParams;

use super::error::{ApiError, Problem};
use super::extract;
use super::search::{self, Dialect};
use crate::db::{areas, organisations, services, taxonomy};
use crate::model::read::Service;
use crate::search::index::SearchHit;
use crate::state::AppState;
use shape::{
    aliss_area, aliss_organisation, aliss_service, category_tree, AlissCategory, AlissItem,
    AlissOrganisation, AlissService, AlissServiceArea, AlissServicePage, ALISS_META,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // ALISS paths end in a slash; the bare forms are accepted too.
    cfg.route("/services/", web::get().to(list_services))
        .route("/services", web::get().to(list_services))
        .route("/services/{id}/", web::get().to(get_service))
        .route("/services/{id}", web::get().to(get_service))
        .route("/organisations/{id}/", web::get().to(get_organisation))
        .route("/organisations/{id}", web::get().to(get_organisation))
        .route("/categories/", web::get().to(categories))
        .route("/categories", web::get().to(categories))
        .route("/service-areas/", web::get().to(service_areas))
        .route("/service-areas", web::get().to(service_areas));
}

/// ALISS's search parameters: each means what it means in v1 search, with
/// ALISS's `page_size` (default 10) for v1's `per_page`.
const PARAMETERS: &[&str] = &[
    "q",
    "postcode",
    "category",
    "location_type",
    "radius",
    "page",
    "page_size",
];

const ALISS: Dialect = Dialect {
    known: PARAMETERS,
    page_size_param: "page_size",
    default_page_size: 10,
};

/// Query parameters of `GET /api/v4/services/`. Unknown parameters are a 400.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // Documents the contract; the handler reads the raw pairs.
pub struct AlissSearchParams {
    /// Keywords (plain words, as in v1 search).
    #[param(max_length = 200, example = "lunch club")]
    q: Option<String>,
    /// Full postcode (`G31 2ER`), sector (`G31 2`) or district (`G31`), any case and spacing.
    #[param(example = "G31 2ER")]
    postcode: Option<String>,
    /// Category slug; a parent category matches its descendants.
    #[param(example = "food")]
    category: Option<String>,
    /// `local` (a location within the radius), `national` (covers the
    /// postcode's area, no location) or `all` (default).
    #[param(pattern = "^(local|national|all)$")]
    location_type: Option<String>,
    /// Metres from the postcode (default 5,000; at most 100,000).
    #[param(minimum = 1, maximum = 100000)]
    radius: Option<u32>,
    #[param(minimum = 1)]
    page: Option<i64>,
    /// Services per page (default 10, at most 100).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v4/services/", tag = "aliss",
    params(AlissSearchParams),
    responses(
        (status = 200, description = "A page of services ranked as v1 search ranks them", body = AlissServicePage),
        (status = 400, description = "Bad or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Postcode, sector or district not in the data (with suggestions)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not shaped like a postcode (with suggestions)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_services(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let found = search::run(&state, req.query_string(), &ALISS).await?;
    let data = found
        .results
        .hits
        .iter()
        .map(from_hit)
        .collect::<Result<Vec<_>, _>>()?;
    let links = super::envelope::links(
        req.path(),
        req.query_string(),
        found.page.page,
        found.total_pages,
    );
    Ok(HttpResponse::Ok().json(AlissServicePage {
        meta: ALISS_META,
        count: found.results.total as i64,
        next: links.next,
        previous: links.prev,
        data,
    }))
}

/// A search hit's stored service JSON, read back and mapped.
fn from_hit(hit: &SearchHit) -> Result<AlissService, ApiError> {
    let service: Service = serde_json::from_str(hit.service.get())
        .map_err(|e| ApiError::Internal(format!("stored service document: {e}")))?;
    Ok(aliss_service(&service, hit.distance_m))
}

#[utoipa::path(
    get, path = "/api/v4/services/{id}/", tag = "aliss",
    params(("id" = uuid::Uuid, Path, description = "Service id")),
    responses(
        (status = 200, description = "The service (closed services too; archived ones are gone)", body = AlissItem<AlissService>),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service, or archived", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_service(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = extract::path_id(&id)?;
    let service = state.db(move |c| services::get(c, id)).await?;
    if service.archived_at.is_some() {
        return Err(crate::db::RepoError::not_found("service", id).into());
    }
    Ok(HttpResponse::Ok().json(AlissItem::new(aliss_service(&service, None))))
}

#[utoipa::path(
    get, path = "/api/v4/organisations/{id}/", tag = "aliss",
    params(("id" = uuid::Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation with its live services", body = AlissItem<AlissOrganisation>),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or archived", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_organisation(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = extract::path_id(&id)?;
    let (organisation, services) = state
        .db(move |c| {
            let organisation = organisations::get(c, id)?;
            let services = services::live_names_for_organisation(c, id)?;
            Ok((organisation, services))
        })
        .await?;
    if organisation.archived_at.is_some() {
        return Err(crate::db::RepoError::not_found("organisation", id).into());
    }
    Ok(HttpResponse::Ok().json(AlissItem::new(aliss_organisation(&organisation, services))))
}

#[utoipa::path(
    get, path = "/api/v4/categories/", tag = "aliss",
    responses(
        (status = 200, description = "The category taxonomy as a tree, each level by name", body = AlissItem<Vec<AlissCategory>>),
    )
)]
pub async fn categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let terms = state.db(taxonomy::all_live).await?;
    Ok(HttpResponse::Ok().json(AlissItem::new(category_tree(&terms))))
}

#[utoipa::path(
    get, path = "/api/v4/service-areas/", tag = "aliss",
    responses(
        (status = 200, description = "Every service area (council areas, HSCPs, health boards, Scotland, UK), most specific first", body = AlissItem<Vec<AlissServiceArea>>),
    )
)]
pub async fn service_areas(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.db(|c| areas::list(c, None)).await?;
    let data: Vec<AlissServiceArea> = all.iter().map(aliss_area).collect();
    Ok(HttpResponse::Ok().json(AlissItem::new(data)))
}
