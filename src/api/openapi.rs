//! The OpenAPI document, generated from the handlers and types by utoipa.
//! `openapi/openapi.json` is this document, committed; a test fails when the
//! two differ (regenerate with `cargo run -- openapi > openapi/openapi.json`).

use actix_web::HttpResponse;
use utoipa::OpenApi;

use super::{areas, error, locations, organisations, search, services, taxonomy};
use crate::model;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Signpost",
        description = "Community resource directory: local groups and services for link workers, GP systems and community organisations. \
Errors are RFC 9457 problem+json naming the offending field. Lists page deterministically (`page`, `per_page` ≤ 100, ties broken by `id`). \
Deleting archives: records are never removed and stay readable by id. Every write appends to a change log and an audit log.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        organisations::list, organisations::get, organisations::create, organisations::replace, organisations::patch, organisations::delete,
        services::list, services::get, services::create, services::replace, services::patch, services::delete,
        locations::list, locations::get, locations::create, locations::replace, locations::patch, locations::delete,
        taxonomy::list, taxonomy::get, taxonomy::create, taxonomy::replace, taxonomy::patch, taxonomy::delete,
        areas::list,
        search::search, search::suggest, search::places,
    ),
    components(schemas(
        error::Problem, model::FieldError,
        model::organisation::OrganisationInput, model::location::LocationInput, model::taxonomy::TermInput,
        model::service::ServiceInput, model::service::PhoneInput, model::service::EligibilityInput, model::service::ScheduleInput,
        model::read::Organisation, model::read::Service, model::read::Location, model::read::Term, model::read::ServiceArea,
        model::enums::ServiceStatus, model::enums::DeliveryMethod, model::enums::LocationType, model::enums::TaxonomyKind, model::enums::AreaType,
    )),
    tags(
        (name = "organisations", description = "Charities, groups and public bodies that run services"),
        (name = "services", description = "What people go to: the directory's main record"),
        (name = "locations", description = "Places where services run, geocoded from their postcode"),
        (name = "taxonomy", description = "Categories, community groups and accessibility features"),
        (name = "service-areas", description = "Coded areas a service covers"),
        (name = "search", description = "Ranked keyword, place and filter search; typeahead for services and places"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON with a trailing newline (the committed form).
pub fn document() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}
