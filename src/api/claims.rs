//! Claims: `POST /organisations/{id}/claims` (anyone), and the moderation
//! queue under `/claims` (editors).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Staff;
use super::envelope::{Item, List};
use super::error::{ApiError, Problem};
use super::extract::{self, path_id, JsonBody, OptionalJsonBody};
use super::keys::IssuedKey;
use crate::auth::limits::Bucket;
use crate::auth::{token, Caller};
use crate::db::claims::{self as repo, Claim};
use crate::model::accounts::{ClaimInput, DecisionInput};
use crate::model::enums::ModerationStatus;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organisations/{id}/claims", web::post().to(create))
        .route("/claims", web::get().to(list))
        .route("/claims/{id}", web::get().to(get))
        .route("/claims/{id}/approve", web::post().to(approve))
        .route("/claims/{id}/reject", web::post().to(reject));
}

#[utoipa::path(
    post, path = "/api/v1/organisations/{id}/claims", tag = "accounts",
    params(("id" = uuid::Uuid, Path, description = "Organisation id")),
    request_body = ClaimInput,
    responses(
        (status = 201, description = "Claim received; an editor will check it", body = Item<Claim>),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many submissions from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<ClaimInput>,
) -> Result<HttpResponse, ApiError> {
    let organisation_id = path_id(&id)?;
    let draft = body.0.validate()?;
    state.limits.check(&caller, Bucket::Submissions)?;
    let stamp = state.stamp(caller.actor());
    let claim = state
        .db(move |c| repo::create(c, &stamp, organisation_id, draft))
        .await?;
    Ok(HttpResponse::build(StatusCode::CREATED)
        .insert_header(("Location", format!("/api/v1/claims/{}", claim.id)))
        .json(Item::new(claim)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `pending`, `approved` or `rejected` (default: all).
    #[param(value_type = Option<ModerationStatus>)]
    status: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    per_page: Option<String>,
}

impl QueueQuery {
    pub fn parse(
        &self,
    ) -> Result<(Option<ModerationStatus>, crate::db::paging::PageRequest), ApiError> {
        Ok((
            extract::enum_param("status", self.status.as_deref(), ModerationStatus::parse)?,
            extract::page_request(self.page.as_deref(), self.per_page.as_deref())?,
        ))
    }
}

#[utoipa::path(
    get, path = "/api/v1/claims", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(QueueQuery),
    responses(
        (status = 200, description = "Claims, oldest first", body = List<Claim>),
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
    let claims = state.db(move |c| repo::list(c, status, page)).await?;
    Ok(HttpResponse::Ok().json(List::new(claims, req.path(), req.query_string())))
}

#[utoipa::path(
    get, path = "/api/v1/claims/{id}", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Claim id")),
    responses(
        (status = 200, description = "The claim", body = Item<Claim>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    state: web::Data<AppState>,
    _staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let claim = state.db(move |c| repo::get(c, id)).await?;
    Ok(HttpResponse::Ok().json(Item::new(claim)))
}

/// An approved claim and the key issued to the claimant.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approval {
    pub claim: Claim,
    /// Give this to the claimant: its token is shown only here.
    pub key: IssuedKey,
}

#[utoipa::path(
    post, path = "/api/v1/claims/{id}/approve", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Claim id")),
    request_body(content = Option<DecisionInput>, description = "Optional note"),
    responses(
        (status = 200, description = "Approved: the claimant's organisation key (token shown once)", body = Item<Approval>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn approve(
    state: web::Data<AppState>,
    Staff(caller): Staff,
    id: web::Path<String>,
    body: OptionalJsonBody<DecisionInput>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let note = body.0.validate()?;
    let issued = token::issue().map_err(|e| ApiError::Internal(format!("random source: {e}")))?;
    let token = issued.token.clone();
    let stamp = state.stamp(caller.actor());
    let (claim, key) = state
        .db(move |c| repo::approve(c, &stamp, id, note, &issued))
        .await?;
    Ok(HttpResponse::Ok().json(Item::new(Approval {
        claim,
        key: IssuedKey { key, token },
    })))
}

#[utoipa::path(
    post, path = "/api/v1/claims/{id}/reject", tag = "accounts",
    security(("api_key" = ["editor", "admin"])),
    params(("id" = uuid::Uuid, Path, description = "Claim id")),
    request_body(content = Option<DecisionInput>, description = "Optional note (why)"),
    responses(
        (status = 200, description = "Rejected", body = Item<Claim>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an editor or admin key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such claim", body = Problem, content_type = "application/problem+json"),
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
    let claim = state.db(move |c| repo::reject(c, &stamp, id, note)).await?;
    Ok(HttpResponse::Ok().json(Item::new(claim)))
}
