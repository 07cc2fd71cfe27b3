//! The OpenAPI document, generated from the handlers and types by utoipa.
//! `openapi/openapi.json` is this document, committed; a test fails when the
//! two differ (regenerate with `cargo run -- openapi > openapi/openapi.json`).

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    aliss, areas, audit, claims, error, freshness, keys, locations, organisations, search,
    services, suggestions, taxonomy, transfer,
};
use crate::model;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Signpost",
        description = "Community resource directory: local groups and services for link workers, GP systems and community organisations. \
Errors are RFC 9457 problem+json naming the offending field. Lists page deterministically (`page`, `per_page` ≤ 100, ties broken by `id`). \
Deleting archives: records are never removed and stay readable by id. Every write appends to a change log and an audit log. \
Reading and searching are open; writes need an API key (`Authorization: Bearer sp_…`) whose role is listed on each endpoint \
(`organisation` keys only for their own organisations' listings). Writes to an existing record need `If-Match` with its `ETag` \
(428 without, 412 when stale). Requests are rate limited per IP (anonymous) or per key: 429 with `Retry-After`.",
        license(name = "AGPL-3.0-or-later"),
    ),
    paths(
        organisations::list, organisations::get, organisations::create, organisations::replace, organisations::patch, organisations::delete,
        services::list, services::get, services::create, services::replace, services::patch, services::delete,
        locations::list, locations::get, locations::create, locations::replace, locations::patch, locations::delete,
        taxonomy::list, taxonomy::get, taxonomy::create, taxonomy::replace, taxonomy::patch, taxonomy::delete,
        areas::list,
        search::search, search::suggest, search::places,
        keys::list, keys::create, keys::me, keys::get, keys::revoke,
        claims::create, claims::list, claims::get, claims::approve, claims::reject,
        suggestions::create, suggestions::list, suggestions::get, suggestions::apply, suggestions::reject,
        audit::list,
        freshness::verify, freshness::service_flags, freshness::resolve_flag, freshness::report,
        freshness::list_reports, freshness::resolve_report, freshness::reject_report, freshness::queue,
        transfer::import, transfer::export,
        freshness::put_webhook, freshness::get_webhook, freshness::delete_webhook, freshness::deliveries,
        aliss::list_services, aliss::get_service, aliss::get_organisation, aliss::categories, aliss::service_areas,
    ),
    modifiers(&BearerKeys),
    components(schemas(
        error::Problem, model::FieldError,
        model::organisation::OrganisationInput, model::location::LocationInput, model::taxonomy::TermInput,
        model::service::ServiceInput, model::service::PhoneInput, model::service::EligibilityInput, model::service::ScheduleInput,
        model::read::Organisation, model::read::Service, model::read::Location, model::read::Term, model::read::ServiceArea,
        model::accounts::KeyInput, model::accounts::ClaimInput, model::accounts::SuggestionInput, model::accounts::DecisionInput,
        crate::db::keys::ApiKey, keys::IssuedKey, crate::db::claims::Claim, claims::Approval, crate::db::suggestions::Suggestion, audit::AuditRecord,
        model::enums::Role, model::enums::ModerationStatus, model::enums::ListingKind,
        model::freshness::Freshness, model::freshness::Flag, crate::db::flags::FlagRecord, crate::db::reports::Report,
        crate::db::review::QueueEntry, crate::db::webhooks::Webhook, crate::db::webhooks::Delivery, crate::db::webhooks::AttemptRecord,
        crate::hsds::import::Report, crate::hsds::import::Rejection,
        freshness::ReportInput, freshness::ResolveInput, freshness::WebhookInput,
        model::enums::FlagKind, model::enums::FreshnessState, model::enums::ReportKind, model::enums::ReportStatus,
        model::enums::ServiceStatus, model::enums::DeliveryMethod, model::enums::LocationType, model::enums::TaxonomyKind, model::enums::AreaType,
        aliss::shape::AlissMeta, aliss::shape::AlissServicePage, aliss::shape::AlissService, aliss::shape::AlissCategoryRef,
        aliss::shape::AlissServiceArea, aliss::shape::AlissOrganisationRef, aliss::shape::AlissLocation,
        aliss::shape::AlissOrganisation, aliss::shape::AlissServiceRef, aliss::shape::AlissCategory,
    )),
    tags(
        (name = "organisations", description = "Charities, groups and public bodies that run services"),
        (name = "services", description = "What people go to: the directory's main record"),
        (name = "locations", description = "Places where services run, geocoded from their postcode"),
        (name = "taxonomy", description = "Categories, community groups and accessibility features"),
        (name = "service-areas", description = "Coded areas a service covers"),
        (name = "accounts", description = "API keys, organisation claims, suggestions and the audit log"),
        (name = "transfer", description = "Bulk import and export in Open Referral HSDS 3.0 (the read API is under /openreferral)"),
        (name = "freshness", description = "Verifying listings, flags and their evidence, problem reports, the review queue and owners' webhooks"),
        (name = "search", description = "Ranked keyword, place and filter search; typeahead for services and places"),
        (name = "aliss", description = "ALISS API v4 compatibility for existing clients"),
    )
)]
pub struct ApiDoc;

/// Declares the bearer API key scheme; each write endpoint lists the roles
/// it accepts as the scheme's scopes.
struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sp_<prefix>_<secret>")
                    .description(Some(
                        "A Signpost API key. Roles: admin, editor, organisation (its own organisations' listings), client (read-only).",
                    ))
                    .build(),
            ),
        );
    }
}

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
