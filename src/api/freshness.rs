//! Keeping listings trustworthy: verify a listing, see and resolve its
//! flags, report a problem, work the review queue, and register a webhook.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::{Staff, Writer};
use super::envelope::{Item, List};
use super::error::{ApiError, Problem};
use super::extract::{self, if_match, path_id, JsonBody};
use super::records::{self, merged, Record};
use super::services::Services;
use crate::auth::limits::Bucket;
use crate::auth::{policy, Caller};
use crate::db::flags::{self, FlagRecord};
use crate::db::reports::{self, NewReport, Report};
use crate::db::review::{self, QueueEntry, QueueFilter, QueueKind};
use crate::db::webhooks::{self, Delivery, Webhook};
use crate::db::{organisations, services, write_transaction};
use crate::model::enums::{FlagKind, ReportKind, ReportStatus};
use crate::model::organisation::blank_to_none;
use crate::model::values::{long_text, optional_text, Checker, Email, Invalid, WebUrl, NOTE_MAX};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/services/{id}/verify", web::post().to(verify))
        .route("/services/{id}/flags", web::get().to(service_flags))
        .route(
            "/services/{id}/flags/{flag_id}/resolve",
            web::post().to(resolve_flag),
        )
        .route("/services/{id}/reports", web::post().to(report))
        .route("/reports", web::get().to(list_reports))
        .route("/reports/{id}/resolve", web::post().to(resolve_report))
        .route("/reports/{id}/reject", web::post().to(reject_report))
        .route("/review-queue", web::get().to(queue))
        .service(
            web::resource("/organisations/{id}/webhook")
                .route(web::get().to(get_webhook))
                .route(web::put().to(put_webhook))
                .route(web::delete().to(delete_webhook)),
        )
        .route(
            "/organisations/{id}/webhook/deliveries",
            web::get().to(deliveries),
        );
}

/// The organisation of a service, checking the caller may act for it.
async fn owned_service(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
) -> Result<crate::model::read::Service, ApiError> {
    let service = state.db(move |c| services::get(c, id)).await?;
    policy::edit_listing(caller, &[service.organisation.id])?;
    Ok(service)
}

#[utoipa::path(
    post, path = "/api/v1/services/{id}/verify", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(
        ("id" = Uuid, Path, description = "Service id"),
        ("If-Match" = String, Header, description = "ETag of the version you checked (required: 428 without it; 412 if it has changed since)"),
    ),
    responses(
        (status = 200, description = "Confirmed correct now: `last_verified_at` set; reopened and possibly-closed flags resolved", body = Item<crate::model::read::Service>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this listing's organisation, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "No If-Match header", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let expected = if_match(&req)?;
    let current = records::current::<Services>(&state, id, expected).await?;
    policy::edit_listing(&caller, &[current.organisation.id])?;
    let input = merged::<Services>(&current, &serde_json::json!({ "verified": true }))?;
    let draft = Services::validate(&state, input)?;
    let stamp = state.stamp(caller.actor());
    let note = format!("confirmed correct by {}", stamp.actor.as_str());
    let verified = state
        .db(move |c| {
            write_transaction(c, |c| {
                services::update(c, &stamp, id, Some(expected), draft)?;
                for kind in [FlagKind::Reopened, FlagKind::PossiblyClosed] {
                    flags::resolve_kind_in(c, &stamp, id, kind, &note)?;
                }
                reports::resolve_closure_reports_in(c, &stamp, id, &note)?;
                services::get(c, id)
            })
        })
        .await?;
    Ok(records::ok::<Services>(
        &state,
        StatusCode::OK,
        verified,
        None,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/services/{id}/flags", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Service id")),
    responses(
        (status = 200, description = "Every flag the listing has had, newest first, with who resolved it and why", body = Item<Vec<FlagRecord>>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this listing's organisation, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn service_flags(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    owned_service(&state, &caller, id).await?;
    let history = state.db(move |c| flags::history(c, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(history)))
}

/// Why a flag is resolved (required: it is what the next person reads).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    #[schema(example = "Phoned them: the new website is www.example.org, listing updated")]
    pub note: String,
}

#[utoipa::path(
    post, path = "/api/v1/services/{id}/flags/{flag_id}/resolve", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Service id"), ("flag_id" = Uuid, Path, description = "Flag id")),
    request_body = ResolveInput,
    responses(
        (status = 200, description = "Resolved: who and why are recorded", body = Item<FlagRecord>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this listing's organisation, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such service or flag", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already resolved", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No note", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resolve_flag(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    path: web::Path<(String, String)>,
    body: JsonBody<ResolveInput>,
) -> Result<HttpResponse, ApiError> {
    let (id, flag_id) = (path_id(&path.0)?, path_id(&path.1)?);
    let note = long_text(body.0.note, NOTE_MAX).map_err(|e| Invalid::one("note", e))?;
    if note.is_empty() {
        return Err(Invalid::one("note", "say why the flag no longer applies").into());
    }
    owned_service(&state, &caller, id).await?;
    let stamp = state.stamp(caller.actor());
    let resolved = state
        .db(move |c| flags::resolve(c, &stamp, id, flag_id, &note))
        .await?;
    Ok(HttpResponse::Ok().json(Item::new(resolved)))
}

/// Body of `POST /services/{id}/reports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    pub kind: ReportKind,
    #[schema(example = "The hall was locked on Tuesday and a sign said the group had stopped")]
    #[serde(default)]
    pub message: Option<String>,
    /// If you would like an editor to be able to reply.
    #[serde(default)]
    pub email: Option<String>,
}

/// Who is reporting, for counting independent reporters: a key, or a
/// salted hash of the address (never the address itself).
fn reporter(state: &AppState, caller: &Caller) -> String {
    match caller {
        Caller::Key(key) => format!("key:{}", key.id),
        Caller::Anonymous { ip } => {
            let mut hash = Sha256::new();
            hash.update(state.reporter_salt.as_bytes());
            hash.update(ip.map(|i| i.to_string()).unwrap_or_default());
            format!("ip:{}", crate::encoding::hex(&hash.finalize()[..12]))
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/services/{id}/reports", tag = "freshness",
    params(("id" = Uuid, Path, description = "Service id")),
    request_body = ReportInput,
    responses(
        (status = 201, description = "Thank you: an editor will look at it", body = Item<Report>),
        (status = 404, description = "No such service", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many submissions from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<ReportInput>,
) -> Result<HttpResponse, ApiError> {
    let service_id = path_id(&id)?;
    let input = body.0;
    let mut check = Checker::new();
    let message = check
        .check("message", optional_text(input.message, NOTE_MAX))
        .flatten();
    let email = check.check_opt("email", blank_to_none(input.email), Email::parse);
    check.finish()?;
    state.limits.check(&caller, Bucket::Submissions)?;
    let new = NewReport {
        service_id,
        kind: input.kind,
        message,
        email: email.map(|e| e.into_inner()),
        reporter: reporter(&state, &caller),
    };
    let stamp = state.stamp(caller.actor());
    let threshold = state.freshness.reports_to_flag;
    let report = state
        .db(move |c| reports::create(c, &stamp, new, threshold))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(Item::new(report)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `open`, `resolved` or `rejected` (default: all).
    #[param(value_type = Option<ReportStatus>)]
    status: Option<String>,
    #[param(value_type = Option<Uuid>)]
    service_id: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/reports", tag = "freshness",
    security(("api_key" = ["editor", "admin"])),
    params(ReportQuery),
    responses(
        (status = 200, description = "Problem reports, oldest first", body = List<Report>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_reports(
    state: web::Data<AppState>,
    req: HttpRequest,
    _staff: Staff,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = extract::enum_param("status", query.status.as_deref(), ReportStatus::parse)?;
    let service_id = extract::uuid_param("service_id", query.service_id.as_deref())?;
    let page = extract::page_request(query.page.as_deref(), query.per_page.as_deref())?;
    let items = state
        .db(move |c| reports::list(c, status, service_id, page))
        .await?;
    Ok(HttpResponse::Ok().json(List::new(items, req.path(), req.query_string())))
}

async fn decide_report(
    state: &AppState,
    caller: Caller,
    id: &str,
    status: ReportStatus,
    body: Option<crate::model::accounts::DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(id)?;
    let note = body.unwrap_or_default().validate()?;
    let stamp = state.stamp(caller.actor());
    let threshold = state.freshness.reports_to_flag;
    let report = state
        .db(move |c| reports::decide(c, &stamp, id, status, note, threshold))
        .await?;
    Ok(HttpResponse::Ok().json(Item::new(report)))
}

#[utoipa::path(
    post, path = "/api/v1/reports/{id}/resolve", tag = "freshness",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = Uuid, Path, description = "Report id")),
    request_body(content = Option<crate::model::accounts::DecisionInput>, description = "Optional note"),
    responses(
        (status = 200, description = "Resolved (acted on)", body = Item<Report>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn resolve_report(
    state: web::Data<AppState>,
    Staff(caller): Staff,
    id: web::Path<String>,
    body: extract::OptionalJsonBody<crate::model::accounts::DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    decide_report(&state, caller, &id, ReportStatus::Resolved, Some(body.0)).await
}

#[utoipa::path(
    post, path = "/api/v1/reports/{id}/reject", tag = "freshness",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = Uuid, Path, description = "Report id")),
    request_body(content = Option<crate::model::accounts::DecisionInput>, description = "Optional note"),
    responses(
        (status = 200, description = "Rejected (not upheld); a possibly-closed flag it supported is re-checked", body = Item<Report>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reject_report(
    state: web::Data<AppState>,
    Staff(caller): Staff,
    id: web::Path<String>,
    body: extract::OptionalJsonBody<crate::model::accounts::DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    decide_report(&state, caller, &id, ReportStatus::Rejected, Some(body.0)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    #[param(value_type = Option<Uuid>)]
    organisation_id: Option<String>,
    /// An area code (council area, HSCP, health board…): services covering or located in it.
    area: Option<String>,
    /// `link_broken`, `possibly_closed`, `ended`, `reopened`, `due_for_review` or `overdue`.
    kind: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/review-queue", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(QueueQuery),
    responses(
        (status = 200, description = "Listings needing attention: flagged (most serious first), then overdue, then due, oldest first. Organisation keys see their own organisations'.", body = List<QueueEntry>),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A client key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = extract::page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let wanted = extract::uuid_param("organisation_id", q.organisation_id.as_deref())?;
    let own = match policy::staff(&caller) {
        Ok(_) => None,
        Err(_) => caller.key().map(|k| k.organisations.clone()),
    };
    let organisations = match (wanted, own) {
        (Some(w), Some(own)) => Some(own.into_iter().filter(|o| *o == w).collect()),
        (Some(w), None) => Some(vec![w]),
        (None, own) => own,
    };
    let kind = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) => Some(QueueKind::parse(k).map_err(|e| ApiError::bad_request("kind", e))?),
        None => None,
    };
    let area = match q.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) if a.len() <= 20 && a.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(a.to_ascii_uppercase())
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "area",
                "must be an area code such as S12000049",
            ))
        }
        None => None,
    };
    let filter = QueueFilter {
        organisations,
        area,
        kind,
    };
    let (now, policy) = (state.clock.now(), state.review);
    let items = state
        .db(move |c| review::queue(c, &filter, now, policy, page))
        .await?;
    Ok(HttpResponse::Ok().json(List::new(items, req.path(), req.query_string())))
}

/// Body of `PUT /organisations/{id}/webhook`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    #[schema(example = "https://hooks.larder.example/signpost")]
    pub url: String,
}

async fn owned_organisation(state: &AppState, caller: &Caller, id: &str) -> Result<Uuid, ApiError> {
    let id = path_id(id)?;
    policy::edit_listing(caller, &[id])?;
    if !state.db(move |c| organisations::exists(c, id)).await? {
        return Err(ApiError::NotFound(format!(
            "organisation {id} was not found"
        )));
    }
    Ok(id)
}

#[utoipa::path(
    put, path = "/api/v1/organisations/{id}/webhook", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Organisation id")),
    request_body = WebhookInput,
    responses(
        (status = 200, description = "Registered with a new signing secret (shown only now). Events: service.flagged, service.due_for_review; signed `Signpost-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">`", body = Item<Webhook>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organisation's key, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an http(s) URL, or a private address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_webhook(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    id: web::Path<String>,
    body: JsonBody<WebhookInput>,
) -> Result<HttpResponse, ApiError> {
    let id = owned_organisation(&state, &caller, &id).await?;
    let url = WebUrl::parse(body.0.url)
        .map_err(|e| Invalid::one("url", e))?
        .into_inner();
    let parsed = url::Url::parse(&url).map_err(|e| Invalid::one("url", e.to_string()))?;
    crate::links::check_target(&parsed, state.freshness.allow_private_targets)
        .map_err(|e| Invalid::one("url", e))?;
    let secret = crate::webhooks::sign::new_secret()
        .map_err(|e| ApiError::Internal(format!("random source: {e}")))?;
    let stamp = state.stamp(caller.actor());
    let webhook = state
        .db(move |c| webhooks::register(c, &stamp, id, &url, &secret))
        .await?;
    Ok(HttpResponse::Ok().json(Item::new(webhook)))
}

#[utoipa::path(
    get, path = "/api/v1/organisations/{id}/webhook", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The registration (without its secret)", body = Item<Webhook>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organisation's key, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No webhook registered", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_webhook(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = owned_organisation(&state, &caller, &id).await?;
    match state.db(move |c| webhooks::get(c, id)).await? {
        Some(webhook) => Ok(HttpResponse::Ok().json(Item::new(webhook))),
        None => Err(ApiError::NotFound(format!(
            "organisation {id} has no webhook"
        ))),
    }
}

#[utoipa::path(
    delete, path = "/api/v1/organisations/{id}/webhook", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Organisation id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organisation's key, or not an editor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No webhook registered", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    Writer(caller): Writer,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = owned_organisation(&state, &caller, &id).await?;
    let stamp = state.stamp(caller.actor());
    state.db(move |c| webhooks::remove(c, &stamp, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/organisations/{id}/webhook/deliveries", tag = "freshness",
    security(("api_key" = ["organisation", "editor", "admin"])),
    params(("id" = Uuid, Path, description = "Organisation id"), PageQuery),
    responses(
        (status = 200, description = "Events sent or queued, newest first, with every attempt", body = List<Delivery>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not this organisation's key, or not an editor", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    Writer(caller): Writer,
    id: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = owned_organisation(&state, &caller, &id).await?;
    let page = extract::page_request(query.page.as_deref(), query.per_page.as_deref())?;
    let items = state.db(move |c| webhooks::deliveries(c, id, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(items, req.path(), req.query_string())))
}
