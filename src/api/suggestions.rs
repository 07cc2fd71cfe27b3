//! Suggestions: anyone proposes a change to a listing (or a new listing);
//! editors apply it (a normal audited write, by the editor) or reject it.
//! A suggestion is checked when it is made, so the queue holds only
//! changes that would have been valid then.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::auth::Staff;
use super::claims::QueueQuery;
use super::envelope::{Item, List};
use super::error::{ApiError, Problem};
use super::extract::{self, path_id, JsonBody, OptionalJsonBody};
use super::locations::Locations;
use super::organisations::Organisations;
use super::records::{merged, Record};
use super::services::Services;
use crate::auth::limits::Bucket;
use crate::auth::Caller;
use crate::db::changes::Stamp;
use crate::db::suggestions::{self as repo, Suggestion};
use crate::db::write_transaction;
use crate::model::accounts::{DecisionInput, SuggestionDraft, SuggestionInput};
use crate::model::enums::{ListingKind, ModerationStatus};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/suggestions")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .route("/suggestions/{id}", web::get().to(get))
    .route("/suggestions/{id}/apply", web::post().to(apply))
    .route("/suggestions/{id}/reject", web::post().to(reject));
}

/// The validated input the suggestion would write.
async fn prepare<R: Record>(
    state: &AppState,
    draft: &SuggestionDraft,
) -> Result<(Option<R::Read>, R::Draft), ApiError> {
    match draft.entity_id {
        None => {
            let input: R::Input = extract::from_value(draft.changes.clone())?;
            Ok((None, R::validate(state, input)?))
        }
        Some(id) => {
            let current = state.db(move |c| R::get(c, id)).await?;
            let input = merged::<R>(&current, &draft.changes)?;
            Ok((Some(current), R::validate(state, input)?))
        }
    }
}

/// Writes the suggestion's change and marks it approved, in one transaction.
async fn write<R: Record>(
    state: &AppState,
    stamp: Stamp,
    suggestion: Suggestion,
    note: Option<String>,
) -> Result<Suggestion, ApiError> {
    let draft = SuggestionDraft {
        entity_type: suggestion.entity_type,
        entity_id: suggestion.entity_id,
        changes: suggestion.changes,
        message: None,
        email: None,
    };
    let (current, validated) = prepare::<R>(state, &draft).await?;
    let id = suggestion.id;
    state
        .db(move |c| {
            write_transaction(c, |c| {
                let written = match &current {
                    None => R::create(c, &stamp, None, validated)?,
                    Some(cur) => {
                        R::update(c, &stamp, R::id(cur), Some(R::version(cur)), validated)?
                    }
                };
                repo::decide_in(
                    c,
                    &stamp,
                    id,
                    ModerationStatus::Approved,
                    note,
                    Some(R::id(&written)),
                )
            })
        })
        .await
}

#[utoipa::path(
    post, path = "/api/v1/suggestions", tag = "accounts",
    request_body = SuggestionInput,
    responses(
        (status = 201, description = "Suggestion queued for an editor", body = Item<Suggestion>),
        (status = 404, description = "No such listing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a change that would make the listing invalid", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many submissions from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<SuggestionInput>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate()?;
    match draft.entity_type {
        ListingKind::Organisation => prepare::<Organisations>(&state, &draft).await.map(drop)?,
        ListingKind::Service => prepare::<Services>(&state, &draft).await.map(drop)?,
        ListingKind::Location => prepare::<Locations>(&state, &draft).await.map(drop)?,
    }
    state.limits.check(&caller, Bucket::Submissions)?;
    let stamp = state.stamp(caller.actor());
    let suggestion = state.db(move |c| repo::create(c, &stamp, draft)).await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/api/v1/suggestions/{}", suggestion.id)))
        .json(Item::new(suggestion)))
}

#[utoipa::path(
    get, path = "/api/v1/suggestions", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(QueueQuery),
    responses(
        (status = 200, description = "The moderation queue, oldest first", body = List<Suggestion>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    _staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let (status, page) = query.parse()?;
    let items = state.db(move |c| repo::list(c, status, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(items, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/suggestions/{id}", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Suggestion id")),
    responses(
        (status = 200, description = "The suggestion", body = Item<Suggestion>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such suggestion", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    _staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let suggestion = state.db(move |c| repo::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(suggestion)))
}

#[utoipa::path(
    post, path = "/api/v1/suggestions/{id}/apply", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Suggestion id")),
    request_body(content = Option<DecisionInput>, description = "Optional note"),
    responses(
        (status = 200, description = "Applied: `result_id` is the listing written", body = Item<Suggestion>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such suggestion (or its listing is gone)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The change is no longer valid against the listing", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn apply(
    state: web::Data<AppState>,
    Staff(caller): Staff,
    id: web::Path<String>,
    body: OptionalJsonBody<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id: Uuid = path_id(&id)?;
    let note = body.0.validate()?;
    let suggestion = state.db(move |c| repo::pending(c, id)).await?;
    let stamp = state.stamp(caller.actor());
    let decided = match suggestion.entity_type {
        ListingKind::Organisation => {
            write::<Organisations>(&state, stamp, suggestion, note).await?
        }
        ListingKind::Service => write::<Services>(&state, stamp, suggestion, note).await?,
        ListingKind::Location => write::<Locations>(&state, stamp, suggestion, note).await?,
    };
    Ok(HttpResponse::Ok().json(Item::new(decided)))
}

#[utoipa::path(
    post, path = "/api/v1/suggestions/{id}/reject", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Suggestion id")),
    request_body(content = Option<DecisionInput>, description = "Optional note (why)"),
    responses(
        (status = 200, description = "Rejected", body = Item<Suggestion>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such suggestion", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reject(
    state: web::Data<AppState>,
    Staff(caller): Staff,
    id: web::Path<String>,
    body: OptionalJsonBody<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let note = body.0.validate()?;
    let stamp = state.stamp(caller.actor());
    let suggestion = state.db(move |c| repo::reject(c, &stamp, id, note)).await?;
    Ok(HttpResponse::Ok().json(Item::new(suggestion)))
}
